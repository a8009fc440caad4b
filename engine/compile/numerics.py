"""Exact scalar numerics of WebAssembly on the engine's internal value representation.

i32/i64 are unsigned Python ints (the bit pattern); f64 is a Python float; f32 is a Python
float holding exactly an f32 value, whose NaNs are the doubles
``sign << 63 | 0x7FF << 52 | mantissa23 << 29`` so that the f32 payload (signalling bit
included) survives moves, ``neg``, ``abs`` and ``copysign``.

Operations whose result is NaN only have to produce *a* NaN of the class the spec asks for
(``nan:canonical`` / ``nan:arithmetic``); the positive canonical NaN satisfies both, so the
helpers return ``NAN`` there. Everything else is bit-exact.
"""

from __future__ import annotations

import math
import struct
from array import array
from math import isnan
from typing import Any

from ..compat import popcount
from ..errors import Trap

M32 = 0xFFFF_FFFF
M64 = 0xFFFF_FFFF_FFFF_FFFF
NAN = float("nan")  # bits 0x7FF8000000000000: canonical for f64, and for f32 (0x7FC00000)
INF = float("inf")
NINF = float("-inf")

_D = struct.Struct("<d")
_Q = struct.Struct("<Q")
_F = struct.Struct("<f")
_I = struct.Struct("<I")

# array('f') stores with a plain C (double -> float) cast: correct round-to-nearest-even,
# overflow to inf, no OverflowError (struct '<f' raises). Measured ~20% faster than
# struct pack/unpack with an OverflowError guard.
_fa = array("f", [0.0])


def f32r(x: float) -> float:
    """Round a double to the nearest f32 value (the result of every f32 arithmetic op)."""
    _fa[0] = x
    return _fa[0]


# ---------------------------------------------------------------------------------------
# bits <-> values


def f32_from_bits(b: int) -> float:
    """The internal f32 value of the 32-bit pattern ``b`` (keeps NaN payloads exactly)."""
    if b & 0x7F80_0000 == 0x7F80_0000 and b & 0x7F_FFFF:
        return _D.unpack(_Q.pack((b >> 31) << 63 | 0x7FF << 52 | (b & 0x7F_FFFF) << 29))[0]
    return _F.unpack(_I.pack(b))[0]


def f32_to_bits(x: float) -> int:
    """The 32-bit pattern of the internal f32 value ``x``."""
    if isnan(x):
        d = _Q.unpack(_D.pack(x))[0]
        mant = (d >> 29) & 0x7F_FFFF
        if not mant:  # a double NaN whose payload sits below the f32 bits: make it quiet
            mant = 0x40_0000
        return (d >> 63) << 31 | 0x7F80_0000 | mant
    _fa[0] = x
    return _I.unpack(_fa.tobytes())[0]


def f64_from_bits(b: int) -> float:
    """The f64 value of the 64-bit pattern ``b``."""
    return _D.unpack(_Q.pack(b))[0]


def f64_to_bits(x: float) -> int:
    """The 64-bit pattern of the f64 value ``x``."""
    return _Q.unpack(_D.pack(x))[0]


# ---------------------------------------------------------------------------------------
# integers


def signed32(a: int) -> int:
    return (a ^ 0x8000_0000) - 0x8000_0000


def signed64(a: int) -> int:
    return (a ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000


def div_s32(a: int, b: int) -> int:
    """i32.div_s: truncating division (Python's // floors)."""
    if not b:
        raise Trap("integer divide by zero")
    if a == 0x8000_0000 and b == M32:
        raise Trap("integer overflow")
    sa = (a ^ 0x8000_0000) - 0x8000_0000
    sb = (b ^ 0x8000_0000) - 0x8000_0000
    q = abs(sa) // abs(sb)
    return (-q if (sa < 0) != (sb < 0) else q) & M32


def rem_s32(a: int, b: int) -> int:
    """i32.rem_s: the remainder takes the dividend's sign; INT_MIN % -1 is 0."""
    if not b:
        raise Trap("integer divide by zero")
    sa = (a ^ 0x8000_0000) - 0x8000_0000
    sb = (b ^ 0x8000_0000) - 0x8000_0000
    r = abs(sa) % abs(sb)
    return (-r if sa < 0 else r) & M32


def div_s64(a: int, b: int) -> int:
    """i64.div_s."""
    if not b:
        raise Trap("integer divide by zero")
    if a == 0x8000_0000_0000_0000 and b == M64:
        raise Trap("integer overflow")
    sa = (a ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
    sb = (b ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
    q = abs(sa) // abs(sb)
    return (-q if (sa < 0) != (sb < 0) else q) & M64


def rem_s64(a: int, b: int) -> int:
    """i64.rem_s."""
    if not b:
        raise Trap("integer divide by zero")
    sa = (a ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
    sb = (b ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
    r = abs(sa) % abs(sb)
    return (-r if sa < 0 else r) & M64


def div_u(a: int, b: int) -> int:
    if not b:
        raise Trap("integer divide by zero")
    return a // b


def rem_u(a: int, b: int) -> int:
    if not b:
        raise Trap("integer divide by zero")
    return a % b


def rotl32(a: int, b: int) -> int:
    k = b & 31
    return ((a << k) | (a >> (32 - k))) & M32


def rotr32(a: int, b: int) -> int:
    k = b & 31
    return ((a >> k) | (a << (32 - k))) & M32


def rotl64(a: int, b: int) -> int:
    k = b & 63
    return ((a << k) | (a >> (64 - k))) & M64


def rotr64(a: int, b: int) -> int:
    k = b & 63
    return ((a >> k) | (a << (64 - k))) & M64


def ctz32(a: int) -> int:
    return (a & -a).bit_length() - 1 if a else 32


def ctz64(a: int) -> int:
    return (a & -a).bit_length() - 1 if a else 64


def popcnt(a: int) -> int:
    return popcount(a)


# ---------------------------------------------------------------------------------------
# floats


def fdiv0(a: float, b: float) -> float:
    """a / b for a zero divisor b (Python raises ZeroDivisionError): inf or NaN."""
    if isnan(a) or a == 0.0:
        return NAN
    neg = (math.copysign(1.0, a) < 0) != (math.copysign(1.0, b) < 0)
    return NINF if neg else INF


def fdiv(a: float, b: float) -> float:
    """f64.div with IEEE semantics for zero divisors."""
    return a / b if b else fdiv0(a, b)


def f32div(a: float, b: float) -> float:
    return f32r(a / b) if b else fdiv0(a, b)


def fsqrt(x: float) -> float:
    """sqrt; negative (non-zero) inputs and NaN give NaN (math.sqrt raises)."""
    if x >= 0.0:  # includes -0.0, whose root is -0.0
        return math.sqrt(x)
    return NAN


def f32sqrt(x: float) -> float:
    if x >= 0.0:
        return f32r(math.sqrt(x))
    return NAN


def fmin(a: float, b: float) -> float:
    """min with NaN propagation and -0 < +0."""
    if isnan(a) or isnan(b):
        return NAN
    if a == b:  # equal, possibly zeros of different signs: prefer the negative one
        return a if math.copysign(1.0, a) < 0 else b
    return min(a, b)


def fmax(a: float, b: float) -> float:
    """max with NaN propagation and +0 > -0."""
    if isnan(a) or isnan(b):
        return NAN
    if a == b:
        return b if math.copysign(1.0, a) < 0 else a
    return max(a, b)


_BIG = 4503599627370496.0  # 2**52: every double at least this large is an integer


def fceil(x: float) -> float:
    if isnan(x):
        return NAN
    if not -_BIG < x < _BIG:
        return x
    return math.copysign(float(math.ceil(x)), x)


def ffloor(x: float) -> float:
    if isnan(x):
        return NAN
    if not -_BIG < x < _BIG:
        return x
    return math.copysign(float(math.floor(x)), x)


def ftrunc(x: float) -> float:
    if isnan(x):
        return NAN
    if not -_BIG < x < _BIG:
        return x
    return math.copysign(float(math.trunc(x)), x)


def fnearest(x: float) -> float:
    """Round half to even, keeping the sign of zero results (round(-0.4) is -0.0)."""
    if isnan(x):
        return NAN
    if not -_BIG < x < _BIG:
        return x
    return math.copysign(float(round(x)), x)


# f32 values are exact doubles, and an integral value of an f32 is again an f32, so the
# rounding helpers above serve f32 too.


def fpromote(x: float) -> float:
    """f64.promote_f32: exact; an f32 NaN (maybe signalling as a double) becomes canonical."""
    return NAN if isnan(x) else x


def fdemote(x: float) -> float:
    """f32.demote_f64."""
    return NAN if isnan(x) else f32r(x)


def i64_to_f32(n: int) -> float:
    """Round a Python int to the nearest f32 (ties to even) without double rounding."""
    m = -n if n < 0 else n
    if m < 0x100_0000:
        r = float(m)
    else:
        shift = m.bit_length() - 24
        q = m >> shift
        rem = m - (q << shift)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and q & 1):
            q += 1
        r = f32r(math.ldexp(float(q), shift))
    return -r if n < 0 else r


def f32_convert_i64_s(a: int) -> float:
    return i64_to_f32((a ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000)


def f32_convert_i64_u(a: int) -> float:
    return i64_to_f32(a)


# Float -> int truncation. Bounds are exact doubles: the truncation of x is in range iff x
# lies strictly between (min - 1) and (max + 1).


def _trunc(x: float, lo: float, hi: float, mask: int) -> int:
    if isnan(x):
        raise Trap("invalid conversion to integer")
    if not lo < x < hi:
        raise Trap("integer overflow")
    return int(x) & mask


def trunc_i32_s(x: float) -> int:
    return _trunc(x, -2147483649.0, 2147483648.0, M32)


def trunc_i32_u(x: float) -> int:
    return _trunc(x, -1.0, 4294967296.0, M32)


def trunc_i64_s(x: float) -> int:
    if isnan(x):
        raise Trap("invalid conversion to integer")
    # -2**63 - 1 is not a double; -2**63 itself is in range.
    if not -9223372036854775808.0 <= x < 9223372036854775808.0:
        raise Trap("integer overflow")
    return int(x) & M64


def trunc_i64_u(x: float) -> int:
    return _trunc(x, -1.0, 18446744073709551616.0, M64)


def _sat(x: float, lo: int, hi: int, mask: int) -> int:
    if isnan(x):
        return 0
    if x <= lo:
        return lo & mask
    if x >= hi:
        return hi & mask
    return int(x) & mask


def trunc_sat_i32_s(x: float) -> int:
    return _sat(x, -0x8000_0000, 0x7FFF_FFFF, M32)


def trunc_sat_i32_u(x: float) -> int:
    return _sat(x, 0, M32, M32)


def trunc_sat_i64_s(x: float) -> int:
    return _sat(x, -0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, M64)


def trunc_sat_i64_u(x: float) -> int:
    return _sat(x, 0, M64, M64)


# ---------------------------------------------------------------------------------------
# memory helpers (each raises Trap itself: translated code maps only its own inline
# struct.error / IndexError to "out of bounds memory access")

_OOB = "out of bounds memory access"
_unpack_i = _I.unpack_from
_unpack_f = _F.unpack_from
_pack_i = _I.pack_into
_pack_f = _F.pack_into


def load_f32(mem: bytearray, ea: int) -> float:
    """f32.load keeping signalling NaN bits (struct 'f' would quiet them)."""
    if ea + 4 > len(mem):
        raise Trap(_OOB)
    x = _unpack_f(mem, ea)[0]
    if isnan(x):
        return f32_from_bits(_unpack_i(mem, ea)[0])
    return x


def store_f32(mem: bytearray, ea: int, x: float) -> None:
    if ea + 4 > len(mem):
        raise Trap(_OOB)
    if isnan(x):
        _pack_i(mem, ea, f32_to_bits(x))
    else:
        _pack_f(mem, ea, x)


def group_load(mem: bytearray, base: int, places: tuple) -> tuple:
    """A grouped load (load_groups.py) where some ``base + c`` wraps around 2**32: each
    load on its own, in program order (``places``: its unsigned ``c``, its offset, its key,
    its size and its unpacker), the values in ascending key order."""
    out = {}
    for c, off, key, size, unpack in places:
        ea = ((base + c) & M32) + off
        if ea + size > len(mem):
            raise Trap(_OOB)
        out[key] = unpack(mem, ea)
    return tuple(v for r in sorted(out) for v in out[r])


def mem_fill(mem: bytearray, d: int, val: int, n: int) -> None:
    if d + n > len(mem):
        raise Trap(_OOB)
    if n:
        mem[d : d + n] = bytes((val & 0xFF,)) * n


def mem_copy(dst: bytearray, src: bytearray, d: int, s: int, n: int) -> None:
    if d + n > len(dst) or s + n > len(src):
        raise Trap(_OOB)
    if n:
        dst[d : d + n] = src[s : s + n]


def mem_init(mem: bytearray, seg: bytes, d: int, s: int, n: int) -> None:
    if d + n > len(mem) or s + n > len(seg):
        raise Trap(_OOB)
    if n:
        mem[d : d + n] = seg[s : s + n]


# ---------------------------------------------------------------------------------------
# tables

_TOOB = "out of bounds table access"


def table_get(elems: list, i: int):
    if i >= len(elems):
        raise Trap(_TOOB)
    return elems[i]


def table_set(elems: list, i: int, v) -> None:
    if i >= len(elems):
        raise Trap(_TOOB)
    elems[i] = v


def table_fill(elems: list, i: int, v, n: int) -> None:
    if i + n > len(elems):
        raise Trap(_TOOB)
    elems[i : i + n] = [v] * n


def table_copy(dst: list, src: list, d: int, s: int, n: int) -> None:
    if d + n > len(dst) or s + n > len(src):
        raise Trap(_TOOB)
    if n:
        dst[d : d + n] = src[s : s + n]


def table_init(elems: list, seg, d: int, s: int, n: int) -> None:
    if d + n > len(elems) or s + n > len(seg):
        raise Trap(_TOOB)
    if n:
        elems[d : d + n] = seg[s : s + n]


def indirect(elems: list, i: int, ftype):
    """The callable for call_indirect: bounds, null and signature checks."""
    if i >= len(elems):
        raise Trap("undefined element")
    f = elems[i]
    if f is None:
        raise Trap(f"uninitialized element {i}")
    ft = f.ftype
    if ft is not ftype and ft != ftype:
        raise Trap("indirect call type mismatch")
    return f.fn


def indirect_gc(elems: list, i: int, ftype, deftype):
    """call_indirect against a canonical GC type: a wasm function's type must be a declared
    subtype (iso-recursive identity first); a host function's signature must equal it."""
    if i >= len(elems):
        raise Trap("undefined element")
    f = elems[i]
    if f is None:
        raise Trap(f"uninitialized element {i}")
    have = f.deftype
    if have is not None:
        if have is not deftype and not have.is_subtype_of(deftype):
            raise Trap("indirect call type mismatch")
    elif f.ftype is not ftype and f.ftype != ftype:
        raise Trap("indirect call type mismatch")
    return f.fn


# ---------------------------------------------------------------------------------------
# counted loops


def crange(start: int, stop: int, step: int, mask: int) -> Any:
    """The counter values of ``i = start; while i < stop: ...; i = (i + step) & mask``: a
    ``range`` unless the step is zero or the counter could wrap past ``mask``."""
    if 0 < step and stop + step <= mask + 1:
        return range(start, stop, step)
    return _wrapping_count(start, stop, step, mask)


def _wrapping_count(i: int, stop: int, step: int, mask: int) -> Any:
    while i < stop:
        yield i
        i = (i + step) & mask


# -- fuel and epoch interruption: helpers of metered code, defined in fuel.py ---------------

from .fuel import (  # noqa: F401 (re-exported: the helper namespace of generated code)
    EPOCH_CHUNK,
    FUEL_CHUNK,
    epoch_range,
    fuel_range,
    fuel_refund,
    refuel,
)
