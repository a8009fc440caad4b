"""Instances: the runtime record ``rt`` that translated code binds to, and instantiation.

Nothing is created per function up front: ``rt.funcs`` and ``rt.func_refs`` are dicts whose
``__missing__`` binds (compiling on first use) or creates the entry a caller touches.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Union

from ..binary.module import FUNC, GLOBAL, MEMORY, TABLE, TAG, Expr, Import, ModuleInfo
from ..compile.gc_helpers import eval_gc_const
from ..compile.numerics import f32_from_bits, f64_from_bits
from ..errors import InvalidError, LinkError, StoreMismatchError, Trap
from ..gctypes import GC_CONST_OPS
from ..types import (
    FuncType,
    GlobalType,
    MemoryType,
    TableType,
    TagType,
    limits_match,
    memory_type_match,
    runtime_resolve,
    val_subtype,
)
from .calls import invoke
from .func import Func
from .global_ import Global, GlobalCell
from .memory import Memory, MemoryInst
from .module import Module
from .table import Table, TableInst
from .tag import Tag

Extern = Union[Func, Memory, Table, Global, Tag]  # noqa: UP007 - runtime value, Python 3.9


class _Funcs(dict):
    """Function index -> internal callable, bound on first use."""

    __slots__ = ("rt",)

    def __missing__(self, index: int) -> Any:
        rt = self.rt
        n = rt.num_imported_funcs
        if 0 <= index < n:
            fn = rt.func_refs[index].fn
        else:
            # Key ~i (negative): function i translated for its failed entry guard
            # (compile/entry_guard.py), made on first use and kept like the others.
            unguarded = index < 0
            defined = (~index if unguarded else index) - n
            try:
                factory = rt.code.factory(defined, unguarded)
            except RecursionError:
                # A first call (lazy modes) at the end of the wasm call budget: lend the
                # compiler frames above the limit (no Python frame before the limit is
                # raised), so the depth available to wasm does not depend on the mode.
                limit = sys.getrecursionlimit()
                sys.setrecursionlimit(limit + COMPILE_HEADROOM)
                try:
                    factory = _compile_deep(rt.code, defined, unguarded)
                finally:
                    if sys.getrecursionlimit() == limit + COMPILE_HEADROOM:
                        sys.setrecursionlimit(limit)
            fn = factory(rt)
        return self.setdefault(index, fn)


#: Python frames lent to the compiler for a first call at the end of the wasm call budget;
#: deeper needs are met on a fresh thread's stack.
COMPILE_HEADROOM = 200


def _compile_deep(code: Any, defined_index: int, unguarded: bool) -> Any:
    try:
        return code.factory(defined_index, unguarded)
    except RecursionError:
        return code.factory_on_fresh_stack(defined_index, unguarded)


class _FuncRefs(dict):
    """Function index -> Func (the funcref value), created on first use."""

    __slots__ = ("rt",)

    def __missing__(self, index: int) -> Func:
        rt = self.rt
        type_index = rt.info.funcs[index - rt.num_imported_funcs]
        deftype = rt.gc_types[type_index] if rt.gc_types else None
        return self.setdefault(index, Func._wasm(rt, index, rt.types[type_index], deftype))


class Runtime:
    """The runtime record of one instance (docs/architecture.md, "The runtime record rt")."""

    __slots__ = (
        "__weakref__",
        "code",
        "datas",
        "elems",
        "fuel",
        "func_refs",
        "funcs",
        "gc_types",
        "globals",
        "info",
        "interrupt",
        "memories",
        "meters",
        "module",
        "num_imported_funcs",
        "store",
        "tables",
        "tags",
        "types",
    )

    def __init__(self, module: Module, store: Any = None) -> None:
        self.module = module
        self.store = store  # keeps the code map's entries alive while any Func of it lives
        self.info: ModuleInfo = module.info
        self.code = module.code
        self.num_imported_funcs = module.code.num_imported
        self.types: list[FuncType] = module.canon.func_types
        #: Canonical GC types by type index (set by validation; generated code binds them).
        self.gc_types: list[Any] = module.info.gc_types
        self.funcs = _Funcs()
        self.funcs.rt = self
        self.func_refs = _FuncRefs()
        self.func_refs.rt = self
        self.tables: list[TableInst] = []
        self.tags: list[Tag] = []  # the tag index space (exception handling)
        self.memories: list[MemoryInst] = []
        self.globals: list[GlobalCell] = []
        self.elems: list[Any] = []
        self.datas: list[bytes] = []
        self.fuel: list[Any] = [0, 0, None]  # the store's cells, set by Instance
        self.interrupt: list[bool] = []  # non-empty: interrupted (see compile/fuel.py)
        self.meters: Any = None  # the store's fuel meters (engine.compile.fuel.Meters)


class Exports(Mapping[str, Extern]):
    """An instance's exports by name, in module order."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, Extern]) -> None:
        self._items = items

    def __getitem__(self, name: str) -> Extern:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Exports({list(self._items)})"


class Instance:
    """``Instance(store, module, imports)``: link, initialise, run the start function.

    ``imports`` are externs (Func / Table / Memory / Global) in the module's import order.
    Raises LinkError ("incompatible import type", naming the import), StoreMismatchError
    (an import of another store), ResourceLimitError (past ``Store.set_limits``; nothing is
    allocated then) or Trap (segment bounds, start function). As in Wasm 2.0, a trap keeps
    what earlier segments already wrote.
    """

    def __init__(self, store: Any, module: Module, imports: Sequence[Extern] = ()) -> None:
        self.module = module
        self._store = store
        rt = self._rt = Runtime(module, store)
        rt.fuel = getattr(store, "fuel", rt.fuel)
        rt.interrupt = getattr(store, "interrupt", rt.interrupt)
        rt.meters = getattr(store, "meters", None)
        self._tables: list[Table] = []
        self._memories: list[Memory] = []
        self._globals: list[Global] = []
        self._exports: Exports | None = None
        self._link(list(imports), store)
        info = module.info
        limits = getattr(store, "limits", None)
        if limits is not None:  # before any allocation, so a refusal costs nothing
            limits.reserve(1, len(info.mems), len(info.tables),
                           [m.min_bytes for m in info.mems],
                           [t.limits.min for t in info.tables])
        self._allocate()
        self._init_segments()
        start = module.info.start
        if start is not None:
            invoke(store.engine.config.max_call_depth, rt.funcs[start], ())

    def exports(self, store: Any = None) -> Exports:
        """Mapping export name -> Func / Memory / Table / Global (same objects every time)."""
        if self._exports is None:
            rt, items = self._rt, {}
            for exp in self.module.info.exports:
                if exp.kind == FUNC:
                    items[exp.name] = rt.func_refs[exp.index]
                elif exp.kind == TABLE:
                    items[exp.name] = self._tables[exp.index]
                elif exp.kind == MEMORY:
                    items[exp.name] = self._memories[exp.index]
                elif exp.kind == TAG:
                    items[exp.name] = rt.tags[exp.index]
                else:
                    items[exp.name] = self._globals[exp.index]
            self._exports = Exports(items)
        return self._exports

    # -- instantiation steps ------------------------------------------------------------

    def _link(self, imports: list[Extern], store: Any = None) -> None:
        rt, info = self._rt, self.module.info
        if len(imports) != len(info.imports):
            raise LinkError(f"expected {len(info.imports)} imports, found {len(imports)}")
        nfunc = 0
        canon = self.module.canon
        for imp, ext in zip(info.imports, imports):
            owner = getattr(ext, "_store", None)
            if owner is not None and self._store is not None and owner is not self._store:
                raise StoreMismatchError(
                    f"import {qualified(imp.module, imp.name)}: the {type(ext).__name__} belongs to "
                    "another store")
            if imp.kind == FUNC:
                ok = isinstance(ext, Func) and func_matches(ext, rt, imp.desc,  # type: ignore[arg-type]
                                                            imp.exact)
                if ok:
                    rt.func_refs[nfunc] = ext
                    if getattr(ext, "_caller_fn", None) is not None:  # access_caller=True
                        rt.funcs[nfunc] = ext._bind_caller(rt, store)
                    nfunc += 1
            elif imp.kind == TABLE:
                want = canon.table_type(imp.desc)  # type: ignore[arg-type]
                ok = isinstance(ext, Table) and ext._table.type.elem == want.elem
                ok = ok and ext._table.type.is_64 == imp.desc.is_64  # type: ignore[union-attr]
                ok = ok and limits_match(ext._table.limits(), imp.desc.limits)  # type: ignore[union-attr]
                if ok:
                    self._tables.append(ext)
                    rt.tables.append(ext._table)
            elif imp.kind == MEMORY:
                ok = isinstance(ext, Memory) and memory_type_match(
                    ext._mem.current_type(), imp.desc)  # type: ignore[arg-type]
                if ok:
                    self._memories.append(ext)
                    rt.memories.append(ext._mem)
            elif imp.kind == TAG:
                want_type = rt.types[imp.desc]  # type: ignore[index]
                ok = isinstance(ext, Tag) and ext._type.functype == want_type
                want_def = rt.gc_types[imp.desc] if rt.gc_types else None  # type: ignore[index]
                if ok and want_def is not None and ext._deftype is not None:
                    ok = ext._deftype is want_def  # tag types match by (canonical) equality
                if ok:
                    rt.tags.append(ext)
            elif imp.kind == GLOBAL:
                ok = isinstance(ext, Global) and global_type_match(
                    ext._cell.type, canon.global_type(imp.desc))  # type: ignore[arg-type]
                if ok:
                    self._globals.append(ext)
                    rt.globals.append(ext._cell)
            if not ok:
                raise LinkError(
                    f"incompatible import type for {qualified(imp.module, imp.name)}: expected "
                    f"{_describe(import_type(info, imp))}, got {_describe_extern(ext)}")

    def _allocate(self) -> None:
        """Defined tables and memories, then globals initialised in order."""
        rt, info = self._rt, self.module.info
        store = self._store
        limits = getattr(store, "limits", None)
        canon = self.module.canon
        inits = info.table_inits or [None] * len(info.tables)
        for ttype, init in zip(info.tables, inits):
            value = None if init is None else eval_const(init, rt)
            table = TableInst(canon.table_type(ttype), value, limits)
            rt.tables.append(table)
            self._tables.append(Table._wrap(table, store))
        for type_index in info.tags:
            deftype = rt.gc_types[type_index] if rt.gc_types else None
            rt.tags.append(Tag._wasm(store, rt.types[type_index], deftype))
        for mtype in info.mems:
            mem = MemoryInst(mtype, limits)
            rt.memories.append(mem)
            self._memories.append(Memory._wrap(mem, store))
        for gdef in info.globals:
            cell = GlobalCell(canon.global_type(gdef.type), eval_const(gdef.init, rt))
            rt.globals.append(cell)
            self._globals.append(Global._wrap(cell, store))
        rt.elems = [[eval_const(e, rt) for e in seg.init] for seg in info.elems]
        rt.datas = [seg.init for seg in info.datas]

    def _init_segments(self) -> None:
        """Active element segments, then active data segments, in order (then dropped)."""
        rt, info = self._rt, self.module.info
        for i, seg in enumerate(info.elems):
            if seg.mode == "active":
                refs = rt.elems[i]
                offset = eval_const(seg.offset, rt)  # type: ignore[arg-type]
                elements = rt.tables[seg.table].elements
                if offset + len(refs) > len(elements):
                    raise Trap("out of bounds table access")
                elements[offset : offset + len(refs)] = refs
            if seg.mode != "passive":
                rt.elems[i] = ()
        for i, dseg in enumerate(info.datas):
            if dseg.mode == "active":
                offset = eval_const(dseg.offset, rt)  # type: ignore[arg-type]
                data = rt.memories[dseg.memory].data
                if offset + len(dseg.init) > len(data):
                    raise Trap("out of bounds memory access")
                data[offset : offset + len(dseg.init)] = dseg.init
                rt.datas[i] = b""

    def __repr__(self) -> str:
        return f"<Instance of {self.module!r}>"


def global_type_match(actual: GlobalType, expected: GlobalType) -> bool:
    """Import matching of globals: same mutability; a mutable global's type is invariant,
    an immutable one's covariant."""
    if actual.mutable != expected.mutable:
        return False
    if actual.mutable:
        return actual.content == expected.content
    return val_subtype(actual.content, expected.content, runtime_resolve)


def qualified(module: str, name: str) -> str:
    """``module::name`` for messages; names come from a module, so they are escaped."""
    text = f"`{module}::{name}`"
    return text.encode("unicode_escape").decode("ascii")


def import_type(info: ModuleInfo, imp: Import) -> FuncType | TableType | MemoryType | GlobalType:
    """The type an import declares (a func import's type index resolved)."""
    if imp.kind == FUNC:
        return info.types[imp.desc]  # type: ignore[index]
    if imp.kind == TAG:
        return TagType(info.types[imp.desc])  # type: ignore[index]
    return imp.desc  # type: ignore[return-value]


def _describe(t: Any) -> str:
    """A type in the text format's words, for error messages."""
    if isinstance(t, FuncType):
        return f"func {t}"
    if isinstance(t, TableType):
        return f"table {'i64 ' if t.is_64 else ''}{_limits(t.limits)} {t.elem}"
    if isinstance(t, MemoryType):
        extra = "".join((" shared" if t.shared else "",
                         "" if t.page_size_log2 == 16 else f" (pagesize {t.page_size})"))
        return f"memory {'i64 ' if t.is_64 else ''}{_limits(t.limits)}{extra}"
    if isinstance(t, GlobalType):
        return f"global {'mut ' if t.mutable else ''}{t.content}"
    if isinstance(t, TagType):
        return f"tag {t.functype}"
    return repr(t)


def _limits(lim: Any) -> str:
    return f"{lim.min}" if lim.max is None else f"{lim.min} {lim.max}"


def _describe_extern(ext: Any) -> str:
    if isinstance(ext, Func):
        return _describe(ext.ftype)
    if isinstance(ext, Table):
        return _describe(TableType(ext._table.type.elem, ext._table.limits(),
                                   ext._table.type.is_64))
    if isinstance(ext, Memory):
        return _describe(ext._mem.current_type())
    if isinstance(ext, Global):
        return _describe(ext._cell.type)
    if isinstance(ext, Tag):
        return _describe(ext._type)
    return f"a {type(ext).__name__}, not an extern"


_M32, _M64 = (1 << 32) - 1, (1 << 64) - 1
_BINOPS = {
    "i32.add": (lambda a, b: a + b, _M32),
    "i32.sub": (lambda a, b: a - b, _M32),
    "i32.mul": (lambda a, b: a * b, _M32),
    "i64.add": (lambda a, b: a + b, _M64),
    "i64.sub": (lambda a, b: a - b, _M64),
    "i64.mul": (lambda a, b: a * b, _M64),
}


def func_matches(func: Func, rt: Runtime, type_index: int, exact: bool = False) -> bool:
    """Import matching of a function: a wasm function's canonical type must be a (declared)
    subtype of the import's (the type itself for an ``exact`` import, custom descriptors);
    a host function's signature must equal it."""
    want = rt.gc_types[type_index] if rt.gc_types else None
    have = func.deftype
    if want is not None and have is not None:
        return have is want or (not exact and have.is_subtype_of(want))
    return func.ftype == rt.types[type_index]


def eval_const(expr: Expr, rt: Runtime) -> Any:
    """Evaluate a (validated) constant expression to an internal value."""
    stack: list[Any] = []
    for op, imm in expr:
        name = op.name
        if name in ("i32.const", "i64.const", "v128.const"):
            stack.append(imm)
        elif name == "f32.const":
            stack.append(f32_from_bits(imm))
        elif name == "f64.const":
            stack.append(f64_from_bits(imm))
        elif name == "ref.null":
            stack.append(None)
        elif name == "ref.func":
            stack.append(rt.func_refs[imm])
        elif name == "global.get":
            stack.append(rt.globals[imm].value)
        elif name in GC_CONST_OPS:
            eval_gc_const(name, imm, stack, rt.gc_types)
        elif name in _BINOPS and len(stack) >= 2:
            fn, mask = _BINOPS[name]
            b = stack.pop()
            stack.append(fn(stack.pop(), b) & mask)
        else:
            raise InvalidError("constant expression required")
    if len(stack) != 1:
        raise InvalidError("type mismatch")
    return stack[0]
