"""GC type system: recursive type groups, declared subtyping, iso-recursive canonicalization.

Shared vocabulary like :mod:`engine.types` (imports no stage). The forms:

- A *heap type* is an abstract name (``"any"``, ``"eq"``, ``"i31"``, ``"struct"``,
  ``"array"``, ``"none"``, ``"func"``, ``"nofunc"``, ``"extern"``, ``"noextern"``, ``"exn"``,
  ``"noexn"``), a module-local type index (``int``, as decoded), a :class:`RecRef` (a
  reference into the rec group being canonicalized) or a :class:`DefType` (canonical).
- A reference type is a :class:`RefType` ``(nullable, heap)``; numeric and vector value
  types stay the project's strings (``"i32"``, ``"v128"``, ...). ``"funcref"`` and
  ``"externref"`` are accepted as shorthands (:func:`as_reftype`).
- Storage types of fields are value types or the packed ``"i8"`` / ``"i16"``.

Canonicalization (spec 3.2 "Type equivalence", iso-recursive): a rec group's *key* is its
structure with references to its own members replaced by :class:`RecRef` (relative index)
and references to earlier types replaced by their canonical :class:`DefType`. Groups are
interned engine-wide by key in a ``WeakValueDictionary``, so two modules (or two groups of
one module) defining the same group get the very same :class:`DefType` objects: type
equality is ``is``. A group lives while some module (or object, through its type) refers to
one of its types; then the cyclic collector frees it and its interning entry disappears.

Each DefType knows its chain of declared supertypes (``ancestors``, root first, itself
last) and its ``depth`` in it, so "is ``a`` a subtype of ``b``" for defined types is one
index and one identity test: ``a.ancestors[b.depth] is b`` (when ``b.depth <= a.depth``).
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple, Union

from .errors import InvalidError
from .types import (
    ABSTRACT_HEAP_TYPES,
    ANY_HIERARCHY,
    EXN_HIERARCHY,
    EXTERN_HIERARCHY,
    FUNC_HIERARCHY,
    HEAP_TYPE_CODES,
    Exact,
    RefType,
    as_ref,
    map_heap,
    strip_exact,
)

# re-exported for GC code
__all__ = ["ABSTRACT_HEAP_TYPES", "HEAP_TYPE_CODES", "Exact", "RefType", "map_heap", "strip_exact"]

#: Top of each abstract heap type's hierarchy.
_TOP = {h: hier[0] for hier in (ANY_HIERARCHY, FUNC_HIERARCHY, EXTERN_HIERARCHY, EXN_HIERARCHY)
        for h in hier}
#: Bottom of each hierarchy, by top.
_BOTTOM = {"any": "none", "func": "nofunc", "extern": "noextern", "exn": "noexn"}
#: Strict abstract supertypes of each abstract heap type (bottoms are handled separately).
_ABSTRACT_SUPERS = {
    "eq": ("any",), "i31": ("eq", "any"), "struct": ("eq", "any"), "array": ("eq", "any"),
}
#: Abstract supertypes of a defined type, by its kind.
_KIND_SUPERS = {"struct": ("struct", "eq", "any"), "array": ("array", "eq", "any"),
                "func": ("func",)}

PACKED_TYPES = ("i8", "i16")

#: GC instructions allowed in constant expressions (spec 3.3.10).
GC_CONST_OPS = frozenset({
    "struct.new", "struct.new_default", "array.new", "array.new_default", "array.new_fixed",
    "ref.i31", "any.convert_extern", "extern.convert_any",
    # custom descriptors
    "struct.new_desc", "struct.new_default_desc",
})


class RecRef(NamedTuple):
    """A reference to member ``index`` of the rec group being canonicalized (in keys)."""

    index: int


#: A value or storage type: a type string ("i32", "i8", ...) or a RefType.
ValType = Union[str, RefType]  # noqa: UP007 (Python 3.9)


class FieldType(NamedTuple):
    """A struct field or array element: storage type and mutability."""

    storage: Any  # ValType | "i8" | "i16"
    mutable: bool = False


class StructType(NamedTuple):
    """``(struct field*)``."""

    fields: tuple[FieldType, ...]

    kind = "struct"


class ArrayType(NamedTuple):
    """``(array field)``."""

    field: FieldType

    kind = "array"


class FuncComp(NamedTuple):
    """``(func (param t*) (result t*))`` as a composite type of the GC type section."""

    params: tuple[Any, ...]
    results: tuple[Any, ...]

    kind = "func"


CompType = Union[StructType, ArrayType, FuncComp]  # noqa: UP007 (Python 3.9)


class SubType(NamedTuple):
    """``(sub final? supertype* comptype)``; a plain ``comptype`` is ``sub final`` with no
    supertypes (spec 5.3.7). Custom descriptors: ``describes`` / ``descriptor`` are the
    type indices of the clauses ``(describes x)`` / ``(descriptor y)`` (None: absent;
    RecRef in keys, as both must lie in the type's own rec group)."""

    final: bool
    supers: tuple[Any, ...]  # type indices (decoded) / RecRef | DefType (in keys)
    comp: Any  # CompType
    describes: Any = None
    descriptor: Any = None


#: A rec group as decoded: its subtypes (a lone type definition is a group of one).
RecGroup = tuple[SubType, ...]


class DefType:
    """A canonical defined type: member ``index`` of the canonical rec group ``group``.

    Compared by identity. ``comp`` is the composite type with every type reference resolved
    to a DefType (so it may be cyclic through its group); ``supertype`` the declared
    supertype or None; ``ancestors`` the supertype chain root first, ending with ``self``.
    ``descriptor`` / ``describes``: the types of its custom descriptor clauses, or None.
    """

    __slots__ = (
        "__weakref__",
        "ancestors",
        "comp",
        "depth",
        "describes",
        "descriptor",
        "final",
        "group",
        "index",
        "kind",
        "layout",
        "supertype",
    )

    def __init__(self, group: CanonGroup, index: int, final: bool, comp: Any) -> None:
        self.group = group
        self.index = index
        self.final = final
        self.comp = comp
        self.kind: str = comp.kind
        self.supertype: DefType | None = None
        self.descriptor: DefType | None = None
        self.describes: DefType | None = None
        self.ancestors: tuple[DefType, ...] = (self,)
        self.depth = 0
        #: Runtime layout of objects of this type, computed on first use (engine.gcobjects).
        self.layout: Any = None

    def __repr__(self) -> str:
        return f"<DefType {self.kind} #{self.index} of group {id(self.group):#x}>"

    def is_subtype_of(self, other: DefType) -> bool:
        """Declared (transitive) subtyping between canonical defined types: O(1)."""
        d = other.depth
        return d <= self.depth and self.ancestors[d] is other


class CanonGroup:
    """An interned rec group: its key (which holds outer DefTypes alive) and its types."""

    __slots__ = ("__weakref__", "key", "types")

    def __init__(self, key: tuple[SubType, ...]) -> None:
        self.key = key
        self.types: tuple[DefType, ...] = ()


_GROUPS: weakref.WeakValueDictionary[Any, CanonGroup] = weakref.WeakValueDictionary()


def interned_group_count() -> int:
    """Number of canonical rec groups alive (for tests of their release)."""
    return len(_GROUPS)


def as_reftype(t: Any) -> Any:
    """``"funcref"`` / ``"externref"`` (and the other shorthands) as RefTypes; others as is."""
    r = as_ref(t)
    return t if r is None else r


# --- canonicalization -----------------------------------------------------------------


def canonicalize(groups: list[RecGroup]) -> list[DefType]:
    """Validate and canonicalize a module's type section: one DefType per type index.

    Raises InvalidError "unknown type" for a reference past the end of its group and
    "sub type" for a violated subtype declaration.
    """
    defs: list[DefType] = []
    for group in groups:
        defs.extend(canonicalize_group(group, defs))
    return defs


def canonicalize_group(group: RecGroup, defs: list[DefType]) -> tuple[DefType, ...]:
    """The canonical DefTypes of ``group``, whose first type has index ``len(defs)``."""
    base = len(defs)
    end = base + len(group)
    if any(st.describes is not None or st.descriptor is not None for st in group):
        _check_desc_clauses(group, base)
    key = tuple(_close_subtype(st, base, end, defs) for st in group)
    lookup = _by_id(key)
    canon = _GROUPS.get(lookup)
    if canon is None:
        canon = CanonGroup(key)
        canon.types = tuple(DefType(canon, i, st.final, _StubComp(st.comp))
                            for i, st in enumerate(key))
        for t, st in zip(canon.types, key):
            t.comp = _resolve_comp(st.comp, canon.types)
            if st.descriptor is not None:
                t.descriptor = canon.types[st.descriptor.index]
            if st.describes is not None:
                t.describes = canon.types[st.describes.index]
        _link_supertypes(canon)
        canon = _GROUPS.setdefault(lookup, canon)
    _check_subtypes(canon, base, group)
    return canon.types


def _check_desc_clauses(group: RecGroup, base: int) -> None:
    """Custom descriptors: a ``descriptor`` clause names a struct of the same rec group
    whose ``describes`` clause names this type back, and the other way round; a
    ``describes`` clause names an earlier type (so descriptor chains have no cycles); both
    clauses are for structs only. The messages are the proposal's tests'."""
    end = base + len(group)
    for k, st in enumerate(group):
        i = base + k
        x, y = st.describes, st.descriptor
        if x is not None:
            if not base <= x < end:
                raise InvalidError("described type is outside rec group")
            if x >= i:
                raise InvalidError("forward use of described type")
        if y is not None and not base <= y < end:
            raise InvalidError("descriptor type is outside rec group")
        if y is not None and st.comp.kind != "struct":
            raise InvalidError("descriptor type must be a struct")
        if x is not None and st.comp.kind != "struct":
            raise InvalidError("described type must be a struct")
        if y is not None and group[y - base].describes != i:
            raise InvalidError("type is not described by its descriptor")
        if x is not None and group[x - base].descriptor != i:
            raise InvalidError("described type is not described by descriptor")


class _Outer(NamedTuple):
    """An outer DefType in a lookup key, by id (see :func:`_by_id`)."""

    ident: int


def _by_id(x: Any) -> Any:
    """The interning key of a closed group: its structure with outer DefTypes by ``id``.

    Holding outer types strongly in the dictionary's keys would keep a chain of groups
    alive for one cyclic collection per level; by id they die together. An id cannot be
    reused while its entry lives: the entry's group holds the outer type in ``key``.
    """
    if type(x) is DefType:
        return _Outer(id(x))
    if isinstance(x, RefType):  # (a tuple here; a str subclass in engine.types)
        return ("ref", x.nullable, _by_id(x.heap))
    if isinstance(x, tuple):
        items = [_by_id(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    return x


class _StubComp(NamedTuple):
    """Placeholder composite while a group's members are created (carries the kind)."""

    comp: Any

    @property
    def kind(self) -> str:
        return self.comp.kind


def _close_heap(h: Any, base: int, end: int, defs: list[DefType]) -> Any:
    if type(h) is Exact:
        return map_heap(h, lambda x: _close_heap(x, base, end, defs))
    if type(h) is int:
        if h < base:
            return defs[h]
        if h < end:
            return RecRef(h - base)
        raise InvalidError("unknown type")
    return h


def _close_val(t: Any, base: int, end: int, defs: list[DefType]) -> Any:
    t = as_reftype(t)
    if type(t) is RefType:
        h = _close_heap(t.heap, base, end, defs)
        if h is not t.heap:
            return RefType(t.nullable, h)
    return t


def _close_field(f: FieldType, base: int, end: int, defs: list[DefType]) -> FieldType:
    return FieldType(_close_val(f.storage, base, end, defs), f.mutable)


def _close_subtype(st: SubType, base: int, end: int, defs: list[DefType]) -> SubType:
    comp = st.comp
    if isinstance(comp, StructType):
        comp = StructType(tuple(_close_field(f, base, end, defs) for f in comp.fields))
    elif isinstance(comp, ArrayType):
        comp = ArrayType(_close_field(comp.field, base, end, defs))
    else:
        comp = FuncComp(tuple(_close_val(t, base, end, defs) for t in comp.params),
                        tuple(_close_val(t, base, end, defs) for t in comp.results))
    supers = tuple(_close_heap(s, base, end, defs) for s in st.supers)
    describes = None if st.describes is None else RecRef(st.describes - base)
    descriptor = None if st.descriptor is None else RecRef(st.descriptor - base)
    return SubType(bool(st.final), supers, comp, describes, descriptor)


def _resolve_val(t: Any, members: tuple[DefType, ...]) -> Any:
    if type(t) is RefType and type(strip_exact(t.heap)) is RecRef:
        return RefType(t.nullable, map_heap(t.heap, lambda r: members[r.index]))
    return t


def _resolve_comp(comp: Any, members: tuple[DefType, ...]) -> Any:
    if isinstance(comp, StructType):
        return StructType(tuple(FieldType(_resolve_val(f.storage, members), f.mutable)
                                for f in comp.fields))
    if isinstance(comp, ArrayType):
        f = comp.field
        return ArrayType(FieldType(_resolve_val(f.storage, members), f.mutable))
    return FuncComp(tuple(_resolve_val(t, members) for t in comp.params),
                    tuple(_resolve_val(t, members) for t in comp.results))


def _link_supertypes(canon: CanonGroup) -> None:
    """Set supertype / ancestors / depth of a new group's members (forward or invalid
    references are left for :func:`_check_subtypes` to report)."""
    for t, st in zip(canon.types, canon.key):
        if len(st.supers) != 1:
            continue
        s = st.supers[0]
        if type(s) is RecRef:
            if s.index >= t.index:
                continue
            s = canon.types[s.index]
        t.supertype = s
        t.ancestors = s.ancestors + (t,)
        t.depth = s.depth + 1


def _check_subtypes(canon: CanonGroup, base: int, group: RecGroup) -> None:
    """Spec 3.2 "Defined types": at most one supertype, declared before, not final, and a
    structural supertype of the composite type. Custom descriptors: the clauses agree
    (:func:`_desc_shape_matches`), the described type is a subtype of the supertype's
    described type and the descriptor one of the supertype's descriptor. ``group`` is the
    decoded group (its type indices name the types in messages)."""
    for t, st, decoded in zip(canon.types, canon.key, group):
        if not st.supers:
            continue
        if len(st.supers) > 1:
            raise InvalidError("sub type: multiple supertypes")
        s = st.supers[0]
        if type(s) is RecRef and s.index >= t.index:
            raise InvalidError(f"sub type: forward supertype reference to {base + s.index}")
        sup = t.supertype
        assert sup is not None
        mismatch = f"sub type {base + t.index} does not match super type {decoded.supers[0]}"
        if sup.final:
            raise InvalidError(f"{mismatch}: the super type is final")
        if not comp_subtype(t.comp, sup.comp) or not _desc_shape_matches(t, sup):
            raise InvalidError(mismatch)
        if t.describes is not None and not t.describes.is_subtype_of(sup.describes):
            raise InvalidError(f"described type {decoded.describes} does not match")
        if sup.descriptor is not None and not t.descriptor.is_subtype_of(sup.descriptor):
            raise InvalidError(f"descriptor type {decoded.descriptor} does not match")


def _desc_shape_matches(t: DefType, sup: DefType) -> bool:
    """Custom descriptors: a supertype with a descriptor needs one on the subtype (not the
    other way round); ``describes`` clauses are on both or neither (their layouts)."""
    if sup.descriptor is not None and t.descriptor is None:
        return False
    return (t.describes is None) == (sup.describes is None)


# --- subtyping ------------------------------------------------------------------------


def heap_top(h: Any) -> str:
    """The top of a (canonical) heap type's hierarchy: any, func, extern or exn."""
    if type(h) is Exact:
        h = h.heap
    if type(h) is DefType:
        return "func" if h.kind == "func" else "any"
    return _TOP[h]


def heap_bottom(h: Any) -> str:
    """The bottom of a heap type's hierarchy: none, nofunc, noextern or noexn."""
    return _BOTTOM[heap_top(h)]


def heap_subtype(a: Any, b: Any) -> bool:
    """``a <: b`` for canonical heap types (abstract names, DefTypes or their
    :class:`~engine.types.Exact` forms: an exact type is below its type and above only
    the bottom of its hierarchy)."""
    if a is b or a == b:
        return True
    if type(b) is Exact:
        return (type(a) is Exact and a.heap is b.heap) or a == heap_bottom(b)
    if type(a) is Exact:
        a = a.heap
        if a is b:
            return True
    ta, tb = type(a) is DefType, type(b) is DefType
    if ta and tb:
        return a.is_subtype_of(b)
    if ta:
        return b in _KIND_SUPERS[a.kind]
    if a in ("none", "nofunc", "noextern", "noexn"):
        return heap_top(b) == _TOP[a]
    if tb:
        return False
    return b in _ABSTRACT_SUPERS.get(a, ())


def val_subtype(a: Any, b: Any) -> bool:
    """``a <: b`` for canonical value types (strings or RefTypes; shorthands accepted)."""
    if a == b:
        return True
    a, b = as_reftype(a), as_reftype(b)
    if type(a) is not RefType or type(b) is not RefType:
        return a == b
    return (b.nullable or not a.nullable) and heap_subtype(a.heap, b.heap)


def storage_subtype(a: Any, b: Any) -> bool:
    """Storage types: packed types match only themselves, others as value types."""
    if a in PACKED_TYPES or b in PACKED_TYPES:
        return a == b
    return val_subtype(a, b)


def field_subtype(a: FieldType, b: FieldType) -> bool:
    """Immutable fields are covariant; mutable ones invariant (spec 3.3.5 field matching)."""
    if a.mutable != b.mutable:
        return False
    if a.mutable:
        return storage_subtype(a.storage, b.storage) and storage_subtype(b.storage, a.storage)
    return storage_subtype(a.storage, b.storage)


def comp_subtype(a: Any, b: Any) -> bool:
    """Structural matching of composite types: width and depth for structs, field for
    arrays, contravariant parameters and covariant results for functions."""
    if a.kind != b.kind:
        return False
    if a.kind == "struct":
        return len(a.fields) >= len(b.fields) and all(
            field_subtype(fa, fb) for fa, fb in zip(a.fields, b.fields))
    if a.kind == "array":
        return field_subtype(a.field, b.field)
    return (len(a.params) == len(b.params) and len(a.results) == len(b.results)
            and all(val_subtype(pb, pa) for pa, pb in zip(a.params, b.params))
            and all(val_subtype(ra, rb) for ra, rb in zip(a.results, b.results)))


def unpacked(storage: Any) -> Any:
    """The value type a storage type reads as: packed i8/i16 read as i32."""
    return "i32" if storage in PACKED_TYPES else storage


def is_defaultable(t: Any) -> bool:
    """Whether a value/storage type has a default value (non-nullable refs do not)."""
    t = as_reftype(t)
    return type(t) is not RefType or t.nullable
