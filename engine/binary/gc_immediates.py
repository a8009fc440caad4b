"""Binary decoding of the GC proposal: heap and reference types, the immediates of the
0xFB instructions (kinds documented in ``engine.opcodes``) and the GC type section forms
(``rec``, ``sub``, ``sub final``, ``struct``, ``array``; spec 5.3.6-5.3.8).

Readers take ``(data, pos)`` and return ``(value, new_pos)`` like ``engine.binary.reader``.
"""

from __future__ import annotations

from typing import Any

from ..errors import MalformedError
from ..gctypes import (
    ArrayType,
    FieldType,
    FuncComp,
    RefType,
    StructType,
    SubType,
)
from .reader import fail, read_heaptype, read_len, read_u32, read_valtype

_PACKED = {0x78: "i8", 0x77: "i16"}

#: Value types with every reference type (the typed-references reader).
read_gc_valtype = read_valtype


def read_storage(data: bytes, pos: int) -> tuple[Any, int]:
    """A storage type: packed i8 / i16 or a value type."""
    t = _PACKED.get(data[pos])
    if t is not None:
        return t, pos + 1
    try:
        return read_gc_valtype(data, pos)
    except MalformedError as exc:
        # The reference interpreter tries a value type, then a packed type: an unreadable
        # one is a "malformed storage type" (e.g. a bare or doubled exact prefix 0x62).
        if str(exc).startswith(("malformed value type", "malformed reference type")):
            raise fail("malformed storage type") from None
        raise


def read_field(data: bytes, pos: int) -> tuple[FieldType, int]:
    """A field type: storage type and a mutability byte (0 or 1)."""
    storage, pos = read_storage(data, pos)
    mut = data[pos]
    if mut > 1:
        raise fail("malformed mutability")
    return FieldType(storage, mut == 1), pos + 1


def _read_types(data: bytes, pos: int) -> tuple[tuple[Any, ...], int]:
    n, pos = read_len(data, pos)
    out = []
    for _ in range(n):
        t, pos = read_gc_valtype(data, pos)
        out.append(t)
    return tuple(out), pos


def read_comptype(data: bytes, pos: int) -> tuple[Any, int]:
    """A composite type: 0x60 func, 0x5F struct, 0x5E array."""
    b = data[pos]
    pos += 1
    if b == 0x60:
        params, pos = _read_types(data, pos)
        results, pos = _read_types(data, pos)
        return FuncComp(params, results), pos
    if b == 0x5F:
        n, pos = read_len(data, pos)
        fields = []
        for _ in range(n):
            f, pos = read_field(data, pos)
            fields.append(f)
        return StructType(tuple(fields)), pos
    if b == 0x5E:
        f, pos = read_field(data, pos)
        return ArrayType(f), pos
    raise fail("integer representation too long" if b & 0x80 else "malformed definition type")


def _read_described(data: bytes, pos: int, descriptors: bool) -> tuple[SubType, int]:
    """Custom descriptors: ``(0x4C x)? (0x4D y)? ct`` -- the ``describes x`` clause first,
    then ``descriptor y``, then the composite type (a partial SubType: final, no supers)."""
    describes = descriptor = None
    if descriptors and data[pos] == 0x4C:
        describes, pos = read_u32(data, pos + 1)
    if descriptors and data[pos] == 0x4D:
        descriptor, pos = read_u32(data, pos + 1)
    comp, pos = read_comptype(data, pos)
    return SubType(True, (), comp, describes, descriptor), pos


def read_subtype(data: bytes, pos: int, descriptors: bool = False) -> tuple[SubType, int]:
    """``0x50 x* ct`` (open), ``0x4F x* ct`` (final) or a bare composite type (final);
    with ``descriptors`` (the custom descriptors proposal) ``ct`` may carry clauses."""
    b = data[pos]
    if b not in (0x50, 0x4F):
        return _read_described(data, pos, descriptors)
    n, pos = read_len(data, pos + 1)
    supers = []
    for _ in range(n):
        x, pos = read_u32(data, pos)
        supers.append(x)
    st, pos = _read_described(data, pos, descriptors)
    return st._replace(final=b == 0x4F, supers=tuple(supers)), pos


def read_rec_group(data: bytes, pos: int,
                   descriptors: bool = False) -> tuple[tuple[SubType, ...], int]:
    """``0x4E vec(subtype)`` or a single subtype (a group of one)."""
    if data[pos] != 0x4E:
        st, pos = read_subtype(data, pos, descriptors)
        return (st,), pos
    n, pos = read_len(data, pos + 1)
    group = []
    for _ in range(n):
        st, pos = read_subtype(data, pos, descriptors)
        group.append(st)
    return tuple(group), pos


# --- instruction immediates ---------------------------------------------------------------


def _imm_u32_pair(data: bytes, pos: int) -> tuple[Any, int]:
    a, pos = read_u32(data, pos)
    b, pos = read_u32(data, pos)
    return (a, b), pos


def _imm_ref_nonnull(data: bytes, pos: int) -> tuple[Any, int]:
    heap, pos = read_heaptype(data, pos)
    return RefType(False, heap), pos


def _imm_ref_null(data: bytes, pos: int) -> tuple[Any, int]:
    heap, pos = read_heaptype(data, pos)
    return RefType(True, heap), pos


def _imm_br_on_cast(data: bytes, pos: int) -> tuple[Any, int]:
    flags = data[pos]
    if flags > 3:
        raise fail("malformed br_on_cast flags")
    label, pos = read_u32(data, pos + 1)
    h1, pos = read_heaptype(data, pos)
    h2, pos = read_heaptype(data, pos)
    return (label, RefType(bool(flags & 1), h1), RefType(bool(flags & 2), h2)), pos


#: Readers of the GC immediate kinds (merged into the decoder's table); None marks the
#: decoder's inline single-u32 reader.
GC_READERS: dict[str, Any] = {
    "type": None,
    "type_field": _imm_u32_pair,
    "type_count": _imm_u32_pair,
    "type_data": _imm_u32_pair,
    "type_elem": _imm_u32_pair,
    "type_type": _imm_u32_pair,
    "ref_nonnull": _imm_ref_nonnull,
    "ref_null": _imm_ref_null,
    "br_on_cast": _imm_br_on_cast,
}
