"""What the decoder produces: a module's sections as plain data.

Function bodies are not copied: ``code_offsets[i]`` / ``code_lengths[i]`` locate the body of
defined function ``i`` (its locals declarations and expression, without the size prefix)
inside ``data``. Per-function facts are ``array`` columns, not objects.

An *expression* (constant expressions of globals, segment offsets and element items) is a
list of decoded instructions ``(Op, immediate)`` without its final ``end``.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Union

from ..compat import SLOTS
from ..opcodes import Op
from ..types import FuncType, GlobalType, MemoryType, TableType

#: One decoded instruction: the opcode row and its immediate (see ``engine.opcodes``).
Instr = tuple[Op, Any]
Expr = list[Instr]

#: What an import or export refers to.
FUNC, TABLE, MEMORY, GLOBAL, TAG = "func", "table", "memory", "global", "tag"

ImportDesc = Union[int, TableType, MemoryType, GlobalType]  # noqa: UP007 - runtime value, Python 3.9
# (int = type index: functions, tags)


class Catch(NamedTuple):
    """A catch clause of ``try_table``: ``kind`` 0 catch, 1 catch_ref, 2 catch_all,
    3 catch_all_ref; ``tag`` (None for the catch_all forms) and the target ``label``."""

    kind: int
    tag: int | None
    label: int


CATCH, CATCH_REF, CATCH_ALL, CATCH_ALL_REF = 0, 1, 2, 3


@dataclass(frozen=True, **SLOTS)
class Import:
    module: str
    name: str
    kind: str  # FUNC | TABLE | MEMORY | GLOBAL | TAG
    desc: ImportDesc
    #: An exact function import (custom descriptors, kind 0x20): the provided function's
    #: type must be ``desc`` itself, not a subtype; ``ref.func`` of it is exact.
    exact: bool = False


@dataclass(frozen=True, **SLOTS)
class Export:
    name: str
    kind: str
    index: int


@dataclass(**SLOTS)
class GlobalDef:
    type: GlobalType
    init: Expr


class FuncIndexItems(Sequence):
    """Element items of the function-index segment forms (0..3), stored compactly.

    Reads as a sequence of expressions ``[(ref.func, i)]`` like any other ``init``, but keeps
    only an ``array('I')`` of the indices (4 bytes per element instead of a list and a tuple
    each); ``func_indices`` gives them directly for fast paths.
    """

    __slots__ = ("_op", "func_indices")

    def __init__(self, func_indices: array, ref_func: Op) -> None:
        self.func_indices = func_indices
        self._op = ref_func

    def __len__(self) -> int:
        return len(self.func_indices)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [[(self._op, x)] for x in self.func_indices[i]]
        return [(self._op, self.func_indices[i])]

    def __iter__(self):
        op = self._op
        return ([(op, x)] for x in self.func_indices)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, FuncIndexItems)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FuncIndexItems({list(self.func_indices)!r})"


@dataclass(**SLOTS)
class ElemSegment:
    mode: str  # "active" | "passive" | "declarative"
    elem_type: str  # "funcref" | "externref"
    # One constant expression per element (ref.func i / ref.null t / global.get); a
    # FuncIndexItems for the function-index forms.
    init: list[Expr] | FuncIndexItems
    table: int = 0
    offset: Expr | None = None  # active only


@dataclass(**SLOTS)
class DataSegment:
    mode: str  # "active" | "passive"
    init: bytes
    memory: int = 0
    offset: Expr | None = None  # active only


@dataclass(**SLOTS)
class IndexSpaces:
    """Index-space facts flattened once per module (``ModuleInfo.spaces``), so that per-body
    and per-instruction lookups cost O(1) instead of a walk over the imports."""

    key: tuple[int, int]  # (len(imports), len(globals)) it was built from
    func_imports: array  # type index of each imported function
    global_types: list[GlobalType]  # the global index space


@dataclass(**SLOTS)
class ModuleInfo:
    """A decoded (not yet validated) module.

    Slotted: a module's fixed cost counts against the code map's per-function budget when
    the module is small.
    """

    data: bytes
    types: list[FuncType] = field(default_factory=list)
    #: The canonical GC types of the type section (engine.gctypes.DefType per type index),
    #: empty until GC type sections are decoded into it.
    gc_types: list = field(default_factory=list)
    #: The type section as rec groups (engine.gctypes.SubType tuples), canonicalized into
    #: ``gc_types`` by validation; a plain function type is a group of one.
    rec_groups: list = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    #: Type index of each *defined* function (imports not included).
    funcs: array = field(default_factory=lambda: array("I"))
    tables: list[TableType] = field(default_factory=list)  # defined tables
    #: Initializer expression of each defined table (None: null), typed function references.
    table_inits: list[Expr | None] = field(default_factory=list)
    #: Type index of each defined tag (exception handling).
    tags: list[int] = field(default_factory=list)
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
    #: Cache of the validator's context (engine.validate owns its content).
    validation_context: Any = None
    #: The Config feature flags the module was decoded with (None: every feature on); the
    #: body decoder and the validator consult them.
    features: Any = None
    #: Cache of ``spaces()``.
    index_spaces: IndexSpaces | None = None
    #: The implementation limits it was decoded under (``engine.config.ImplLimits``).
    limits: Any = None
    #: A weak reference to the runtime's frame tag of this module
    #: (``engine.runtime.frames.ModuleTag``), made when its first function is translated.
    frame_tag: Any = None

    # Convenience views over imports + definitions (index spaces of the spec).
    def imported(self, kind: str) -> list[Import]:
        return [imp for imp in self.imports if imp.kind == kind]

    def spaces(self) -> IndexSpaces:
        """The flattened index spaces (cached; rebuilt if imports or globals changed)."""
        key = (len(self.imports), len(self.globals))
        cached = self.index_spaces
        if cached is None or cached.key != key:
            funcs = array("I", [imp.desc for imp in self.imports if imp.kind == FUNC])  # type: ignore[misc]
            globals_ = [imp.desc for imp in self.imported(GLOBAL)] + [g.type for g in self.globals]
            cached = self.index_spaces = IndexSpaces(key, funcs, globals_)  # type: ignore[arg-type]
        return cached

    @property
    def num_imported_funcs(self) -> int:
        return len(self.spaces().func_imports)

    def func_type_index(self, func_index: int) -> int:
        """Type index of function ``func_index`` in the function index space."""
        imported = self.spaces().func_imports
        n = len(imported)
        if func_index < n:
            return imported[func_index]
        return self.funcs[func_index - n]

    def func_type(self, func_index: int) -> FuncType:
        return self.types[self.func_type_index(func_index)]

    def tag_type_index(self, tag_index: int) -> int:
        """Type index of tag ``tag_index`` in the tag index space (imports first)."""
        imported = [imp.desc for imp in self.imports if imp.kind == TAG]
        if tag_index < len(imported):
            return imported[tag_index]  # type: ignore[return-value]
        return self.tags[tag_index - len(imported)]

    def all_func_type_indices(self) -> list[int]:
        return [imp.desc for imp in self.imported(FUNC)] + list(self.funcs)  # type: ignore[misc]

    def all_tables(self) -> list[TableType]:
        return [imp.desc for imp in self.imported(TABLE)] + self.tables  # type: ignore[misc]

    def all_mems(self) -> list[MemoryType]:
        return [imp.desc for imp in self.imported(MEMORY)] + self.mems  # type: ignore[misc]

    def all_global_types(self) -> list[GlobalType]:
        """The global index space's types (a cached list: do not modify)."""
        return self.spaces().global_types


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
