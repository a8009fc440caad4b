"""A WebAssembly 2.0 engine in pure Python, with a wasmtime-py shaped public API."""

from .config import Config
from .errors import (
    CompileError,
    ExhaustionError,
    InvalidError,
    LinkError,
    MalformedError,
    Trap,
    WasmError,
)
from .runtime import (
    Engine,
    Func,
    Global,
    Instance,
    Linker,
    Memory,
    Module,
    Store,
    Table,
    ValType,
)
from .text import TextError, wat2wasm
from .types import FuncType, GlobalType, Limits, MemoryType, TableType

__all__ = [
    "CompileError",
    "Config",
    "Engine",
    "ExhaustionError",
    "Func",
    "FuncType",
    "Global",
    "GlobalType",
    "Instance",
    "InvalidError",
    "Limits",
    "LinkError",
    "Linker",
    "MalformedError",
    "Memory",
    "MemoryType",
    "Module",
    "Store",
    "Table",
    "TableType",
    "TextError",
    "Trap",
    "ValType",
    "WasmError",
    "wat2wasm",
]
