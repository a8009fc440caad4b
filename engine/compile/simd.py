"""SIMD (v128) instructions as Python expression templates plus the helpers they call.

Contract with the translator:

- ``SIMD_EXPR[name]`` is a template for ``str.format``: ``{a}``, ``{b}``, ``{c}`` are the
  operands in push order (``a`` deepest), ``{imm}`` is ``repr()`` of the decoded immediate,
  ``{mem}`` the ``bytearray`` of memory 0 and ``{ea}`` the effective address (i32 base +
  memarg offset, unchecked). Memory templates use ``{ea}`` in place of the address operand
  (so a store's value is ``{b}``, a lane load's vector is ``{b}``). Each placeholder occurs
  at most once and in operand order, so operands may be arbitrary expressions. Templates of
  ops without a result (stores) are statements; all others are expressions.
- ``SIMD_HELPERS`` maps every global name the templates use (all prefixed ``v_``) to its
  object; inject it into the exec globals of generated code.

Values: v128 is an ``int`` in ``[0, 2**128)`` with lane 0 in the low bits; i32/i64 are
unsigned ints; f32 scalars use the project's float representation (see docs/architecture.md).

Representation inside helpers (measured on CPython 3.11, one i32x4.add, ns per call):

    SWAR on the 128-bit int (masks, one add)           ~160
    shift/mask loop over the lanes                     ~760
    int.to_bytes + struct.unpack, unrolled pack        ~890
    int.to_bytes + struct.unpack + list comp + pack   ~2000
    memoryview.cast + list comp + array              ~1450
    (i8x16: SWAR ~160, bytes zip comp ~1300, shift loop ~2200)

These helpers are the fallback: between lane-wise instructions the translator keeps a v128
as one Python value per lane and v128 locals as lane variables (simd_lanes.py,
simd_locals.py, simd_webs.py), so the lane arithmetic of f64x2 and the integer shapes is
inline code there; the templates below serve every other instruction and operand.

So: whole-vector bitwise ops stay plain int expressions; lane-wise add, sub, neg, shifts,
eq/ne, all_true, splat and replace_lane use SWAR tricks on the int (lane boundaries kept by
masks); popcnt, swizzle and shuffle use ``bytes.translate``; everything else unpacks with a
precompiled ``struct.Struct`` and packs back once. f32 lanes are rounded by packing through
``array('f')`` (a C double->float cast: round-to-nearest-even, overflow -> inf, no
OverflowError), and lane bits are read as raw integers wherever they are observable
(abs/neg/pmin/pmax/extract/replace), so signalling NaN payloads survive.

NaN results of lane-wise float arithmetic are either the hardware's propagated quiet NaN
(an arithmetic NaN) or the canonical NaN; both are what the spec allows.

Relaxed SIMD: one deterministic behaviour per instruction, each in the spec's allowed set:

    ===================================== ===============================================
    i8x16.relaxed_swizzle                 = i8x16.swizzle (index >= 16 -> 0)
    i32x4.relaxed_trunc_f32x4_s/_u        = i32x4.trunc_sat_f32x4_s/_u
    i32x4.relaxed_trunc_f64x2_s/_u_zero   = i32x4.trunc_sat_f64x2_s/_u_zero
    f32x4/f64x2.relaxed_madd              unfused: round(round(a*b) + c)
    f32x4/f64x2.relaxed_nmadd             unfused: round(round(-(a*b)) + c)
    iNxM.relaxed_laneselect               = v128.bitselect
    f32x4/f64x2.relaxed_min/max           = f32x4/f64x2.min/max
    i16x8.relaxed_q15mulr_s               = i16x8.q15mulr_sat_s
    i16x8.relaxed_dot_i8x16_i7x16_s       b lanes signed; pair sums wrap to i16
    i32x4.relaxed_dot_i8x16_i7x16_add_s   b signed; i16 pair sums (wrapping) summed + c, wrap
    ===================================== ===============================================
"""

from __future__ import annotations

import math
import struct
from array import array
from collections.abc import Callable
from math import isnan

from ..compat import popcount
from ..errors import Trap
from .numerics import f32_from_bits, f32_to_bits
from .simd_lanes import LANE_HELPERS

M128 = (1 << 128) - 1
_NAN = math.nan
_INF = math.inf


def _rep(width: int, value: int) -> int:
    """``value`` repeated in every lane of ``width`` bits."""
    return sum(value << (i * width) for i in range(128 // width))


# Struct per lane kind: unpacking 16 bytes, packing the lanes back.
_ST = {
    "i8": struct.Struct("<16b"),
    "u8": struct.Struct("<16B"),
    "i16": struct.Struct("<8h"),
    "u16": struct.Struct("<8H"),
    "i32": struct.Struct("<4i"),
    "u32": struct.Struct("<4I"),
    "i64": struct.Struct("<2q"),
    "u64": struct.Struct("<2Q"),
    "f32": struct.Struct("<4f"),
    "f64": struct.Struct("<2d"),
}


def _tb(v: int) -> bytes:
    return v.to_bytes(16, "little")


def _fb(b: bytes) -> int:
    return int.from_bytes(b, "little")


def _f32pack(values: list) -> int:
    """Round each float to f32 (nearest-even, overflow -> inf) and pack four lanes."""
    return int.from_bytes(array("f", values).tobytes(), "little")


# ---------------------------------------------------------------------------------------------
# SWAR helpers: lane-wise integer ops on the int itself.

def _make_swar(width: int) -> dict[str, Callable]:
    hi = _rep(width, 1 << (width - 1))
    lo = M128 ^ hi
    ones = (1 << width) - 1
    lane_bits = _rep(width, 1)
    top = width - 1

    def add(a: int, b: int) -> int:
        return ((a & lo) + (b & lo)) ^ ((a ^ b) & hi)

    def sub(a: int, b: int) -> int:
        # a|hi per lane >= b&lo per lane, so no borrow crosses a lane boundary
        return ((a | hi) - (b & lo)) ^ ((a ^ ~b) & hi)

    def neg(a: int) -> int:
        return (hi - (a & lo)) ^ (~a & hi)

    def nonzero(x: int) -> int:
        """Top bit of each lane set iff the lane is nonzero."""
        return (((x & lo) + lo) | x) & hi

    def ne(a: int, b: int) -> int:
        return (nonzero(a ^ b) >> top) * ones

    def eq(a: int, b: int) -> int:
        return ((nonzero(a ^ b) >> top) * ones) ^ M128

    def all_true(a: int) -> int:
        return int(nonzero(a) == hi)

    def shl(a: int, n: int) -> int:
        n %= width
        return (a << n) & _rep(width, (ones << n) & ones)

    def shr_u(a: int, n: int) -> int:
        n %= width
        return (a >> n) & _rep(width, ones >> n)

    def shr_s(a: int, n: int) -> int:
        n %= width
        keep = _rep(width, ones >> n)
        signs = ((a & hi) >> top) * ones  # lanes that are negative, all ones
        return ((a >> n) & keep) | (signs & (M128 ^ keep))

    def splat(x: int) -> int:
        return (x & ones) * lane_bits

    return {"add": add, "sub": sub, "neg": neg, "ne": ne, "eq": eq, "all_true": all_true,
            "shl": shl, "shr_u": shr_u, "shr_s": shr_s, "splat": splat}


# ---------------------------------------------------------------------------------------------
# Lane-wise helpers built from small constant expression templates (this module's own text,
# never module data): the per-lane expression is inlined in a list comprehension, which is
# about 2x faster than calling a lane function per element.

def _define(name: str, nargs: int, fin: str, fout: str, expr: str, ns: dict) -> Callable:
    """A helper ``name(a[, b])``: unpack with ``fin``, apply ``expr`` over x (, y), pack ``fout``."""
    if nargs == 1:
        src = (f"def {name}(a):\n"
               f"    return _fb(_O.pack(*[{expr} for x in _I.unpack(_tb(a))]))\n")
    else:
        src = (f"def {name}(a, b):\n"
               f"    return _fb(_O.pack(*[{expr} for x, y in "
               f"zip(_I.unpack(_tb(a)), _I.unpack(_tb(b)))]))\n")
    if fout == "f32":  # round lanes to f32 through array('f')
        src = src.replace("_fb(_O.pack(*[", "_f32pack([").replace("]))\n", "])\n")
    env = dict(ns, _I=_ST[fin], _O=_ST[fout], _tb=_tb, _fb=_fb, _f32pack=_f32pack)
    exec(src, env)  # noqa: S102 - constant templates of this module only
    return env[name]


# Float lane functions (scalar rules of the spec).

def _fdiv(x: float, y: float) -> float:
    try:
        return x / y
    except ZeroDivisionError:
        if isnan(x) or x == 0.0:
            return _NAN
        return math.copysign(_INF, x) * math.copysign(1.0, y)


def _fsqrt(x: float) -> float:
    # negative or NaN -> canonical NaN (math.sqrt would raise; a NaN input may be signalling)
    return math.sqrt(x) if x >= 0.0 else _NAN


def _fmin(x: float, y: float) -> float:
    if x < y:
        return x
    if y < x:
        return y
    if isnan(x) or isnan(y):
        return _NAN
    return x if math.copysign(1.0, x) < 0 else y  # equal: prefer -0.0


def _fmax(x: float, y: float) -> float:
    if x > y:
        return x
    if y > x:
        return y
    if isnan(x) or isnan(y):
        return _NAN
    return y if math.copysign(1.0, x) < 0 else x  # equal: prefer +0.0


def _round_with(fn: Callable[[float], int]) -> Callable[[float], float]:
    def rnd(x: float) -> float:
        if isnan(x):
            return _NAN
        if x in (_INF, -_INF) or abs(x) >= 4503599627370496.0:  # 2**52: already integral
            return x
        r = float(fn(x))
        return r if r else math.copysign(0.0, x)  # keep the sign of a zero result
    return rnd


_fceil = _round_with(math.ceil)
_ffloor = _round_with(math.floor)
_ftrunc = _round_with(math.trunc)
_fnearest = _round_with(round)  # Python's round() is half-to-even


def _trunc_sat(lo: int, hi: int) -> Callable[[float], int]:
    def conv(x: float) -> int:
        if isnan(x):
            return 0
        if x <= lo:
            return lo
        if x >= hi:
            return hi
        return math.trunc(x)
    return conv


_ts_s32 = _trunc_sat(-(1 << 31), (1 << 31) - 1)
_ts_u32 = _trunc_sat(0, (1 << 32) - 1)

_NS = {"_fdiv": _fdiv, "_fsqrt": _fsqrt, "_fmin": _fmin, "_fmax": _fmax, "_fceil": _fceil,
       "_ffloor": _ffloor, "_ftrunc": _ftrunc, "_fnearest": _fnearest, "_ts_s32": _ts_s32,
       "_ts_u32": _ts_u32}

H: dict[str, object] = {}  # helper name -> object (becomes SIMD_HELPERS)
E: dict[str, str] = {}  # op name -> template (becomes SIMD_EXPR)


def _lanes(op: str, nargs: int, fin: str, fout: str, expr: str) -> None:
    name = "v_" + op.replace(".", "_")
    H[name] = _define(name, nargs, fin, fout, expr, _NS)
    E[op] = f"{name}({{a}})" if nargs == 1 else f"{name}({{a}}, {{b}})"


def _call(op: str, fn: Callable, nargs: int) -> None:
    name = "v_" + op.replace(".", "_")
    H[name] = fn
    E[op] = name + "(" + ", ".join("{" + "abc"[i] + "}" for i in range(nargs)) + ")"


# ---------------------------------------------------------------------------------------------
# Integer shapes.

_SHAPES = {"i8x16": 8, "i16x8": 16, "i32x4": 32, "i64x2": 64}

for _shape, _w in _SHAPES.items():
    _sw = _make_swar(_w)
    _s, _u = f"i{_w}", f"u{_w}"
    _mask = (1 << _w) - 1
    for _k in ("add", "sub", "eq", "ne"):
        _call(f"{_shape}.{_k}", _sw[_k], 2)
    for _k in ("shl", "shr_s", "shr_u"):
        _call(f"{_shape}.{_k}", _sw[_k], 2)
    _call(f"{_shape}.neg", _sw["neg"], 1)
    _call(f"{_shape}.all_true", _sw["all_true"], 1)
    _call(f"{_shape}.splat", _sw["splat"], 1)
    _lanes(f"{_shape}.abs", 1, _s, _u, f"(-x if x < 0 else x) & {_mask}")
    for _k, _op in (("lt", "<"), ("gt", ">"), ("le", "<="), ("ge", ">=")):
        _lanes(f"{_shape}.{_k}_s", 2, _s, _s, f"-(x {_op} y)")
        if _w < 64:  # i64x2 has signed comparisons only
            _lanes(f"{_shape}.{_k}_u", 2, _u, _s, f"-(x {_op} y)")
    if _w <= 32:
        _lanes(f"{_shape}.min_s", 2, _s, _s, "x if x < y else y")
        _lanes(f"{_shape}.min_u", 2, _u, _u, "x if x < y else y")
        _lanes(f"{_shape}.max_s", 2, _s, _s, "x if x > y else y")
        _lanes(f"{_shape}.max_u", 2, _u, _u, "x if x > y else y")
    if _w >= 16:
        _lanes(f"{_shape}.mul", 2, _u, _u, f"(x * y) & {_mask}")
    if _w <= 16:
        _smin, _smax = -(1 << (_w - 1)), (1 << (_w - 1)) - 1
        for _k, _op in (("add", "+"), ("sub", "-")):
            # conditional clamps: ~1.6x faster than min(max(...)) calls per lane
            _lanes(f"{_shape}.{_k}_sat_s", 2, _s, _s,
                   f"({_smin} if (s := x {_op} y) < {_smin} else {_smax} if s > {_smax} else s)")
            _lanes(f"{_shape}.{_k}_sat_u", 2, _u, _u,
                   f"(0 if (s := x {_op} y) < 0 else {_mask} if s > {_mask} else s)")
        _lanes(f"{_shape}.avgr_u", 2, _u, _u, "(x + y + 1) >> 1")


def _bitmask(width: int) -> Callable[[int], int]:
    hi = _rep(width, 1 << (width - 1))
    n = 128 // width

    def bitmask(a: int) -> int:
        t = a & hi
        r = 0
        for i in range(n):
            r |= ((t >> (i * width + width - 1)) & 1) << i
        return r
    return bitmask


for _shape, _w in _SHAPES.items():
    _call(f"{_shape}.bitmask", _bitmask(_w), 1)

_POPCNT = bytes(popcount(i) for i in range(256))


def v_i8x16_popcnt(a: int) -> int:
    """Per-byte population count via one bytes.translate."""
    return _fb(_tb(a).translate(_POPCNT))


_call("i8x16.popcnt", v_i8x16_popcnt, 1)


def v_swizzle(a: int, b: int) -> int:
    """Result byte i = a[b[i]], or 0 when b[i] >= 16 (a 256-byte translate table)."""
    return _fb(_tb(b).translate(_tb(a) + bytes(240)))


def v_shuffle(a: int, b: int, lanes: tuple) -> int:
    """Result byte i = (a ++ b)[lanes[i]] (the validator guarantees lanes < 32)."""
    return _fb(bytes(lanes).translate(_tb(a) + _tb(b) + bytes(224)))


_call("i8x16.swizzle", v_swizzle, 2)
_call("i8x16.relaxed_swizzle", v_swizzle, 2)
H["v_shuffle"] = v_shuffle
E["i8x16.shuffle"] = "v_shuffle({a}, {b}, {imm})"


# Narrowing, widening, extended multiply / add, dot products.

def _pack_lanes(fout: str, values: list) -> int:
    return _fb(_ST[fout].pack(*values))


def _narrow(fin: str, fout: str, lo: int, hi: int) -> Callable[[int, int], int]:
    sin = _ST[fin]

    def narrow(a: int, b: int) -> int:
        lanes = sin.unpack(_tb(a)) + sin.unpack(_tb(b))
        return _pack_lanes(fout, [lo if x < lo else min(x, hi) for x in lanes])
    return narrow


_call("i8x16.narrow_i16x8_s", _narrow("i16", "i8", -128, 127), 2)
_call("i8x16.narrow_i16x8_u", _narrow("i16", "u8", 0, 255), 2)
_call("i16x8.narrow_i32x4_s", _narrow("i32", "i16", -32768, 32767), 2)
_call("i16x8.narrow_i32x4_u", _narrow("i32", "u16", 0, 65535), 2)

_WIDE = (("i16x8", "8x16", "8", "16"), ("i32x4", "16x8", "16", "32"), ("i64x2", "32x4", "32", "64"))


def _extend(fin: str, fout: str, high: bool) -> Callable[[int], int]:
    sin, sout = _ST[fin], _ST[fout]
    n = len(sin.unpack(bytes(16)))
    sl = slice(n // 2, n) if high else slice(0, n // 2)

    def extend(a: int) -> int:
        return _fb(sout.pack(*sin.unpack(_tb(a))[sl]))
    return extend


def _extmul(fin: str, fout: str, high: bool) -> Callable[[int, int], int]:
    sin, sout = _ST[fin], _ST[fout]
    n = len(sin.unpack(bytes(16)))
    sl = slice(n // 2, n) if high else slice(0, n // 2)

    def extmul(a: int, b: int) -> int:
        xs, ys = sin.unpack(_tb(a))[sl], sin.unpack(_tb(b))[sl]
        return _fb(sout.pack(*[x * y for x, y in zip(xs, ys)]))
    return extmul


def _extadd(fin: str, fout: str) -> Callable[[int], int]:
    sin, sout = _ST[fin], _ST[fout]

    def extadd(a: int) -> int:
        xs = sin.unpack(_tb(a))
        return _fb(sout.pack(*[x + y for x, y in zip(xs[0::2], xs[1::2])]))
    return extadd


for _shape, _src, _nw, _ww in _WIDE:
    for _sg, _p in (("s", "i"), ("u", "u")):
        _fin, _fout = _p + _nw, _p + _ww
        _call(f"{_shape}.extend_low_i{_src}_{_sg}", _extend(_fin, _fout, False), 1)
        _call(f"{_shape}.extend_high_i{_src}_{_sg}", _extend(_fin, _fout, True), 1)
        _call(f"{_shape}.extmul_low_i{_src}_{_sg}", _extmul(_fin, _fout, False), 2)
        _call(f"{_shape}.extmul_high_i{_src}_{_sg}", _extmul(_fin, _fout, True), 2)
        if _shape != "i64x2":
            _call(f"{_shape}.extadd_pairwise_i{_src}_{_sg}", _extadd(_fin, _fout), 1)


def _dot_i16x8(a: int, b: int) -> int:
    xs, ys = _ST["i16"].unpack(_tb(a)), _ST["i16"].unpack(_tb(b))
    p = [x * y for x, y in zip(xs, ys)]
    # only (-32768)^2 * 2 = 2**31 overflows i32; it wraps
    return _fb(_ST["u32"].pack(*[(p[i] + p[i + 1]) & 0xFFFFFFFF for i in range(0, 8, 2)]))


def _q15mulr(a: int, b: int) -> int:
    xs, ys = _ST["i16"].unpack(_tb(a)), _ST["i16"].unpack(_tb(b))
    return _fb(_ST["i16"].pack(*[min((x * y + 0x4000) >> 15, 32767) for x, y in zip(xs, ys)]))


def _relaxed_dot_i16(a: int, b: int) -> int:
    xs, ys = _ST["i8"].unpack(_tb(a)), _ST["i8"].unpack(_tb(b))
    p = [x * y for x, y in zip(xs, ys)]
    return _fb(_ST["u16"].pack(*[(p[i] + p[i + 1]) & 0xFFFF for i in range(0, 16, 2)]))


def _relaxed_dot_add_i32(a: int, b: int, c: int) -> int:
    pairs = _ST["i16"].unpack(_tb(_relaxed_dot_i16(a, b)))
    cs = _ST["i32"].unpack(_tb(c))
    return _fb(_ST["u32"].pack(*[(pairs[2 * i] + pairs[2 * i + 1] + cs[i]) & 0xFFFFFFFF
                                for i in range(4)]))


_call("i32x4.dot_i16x8_s", _dot_i16x8, 2)
_call("i16x8.q15mulr_sat_s", _q15mulr, 2)
_call("i16x8.relaxed_q15mulr_s", _q15mulr, 2)
_call("i16x8.relaxed_dot_i8x16_i7x16_s", _relaxed_dot_i16, 2)
_call("i32x4.relaxed_dot_i8x16_i7x16_add_s", _relaxed_dot_add_i32, 3)

# ---------------------------------------------------------------------------------------------
# Float shapes.

for _shape, _f in (("f32x4", "f32"), ("f64x2", "f64")):
    _i = "i" + _f[1:]
    for _k, _e in (("add", "x + y"), ("sub", "x - y"), ("mul", "x * y"), ("div", "_fdiv(x, y)"),
                   ("min", "_fmin(x, y)"), ("max", "_fmax(x, y)")):
        _lanes(f"{_shape}.{_k}", 2, _f, _f, _e)
    for _k, _e in (("sqrt", "_fsqrt(x)"), ("ceil", "_fceil(x)"), ("floor", "_ffloor(x)"),
                   ("trunc", "_ftrunc(x)"), ("nearest", "_fnearest(x)")):
        _lanes(f"{_shape}.{_k}", 1, _f, _f, _e)
    for _k, _op in (("eq", "=="), ("ne", "!="), ("lt", "<"), ("gt", ">"), ("le", "<="),
                    ("ge", ">=")):
        _lanes(f"{_shape}.{_k}", 2, _f, _i, f"-(x {_op} y)")

_SIGN32 = _rep(32, 0x80000000)
_SIGN64 = _rep(64, 1 << 63)
E["f32x4.abs"] = f"({{a}} & {M128 ^ _SIGN32})"
E["f32x4.neg"] = f"({{a}} ^ {_SIGN32})"
E["f64x2.abs"] = f"({{a}} & {M128 ^ _SIGN64})"
E["f64x2.neg"] = f"({{a}} ^ {_SIGN64})"


def _pminmax(fmt: str, width: int, is_max: bool) -> Callable[[int, int], int]:
    """pmin = b < a ? b : a, pmax = a < b ? b : a, choosing the raw lane bits (NaNs exact)."""
    sf = _ST[fmt]
    mask = (1 << width) - 1
    n = 128 // width

    def pminmax(a: int, b: int) -> int:
        xs, ys = sf.unpack(_tb(a)), sf.unpack(_tb(b))
        r = 0
        for i in range(n):
            take_b = xs[i] < ys[i] if is_max else ys[i] < xs[i]
            r |= ((b if take_b else a) >> (i * width) & mask) << (i * width)
        return r
    return pminmax


_call("f32x4.pmin", _pminmax("f32", 32, False), 2)
_call("f32x4.pmax", _pminmax("f32", 32, True), 2)
_call("f64x2.pmin", _pminmax("f64", 64, False), 2)
_call("f64x2.pmax", _pminmax("f64", 64, True), 2)


def _madd(fmt: str, negate: bool) -> Callable[[int, int, int], int]:
    """Unfused multiply-add: the product is rounded to the lane type, then the sum."""
    sf = _ST[fmt]

    def madd(a: int, b: int, c: int) -> int:
        xs, ys, zs = sf.unpack(_tb(a)), sf.unpack(_tb(b)), sf.unpack(_tb(c))
        prods = [-(x * y) if negate else x * y for x, y in zip(xs, ys)]
        if fmt == "f32":
            prods = array("f", prods).tolist()
            return _f32pack([p + z for p, z in zip(prods, zs)])
        return _fb(sf.pack(*[p + z for p, z in zip(prods, zs)]))
    return madd


_call("f32x4.relaxed_madd", _madd("f32", False), 3)
_call("f32x4.relaxed_nmadd", _madd("f32", True), 3)
_call("f64x2.relaxed_madd", _madd("f64", False), 3)
_call("f64x2.relaxed_nmadd", _madd("f64", True), 3)

# Conversions.
_lanes("i32x4.trunc_sat_f32x4_s", 1, "f32", "i32", "_ts_s32(x)")
_lanes("i32x4.trunc_sat_f32x4_u", 1, "f32", "u32", "_ts_u32(x)")
_lanes("f32x4.convert_i32x4_s", 1, "i32", "f32", "float(x)")
_lanes("f32x4.convert_i32x4_u", 1, "u32", "f32", "float(x)")
E["i32x4.relaxed_trunc_f32x4_s"] = E["i32x4.trunc_sat_f32x4_s"]
E["i32x4.relaxed_trunc_f32x4_u"] = E["i32x4.trunc_sat_f32x4_u"]


def _trunc_sat_zero(conv: Callable[[float], int]) -> Callable[[int], int]:
    def trunc_zero(a: int) -> int:
        x, y = _ST["f64"].unpack(_tb(a))
        return (conv(x) & 0xFFFFFFFF) | (conv(y) & 0xFFFFFFFF) << 32
    return trunc_zero


_call("i32x4.trunc_sat_f64x2_s_zero", _trunc_sat_zero(_ts_s32), 1)
_call("i32x4.trunc_sat_f64x2_u_zero", _trunc_sat_zero(_ts_u32), 1)
E["i32x4.relaxed_trunc_f64x2_s_zero"] = E["i32x4.trunc_sat_f64x2_s_zero"]
E["i32x4.relaxed_trunc_f64x2_u_zero"] = E["i32x4.trunc_sat_f64x2_u_zero"]


def _convert_low(fmt: str) -> Callable[[int], int]:
    sf = _ST[fmt]

    def convert_low(a: int) -> int:
        xs = sf.unpack(_tb(a))
        return _fb(_ST["f64"].pack(float(xs[0]), float(xs[1])))
    return convert_low


_call("f64x2.convert_low_i32x4_s", _convert_low("i32"), 1)
_call("f64x2.convert_low_i32x4_u", _convert_low("u32"), 1)


def v_demote(a: int) -> int:
    """f64x2 -> f32x4 with the upper two lanes zero (NaNs come out quiet)."""
    return _f32pack(list(_ST["f64"].unpack(_tb(a))) + [0.0, 0.0])


def v_promote(a: int) -> int:
    """Low two f32 lanes -> f64x2 (exact; NaNs come out quiet)."""
    xs = array("f", _tb(a)[:8])
    return _fb(_ST["f64"].pack(xs[0], xs[1]))


_call("f32x4.demote_f64x2_zero", v_demote, 1)
_call("f64x2.promote_low_f32x4", v_promote, 1)

# ---------------------------------------------------------------------------------------------
# Whole-vector bitwise ops: plain int expressions.

E["v128.const"] = "{imm}"
E["v128.not"] = f"({{a}} ^ {M128})"
E["v128.and"] = "({a} & {b})"
E["v128.or"] = "({a} | {b})"
E["v128.xor"] = "({a} ^ {b})"
E["v128.andnot"] = "({a} & ~{b})"
E["v128.any_true"] = "int({a} != 0)"


def v_bitselect(a: int, b: int, c: int) -> int:
    """Bits of a where c is 1, bits of b where c is 0."""
    return (a & c) | (b & ~c)


_call("v128.bitselect", v_bitselect, 3)
for _shape in _SHAPES:
    E[f"{_shape}.relaxed_laneselect"] = E["v128.bitselect"]
E["f32x4.relaxed_min"] = E["f32x4.min"]
E["f32x4.relaxed_max"] = E["f32x4.max"]
E["f64x2.relaxed_min"] = E["f64x2.min"]
E["f64x2.relaxed_max"] = E["f64x2.max"]

# ---------------------------------------------------------------------------------------------
# Splat, extract and replace lane.

_REP32 = _rep(32, 1)
_REP64 = _rep(64, 1)
_D64 = struct.Struct("<d")
_Q64 = struct.Struct("<Q")


def v_f32x4_splat(x: float) -> int:
    return f32_to_bits(x) * _REP32


def v_f64x2_splat(x: float) -> int:
    return _Q64.unpack(_D64.pack(x))[0] * _REP64


def v_f64_bits(x: float) -> int:
    return _Q64.unpack(_D64.pack(x))[0]


def v_f64_from(bits: int) -> float:
    return _D64.unpack(_Q64.pack(bits))[0]


def _sext(width: int) -> Callable[[int], int]:
    """Sign-extend a ``width``-bit lane to an unsigned i32 pattern."""
    sign = 1 << (width - 1)
    ext = 0xFFFFFFFF ^ ((1 << width) - 1)

    def sext(x: int) -> int:
        return x | ext if x & sign else x
    return sext


H.update(v_f32x4_splat=v_f32x4_splat, v_f64x2_splat=v_f64x2_splat, v_f64_bits=v_f64_bits,
         v_f64_from=v_f64_from, v_f32_from_bits=f32_from_bits, v_f32_to_bits=f32_to_bits,
         v_sext8=_sext(8), v_sext16=_sext(16))
E["f32x4.splat"] = "v_f32x4_splat({a})"
E["f64x2.splat"] = "v_f64x2_splat({a})"

E["i8x16.extract_lane_u"] = "(({a} >> ({imm} * 8)) & 255)"
E["i8x16.extract_lane_s"] = "v_sext8(({a} >> ({imm} * 8)) & 255)"
E["i16x8.extract_lane_u"] = "(({a} >> ({imm} * 16)) & 65535)"
E["i16x8.extract_lane_s"] = "v_sext16(({a} >> ({imm} * 16)) & 65535)"
E["i32x4.extract_lane"] = "(({a} >> ({imm} * 32)) & 4294967295)"
E["i64x2.extract_lane"] = "(({a} >> ({imm} * 64)) & 18446744073709551615)"
E["f32x4.extract_lane"] = "v_f32_from_bits(({a} >> ({imm} * 32)) & 4294967295)"
E["f64x2.extract_lane"] = "v_f64_from(({a} >> ({imm} * 64)) & 18446744073709551615)"

for _shape, _w in _SHAPES.items():
    _m = (1 << _w) - 1
    E[f"{_shape}.replace_lane"] = (
        f"(({{a}} & ({M128} ^ ({_m} << ({{imm}} * {_w})))) | (({{b}} & {_m}) << ({{imm}} * {_w})))"
    )
E["f32x4.replace_lane"] = (
    f"(({{a}} & ({M128} ^ (4294967295 << ({{imm}} * 32)))) "
    f"| (v_f32_to_bits({{b}}) << ({{imm}} * 32)))"
)
E["f64x2.replace_lane"] = (
    f"(({{a}} & ({M128} ^ (18446744073709551615 << ({{imm}} * 64)))) "
    f"| (v_f64_bits({{b}}) << ({{imm}} * 64)))"
)

# ---------------------------------------------------------------------------------------------
# Memory.

_OOB = "out of bounds memory access"


def _read(mem: bytearray, ea: int, n: int) -> bytes:
    if ea + n > len(mem):
        raise Trap(_OOB)
    return mem[ea:ea + n]


def v_load128(mem: bytearray, ea: int) -> int:
    """v128.load: 16 little-endian bytes."""
    if ea + 16 > len(mem):
        raise Trap(_OOB)
    return int.from_bytes(mem[ea:ea + 16], "little")


def v_store128(mem: bytearray, ea: int, v: int) -> None:
    """v128.store."""
    if ea + 16 > len(mem):
        raise Trap(_OOB)
    mem[ea:ea + 16] = v.to_bytes(16, "little")


def _load_ext(fin: str, fout: str) -> Callable[[bytearray, int], int]:
    sin = struct.Struct("<" + _ST[fin].format[-1] * (128 // 2 // int(fin[1:])))
    sout = _ST[fout]

    def load_ext(mem: bytearray, ea: int) -> int:
        return _fb(sout.pack(*sin.unpack(_read(mem, ea, 8))))
    return load_ext


def _load_splat(nbytes: int) -> Callable[[bytearray, int], int]:
    rep = _rep(nbytes * 8, 1)

    def load_splat(mem: bytearray, ea: int) -> int:
        return int.from_bytes(_read(mem, ea, nbytes), "little") * rep
    return load_splat


def _load_zero(nbytes: int) -> Callable[[bytearray, int], int]:
    def load_zero(mem: bytearray, ea: int) -> int:
        return int.from_bytes(_read(mem, ea, nbytes), "little")
    return load_zero


def _load_lane(nbytes: int) -> Callable[[bytearray, int, int, tuple], int]:
    w = nbytes * 8
    m = (1 << w) - 1

    def load_lane(mem: bytearray, ea: int, v: int, imm: tuple) -> int:
        sh = imm[1] * w
        x = int.from_bytes(_read(mem, ea, nbytes), "little")
        return (v & (M128 ^ (m << sh))) | (x << sh)
    return load_lane


def _store_lane(nbytes: int) -> Callable[[bytearray, int, int, tuple], None]:
    w = nbytes * 8
    m = (1 << w) - 1

    def store_lane(mem: bytearray, ea: int, v: int, imm: tuple) -> None:
        if ea + nbytes > len(mem):
            raise Trap(_OOB)
        mem[ea:ea + nbytes] = ((v >> (imm[1] * w)) & m).to_bytes(nbytes, "little")
    return store_lane


def _mem_op(op: str, fn: Callable, template: str) -> None:
    name = "v_" + op.replace(".", "_")
    H[name] = fn
    E[op] = template.replace("F", name)


H["v_load128"] = v_load128
H["v_store128"] = v_store128
E["v128.load"] = "v_load128({mem}, {ea})"
E["v128.store"] = "v_store128({mem}, {ea}, {b})"
for _n, _w in (("8x8", 8), ("16x4", 16), ("32x2", 32)):
    _mem_op(f"v128.load{_n}_s", _load_ext(f"i{_w}", f"i{2 * _w}"), "F({mem}, {ea})")
    _mem_op(f"v128.load{_n}_u", _load_ext(f"u{_w}", f"u{2 * _w}"), "F({mem}, {ea})")
for _nb in (1, 2, 4, 8):
    _mem_op(f"v128.load{_nb * 8}_splat", _load_splat(_nb), "F({mem}, {ea})")
    _mem_op(f"v128.load{_nb * 8}_lane", _load_lane(_nb), "F({mem}, {ea}, {b}, {imm})")
    _mem_op(f"v128.store{_nb * 8}_lane", _store_lane(_nb), "F({mem}, {ea}, {b}, {imm})")
for _nb in (4, 8):
    _mem_op(f"v128.load{_nb * 8}_zero", _load_zero(_nb), "F({mem}, {ea})")

#: op name -> Python expression (statement for stores) template; see the module docstring.
SIMD_EXPR: dict[str, str] = E
#: global name -> object for every helper the templates use.
SIMD_HELPERS: dict[str, object] = {k: v for k, v in H.items()
                                   if any(k + "(" in t for t in E.values())}
SIMD_HELPERS.update(LANE_HELPERS)  # the lane-wise code's (simd_lanes.py)
