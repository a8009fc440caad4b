"""Runtime helpers of the wide-arithmetic proposal: 128-bit sums and 64x64->128 products,
taking and returning 64-bit halves (low first) as unsigned bit patterns."""

from __future__ import annotations

_M64 = (1 << 64) - 1
_M128 = (1 << 128) - 1


def add128(a_lo: int, a_hi: int, b_lo: int, b_hi: int) -> tuple[int, int]:
    s = ((a_hi << 64) | a_lo) + ((b_hi << 64) | b_lo)
    return s & _M64, (s >> 64) & _M64


def sub128(a_lo: int, a_hi: int, b_lo: int, b_hi: int) -> tuple[int, int]:
    s = (((a_hi << 64) | a_lo) - ((b_hi << 64) | b_lo)) & _M128
    return s & _M64, s >> 64


def mul_wide_s(a: int, b: int) -> tuple[int, int]:
    p = (((a ^ (1 << 63)) - (1 << 63)) * ((b ^ (1 << 63)) - (1 << 63))) & _M128
    return p & _M64, p >> 64


def mul_wide_u(a: int, b: int) -> tuple[int, int]:
    p = a * b
    return p & _M64, p >> 64


#: Names the translated code reads (assemble.base_globals adds them).
HELPERS = {"add128": add128, "sub128": sub128, "mul_wide_s": mul_wide_s, "mul_wide_u": mul_wide_u}
