"""Helpers that translated code calls for the GC instructions (struct, array, i31, casts).

Values follow :mod:`engine.gcobjects`: a struct is ``[rtt, field...]``, an array a
:class:`~engine.gcobjects.GcArray`, an i31 a plain ``int``, null ``None``. Packed fields
and elements (i8/i16) are stored as their unsigned bit pattern; ``*_s`` / ``*_u`` reads
sign- or zero-extend to the engine's unsigned i32. Indices and lengths arrive as unsigned
i32 values. Every trap uses the specification's message (193e551 testsuite texts).

``GC_HELPERS`` maps the names (all prefixed ``gc_``) to inject into the exec globals of
generated code. Simple accesses (a struct field read of a non-null reference) are meant to
be inlined by the translator as expressions (``s[i + 1]``); these functions are the
complete semantics, used for everything else and as the reference in tests.
"""

from __future__ import annotations

import struct as _struct
from collections.abc import Callable
from typing import Any

from ..errors import Trap
from ..gcobjects import (
    ExternAny,
    GcArray,
    HostAny,
    from_host,
    layout_of,
    new_storage,
    storage_from,
)
from ..gctypes import DefType, Exact
from .numerics import f32_from_bits

NULL_STRUCT = "null structure reference"
NULL_ARRAY = "null array reference"
NULL_I31 = "null i31 reference"
NULL_REF = "null reference"
ARRAY_OOB = "out of bounds array access"
MEMORY_OOB = "out of bounds memory access"
TABLE_OOB = "out of bounds table access"
CAST_FAILURE = "cast failure"
NULL_DESCRIPTOR = "null descriptor reference"
DESC_CAST_FAILURE = "descriptor cast failure"

_MASK = {"i8": 0xFF, "i16": 0xFFFF}


def pack(storage: Any, value: Any) -> Any:
    """A value as stored in a field of ``storage`` type (i8/i16 wrap)."""
    m = _MASK.get(storage)
    return value & m if m is not None else value


def sext8(v: int) -> int:
    """i8 bit pattern -> unsigned i32 of its sign extension."""
    return ((v ^ 0x80) - 0x80) & 0xFFFF_FFFF


def sext16(v: int) -> int:
    """i16 bit pattern -> unsigned i32 of its sign extension."""
    return ((v ^ 0x8000) - 0x8000) & 0xFFFF_FFFF


_SEXT = {"i8": sext8, "i16": sext16}

# --- structs -----------------------------------------------------------------------------


def struct_new(rtt: DefType, *values: Any) -> list:
    """``struct.new``: fields in order, packed ones wrapped."""
    fields = rtt.comp.fields
    return [rtt] + [pack(f.storage, v) for f, v in zip(fields, values)]


def struct_new_default(rtt: DefType) -> list:
    """``struct.new_default``: a copy of the type's template of defaults."""
    return layout_of(rtt).template.copy()  # type: ignore[union-attr]


def struct_get(s: list | None, i: int) -> Any:
    """``struct.get`` / ``struct.get_u`` (packed fields are stored zero-extended)."""
    if s is None:
        raise Trap(NULL_STRUCT)
    return s[i + 1]


def struct_get_s(s: list | None, i: int) -> int:
    """``struct.get_s`` of a packed field."""
    if s is None:
        raise Trap(NULL_STRUCT)
    return _SEXT[s[0].comp.fields[i].storage](s[i + 1])


def null_struct() -> Any:
    """Trap of a field access through null (inline struct.get)."""
    raise Trap(NULL_STRUCT)


def struct_put(s: list | None, slot: int, v: Any) -> None:
    """``struct.set`` of an already packed value into list slot ``slot`` (field + 1)."""
    if s is None:
        raise Trap(NULL_STRUCT)
    s[slot] = v


def struct_set(s: list | None, i: int, v: Any) -> None:
    """``struct.set`` (wraps packed fields)."""
    if s is None:
        raise Trap(NULL_STRUCT)
    s[i + 1] = pack(s[0].comp.fields[i].storage, v)


# --- custom descriptors ----------------------------------------------------------------
#
# A struct whose type has a descriptor clause holds its descriptor in its last list slot,
# after the fields: ``[rtt, field..., descriptor]``. Field slots keep their positions, and
# the descriptor is ``s[-1]`` whatever subtype (wider struct) the object is.


def check_desc(desc: Any) -> Any:
    """The descriptor operand of ``struct.new(_default)_desc``: trap on null."""
    if desc is None:
        raise Trap(NULL_DESCRIPTOR)
    return desc


def struct_new_desc(rtt: DefType, *values: Any) -> list:
    """``struct.new_desc``: fields in order, then the (non-null) descriptor."""
    check_desc(values[-1])
    fields = rtt.comp.fields
    return [rtt] + [pack(f.storage, v) for f, v in zip(fields, values)] + [values[-1]]


def struct_new_default_desc(rtt: DefType, desc: Any) -> list:
    """``struct.new_default_desc``: default fields, then the (non-null) descriptor."""
    s = layout_of(rtt).template.copy()  # type: ignore[union-attr]
    s.append(check_desc(desc))
    return s


def get_desc(s: list | None) -> Any:
    """``ref.get_desc``: the descriptor of a (validated: described) struct."""
    if s is None:
        raise Trap(NULL_REF)
    return s[-1]


def desc_matches(v: Any, desc: Any, nullable: bool) -> bool:
    """The test of ``ref.cast_desc_eq`` / ``br_on_cast_desc_eq``: a null descriptor traps;
    null passes a nullable target; otherwise ``v`` is a struct with a descriptor that is
    ``desc`` itself (which makes ``v``'s type the one ``desc`` describes)."""
    if desc is None:
        raise Trap(NULL_DESCRIPTOR)
    if v is None:
        return nullable
    return type(v) is list and v[0].descriptor is not None and v[-1] is desc


def cast_desc(v: Any, desc: Any, nullable: bool) -> Any:
    """``ref.cast_desc_eq``: the value itself, or trap "descriptor cast failure"."""
    if desc_matches(v, desc, nullable):
        return v
    raise Trap(DESC_CAST_FAILURE)


# --- arrays ------------------------------------------------------------------------------


def array_new(rtt: DefType, value: Any, n: int) -> GcArray:
    """``array.new``: ``n`` copies of ``value``."""
    return GcArray(rtt, new_storage(layout_of(rtt), pack(rtt.comp.field.storage, value), n))


def array_new_default(rtt: DefType, n: int) -> GcArray:
    """``array.new_default``."""
    lay = layout_of(rtt)
    return GcArray(rtt, new_storage(lay, lay.default, n))


def array_new_fixed(rtt: DefType, *values: Any) -> GcArray:
    """``array.new_fixed``: the operands in order."""
    st = rtt.comp.field.storage
    return GcArray(rtt, storage_from(layout_of(rtt), [pack(st, v) for v in values]))


def _decode(rtt: DefType, raw: bytes) -> Any:
    """Element storage of a numeric array type from little-endian data-segment bytes."""
    lay = layout_of(rtt)
    kind = lay.kind
    if kind == "bytes":
        return bytearray(raw)
    if kind != "list":
        out = storage_from(lay, ())
        out.frombytes(raw)
        return out
    st, size = rtt.comp.field.storage, lay.size
    n = len(raw) // size
    if st == "f64":
        return list(_struct.unpack(f"<{n}d", raw))
    if st == "f32":
        return [f32_from_bits(b) for b in _struct.unpack(f"<{n}I", raw)]
    return [int.from_bytes(raw[i : i + size], "little") for i in range(0, len(raw), size)]


def array_new_data(rtt: DefType, seg: bytes, s: int, n: int) -> GcArray:
    """``array.new_data``: ``n`` elements read from data segment bytes at offset ``s``."""
    size = layout_of(rtt).size
    end = s + n * size
    if end > len(seg):
        raise Trap(MEMORY_OOB)
    return GcArray(rtt, _decode(rtt, seg[s:end]))


def array_new_elem(rtt: DefType, seg: list, s: int, n: int) -> GcArray:
    """``array.new_elem``: ``n`` references from an element segment at offset ``s``."""
    if s + n > len(seg):
        raise Trap(TABLE_OOB)
    return GcArray(rtt, seg[s : s + n])


def _data(a: GcArray | None) -> Any:
    if a is None:
        raise Trap(NULL_ARRAY)
    return a.data


def array_get(a: GcArray | None, i: int) -> Any:
    """``array.get`` / ``array.get_u``."""
    data = _data(a)
    if i >= len(data):
        raise Trap(ARRAY_OOB)
    return data[i]


def array_get_s(a: GcArray | None, i: int) -> int:
    """``array.get_s`` of a packed element type."""
    data = _data(a)
    if i >= len(data):
        raise Trap(ARRAY_OOB)
    return _SEXT[a.rtt.comp.field.storage](data[i])  # type: ignore[union-attr]


def array_set(a: GcArray | None, i: int, v: Any) -> None:
    """``array.set`` (wraps packed elements)."""
    data = _data(a)
    if i >= len(data):
        raise Trap(ARRAY_OOB)
    data[i] = pack(a.rtt.comp.field.storage, v)  # type: ignore[union-attr]


def array_fault(a: GcArray | None) -> Any:
    """Trap of an inline array access that failed its test: null, else out of bounds."""
    raise Trap(NULL_ARRAY if a is None else ARRAY_OOB)


def array_put(a: GcArray | None, i: int, v: Any) -> None:
    """``array.set`` of an already packed value."""
    data = _data(a)
    if i >= len(data):
        raise Trap(ARRAY_OOB)
    data[i] = v


def array_len(a: GcArray | None) -> int:
    """``array.len``."""
    return len(_data(a))


def array_fill(a: GcArray | None, d: int, v: Any, n: int) -> None:
    """``array.fill``: bounds checked even when ``n`` is 0."""
    data = _data(a)
    if d + n > len(data):
        raise Trap(ARRAY_OOB)
    if n:
        data[d : d + n] = new_storage(layout_of(a.rtt), pack(a.rtt.comp.field.storage, v), n)  # type: ignore[union-attr]


def array_copy(dst: GcArray | None, d: int, src: GcArray | None, s: int, n: int) -> None:
    """``array.copy`` (overlap-safe: the source slice is copied first)."""
    dd = _data(dst)
    sd = _data(src)
    if d + n > len(dd) or s + n > len(sd):
        raise Trap(ARRAY_OOB)
    if n:
        dd[d : d + n] = sd[s : s + n]


def array_init_data(a: GcArray | None, d: int, seg: bytes, s: int, n: int) -> None:
    """``array.init_data``: array bounds first, then the segment's (memory access)."""
    data = _data(a)
    if d + n > len(data):
        raise Trap(ARRAY_OOB)
    rtt = a.rtt  # type: ignore[union-attr]
    end = s + n * layout_of(rtt).size
    if end > len(seg):
        raise Trap(MEMORY_OOB)
    if n:
        data[d : d + n] = _decode(rtt, seg[s:end])


def array_init_elem(a: GcArray | None, d: int, seg: list, s: int, n: int) -> None:
    """``array.init_elem``: array bounds first, then the segment's (table access)."""
    data = _data(a)
    if d + n > len(data):
        raise Trap(ARRAY_OOB)
    if s + n > len(seg):
        raise Trap(TABLE_OOB)
    if n:
        data[d : d + n] = seg[s : s + n]


# --- i31, equality, conversions ------------------------------------------------------------


def ref_i31(v: int) -> int:
    """``ref.i31``: the low 31 bits."""
    return v & 0x7FFF_FFFF


def i31_get_s(r: int | None) -> int:
    """``i31.get_s``: sign-extend bit 30 to an unsigned i32."""
    if r is None:
        raise Trap(NULL_I31)
    return ((r ^ 0x4000_0000) - 0x4000_0000) & 0xFFFF_FFFF


def i31_get_u(r: int | None) -> int:
    """``i31.get_u``."""
    if r is None:
        raise Trap(NULL_I31)
    return r


def ref_eq(a: Any, b: Any) -> int:
    """``ref.eq``: identity, i31 by value, two nulls equal."""
    return 1 if a is b or (type(a) is int and type(b) is int and a == b) else 0


def any_convert_extern(v: Any) -> Any:
    """``any.convert_extern``: unbox a converted wasm value, box a host value."""
    return from_host(v)


def extern_convert_any(v: Any) -> Any:
    """``extern.convert_any``: a host value unboxed; a wasm value as an opaque
    :class:`~engine.gcobjects.ExternAny` (an external reference, whatever it holds)."""
    if v is None:
        return None
    if type(v) is HostAny:
        return v.value
    return ExternAny(v)


# --- casts ---------------------------------------------------------------------------------

_ABSTRACT_TESTS: dict[str, Callable[[Any], bool]] = {
    "any": lambda v: True,
    "eq": lambda v: type(v) in (int, list, GcArray),
    "i31": lambda v: type(v) is int,
    "struct": lambda v: type(v) is list,
    "array": lambda v: type(v) is GcArray,
    "func": lambda v: True,
    "extern": lambda v: True,
    "exn": lambda v: True,
}
_BOTTOMS = ("none", "nofunc", "noextern", "noexn")


def make_test(heap: Any, nullable: bool) -> Callable[[Any], bool]:
    """The runtime test of ``ref.test (ref null? heap)`` over canonical heap types.

    The value is known (by validation) to belong to ``heap``'s hierarchy, so a hierarchy's
    top accepts every non-null value. Defined types compare by identity first, then by the
    precomputed supertype chain (:meth:`DefType.is_subtype_of`).
    """
    if type(heap) is DefType:
        base = _defined_test(heap)
    elif type(heap) is Exact:
        base = _exact_test(heap.heap)
    elif heap in _BOTTOMS:
        def base(v: Any) -> bool:
            return False
    else:
        base = _ABSTRACT_TESTS[heap]
    if nullable:
        return lambda v: v is None or base(v)
    return lambda v: v is not None and base(v)


def _defined_test(t: DefType) -> Callable[[Any], bool]:
    # A final type has no subtypes: identity decides.
    if t.kind == "struct":
        if t.final:
            return lambda v: type(v) is list and v[0] is t
        return lambda v: type(v) is list and (v[0] is t or v[0].is_subtype_of(t))
    if t.kind == "array":
        if t.final:
            return lambda v: type(v) is GcArray and v.rtt is t
        return lambda v: type(v) is GcArray and (v.rtt is t or v.rtt.is_subtype_of(t))

    def func_test(v: Any) -> bool:
        # Functions carry their canonical type as ``deftype`` once GC types reach the
        # runtime's Func; until then no function matches a concrete GC func type.
        ft = getattr(v, "deftype", None)
        return ft is t or (ft is not None and ft.is_subtype_of(t))

    return func_test


def _exact_test(t: DefType) -> Callable[[Any], bool]:
    """Membership in an exact type (custom descriptors): the object's type is ``t``."""
    if t.kind == "struct":
        return lambda v: type(v) is list and v[0] is t
    if t.kind == "array":
        return lambda v: type(v) is GcArray and v.rtt is t
    return lambda v: getattr(v, "deftype", None) is t


def make_cast(heap: Any, nullable: bool) -> Callable[[Any], Any]:
    """``ref.cast``: the value itself, or trap "cast failure"."""
    test = make_test(heap, nullable)

    def cast(v: Any) -> Any:
        if test(v):
            return v
        raise Trap(CAST_FAILURE)

    return cast


def ref_as_non_null(v: Any) -> Any:
    """``ref.as_non_null`` ("null reference")."""
    if v is None:
        raise Trap(NULL_REF)
    return v


# --- constant expressions -------------------------------------------------------------------



def eval_gc_const(name: str, imm: Any, stack: list, gc_types: list[DefType]) -> None:
    """Evaluate one GC instruction of a (validated) constant expression on ``stack``."""
    if name == "struct.new":
        rtt = gc_types[imm]
        n = len(rtt.comp.fields)
        vals = stack[len(stack) - n:] if n else []
        del stack[len(stack) - n:]
        stack.append(struct_new(rtt, *vals))
    elif name == "struct.new_default":
        stack.append(struct_new_default(gc_types[imm]))
    elif name == "struct.new_desc":
        rtt = gc_types[imm]
        n = len(rtt.comp.fields) + 1
        vals = stack[len(stack) - n:]
        del stack[len(stack) - n:]
        stack.append(struct_new_desc(rtt, *vals))
    elif name == "struct.new_default_desc":
        stack.append(struct_new_default_desc(gc_types[imm], stack.pop()))
    elif name == "array.new":
        n = stack.pop()
        stack.append(array_new(gc_types[imm], stack.pop(), n))
    elif name == "array.new_default":
        stack.append(array_new_default(gc_types[imm], stack.pop()))
    elif name == "array.new_fixed":
        x, n = imm
        vals = stack[len(stack) - n:] if n else []
        del stack[len(stack) - n:]
        stack.append(array_new_fixed(gc_types[x], *vals))
    elif name == "ref.i31":
        stack.append(ref_i31(stack.pop()))
    elif name == "any.convert_extern":
        stack.append(any_convert_extern(stack.pop()))
    elif name == "extern.convert_any":
        stack.append(extern_convert_any(stack.pop()))
    else:
        raise ValueError(f"{name} is not a constant instruction")


#: Names generated code refers to.
GC_HELPERS: dict[str, Any] = {
    "gc_" + name: fn
    for name, fn in {
        "struct_new": struct_new, "struct_new_default": struct_new_default,
        "struct_get": struct_get, "struct_get_s": struct_get_s, "struct_set": struct_set,
        "struct_put": struct_put, "null_struct": null_struct, "array_put": array_put,
        "array_fault": array_fault,
        "sext8": sext8, "sext16": sext16,
        "array_new": array_new, "array_new_default": array_new_default,
        "array_new_fixed": array_new_fixed, "array_new_data": array_new_data,
        "array_new_elem": array_new_elem, "array_get": array_get, "array_get_s": array_get_s,
        "array_set": array_set, "array_len": array_len, "array_fill": array_fill,
        "array_copy": array_copy, "array_init_data": array_init_data,
        "array_init_elem": array_init_elem, "ref_i31": ref_i31, "i31_get_s": i31_get_s,
        "i31_get_u": i31_get_u, "ref_eq": ref_eq, "any_convert_extern": any_convert_extern,
        "extern_convert_any": extern_convert_any, "make_test": make_test,
        "make_cast": make_cast, "ref_as_non_null": ref_as_non_null, "HostAny": HostAny,
        "Exact": Exact, "check_desc": check_desc, "struct_new_desc": struct_new_desc,
        "struct_new_default_desc": struct_new_default_desc, "get_desc": get_desc,
        "desc_matches": desc_matches, "cast_desc": cast_desc,
    }.items()
}
