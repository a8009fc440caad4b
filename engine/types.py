"""Types of the WebAssembly type system, shared by every stage.

Value types are plain strings (``"i32"``, ``"i64"``, ``"f32"``, ``"f64"``, ``"v128"``):
cheap to compare, readable in messages and generated code. Reference types are
:class:`RefType` objects, a ``str`` subclass whose text is the type's text form
(``"funcref"``, ``"externref"``, ``"exnref"``, ``"(ref func)"``, ``"(ref null 3)"``) and
which carries ``nullable`` and ``heap``; so ``RefType(True, "func") == "funcref"`` and the
2.0 code paths that compare strings keep working.

A *heap type* is an abstract name (:data:`ABSTRACT_HEAP_TYPES`: ``func``/``nofunc``,
``extern``/``noextern``, ``exn``/``noexn`` and GC's ``any``/``eq``/``i31``/``struct``/
``array``/``none``) or a concrete type: a module-relative type index (``int``) in decoded
modules. Subtyping (:func:`heap_subtype`, :func:`val_subtype`) takes a ``resolve`` callable
mapping a type index to a canonical key and kind (:class:`TypeInfo`), so the same rules
serve one module's validator and (with canonical keys) matching across modules.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .compat import SLOTS

I32 = "i32"
I64 = "i64"
F32 = "f32"
F64 = "f64"
V128 = "v128"

#: The abstract heap types, by hierarchy: (top, members..., bottom).
ANY_HIERARCHY = ("any", "eq", "i31", "struct", "array", "none")
FUNC_HIERARCHY = ("func", "nofunc")
EXTERN_HIERARCHY = ("extern", "noextern")
EXN_HIERARCHY = ("exn", "noexn")
ABSTRACT_HEAP_TYPES = ANY_HIERARCHY + FUNC_HIERARCHY + EXTERN_HIERARCHY + EXN_HIERARCHY
#: Binary encoding of abstract heap types (one-byte s33 values, spec 5.3.3); the same bytes
#: are the shorthand value types ``funcref`` = ``(ref null func)`` and so on.
HEAP_TYPE_CODES = {
    0x73: "nofunc", 0x72: "noextern", 0x71: "none", 0x70: "func", 0x6F: "extern",
    0x6E: "any", 0x6D: "eq", 0x6C: "i31", 0x6B: "struct", 0x6A: "array", 0x69: "exn",
    0x74: "noexn",
}
#: The heap types of a proposal beyond function references: their feature flag.
HEAP_TYPE_FEATURES = {
    "exn": "wasm_exceptions", "noexn": "wasm_exceptions",
    **{h: "wasm_gc" for h in ANY_HIERARCHY},
}
#: Top of each abstract heap type's hierarchy, and the bottom by top.
TOP_OF = {h: hier[0] for hier in (ANY_HIERARCHY, FUNC_HIERARCHY, EXTERN_HIERARCHY,
                                  EXN_HIERARCHY) for h in hier}
BOTTOM_OF = {"any": "none", "func": "nofunc", "extern": "noextern", "exn": "noexn"}
#: Strict abstract supertypes of the abstract heap types (bottoms handled separately).
_ABSTRACT_SUPERS = {
    "eq": ("any",), "i31": ("eq", "any"), "struct": ("eq", "any"), "array": ("eq", "any"),
}
#: Abstract supertypes of a concrete type, by its kind.
KIND_SUPERS = {"func": ("func",), "struct": ("struct", "eq", "any"),
               "array": ("array", "eq", "any")}
#: Shorthand names of nullable abstract reference types.
_SHORT = {"func": "funcref", "extern": "externref", "exn": "exnref", "any": "anyref",
          "eq": "eqref", "i31": "i31ref", "struct": "structref", "array": "arrayref",
          "none": "nullref", "nofunc": "nullfuncref", "noextern": "nullexternref",
          "noexn": "nullexnref"}
_FROM_SHORT = {v: k for k, v in _SHORT.items()}


_REF_CACHE: dict[tuple[bool, Any], RefType] = {}


class Exact(NamedTuple):
    """An exact heap type ``(exact ht)`` (custom descriptors proposal): the references to
    values of type ``ht`` itself, none of its strict subtypes. ``heap`` is a concrete type
    (a type index as decoded, a canonical id or DefType at run time); binary ``0x62 x``."""

    heap: Any

    def __str__(self) -> str:
        return f"(exact {self.heap})"

    # Equal only to an Exact: as a plain tuple it would equal other one-item NamedTuples
    # of heap types (RecRef, CanonHeap) and collide with them in the RefType cache.
    def __eq__(self, other: object) -> bool:
        return type(other) is Exact and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(("exact", self.heap))


def strip_exact(heap: Any) -> Any:
    """The heap type without its exactness (itself when not exact)."""
    return heap.heap if type(heap) is Exact else heap


def map_heap(heap: Any, f: Callable[[Any], Any]) -> Any:
    """``f`` applied to the concrete type of ``heap``, keeping exactness."""
    if type(heap) is Exact:
        inner = f(heap.heap)
        return heap if inner is heap.heap else Exact(inner)
    return f(heap)


def _cacheable(heap: Any) -> bool:
    """Whether a RefType of ``heap`` may be interned (canonical GC types must not be: the
    cache would keep them alive)."""
    if type(heap) is Exact:
        heap = heap.heap
    return isinstance(heap, (str, int, tuple))


class RefType(str):
    """A reference type ``(ref null? heap)``: a string (its text form) with ``nullable``
    and ``heap`` attributes. Instances are interned, so equal types are one object."""

    nullable: bool
    heap: Any  # str (abstract) | int (type index) | a canonical defined type

    def __new__(cls, nullable: bool, heap: Any) -> RefType:  # noqa: PYI034
        key = (bool(nullable), heap)
        cacheable = type(heap) is str or type(heap) is int or _cacheable(heap)
        t = _REF_CACHE.get(key) if cacheable else None
        if t is None:
            if isinstance(heap, str):
                text = _SHORT.get(heap, f"(ref null {heap})") if nullable else f"(ref {heap})"
            else:
                text = f"(ref {'null ' if nullable else ''}{heap})"
            t = str.__new__(cls, text)
            t.nullable, t.heap = key
            # Canonical GC types (engine.gctypes.DefType) are not cached: the cache would
            # keep them alive; equal such types have equal text (their repr names the group).
            if cacheable:
                t = _REF_CACHE.setdefault(key, t)
        return t

    def __reduce__(self) -> tuple:
        return (RefType, (self.nullable, self.heap))

    def as_nullable(self) -> RefType:
        return RefType(True, self.heap)

    def as_non_null(self) -> RefType:
        return RefType(False, self.heap)


FUNCREF = RefType(True, "func")
EXTERNREF = RefType(True, "extern")
EXNREF = RefType(True, "exn")

NUM_TYPES = (I32, I64, F32, F64)
REF_TYPES = (FUNCREF, EXTERNREF)
VALUE_TYPES = (I32, I64, F32, F64, V128, FUNCREF, EXTERNREF)

#: Binary encoding of value types (spec 5.3.3 / 5.3.4); reference types of the 2.0 codes.
VALTYPE_CODES = {0x7F: I32, 0x7E: I64, 0x7D: F32, 0x7C: F64, 0x7B: V128, 0x70: FUNCREF,
                 0x6F: EXTERNREF}
REFTYPE_CODES = {0x70: FUNCREF, 0x6F: EXTERNREF}
#: Every abstract shorthand reference type by code (``0x69``: exnref, ``0x6E``: anyref, ...).
SHORTHAND_CODES = {code: RefType(True, heap) for code, heap in HEAP_TYPE_CODES.items()}

#: Page size of linear memory and the 2.0 limits (in pages / elements).
PAGE_SIZE = 65536
MAX_PAGES = 65536
MAX_TABLE_SIZE = 0xFFFF_FFFF
#: memory64 / table64 bounds: 2**48 pages of 64 KiB, 2**64-1 elements.
MAX_PAGES_64 = 1 << 48
MAX_TABLE_SIZE_64 = (1 << 64) - 1


def as_ref(t: Any) -> RefType | None:
    """``t`` as a RefType (plain ``"funcref"`` strings included), or None if not a reference
    type."""
    if isinstance(t, RefType):
        return t
    heap = _FROM_SHORT.get(t) if isinstance(t, str) else None
    return None if heap is None else RefType(True, heap)


def is_ref(t: Any) -> bool:
    """True for reference types."""
    return as_ref(t) is not None


def is_defaultable(t: Any) -> bool:
    """Numbers, vectors and nullable references have a default value (spec 'defaultable')."""
    r = as_ref(t)
    return r is None or r.nullable


_CANONICAL: dict[Any, int] = {}
_CANONICAL_LOCK = threading.Lock()


def canonical_id(key: Any) -> int:
    """An engine-wide number for a type's structural key (whose references to other types
    are already their numbers), so equivalent types of any modules get the same number.

    The table only grows (one entry per distinct type structure ever seen); the GC work
    replaces it with interned recursion groups."""
    n = _CANONICAL.get(key)
    if n is None:
        with _CANONICAL_LOCK:
            n = _CANONICAL.setdefault(key, len(_CANONICAL))
    return n


class CanonHeap(NamedTuple):
    """A concrete heap type by its engine-wide canonical id (runtime types: tables,
    globals, functions of instances), where decoded modules have a type index."""

    id: Any  # an int, or the structure of a type without type references

    def __str__(self) -> str:
        return f"#{self.id}" if isinstance(self.id, int) else f"(func {self.id[1]} {self.id[2]})"


def _canon_key(t: Any, ids: list[int], self_index: int) -> Any:
    if isinstance(t, RefType) and isinstance(t.heap, int):
        h = t.heap
        if h > self_index:
            raise ValueError(f"unknown type {h}")
        return (t.nullable, -1 if h == self_index else ids[h])
    return t


def canonical_ids(types: list[FuncType]) -> list[Any]:
    """Canonical ids of a module's function types (iso-recursive equivalence for types that
    are each their own recursion group): a reference to an earlier type is replaced by that
    type's id, a reference to itself by a marker. Referring to a later type raises
    ValueError (the validator's "unknown type"). Linear in the size of the type section."""
    ids: list[Any] = []
    for i, ft in enumerate(types):
        key = ("func", tuple(_canon_key(t, ids, i) for t in ft.params),
               tuple(_canon_key(t, ids, i) for t in ft.results))
        if any(isinstance(t, RefType) and isinstance(t.heap, int)
               for t in ft.params + ft.results):
            ids.append(canonical_id(key))
        else:
            ids.append(key)  # no type references: its structure is its identity (not stored)
    return ids


def canon_valtype(t: Any, ids: list[int]) -> Any:
    """``t`` with a type index replaced by its canonical id (:class:`CanonHeap`)."""
    if isinstance(t, RefType):
        h = strip_exact(t.heap)
        if isinstance(h, int) and h < len(ids):
            return RefType(t.nullable, map_heap(t.heap, lambda i: CanonHeap(ids[i])))
    return t


def runtime_resolve(heap: Any) -> TypeInfo:
    """The resolver of runtime types (canonical heap types of function types; canonical GC
    types, engine.gctypes.DefType, carry their kind)."""
    kind = getattr(heap, "kind", None)
    return TypeInfo(heap, "func" if kind is None else kind)


class TypeInfo(NamedTuple):
    """What subtyping needs of a concrete type: a key equal for equivalent types, and its
    kind (``"func"``, ``"struct"``, ``"array"``)."""

    key: Any
    kind: str


#: Maps a concrete heap type (a type index) to its TypeInfo.
Resolver = Callable[[Any], TypeInfo]


def heap_top(heap: Any, resolve: Resolver) -> str:
    """The top of the hierarchy ``heap`` belongs to (``func``, ``extern``, ``exn``, ``any``)."""
    if isinstance(heap, str):
        return TOP_OF[heap]
    kind = resolve(strip_exact(heap)).kind
    return "func" if kind == "func" else "any"


def heap_subtype(a: Any, b: Any, resolve: Resolver) -> bool:
    """Heap type subtyping ``a <: b`` (spec 3.3 'Heap types'), without declared GC
    supertypes (concrete types match by equivalence)."""
    if a == b or a == "bot":  # "bot": the heap type of references in unreachable code
        return True
    if type(b) is Exact:  # only the bottom and the exact type itself (custom descriptors)
        if isinstance(a, str):
            return a == BOTTOM_OF[heap_top(b, resolve)]
        return type(a) is Exact and resolve(a.heap).key == resolve(b.heap).key
    if type(a) is Exact:
        a = a.heap
        if a == b:
            return True
    if isinstance(a, str):
        if isinstance(b, str):
            if a in BOTTOM_OF.values():
                return TOP_OF[a] == TOP_OF[b]
            return b in _ABSTRACT_SUPERS.get(a, ())
        return a == BOTTOM_OF[heap_top(b, resolve)]
    ia = resolve(a)
    if isinstance(b, str):
        return b in KIND_SUPERS.get(ia.kind, ())
    ka, kb = ia.key, resolve(b).key
    if ka == kb:
        return True
    # Canonical GC types (engine.gctypes.DefType): declared subtyping, O(1).
    declared = getattr(ka, "is_subtype_of", None)
    return declared is not None and type(kb) is type(ka) and declared(kb)


def val_subtype(a: Any, b: Any, resolve: Resolver) -> bool:
    """Value type subtyping ``a <: b``; None (the validator's bottom) is below everything."""
    if a == b or a is None:
        return True
    ra, rb = as_ref(a), as_ref(b)
    if ra is None or rb is None:
        return False
    if ra.nullable and not rb.nullable:
        return False
    return heap_subtype(ra.heap, rb.heap, resolve)


@dataclass(frozen=True)
class FuncType:
    """A function type: parameter and result value types. Equal and hashed by value; any
    iterables given (``FuncType([ValType.i32()], [])``, as wasmtime-py) are kept as tuples."""

    params: tuple[str, ...]
    results: tuple[str, ...]

    def __post_init__(self) -> None:
        if type(self.params) is not tuple:
            object.__setattr__(self, "params", tuple(self.params))
        if type(self.results) is not tuple:
            object.__setattr__(self, "results", tuple(self.results))

    def __str__(self) -> str:
        return f"[{' '.join(self.params)}] -> [{' '.join(self.results)}]"


#: Weak values: an interned type lives as long as a module, function or compiled body uses
#: it, so loading and dropping modules does not grow this table.
_FUNC_TYPES: weakref.WeakValueDictionary[tuple[tuple[str, ...], tuple[str, ...]], FuncType] = (
    weakref.WeakValueDictionary()
)
_INTERN_LOCK = threading.Lock()


def intern_func_type(params: tuple[str, ...], results: tuple[str, ...]) -> FuncType:
    """The one shared FuncType object for this signature.

    Interning lets the hot ``call_indirect`` check compare types with ``is`` first.
    """
    key = (tuple(params), tuple(results))
    ft = _FUNC_TYPES.get(key)
    if ft is None:
        with _INTERN_LOCK:
            ft = _FUNC_TYPES.get(key)
            if ft is None:
                ft = FuncType(*key)
                _FUNC_TYPES[key] = ft
    return ft


@dataclass(frozen=True)
class TagType:
    """A tag type (exception handling): the function type of its payload, with no results
    (wasmtime-py's ``TagType``)."""

    functype: FuncType

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(self.functype.params)


@dataclass(frozen=True, **SLOTS)
class Limits:
    """Limits of a memory (pages) or table (elements); ``max`` is None when unbounded."""

    min: int
    max: int | None = None


@dataclass(frozen=True, **SLOTS)
class TableType:
    """A table type: element reference type, limits and index type (``is_64``: table64)."""

    elem: str
    limits: Limits
    is_64: bool = False

    @property
    def index_type(self) -> str:
        """The type of element indices: ``"i64"`` for a 64-bit table, else ``"i32"``."""
        return I64 if self.is_64 else I32

    @property
    def element(self) -> str:
        """The element type (wasmtime-py's name for ``elem``)."""
        return self.elem


@dataclass(frozen=True, **SLOTS)
class MemoryType:
    """A memory type: limits in pages, index type (``is_64``: memory64), ``shared`` (threads)
    and the page size as a power of two (custom page sizes: 0 or 16)."""

    limits: Limits
    is_64: bool = False
    shared: bool = False
    page_size_log2: int = 16

    @property
    def index_type(self) -> str:
        """The type of addresses: ``"i64"`` for a 64-bit memory, else ``"i32"``."""
        return I64 if self.is_64 else I32

    @property
    def page_size(self) -> int:
        return 1 << self.page_size_log2

    @property
    def min_bytes(self) -> int:
        """The minimum size in bytes (what store limits count)."""
        return self.limits.min << self.page_size_log2

    @property
    def max_pages(self) -> int:
        """The largest size in pages its index type can address (the spec's bound)."""
        bits = 64 if self.is_64 else 32
        return min(1 << (bits - self.page_size_log2), (1 << bits) - 1)


@dataclass(frozen=True, **SLOTS)
class GlobalType:
    """A global type: value type and mutability."""

    content: str
    mutable: bool = False


def memory_type_match(actual: MemoryType, expected: MemoryType) -> bool:
    """Import matching of memory types: same index type, sharing and page size, and
    matching limits."""
    return (
        actual.is_64 == expected.is_64
        and actual.shared == expected.shared
        and actual.page_size_log2 == expected.page_size_log2
        and limits_match(actual.limits, expected.limits)
    )


def limits_match(actual: Limits, expected: Limits) -> bool:
    """Import subtyping of limits (spec 'Limits' in import matching)."""
    if actual.min < expected.min:
        return False
    if expected.max is None:
        return True
    return actual.max is not None and actual.max <= expected.max
