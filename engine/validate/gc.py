"""Validation rules of the GC instructions (spec 3.3.5-3.3.7), over canonical types.

The rules are independent of the validator's operand-stack machinery: the body validator
calls :func:`validate_gc` with an :class:`Operands` object that pops an operand matching an
expected type (by subtyping, returning the actual type; the bottom type ``None`` when the
stack is polymorphic) and pushes results. ``types`` is the module's canonical type list
(:func:`engine.gctypes.canonicalize`), ``elem_types`` the element segments' reference
types and ``num_datas`` the number of data segments. ``br_on_cast`` / ``br_on_cast_fail``
need the labels and are typed by :func:`br_on_cast_types`.

Messages are the specification's (193e551 testsuite): "unknown type", "type mismatch",
"immutable field", "immutable array", "array types do not match", "array type is not
numeric or vector", "unknown data segment", "unknown elem segment".
"""

from __future__ import annotations

from typing import Any, Protocol

from ..errors import InvalidError
from ..gctypes import (
    PACKED_TYPES,
    DefType,
    Exact,
    RefType,
    as_reftype,
    heap_top,
    is_defaultable,
    map_heap,
    storage_subtype,
    strip_exact,
    unpacked,
    val_subtype,
)

I32 = "i32"
_NUMERIC = ("i32", "i64", "f32", "f64", "v128", "i8", "i16")


class Operands(Protocol):
    """What the rules need from the body validator's operand stack."""

    def pop(self, expected: Any) -> Any:
        """Pop an operand that must match ``expected`` (None: any); return its type
        (None for the polymorphic bottom)."""

    def push(self, t: Any) -> None:
        """Push a result type."""


def _mismatch() -> InvalidError:
    return InvalidError("type mismatch")


def defined(types: list[DefType], idx: int, kind: str | None = None) -> DefType:
    """Type ``idx`` of the module, which must be of ``kind`` (struct / array / func)."""
    if not 0 <= idx < len(types):
        raise InvalidError(f"unknown type {idx}")
    t = types[idx]
    if kind is not None and t.kind != kind:
        raise _mismatch()
    return t


def resolve_ref(types: list[DefType], rt: RefType) -> RefType:
    """A decoded reference type with its type index replaced by the canonical type (an
    exact one stays exact)."""
    if type(strip_exact(rt.heap)) is int:
        return RefType(rt.nullable, map_heap(rt.heap, lambda i: defined(types, i)))
    return rt


def canon(types: list[DefType], t: Any) -> Any:
    """A value type with a module-local type index (as decoded, or on the validator's
    stack) replaced by the canonical type, for the subtyping of :mod:`engine.gctypes`."""
    r = as_reftype(t)
    if isinstance(r, RefType) and type(strip_exact(r.heap)) is int:
        return resolve_ref(types, r)
    return r


def _field(st: DefType, i: int) -> Any:
    fields = st.comp.fields
    if not 0 <= i < len(fields):
        raise InvalidError(f"unknown field {i}")
    return fields[i]


def _ref(t: DefType, nullable: bool) -> RefType:
    return RefType(nullable, t)


def _new(t: DefType) -> RefType:
    """The type of a fresh allocation of ``t``: a non-null exact reference."""
    return RefType(False, Exact(t))


def _check_get(storage: Any, name: str) -> None:
    """Packed fields need ``_s`` / ``_u``; others must not use them."""
    signed = name.endswith(("_s", "_u"))
    if signed != (storage in PACKED_TYPES):
        raise _mismatch()


def validate_gc(name: str, imm: Any, ops: Operands, types: list[DefType],
                elem_types: list[Any], num_datas: int) -> None:
    """Type one GC instruction (every one but br_on_cast / br_on_cast_fail)."""
    rule = _RULES.get(name)
    if rule is None:
        raise InvalidError(f"unsupported instruction {name}")
    rule(imm, ops, types, elem_types, num_datas)


# --- structs -------------------------------------------------------------------------------


def _plain_alloc(types: list, idx: int) -> DefType:
    """The struct type of ``struct.new(_default)``: one without a descriptor."""
    st = defined(types, idx, "struct")
    if st.descriptor is not None:
        raise InvalidError("type with descriptor requires descriptor allocation")
    return st


def _struct_new(imm: int, ops: Operands, types: list, *_: Any) -> None:
    st = _plain_alloc(types, imm)
    for f in reversed(st.comp.fields):
        ops.pop(unpacked(f.storage))
    ops.push(_new(st))


def _struct_new_default(imm: int, ops: Operands, types: list, *_: Any) -> None:
    st = _plain_alloc(types, imm)
    if not all(is_defaultable(f.storage) for f in st.comp.fields):
        raise _mismatch()
    ops.push(_new(st))


# --- custom descriptors ------------------------------------------------------------------


def _desc_alloc(types: list, idx: int) -> DefType:
    """The struct type of ``struct.new(_default)_desc``: one with a descriptor."""
    st = defined(types, idx, "struct")
    if st.descriptor is None:
        raise InvalidError("type without descriptor requires non-descriptor allocation")
    return st


def _struct_new_desc(imm: int, ops: Operands, types: list, *_: Any) -> None:
    """``struct.new_desc x : t* (ref null (exact y)) -> (ref (exact x))``."""
    st = _desc_alloc(types, imm)
    ops.pop(RefType(True, Exact(st.descriptor)))
    for f in reversed(st.comp.fields):
        ops.pop(unpacked(f.storage))
    ops.push(_new(st))


def _struct_new_default_desc(imm: int, ops: Operands, types: list, *_: Any) -> None:
    st = _desc_alloc(types, imm)
    if not all(is_defaultable(f.storage) for f in st.comp.fields):
        raise _mismatch()
    ops.pop(RefType(True, Exact(st.descriptor)))
    ops.push(_new(st))


def _ref_get_desc(imm: int, ops: Operands, types: list, *_: Any) -> None:
    """``ref.get_desc x : (ref null exact? x) -> (ref exact? y)``: exact when the operand
    is (an exact reference to x itself, a null of the bottom type, or unreachable)."""
    t = defined(types, imm)
    if t.descriptor is None:
        raise InvalidError("type without descriptor")
    actual = ops.pop(_ref(t, True))
    exact = actual is None or val_subtype(canon(types, actual), RefType(True, Exact(t)))
    ops.push(RefType(False, Exact(t.descriptor) if exact else t.descriptor))


def descriptor_operand(types: list, imm: RefType, rt: RefType) -> RefType:
    """The descriptor operand type of ``ref.cast_desc_eq rt`` / ``br_on_cast_desc_eq``
    (``rt`` resolved, ``imm`` as decoded for the message): ``(ref null exact? y)`` where
    ``y`` describes rt's type, exact when ``rt`` is."""
    h = strip_exact(rt.heap)
    if type(h) is not DefType or h.descriptor is None:
        raise InvalidError(f"type {strip_exact(imm.heap)} does not have a descriptor")
    return RefType(True, Exact(h.descriptor) if type(rt.heap) is Exact else h.descriptor)


def _ref_cast_desc_eq(imm: RefType, ops: Operands, types: list, *_: Any) -> None:
    rt = resolve_ref(types, imm)
    ops.pop(descriptor_operand(types, imm, rt))
    ops.pop(RefType(True, heap_top(rt.heap)))
    ops.push(rt)


def _struct_get(name: str) -> Any:
    def rule(imm: tuple[int, int], ops: Operands, types: list, *_: Any) -> None:
        st = defined(types, imm[0], "struct")
        f = _field(st, imm[1])
        _check_get(f.storage, name)
        ops.pop(_ref(st, True))
        ops.push(unpacked(f.storage))

    return rule


def _struct_set(imm: tuple[int, int], ops: Operands, types: list, *_: Any) -> None:
    st = defined(types, imm[0], "struct")
    f = _field(st, imm[1])
    if not f.mutable:
        raise InvalidError("immutable field")
    ops.pop(unpacked(f.storage))
    ops.pop(_ref(st, True))


# --- arrays ---------------------------------------------------------------------------------


def _array(types: list, idx: int, mutable: bool = False) -> DefType:
    at = defined(types, idx, "array")
    if mutable and not at.comp.field.mutable:
        raise InvalidError("immutable array")
    return at


def _elem(at: DefType) -> Any:
    return unpacked(at.comp.field.storage)


def _numeric(at: DefType) -> None:
    if at.comp.field.storage not in _NUMERIC:
        raise InvalidError("array type is not numeric or vector")


def _data(num_datas: int, idx: int) -> None:
    if not 0 <= idx < num_datas:
        raise InvalidError(f"unknown data segment {idx}")


def _elem_seg(types: list, at: DefType, elem_types: list, idx: int) -> None:
    if not 0 <= idx < len(elem_types):
        raise InvalidError(f"unknown elem segment {idx}")
    if not val_subtype(canon(types, elem_types[idx]), at.comp.field.storage):
        raise _mismatch()


def _array_new(imm: int, ops: Operands, types: list, *_: Any) -> None:
    at = _array(types, imm)
    ops.pop(I32)
    ops.pop(_elem(at))
    ops.push(_new(at))


def _array_new_default(imm: int, ops: Operands, types: list, *_: Any) -> None:
    at = _array(types, imm)
    if not is_defaultable(at.comp.field.storage):
        raise _mismatch()
    ops.pop(I32)
    ops.push(_new(at))


def _array_new_fixed(imm: tuple[int, int], ops: Operands, types: list, *_: Any) -> None:
    at = _array(types, imm[0])
    t = _elem(at)
    for _ in range(imm[1]):
        ops.pop(t)
    ops.push(_new(at))


def _array_new_data(imm: tuple[int, int], ops: Operands, types: list, _e: list,
                    num_datas: int) -> None:
    at = _array(types, imm[0])
    _numeric(at)
    _data(num_datas, imm[1])
    ops.pop(I32)
    ops.pop(I32)
    ops.push(_new(at))


def _array_new_elem(imm: tuple[int, int], ops: Operands, types: list, elem_types: list,
                    *_: Any) -> None:
    at = _array(types, imm[0])
    _elem_seg(types, at, elem_types, imm[1])
    ops.pop(I32)
    ops.pop(I32)
    ops.push(_new(at))


def _array_get(name: str) -> Any:
    def rule(imm: int, ops: Operands, types: list, *_: Any) -> None:
        at = _array(types, imm)
        _check_get(at.comp.field.storage, name)
        ops.pop(I32)
        ops.pop(_ref(at, True))
        ops.push(_elem(at))

    return rule


def _array_set(imm: int, ops: Operands, types: list, *_: Any) -> None:
    at = _array(types, imm, mutable=True)
    ops.pop(_elem(at))
    ops.pop(I32)
    ops.pop(_ref(at, True))


def _array_len(imm: None, ops: Operands, *_: Any) -> None:
    ops.pop(RefType(True, "array"))
    ops.push(I32)


def _array_fill(imm: int, ops: Operands, types: list, *_: Any) -> None:
    at = _array(types, imm, mutable=True)
    ops.pop(I32)
    ops.pop(_elem(at))
    ops.pop(I32)
    ops.pop(_ref(at, True))


def _array_copy(imm: tuple[int, int], ops: Operands, types: list, *_: Any) -> None:
    dst = _array(types, imm[0], mutable=True)
    src = _array(types, imm[1])
    if not storage_subtype(src.comp.field.storage, dst.comp.field.storage):
        raise InvalidError("array types do not match")
    ops.pop(I32)
    ops.pop(I32)
    ops.pop(_ref(src, True))
    ops.pop(I32)
    ops.pop(_ref(dst, True))


def _array_init_data(imm: tuple[int, int], ops: Operands, types: list, _e: list,
                     num_datas: int) -> None:
    at = _array(types, imm[0], mutable=True)
    _numeric(at)
    _data(num_datas, imm[1])
    for _ in range(3):
        ops.pop(I32)
    ops.pop(_ref(at, True))


def _array_init_elem(imm: tuple[int, int], ops: Operands, types: list, elem_types: list,
                     *_: Any) -> None:
    at = _array(types, imm[0], mutable=True)
    _elem_seg(types, at, elem_types, imm[1])
    for _ in range(3):
        ops.pop(I32)
    ops.pop(_ref(at, True))


# --- i31, equality, casts, conversions ------------------------------------------------------


def _ref_i31(imm: None, ops: Operands, *_: Any) -> None:
    ops.pop(I32)
    ops.push(RefType(False, "i31"))


def _i31_get(imm: None, ops: Operands, *_: Any) -> None:
    ops.pop(RefType(True, "i31"))
    ops.push(I32)


def _ref_eq(imm: None, ops: Operands, *_: Any) -> None:
    ops.pop(RefType(True, "eq"))
    ops.pop(RefType(True, "eq"))
    ops.push(I32)


def _ref_test(imm: RefType, ops: Operands, types: list, *_: Any) -> None:
    rt = resolve_ref(types, imm)
    ops.pop(RefType(True, heap_top(rt.heap)))
    ops.push(I32)


def _ref_cast(imm: RefType, ops: Operands, types: list, *_: Any) -> None:
    rt = resolve_ref(types, imm)
    ops.pop(RefType(True, heap_top(rt.heap)))
    ops.push(rt)


def _convert(src: str, dst: str) -> Any:
    def rule(imm: None, ops: Operands, *_: Any) -> None:
        actual = ops.pop(RefType(True, src))
        nullable = actual is None or as_reftype(actual).nullable
        ops.push(RefType(nullable, dst))

    return rule


def br_on_cast_types(types: list[DefType], rt1: RefType, rt2: RefType,
                     fail: bool, any_target: bool = False) -> tuple[RefType, RefType, RefType]:
    """``(operand, to label, fall through)`` reference types of br_on_cast(_fail).

    The target must be a subtype of the source ("type mismatch"), or with ``any_target``
    (custom descriptors) only in its hierarchy; the branch not taken by a successful cast
    carries the source minus the target (non-null when the target accepts null).
    """
    rt1, rt2 = resolve_ref(types, rt1), resolve_ref(types, rt2)
    if heap_top(rt1.heap) != heap_top(rt2.heap) or not (any_target or val_subtype(rt2, rt1)):
        raise _mismatch()
    diff = RefType(rt1.nullable and not rt2.nullable, rt1.heap)
    return (rt1, diff, rt2) if fail else (rt1, rt2, diff)


_RULES: dict[str, Any] = {
    "struct.new": _struct_new,
    "struct.new_default": _struct_new_default,
    "struct.get": _struct_get("struct.get"),
    "struct.get_s": _struct_get("struct.get_s"),
    "struct.get_u": _struct_get("struct.get_u"),
    "struct.set": _struct_set,
    "array.new": _array_new,
    "array.new_default": _array_new_default,
    "array.new_fixed": _array_new_fixed,
    "array.new_data": _array_new_data,
    "array.new_elem": _array_new_elem,
    "array.get": _array_get("array.get"),
    "array.get_s": _array_get("array.get_s"),
    "array.get_u": _array_get("array.get_u"),
    "array.set": _array_set,
    "array.len": _array_len,
    "array.fill": _array_fill,
    "array.copy": _array_copy,
    "array.init_data": _array_init_data,
    "array.init_elem": _array_init_elem,
    "ref.i31": _ref_i31,
    "i31.get_s": _i31_get,
    "i31.get_u": _i31_get,
    "ref.eq": _ref_eq,
    "ref.test": _ref_test,
    "ref.test_null": _ref_test,
    "ref.cast": _ref_cast,
    "ref.cast_null": _ref_cast,
    "struct.new_desc": _struct_new_desc,
    "struct.new_default_desc": _struct_new_default_desc,
    "ref.get_desc": _ref_get_desc,
    "ref.cast_desc_eq": _ref_cast_desc_eq,
    "ref.cast_desc_eq_null": _ref_cast_desc_eq,
    "any.convert_extern": _convert("extern", "any"),
    "extern.convert_any": _convert("any", "extern"),
}

#: Names typed here (the body validator routes them to :func:`validate_gc`).
GC_INSTRUCTIONS = frozenset(_RULES)

__all__ = ["GC_INSTRUCTIONS", "Operands", "br_on_cast_types", "defined", "descriptor_operand",
           "resolve_ref", "validate_gc"]
