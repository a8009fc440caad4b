"""Unit tests of engine.compile.numerics: exact Wasm scalar semantics."""

from __future__ import annotations

import math
import struct

import pytest

from engine.compile import numerics as N
from engine.errors import Trap

M32 = 0xFFFF_FFFF
M64 = 0xFFFF_FFFF_FFFF_FFFF


def u32(x: int) -> int:
    return x & M32


def u64(x: int) -> int:
    return x & M64


def bits64(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


# -- f32 bits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "b",
    [0, 0x8000_0000, 0x3F80_0000, 0x7F7F_FFFF, 0x0000_0001, 0x7F80_0000, 0xFF80_0000,
     0x7FC0_0000, 0xFFC0_0000, 0x7FA0_0000, 0x7F80_0001, 0xFF81_2345, 0x7FFF_FFFF],
)
def test_f32_bits_round_trip_including_signalling_nan(b: int) -> None:
    assert N.f32_to_bits(N.f32_from_bits(b)) == b


def test_f32_neg_abs_copysign_keep_nan_payload() -> None:
    snan = N.f32_from_bits(0x7FA0_0001)
    assert N.f32_to_bits(-snan) == 0xFFA0_0001
    assert N.f32_to_bits(math.fabs(-snan)) == 0x7FA0_0001
    assert N.f32_to_bits(math.copysign(snan, -1.0)) == 0xFFA0_0001


def test_f64_bits_round_trip() -> None:
    for b in (0x7FF0_0000_0000_0001, 0xFFF4_0000_0000_0000, 0x8000_0000_0000_0000, 1):
        assert N.f64_to_bits(N.f64_from_bits(b)) == b


def test_f32r_rounds_to_single_and_overflows_to_inf() -> None:
    assert N.f32r(0.1) == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert N.f32r(1e300) == math.inf
    assert N.f32r(-1e300) == -math.inf
    assert N.f32r(3.4028234663852886e38) == 3.4028234663852886e38


# -- integers ------------------------------------------------------------------------------


def test_div_rem_signed_truncate_toward_zero() -> None:
    assert N.div_s32(u32(-7), 2) == u32(-3)
    assert N.rem_s32(u32(-7), 2) == u32(-1)
    assert N.rem_s32(7, u32(-2)) == 1
    assert N.div_s64(u64(-7), 2) == u64(-3)
    assert N.rem_s64(u64(-7), u64(-2)) == u64(-1)


def test_div_traps() -> None:
    with pytest.raises(Trap, match="integer divide by zero"):
        N.div_s32(1, 0)
    with pytest.raises(Trap, match="integer overflow"):
        N.div_s32(0x8000_0000, M32)
    with pytest.raises(Trap, match="integer overflow"):
        N.div_s64(1 << 63, M64)
    assert N.rem_s32(0x8000_0000, M32) == 0
    assert N.rem_s64(1 << 63, M64) == 0
    with pytest.raises(Trap, match="integer divide by zero"):
        N.rem_s64(1, 0)


def test_rotates_and_counts() -> None:
    assert N.rotl32(0x8000_0001, 1) == 3
    assert N.rotr32(3, 1) == 0x8000_0001
    assert N.rotl32(0x1234_5678, 36) == N.rotl32(0x1234_5678, 4)
    assert N.rotl64(1 << 63, 1) == 1
    assert N.rotr64(1, 65) == 1 << 63
    assert N.ctz32(0) == 32 and N.ctz32(8) == 3
    assert N.ctz64(0) == 64 and N.ctz64(1 << 40) == 40
    assert N.popcnt(M32) == 32


# -- floats --------------------------------------------------------------------------------


def test_division_by_zero_gives_ieee_results() -> None:
    assert N.fdiv(1.0, 0.0) == math.inf
    assert N.fdiv(1.0, -0.0) == -math.inf
    assert N.fdiv(-1.0, -0.0) == math.inf
    assert math.isnan(N.fdiv(0.0, 0.0))
    assert math.isnan(N.f32div(math.nan, 0.0))
    assert N.f32div(1.0, 3.0) == N.f32r(1.0 / 3.0)


def test_sqrt() -> None:
    assert math.isnan(N.fsqrt(-1.0))
    assert bits64(N.fsqrt(-0.0)) == bits64(-0.0)
    assert math.isnan(N.fsqrt(math.nan))
    assert N.f32sqrt(2.0) == N.f32r(math.sqrt(2.0))


def test_min_max_nan_and_signed_zero() -> None:
    assert bits64(N.fmin(0.0, -0.0)) == bits64(-0.0)
    assert bits64(N.fmin(-0.0, 0.0)) == bits64(-0.0)
    assert bits64(N.fmax(-0.0, 0.0)) == bits64(0.0)
    assert bits64(N.fmax(0.0, -0.0)) == bits64(0.0)
    assert math.isnan(N.fmin(1.0, math.nan))
    assert math.isnan(N.fmax(math.nan, 1.0))
    assert N.fmin(1.0, 2.0) == 1.0 and N.fmax(1.0, 2.0) == 2.0


def test_rounding() -> None:
    assert bits64(N.fnearest(-0.5)) == bits64(-0.0)
    assert N.fnearest(2.5) == 2.0 and N.fnearest(3.5) == 4.0 and N.fnearest(-2.5) == -2.0
    assert bits64(N.fceil(-0.5)) == bits64(-0.0)
    assert bits64(N.ffloor(-0.0)) == bits64(-0.0)
    assert bits64(N.ftrunc(-0.7)) == bits64(-0.0)
    assert N.ffloor(-1.5) == -2.0 and N.fceil(1.5) == 2.0
    for f in (N.fceil, N.ffloor, N.ftrunc, N.fnearest):
        assert f(math.inf) == math.inf and f(-math.inf) == -math.inf
        assert math.isnan(f(math.nan))
        assert f(4503599627370497.0) == 4503599627370497.0


def test_trunc_traps_and_bounds() -> None:
    assert N.trunc_i32_s(-2147483648.9) == 0x8000_0000
    assert N.trunc_i32_s(2147483647.9) == 0x7FFF_FFFF
    assert N.trunc_i32_u(-0.9) == 0
    with pytest.raises(Trap, match="integer overflow"):
        N.trunc_i32_s(2147483648.0)
    with pytest.raises(Trap, match="integer overflow"):
        N.trunc_i32_u(-1.0)
    with pytest.raises(Trap, match="invalid conversion to integer"):
        N.trunc_i64_s(math.nan)
    with pytest.raises(Trap, match="integer overflow"):
        N.trunc_i64_s(9223372036854775808.0)
    assert N.trunc_i64_s(-9223372036854775808.0) == 1 << 63
    with pytest.raises(Trap, match="integer overflow"):
        N.trunc_i64_u(math.inf)
    assert N.trunc_i64_u(18446744073709549568.0) == 18446744073709549568


def test_trunc_sat() -> None:
    assert N.trunc_sat_i32_s(math.nan) == 0
    assert N.trunc_sat_i32_s(1e10) == 0x7FFF_FFFF
    assert N.trunc_sat_i32_s(-1e10) == 0x8000_0000
    assert N.trunc_sat_i32_u(-5.0) == 0
    assert N.trunc_sat_i64_u(math.inf) == M64
    assert N.trunc_sat_i64_s(-math.inf) == 1 << 63


def test_convert_i64_to_f32_rounds_once() -> None:
    # 2**60 + 2**36 + 1: double rounding (int -> double -> float) would round down to 2**60.
    n = (1 << 60) + (1 << 36) + 1
    assert N.f32_convert_i64_u(n) == float((1 << 60) + (1 << 37))
    assert N.f32_convert_i64_u(M64) == 18446744073709551616.0
    assert N.f32_convert_i64_s(u64(-n)) == -float((1 << 60) + (1 << 37))
    # ties to even
    assert N.i64_to_f32((1 << 24) + 1) == float(1 << 24)
    assert N.i64_to_f32((1 << 24) + 3) == float((1 << 24) + 4)


def test_promote_demote_nan() -> None:
    snan = N.f32_from_bits(0x7FA0_0000)
    p = N.fpromote(snan)
    assert math.isnan(p) and bits64(p) & (1 << 51)  # quiet (arithmetic) NaN
    d = N.fdemote(N.f64_from_bits(0x7FF0_0000_0000_0001))
    assert math.isnan(d) and N.f32_to_bits(d) & 0x40_0000
    assert N.fdemote(1e300) == math.inf


# -- memory and tables ----------------------------------------------------------------------


def test_f32_load_store_keep_signalling_nan() -> None:
    mem = bytearray(8)
    mem[0:4] = (0x7FA0_0001).to_bytes(4, "little")
    x = N.load_f32(mem, 0)
    N.store_f32(mem, 4, x)
    assert mem[4:8] == mem[0:4]
    with pytest.raises(Trap, match="out of bounds memory access"):
        N.load_f32(mem, 5)
    with pytest.raises(Trap, match="out of bounds memory access"):
        N.store_f32(mem, 5, 1.0)


def test_bulk_memory_checks_before_writing() -> None:
    mem = bytearray(16)
    with pytest.raises(Trap):
        N.mem_fill(mem, 10, 0xFF, 7)
    assert mem == bytearray(16)
    N.mem_fill(mem, 16, 1, 0)  # zero length at the end is fine
    N.mem_init(mem, b"abc", 1, 1, 2)
    assert mem[1:3] == b"bc"
    N.mem_copy(mem, mem, 2, 1, 3)
    assert mem[1:5] == b"bbc\x00"
    with pytest.raises(Trap):
        N.mem_init(mem, b"abc", 0, 2, 2)


class _F:
    def __init__(self, ftype: object) -> None:
        self.ftype = ftype
        self.fn = lambda: 42


def test_indirect_checks() -> None:
    ft = object()
    elems = [None, _F(ft), _F(object())]
    assert N.indirect(elems, 1, ft)() == 42
    with pytest.raises(Trap, match="undefined element"):
        N.indirect(elems, 3, ft)
    with pytest.raises(Trap, match="uninitialized element"):
        N.indirect(elems, 0, ft)
    with pytest.raises(Trap, match="indirect call type mismatch"):
        N.indirect(elems, 2, ft)


def test_table_ops_bounds() -> None:
    t = [None] * 4
    N.table_fill(t, 1, "x", 2)
    assert t == [None, "x", "x", None]
    with pytest.raises(Trap, match="out of bounds table access"):
        N.table_get(t, 4)
    with pytest.raises(Trap, match="out of bounds table access"):
        N.table_copy(t, t, 3, 0, 2)
    N.table_init(t, ("a", "b"), 2, 0, 2)
    assert t[2:] == ["a", "b"]
