"""The validation context C of the specification, computed once per module.

Bodies are validated one at a time (eagerly or on first use), so the index spaces they
consult are flattened here once and cached on the ModuleInfo object.
"""

from __future__ import annotations

from typing import Any

from ..binary.module import FUNC, GLOBAL, MEMORY, TABLE, TAG, Expr, ModuleInfo
from ..errors import InvalidError
from ..gctypes import DefType, FuncComp, SubType, canonicalize
from ..types import (
    Exact,
    FuncType,
    GlobalType,
    MemoryType,
    RefType,
    TableType,
    TypeInfo,
    canonical_ids,
)


class FuncTypes:
    """The function index space as types, read through the module's type-index column.

    A view rather than a list, so that validation keeps nothing per function (the code map
    budgets every byte per function). Unknown type indices read as None.
    """

    __slots__ = ("_funcs", "_imported", "_types")

    def __init__(self, imported: list[FuncType | None], funcs: Any, types: list[FuncType]) -> None:
        self._imported = imported
        self._funcs = funcs
        self._types = types

    def __len__(self) -> int:
        return len(self._imported) + len(self._funcs)

    def __getitem__(self, index: int) -> FuncType | None:
        nimported = len(self._imported)
        if index < nimported:
            return self._imported[index]
        type_index = self._funcs[index - nimported]
        types = self._types
        return types[type_index] if type_index < len(types) else None


class Context:
    """Index spaces of a module: types, functions, tables, memories, globals, segments."""

    __slots__ = (
        "_funcs",
        "data_count",
        "elem_types",
        "exact_imports",
        "features",
        "func_types",
        "gc_types",
        "globals",
        "imported_func_type_indices",
        "mems",
        "num_datas",
        "num_imported_globals",
        "num_mems",
        "refs",
        "resolve",
        "tables",
        "tags",
        "type_keys",
        "types",
    )

    def __init__(self, info: ModuleInfo) -> None:
        types = info.types
        self.types: list[FuncType] = types
        ntypes = len(types)
        imported_funcs: list[FuncType | None] = []
        tables: list[TableType] = []
        mems: list[MemoryType] = []
        globals_: list[GlobalType] = []
        tags: list[int] = []
        imported_indices: list[int] = []
        #: Function indices of the exact function imports (custom descriptors).
        self.exact_imports: set[int] = set()
        for imp in info.imports:
            kind = imp.kind
            if kind == FUNC:
                idx = imp.desc
                if imp.exact:
                    self.exact_imports.add(len(imported_indices))
                imported_indices.append(idx)  # type: ignore[arg-type]
                imported_funcs.append(types[idx] if 0 <= idx < ntypes else None)  # type: ignore[operator]
            elif kind == TABLE:
                tables.append(imp.desc)  # type: ignore[arg-type]
            elif kind == MEMORY:
                mems.append(imp.desc)  # type: ignore[arg-type]
            elif kind == GLOBAL:
                globals_.append(imp.desc)  # type: ignore[arg-type]
            elif kind == TAG:
                tags.append(imp.desc)  # type: ignore[arg-type]
        #: The tag index space: the function type index of each tag.
        self.tags = tags + list(info.tags)
        #: Canonical keys of the types (equal for equivalent types), and the resolver the
        #: subtyping functions of engine.types take.
        #: Canonical GC types (engine.gctypes.DefType) of the type index space; the
        #: translator and the instance read them from ``info.gc_types``. They are the keys
        #: (canonicalization also reports "unknown type" and "sub type").
        if not info.rec_groups and types:  # a ModuleInfo built without the GC decoder
            info.rec_groups = [(SubType(True, (), FuncComp(tuple(ft.params), tuple(ft.results))),)
                               for ft in types]
        self.gc_types = info.gc_types = canonicalize(info.rec_groups)
        self.type_keys = self.gc_types
        self.resolve = gc_resolver(self.gc_types)
        self.num_imported_globals = len(globals_)
        self.func_types = FuncTypes(imported_funcs, info.funcs, types)
        self.tables = tables + list(info.tables)
        self.mems: list[MemoryType] = mems + list(info.mems)
        self.num_mems = len(self.mems)
        #: Feature flags in force (engine.config.FEATURES names; None: all on).
        self.features = info.features
        self.globals = globals_ + [g.type for g in info.globals]
        self.elem_types = [seg.elem_type for seg in info.elems]
        self.num_datas = len(info.datas)
        self.data_count = info.data_count
        self.refs = _declared_refs(info)
        self.imported_func_type_indices = imported_indices
        self._funcs = info.funcs

    def func_type_index(self, func_index: int) -> int:
        """The type index of function ``func_index`` (in range)."""
        imported = self.imported_func_type_indices
        if func_index < len(imported):
            return imported[func_index]
        return self._funcs[func_index - len(imported)]

    def func_ref_type(self, func_index: int) -> RefType:
        """The type of ``ref.func func_index``: a non-null reference to its type, exact
        (custom descriptors) for a defined function or an exact import."""
        idx = self.func_type_index(func_index)
        if func_index >= len(self.imported_func_type_indices) \
                or func_index in self.exact_imports:
            return RefType(False, Exact(idx))
        return RefType(False, idx)


def gc_resolver(gc_types: list) -> Any:
    """The subtyping resolver over canonical types: a type index or a DefType (field types
    and the results of GC instructions) to its canonical DefType and kind."""

    def resolve(heap: Any) -> TypeInfo:
        t = heap if type(heap) is DefType else gc_types[heap]
        return TypeInfo(t, t.kind)

    return resolve


def type_keys(types: list[FuncType]) -> list[int]:
    """Canonical ids of the module's types (see ``engine.types.canonical_ids``)."""
    try:
        return canonical_ids(types)
    except ValueError as exc:
        raise InvalidError(str(exc)) from None


def _expr_refs(expr: Expr | None, out: set[int]) -> None:
    if expr:
        for op, imm in expr:
            if op.name == "ref.func":
                out.add(imm)


def _declared_refs(info: ModuleInfo) -> set[int]:
    """C.refs: function indices occurring in the module outside function bodies and start."""
    refs: set[int] = set()
    for g in info.globals:
        _expr_refs(g.init, refs)
    for seg in info.elems:
        for expr in seg.init:
            _expr_refs(expr, refs)
        _expr_refs(seg.offset, refs)
    for seg in info.datas:
        _expr_refs(seg.offset, refs)
    for exp in info.exports:
        if exp.kind == FUNC:
            refs.add(exp.index)
    return refs


def feature_on(ctx: Context, flag: str) -> bool:
    """Whether feature ``flag`` (an engine.config.FEATURES name) is on for this module."""
    features = ctx.features
    return True if features is None else features.get(flag, True)


def context_of(info: ModuleInfo) -> Context:
    """The cached validation context of ``info`` (built on first use)."""
    ctx = info.validation_context
    if ctx is None:
        ctx = info.validation_context = Context(info)
    return ctx


def forget_context(info: ModuleInfo) -> None:
    """Drop the cached context of ``info`` (rebuilt on the next use).

    The code map calls this once a module's up-front checks are done, so that a module keeps
    no validation state between lazily validated bodies beyond what it needs.
    """
    info.validation_context = None
