"""The runtime: Engine/Store, modules, instances, functions, memories, tables, globals."""

from .caller import Caller
from .engine import Engine, Store, StoreLimits
from .func import Func
from .global_ import Global, GlobalCell
from .instance import Exports, Instance, Runtime
from .linker import Linker
from .memory import Memory, MemoryInst
from .module import ExportType, ImportType, Module
from .table import Table, TableInst
from .tag import Tag
from .values import ValType

__all__ = [
    "Caller",
    "Engine",
    "ExportType",
    "Exports",
    "Func",
    "Global",
    "GlobalCell",
    "ImportType",
    "Instance",
    "Linker",
    "Memory",
    "MemoryInst",
    "Module",
    "Runtime",
    "Store",
    "StoreLimits",
    "Table",
    "TableInst",
    "Tag",
    "ValType",
]
