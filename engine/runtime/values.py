"""Value conversion at the API boundary: Python values and raw bits <-> internal values.

Internal values are described in docs/architecture.md ("Values"). Two public forms exist:

* Python values: i32/i64 accepted signed or unsigned, returned signed (like wasmtime);
  f32/f64 as floats (f32 rounded to single precision); v128 as an int; references as objects.
* Raw bits: numbers as their bit patterns (f32/f64 as IEEE bits), references as objects.
"""

from __future__ import annotations

from typing import Any

from ..compile.numerics import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from ..types import EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, RefType, as_ref
from .gc import is_any_ref, ref_from_python, ref_to_python


class ValType(str):
    """A value type, wasmtime-py shaped: ``ValType.i32()`` ... ``ValType.externref()``.

    A ``str`` subclass equal to (and hashed as) the plain strings of ``engine.types``
    (``ValType.i32() == "i32"``), so it is hashable, equal by value, and usable wherever the
    engine takes a value type.
    """

    __slots__ = ()

    @staticmethod
    def i32() -> ValType:
        return _VT[I32]

    @staticmethod
    def i64() -> ValType:
        return _VT[I64]

    @staticmethod
    def f32() -> ValType:
        return _VT[F32]

    @staticmethod
    def f64() -> ValType:
        return _VT[F64]

    @staticmethod
    def v128() -> ValType:
        return _VT[V128]

    @staticmethod
    def funcref() -> ValType:
        return _VT[FUNCREF]

    @staticmethod
    def externref() -> ValType:
        return _VT[EXTERNREF]

    def __repr__(self) -> str:
        return f"ValType.{str.__str__(self)}()"


_VT = {t: ValType(t) for t in (I32, I64, F32, F64, V128, FUNCREF, EXTERNREF)}


def _int_arg(t: str, value: Any, width: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an int for {t}, got {type(value).__name__}")
    if not -(1 << (width - 1)) <= value < 1 << width:
        raise TypeError(f"value {value} out of range for {t}")
    return value & ((1 << width) - 1)


def _float_arg(t: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a float for {t}, got {type(value).__name__}")
    return float(value)


def check_ref(t: str, value: Any) -> Any:
    """Check a reference for type ``t`` (funcref: a Func or None; externref: anything;
    a non-nullable type refuses None)."""
    if t == EXTERNREF:
        return value
    r = as_ref(t)
    if r is None:
        return value
    if is_any_ref(r):  # GC: opaque boxes unboxed, host values boxed (engine/runtime/gc.py)
        return ref_from_python(r, value)
    if value is None:
        if not r.nullable:
            raise TypeError(f"expected a non-null reference for {t}, got None")
        return value
    if r.heap == "func" or not isinstance(r.heap, str):
        from .func import Func

        if not isinstance(value, Func):
            raise TypeError(f"expected a Func for {t}, got {type(value).__name__}")
    return value


def from_python(t: str, value: Any) -> Any:
    """The internal value of Python value ``value`` for type ``t``."""
    if t == I32:
        return _int_arg(t, value, 32)
    if t == I64:
        return _int_arg(t, value, 64)
    if t == F32:
        return f32_from_bits(f32_to_bits(_float_arg(t, value)))
    if t == F64:
        return _float_arg(t, value)
    if t == V128:
        return _int_arg(t, value, 128)
    return check_ref(t, value)


def to_python(t: str, value: Any) -> Any:
    """The Python value of internal ``value`` of type ``t`` (integers signed)."""
    if t == I32:
        return value - (1 << 32) if value & 0x80000000 else value
    if t == I64:
        return value - (1 << 64) if value >> 63 else value
    return ref_to_python(t, value) if isinstance(t, RefType) else value


def from_bits(t: str, bits: Any) -> Any:
    """The internal value of raw ``bits`` for type ``t`` (references pass as objects)."""
    if t == I32:
        return _int_arg(t, bits, 32)
    if t == I64:
        return _int_arg(t, bits, 64)
    if t == F32:
        return f32_from_bits(_int_arg(t, bits, 32))
    if t == F64:
        return f64_from_bits(_int_arg(t, bits, 64))
    if t == V128:
        return _int_arg(t, bits, 128)
    return check_ref(t, bits)


def to_bits(t: str, value: Any) -> Any:
    """The raw bits of internal ``value`` of type ``t`` (references pass as objects)."""
    if t == F32:
        return f32_to_bits(value)
    if t == F64:
        return f64_to_bits(value)
    return ref_to_python(t, value) if isinstance(t, RefType) else value


def results_list(count: int, result: Any) -> list[Any]:
    """Normalise the internal calling convention's result (None / value / tuple) to a list."""
    if count == 0:
        return []
    if count == 1:
        return [result]
    return list(result)


def default_value(t: str) -> Any:
    """The zero value of type ``t`` (0, 0.0, or null)."""
    if t in (I32, I64, V128):
        return 0
    if t in (F32, F64):
        return 0.0
    return None

