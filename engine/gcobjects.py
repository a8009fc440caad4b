"""Runtime representation of GC objects (structs, arrays, i31) and their host boundary.

Shared vocabulary (imports only :mod:`engine.gctypes` and :mod:`engine.errors`) so the
compile stage's helpers and the runtime's API both use it.

Representation, chosen by measurement (``python -m benchmarks.gc_repr``, CPython 3.11;
bytes retained per object by tracemalloc over 10,000 objects, field ints included):

    struct {i32, i32, i32}          bytes   get ns   new ns
    __slots__ class per type           88      9.9    373  (233 with __new__ + 3 setattrs)
    generic class + field list        160     13.7    488
    list subclass [rtt, f...]         120     79.3    290
    plain list [rtt, f...]            119     11.8    108   <- chosen

    array of 1,000 i8               bytes  get_s ns   new ns
    list of int                      8056     41.6    2136
    bytearray                        1058     52.2      70   <- chosen (i8)
    array('b')                       1146     23.8     770

    i31                             bytes  get_s ns  ref.i31 ns
    plain int                          29      158      44   <- chosen
    tagged wrapper object              73      179     343

So:

- A struct is a plain ``list`` ``[rtt, field0, field1, ...]`` (``rtt`` its canonical
  :class:`~engine.gctypes.DefType`): allocation is 3-4x faster than any class, a field read
  as fast as a slot, for ~30 more bytes. Inside wasm code a ``list`` is always a struct:
  every value entering from the host is converted by :func:`from_host`.
- An array is a :class:`GcArray` ``(rtt, data)``: ``data`` a ``bytearray`` for i8 (1 byte
  per element), ``array('H'/'I'/'Q')`` for i16/i32/i64 (unsigned bit patterns, as the
  engine's i32/i64 values), a ``list`` for f32/f64/v128 and references.
- An i31 is a plain ``int`` in ``[0, 2**31)`` (its 31-bit pattern): no allocation.
- A host value in an ``anyref`` is a :class:`HostAny` box (``any.convert_extern`` of a
  host ``externref``); a struct or i31 leaving to the host (``extern.convert_any``, results,
  globals, tables) is an opaque :class:`StructRef` / :class:`I31` box, unboxed on return.

Objects are ordinary Python objects: reference counting frees them, the cyclic collector
frees cycles, including cycles through host objects (lists and boxes are GC-tracked).
"""

from __future__ import annotations

import sys
from array import array
from typing import Any, NamedTuple

from .errors import Trap
from .gctypes import DefType, RefType, as_reftype

#: Largest array allocation, in bytes of element storage (8 per list slot): beyond it
#: ``array.new*`` traps "allocation too large" instead of exhausting the host.
MAX_ARRAY_BYTES = 1 << 30

_LITTLE = sys.byteorder == "little"


class GcArray:
    """A wasm array: canonical type ``rtt`` and element storage ``data``."""

    __slots__ = ("data", "rtt")

    def __init__(self, rtt: DefType, data: Any) -> None:
        self.rtt = rtt
        self.data = data

    def __repr__(self) -> str:
        return f"<wasm array of {len(self.data)}>"


class StructRef:
    """A struct as the host sees it: an opaque box around the wasm object."""

    __slots__ = ("__weakref__", "obj")

    def __init__(self, obj: list) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return type(other) is StructRef and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __repr__(self) -> str:
        return f"<wasm struct of {len(self.obj) - 1} fields>"


class I31:
    """An i31 reference as the host sees it; ``value`` is the unsigned 31-bit pattern."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value & 0x7FFF_FFFF

    def __eq__(self, other: object) -> bool:
        return type(other) is I31 and other.value == self.value

    def __hash__(self) -> int:
        return hash(("i31", self.value))

    def __repr__(self) -> str:
        return f"I31({self.value})"


class HostAny:
    """A host value inside an ``anyref`` (spec: an external reference converted to any)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class ExternAny:
    """A wasm value converted to ``externref`` (``extern.convert_any``): an opaque host
    reference that ``any.convert_extern`` turns back into the very value."""

    __slots__ = ("__weakref__", "value")

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        v = self.value
        return type(other) is ExternAny and (other.value is v or
                                             (type(v) is int and other.value == v))

    def __hash__(self) -> int:
        return hash(self.value) if type(self.value) is int else id(self.value)


def from_host(value: Any) -> Any:
    """A host value for an ``anyref``-family slot: boxes unboxed, other values boxed."""
    t = type(value)
    if value is None or t is GcArray:
        return value
    if t is StructRef:
        return value.obj
    if t is I31 or t is ExternAny:
        return value.value
    return HostAny(value)


def to_host(value: Any) -> Any:
    """An ``anyref``-family value as the host (or an ``externref``) sees it."""
    t = type(value)
    if t is list:
        return StructRef(value)
    if t is int:
        return I31(value)
    if t is HostAny:
        return value.value
    return value


# --- layouts -----------------------------------------------------------------------------


class Layout(NamedTuple):
    """How objects of one defined type are stored.

    Structs: ``template`` is ``[rtt, default...]`` (``struct.new_default`` copies it).
    Arrays: ``kind`` names the storage ("bytes", "H", "I", "Q" or "list"), ``default`` the
    element default, ``size`` the bytes per element in data segments (0: not numeric).
    """

    template: list | None
    kind: str
    default: Any
    size: int


_SIZES = {"i8": 1, "i16": 2, "i32": 4, "i64": 8, "f32": 4, "f64": 8, "v128": 16}
_ARRAY_KIND = {"i8": "bytes", "i16": "H", "i32": "I", "i64": "Q"}


def default_value(storage: Any) -> Any:
    """The default of a storage type: 0, 0.0 or null."""
    if storage in ("f32", "f64"):
        return 0.0
    return None if type(as_reftype(storage)) is RefType else 0


def layout_of(rtt: DefType) -> Layout:
    """The (cached) layout of a struct or array type."""
    lay = rtt.layout
    if lay is None:
        comp = rtt.comp
        if rtt.kind == "struct":
            template = [rtt] + [default_value(f.storage) for f in comp.fields]
            lay = Layout(template, "struct", None, 0)
        else:
            st = comp.field.storage
            kind = _ARRAY_KIND.get(st, "list") if _LITTLE else ("bytes" if st == "i8" else "list")
            lay = Layout(None, kind, default_value(st), _SIZES.get(st, 0))
        rtt.layout = lay
    return lay


def new_storage(lay: Layout, value: Any, n: int) -> Any:
    """Element storage of ``n`` copies of ``value`` (traps when too large)."""
    if n * max(lay.size, 8 if lay.kind == "list" else 1) > MAX_ARRAY_BYTES:
        raise Trap("allocation too large")
    kind = lay.kind
    if kind == "bytes":
        return bytearray((value,)) * n
    if kind == "list":
        return [value] * n
    return array(kind, (value,)) * n


def storage_from(lay: Layout, values: Any) -> Any:
    """Element storage holding ``values`` (already packed to their storage width)."""
    kind = lay.kind
    if kind == "bytes":
        return bytearray(values)
    if kind == "list":
        return list(values)
    return array(kind, values)
