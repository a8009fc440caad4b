"""Module-level validation: everything except function bodies (spec 3.4)."""

from __future__ import annotations

from ..binary.module import FUNC, GLOBAL, MEMORY, TABLE, TAG, Expr, ModuleInfo
from ..errors import InvalidError
from ..gctypes import GC_CONST_OPS
from ..types import (
    MAX_TABLE_SIZE,
    MAX_TABLE_SIZE_64,
    Limits,
    MemoryType,
    RefType,
    TableType,
    strip_exact,
    val_subtype,
)
from .context import Context, context_of, feature_on
from .gc import validate_gc

_CONST_OPS = {"i32.const", "i64.const", "f32.const", "f64.const", "v128.const"}
_EXTENDED_OPS = {"i32.add", "i32.sub", "i32.mul", "i64.add", "i64.sub", "i64.mul"}


def validate_module(info: ModuleInfo) -> None:
    """Check every module-level rule of Wasm 2.0; raise InvalidError on the first failure."""
    ctx = context_of(info)
    _check_imports(info, ctx)
    _check_funcs(info, ctx)
    for ft in ctx.types:
        for t in ft.params + ft.results:
            check_valtype(ctx, t)
    for table, init in zip(info.tables, info.table_inits or [None] * len(info.tables)):
        _check_table_type(table, ctx)
        if init is not None:
            _check_const_expr(ctx, init, table.elem, ctx.num_imported_globals)
        elif not as_nullable(table.elem):
            raise InvalidError("type mismatch")  # a non-nullable table needs an initializer
    for type_index in info.tags:
        _check_tag_type(ctx, type_index)
    for mem in info.mems:
        _check_memory_type(mem)
    if ctx.num_mems > 1 and not feature_on(ctx, "wasm_multi_memory"):
        raise InvalidError("multiple memories")
    if len(ctx.tables) > 1 and not feature_on(ctx, "wasm_reference_types"):
        raise InvalidError("multiple tables")  # Wasm 1.0 (e.g. the threads proposal's base)
    nimported = ctx.num_imported_globals
    for i, g in enumerate(info.globals):
        check_valtype(ctx, g.type.content)
        _check_const_expr(ctx, g.init, g.type.content, nimported + i)
    _check_exports(info, ctx)
    _check_start(info, ctx)
    _check_elems(info, ctx)
    _check_datas(info, ctx)


def _check_imports(info: ModuleInfo, ctx: Context) -> None:
    ntypes = len(ctx.types)
    for imp in info.imports:
        if imp.kind == FUNC:
            if not 0 <= imp.desc < ntypes:  # type: ignore[operator]
                raise InvalidError(f"unknown type {imp.desc}")
        elif imp.kind == TABLE:
            _check_table_type(imp.desc, ctx)  # type: ignore[arg-type]
        elif imp.kind == MEMORY:
            _check_memory_type(imp.desc)  # type: ignore[arg-type]
        elif imp.kind == GLOBAL:
            check_valtype(ctx, imp.desc.content)  # type: ignore[union-attr]
        elif imp.kind == TAG:
            _check_tag_type(ctx, imp.desc)  # type: ignore[arg-type]


def as_nullable(t: str) -> bool:
    """Whether value type ``t`` is defaultable (numbers, vectors, nullable references)."""
    return not isinstance(t, RefType) or t.nullable


def check_valtype(ctx: Context, t: str) -> None:
    """A value type is valid if the type index it may mention exists."""
    if isinstance(t, RefType):
        h = strip_exact(t.heap)
        if isinstance(h, int) and not h < len(ctx.types):
            raise InvalidError(f"unknown type {h}")


def _check_tag_type(ctx: Context, type_index: int) -> None:
    if not 0 <= type_index < len(ctx.types):
        raise InvalidError(f"unknown type {type_index}")
    if ctx.types[type_index].results:
        raise InvalidError("non-empty tag result type")


def _check_funcs(info: ModuleInfo, ctx: Context) -> None:
    if info.funcs and max(info.funcs) >= len(ctx.types):
        bad = next(i for i in info.funcs if i >= len(ctx.types))
        raise InvalidError(f"unknown type {bad}")


def _check_limits(limits: Limits, bound: int, message: str) -> None:
    if limits.min > bound or (limits.max is not None and limits.max > bound):
        raise InvalidError(message)
    if limits.max is not None and limits.min > limits.max:
        raise InvalidError("size minimum must not be greater than maximum")


def _check_table_type(table: TableType, ctx: Context) -> None:
    check_valtype(ctx, table.elem)
    if table.is_64:
        _check_limits(table.limits, MAX_TABLE_SIZE_64, "table size must be at most 2^64-1")
    else:
        _check_limits(table.limits, MAX_TABLE_SIZE, "table size must be at most 2^32-1")


def _check_memory_type(mem: MemoryType) -> None:
    if mem.page_size_log2 not in (0, 16):
        raise InvalidError("invalid custom page size")
    if mem.is_64 and mem.page_size_log2 == 16:
        message = "memory size must be at most 2^48 pages (256TiB)"
    elif mem.page_size_log2 == 16:
        message = "memory size must be at most 65536 pages (4GiB)"
    else:
        message = f"memory size must be at most {mem.max_pages} bytes"
    _check_limits(mem.limits, mem.max_pages, message)
    if mem.shared and mem.limits.max is None:
        raise InvalidError("shared memory must have maximum")


def _check_const_expr(ctx: Context, expr: Expr | None, expected: str,
                      visible_globals: int | None = None) -> None:
    """A constant expression producing exactly one value of type ``expected``.

    Wasm 2.0 (d76759e): ``global.get`` may only name an immutable *imported* global. Wasm 3.0:
    extended constants (``wasm_extended_const``) add ``i32/i64.add/sub/mul``, and since the
    GC proposal (``wasm_gc``) ``global.get`` may name any immutable global before
    ``visible_globals`` (a global's initializer sees the globals before it; segment offsets
    see them all).
    """
    extended = feature_on(ctx, "wasm_extended_const")
    if not feature_on(ctx, "wasm_gc"):
        visible = ctx.num_imported_globals
    elif visible_globals is None:
        visible = len(ctx.globals)
    else:
        visible = visible_globals
    stack: list[str] = []
    nfuncs = len(ctx.func_types)
    for op, imm in expr or ():
        name = op.name
        if name in _CONST_OPS:
            stack.append(op.results[0])  # type: ignore[index]
        elif name in _EXTENDED_OPS and extended:
            t = op.results[0]  # type: ignore[index]
            if stack[-2:] != [t, t]:
                raise InvalidError("type mismatch")
            stack.pop()
        elif name == "ref.null":
            check_valtype(ctx, imm)
            stack.append(imm)
        elif name == "ref.func":
            if not 0 <= imm < nfuncs:
                raise InvalidError(f"unknown function {imm}")
            stack.append(ctx.func_ref_type(imm))
        elif name in GC_CONST_OPS:
            validate_gc(name, imm, _ConstOperands(stack, ctx), ctx.gc_types, ctx.elem_types,
                        ctx.num_datas)
        elif name == "global.get":
            if not 0 <= imm < visible:
                raise InvalidError(f"unknown global {imm}")
            gt = ctx.globals[imm]
            if gt.mutable:
                raise InvalidError("constant expression required")
            stack.append(gt.content)
        else:
            raise InvalidError("constant expression required")
    if len(stack) != 1 or not val_subtype(stack[0], expected, ctx.resolve):
        raise InvalidError("type mismatch")


class _ConstOperands:
    """A constant expression's type stack as engine.validate.gc's Operands."""

    def __init__(self, stack: list, ctx: Context) -> None:
        self.stack, self.ctx = stack, ctx

    def pop(self, expected):
        if not self.stack:
            raise InvalidError("type mismatch")
        actual = self.stack.pop()
        if expected is not None and not val_subtype(actual, expected, self.ctx.resolve):
            raise InvalidError("type mismatch")
        return actual

    def push(self, t) -> None:
        self.stack.append(t)


def _check_exports(info: ModuleInfo, ctx: Context) -> None:
    sizes = {
        FUNC: (len(ctx.func_types), "function"),
        TABLE: (len(ctx.tables), "table"),
        MEMORY: (ctx.num_mems, "memory"),
        GLOBAL: (len(ctx.globals), "global"),
        TAG: (len(ctx.tags), "tag"),
    }
    seen: set[str] = set()
    for exp in info.exports:
        if exp.name in seen:
            raise InvalidError("duplicate export name")
        seen.add(exp.name)
        size, what = sizes[exp.kind]
        if not 0 <= exp.index < size:
            raise InvalidError(f"unknown {what} {exp.index}")


def _check_start(info: ModuleInfo, ctx: Context) -> None:
    if info.start is None:
        return
    if not 0 <= info.start < len(ctx.func_types):
        raise InvalidError(f"unknown function {info.start}")
    ft = ctx.func_types[info.start]
    if ft is None or ft.params or ft.results:
        raise InvalidError("start function")


def _check_elems(info: ModuleInfo, ctx: Context) -> None:
    for seg in info.elems:
        check_valtype(ctx, seg.elem_type)
        for expr in seg.init:
            _check_const_expr(ctx, expr, seg.elem_type)
        if seg.mode == "active":
            if not 0 <= seg.table < len(ctx.tables):
                raise InvalidError(f"unknown table {seg.table}")
            if not val_subtype(seg.elem_type, ctx.tables[seg.table].elem, ctx.resolve):
                raise InvalidError("type mismatch")
            _check_const_expr(ctx, seg.offset, ctx.tables[seg.table].index_type)


def _check_datas(info: ModuleInfo, ctx: Context) -> None:
    for seg in info.datas:
        if seg.mode == "active":
            if not 0 <= seg.memory < ctx.num_mems:
                raise InvalidError(f"unknown memory {seg.memory}")
            _check_const_expr(ctx, seg.offset, ctx.mems[seg.memory].index_type)
