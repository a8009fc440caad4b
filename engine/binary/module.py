"""What the decoder produces: a module's sections as plain data.

Function bodies are not copied: ``code_offsets[i]`` / ``code_lengths[i]`` locate the body of
defined function ``i`` (its locals declarations and expression, without the size prefix)
inside ``data``. Per-function facts are ``array`` columns, not objects.

An *expression* (constant expressions of globals, segment offsets and element items) is a
list of decoded instructions ``(Op, immediate)`` without its final ``end``.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, Union

from ..opcodes import Op
from ..types import FuncType, GlobalType, MemoryType, TableType

#: One decoded instruction: the opcode row and its immediate (see ``engine.opcodes``).
Instr = tuple[Op, Any]
Expr = list[Instr]

#: What an import or export refers to.
FUNC, TABLE, MEMORY, GLOBAL = "func", "table", "memory", "global"

ImportDesc = Union[int, TableType, MemoryType, GlobalType]  # int = type index for functions


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    kind: str  # FUNC | TABLE | MEMORY | GLOBAL
    desc: ImportDesc


@dataclass(frozen=True)
class Export:
    name: str
    kind: str
    index: int


@dataclass
class GlobalDef:
    type: GlobalType
    init: Expr


@dataclass
class ElemSegment:
    mode: str  # "active" | "passive" | "declarative"
    elem_type: str  # "funcref" | "externref"
    init: list[Expr]  # one constant expression per element (ref.func i / ref.null t / global.get)
    table: int = 0
    offset: Expr | None = None  # active only


@dataclass
class DataSegment:
    mode: str  # "active" | "passive"
    init: bytes
    memory: int = 0
    offset: Expr | None = None  # active only


@dataclass
class ModuleInfo:
    """A decoded (not yet validated) module."""

    data: bytes
    types: list[FuncType] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    #: Type index of each *defined* function (imports not included).
    funcs: array = field(default_factory=lambda: array("I"))
    tables: list[TableType] = field(default_factory=list)  # defined tables
    mems: list[MemoryType] = field(default_factory=list)  # defined memories
    globals: list[GlobalDef] = field(default_factory=list)  # defined globals
    exports: list[Export] = field(default_factory=list)
    start: int | None = None
    elems: list[ElemSegment] = field(default_factory=list)
    datas: list[DataSegment] = field(default_factory=list)
    data_count: int | None = None
    #: Body location of each defined function in ``data`` (locals + expression).
    code_offsets: array = field(default_factory=lambda: array("I"))
    code_lengths: array = field(default_factory=lambda: array("I"))
    #: Custom sections as (name, offset, length) into ``data``.
    customs: list[tuple[str, int, int]] = field(default_factory=list)

    # Convenience views over imports + definitions (index spaces of the spec).
    def imported(self, kind: str) -> list[Import]:
        return [imp for imp in self.imports if imp.kind == kind]

    @property
    def num_imported_funcs(self) -> int:
        return sum(1 for imp in self.imports if imp.kind == FUNC)

    def func_type_index(self, func_index: int) -> int:
        """Type index of function ``func_index`` in the function index space."""
        n = self.num_imported_funcs
        if func_index < n:
            return self.imported(FUNC)[func_index].desc  # type: ignore[return-value]
        return self.funcs[func_index - n]

    def func_type(self, func_index: int) -> FuncType:
        return self.types[self.func_type_index(func_index)]

    def all_func_type_indices(self) -> list[int]:
        return [imp.desc for imp in self.imported(FUNC)] + list(self.funcs)  # type: ignore[misc]

    def all_tables(self) -> list[TableType]:
        return [imp.desc for imp in self.imported(TABLE)] + self.tables  # type: ignore[misc]

    def all_mems(self) -> list[MemoryType]:
        return [imp.desc for imp in self.imported(MEMORY)] + self.mems  # type: ignore[misc]

    def all_global_types(self) -> list[GlobalType]:
        return [imp.desc for imp in self.imported(GLOBAL)] + [g.type for g in self.globals]  # type: ignore[misc]


@dataclass
class Body:
    """A decoded function body: its declared locals and its instructions.

    ``locals`` is the run-length form of the declaration, ``[(count, valtype), ...]``;
    ``instrs`` ends with the function's final ``end``.
    """

    locals: list[tuple[int, str]]
    instrs: list[Instr]

    def local_types(self, params: tuple[str, ...]) -> list[str]:
        out = list(params)
        for count, t in self.locals:
            out.extend([t] * count)
        return out
