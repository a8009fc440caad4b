"""The validation context C of the specification, computed once per module.

Bodies are validated one at a time (eagerly or on first use), so the index spaces they
consult are flattened here once and cached on the ModuleInfo object.
"""

from __future__ import annotations

from ..binary.module import FUNC, GLOBAL, MEMORY, TABLE, Expr, ModuleInfo
from ..types import FuncType, GlobalType, TableType

_CACHE_ATTR = "_validation_context"


class Context:
    """Index spaces of a module: types, functions, tables, memories, globals, segments."""

    __slots__ = (
        "data_count",
        "elem_types",
        "func_types",
        "globals",
        "num_datas",
        "num_imported_globals",
        "num_mems",
        "refs",
        "tables",
        "types",
    )

    def __init__(self, info: ModuleInfo) -> None:
        types = info.types
        self.types: list[FuncType] = types
        ntypes = len(types)
        # FuncType of every function (imports first); None where the type index is unknown.
        func_types: list[FuncType | None] = []
        tables: list[TableType] = []
        num_mems = 0
        globals_: list[GlobalType] = []
        for imp in info.imports:
            kind = imp.kind
            if kind == FUNC:
                idx = imp.desc
                func_types.append(types[idx] if 0 <= idx < ntypes else None)  # type: ignore[operator]
            elif kind == TABLE:
                tables.append(imp.desc)  # type: ignore[arg-type]
            elif kind == MEMORY:
                num_mems += 1
            elif kind == GLOBAL:
                globals_.append(imp.desc)  # type: ignore[arg-type]
        self.num_imported_globals = len(globals_)
        if info.funcs and max(info.funcs) < ntypes:
            func_types.extend([types[i] for i in info.funcs])
        else:
            func_types.extend([types[i] if i < ntypes else None for i in info.funcs])
        self.func_types = func_types
        self.tables = tables + list(info.tables)
        self.num_mems = num_mems + len(info.mems)
        self.globals = globals_ + [g.type for g in info.globals]
        self.elem_types = [seg.elem_type for seg in info.elems]
        self.num_datas = len(info.datas)
        self.data_count = info.data_count
        self.refs = _declared_refs(info)


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


def context_of(info: ModuleInfo) -> Context:
    """The cached validation context of ``info`` (built on first use)."""
    ctx = getattr(info, _CACHE_ATTR, None)
    if ctx is None:
        ctx = Context(info)
        try:
            setattr(info, _CACHE_ATTR, ctx)
        except AttributeError:  # a slotted ModuleInfo: no cache, still correct
            pass
    return ctx
