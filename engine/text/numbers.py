"""Numeric literals of the text format: integers, floats (exactly rounded), NaN payloads.

Every function takes the token text and returns the value's bit pattern (an unsigned int) or
raises ValueError with the specification's wording: "unknown operator" when the text is not a
literal of the wanted kind at all (the reference interpreter's lexer reports an unrecognised
token so), "constant out of range" when it is one but does not fit.

Floats are rounded from the exact rational value the literal denotes (round to nearest, ties
to even), never through a Python float: a decimal string rounded to f64 and then to f32 can
be off by one ulp (double rounding).
"""

from __future__ import annotations

import re

_DEC = r"[0-9](?:_?[0-9])*"
_HEX = r"[0-9A-Fa-f](?:_?[0-9A-Fa-f])*"
_INT_RE = re.compile(rf"([+-]?)(?:0x({_HEX})|({_DEC}))\Z")
_DEC_FLOAT_RE = re.compile(rf"([+-]?)({_DEC})(?:\.({_DEC})?)?(?:[eE]([+-]?{_DEC}))?\Z")
_HEX_FLOAT_RE = re.compile(rf"([+-]?)0x({_HEX})(?:\.({_HEX})?)?(?:[pP]([+-]?{_DEC}))?\Z")
_NAN_RE = re.compile(rf"([+-]?)nan(?::0x({_HEX}))?\Z")

UNKNOWN = "unknown operator"
RANGE = "constant out of range"


class FloatFormat:
    """An IEEE 754 binary format: significand bits (without the hidden one), exponent bits."""

    def __init__(self, mant_bits: int, exp_bits: int) -> None:
        self.mant_bits = mant_bits
        self.exp_bits = exp_bits
        self.bias = (1 << (exp_bits - 1)) - 1
        self.sign_bit = 1 << (mant_bits + exp_bits)
        self.inf = ((1 << exp_bits) - 1) << mant_bits
        self.canonical_nan = self.inf | (1 << (mant_bits - 1))


F32 = FloatFormat(23, 8)
F64 = FloatFormat(52, 11)


def parse_uint(text: str, bits: int) -> int:
    """An unsigned integer literal (no sign) below 2**bits: indices, offsets, limits."""
    m = _INT_RE.match(text)
    if m is None or m.group(1):
        raise ValueError(UNKNOWN)
    value = _int_value(m)
    if value >= 1 << bits:
        raise ValueError(RANGE)
    return value


def parse_int(text: str, bits: int) -> int:
    """An iN literal (signed or unsigned form) as its unsigned bit pattern."""
    m = _INT_RE.match(text)
    if m is None:
        raise ValueError(UNKNOWN)
    value = _int_value(m)
    if m.group(1) == "-":
        if value > 1 << (bits - 1):
            raise ValueError(RANGE)
        return -value & ((1 << bits) - 1)
    if value >= 1 << bits:
        raise ValueError(RANGE)
    return value


def is_int(text: str) -> bool:
    """Does ``text`` have the shape of an integer literal?"""
    return _INT_RE.match(text) is not None


def _int_value(m: re.Match) -> int:
    hex_digits, dec_digits = m.group(2), m.group(3)
    if hex_digits is not None:
        return int(hex_digits.replace("_", ""), 16)
    return int(dec_digits.replace("_", ""))


def parse_float(text: str, fmt: FloatFormat) -> int:
    """A float literal (decimal, hex, inf, nan, nan:0x...) as the format's bit pattern."""
    sign = fmt.sign_bit if text.startswith("-") else 0
    body = text[1:] if text[:1] in "+-" else text
    if body == "inf":
        return sign | fmt.inf
    if body.startswith("nan"):
        m = _NAN_RE.match(text)
        if m is None:
            raise ValueError(UNKNOWN)
        if m.group(2) is None:
            return sign | fmt.canonical_nan
        payload = int(m.group(2).replace("_", ""), 16)
        if payload == 0 or payload >= 1 << fmt.mant_bits:
            raise ValueError(RANGE)
        return sign | fmt.inf | payload
    m = _HEX_FLOAT_RE.match(text)
    if m is not None:
        return sign | _hex_float(m, fmt)
    m = _DEC_FLOAT_RE.match(text)
    if m is not None:
        return sign | _dec_float(m, fmt)
    raise ValueError(UNKNOWN)


def _hex_float(m: re.Match, fmt: FloatFormat) -> int:
    whole = m.group(2).replace("_", "")
    frac = (m.group(3) or "").replace("_", "")
    exp = int(m.group(4).replace("_", "")) if m.group(4) else 0
    mant = int(whole + frac, 16)
    exp -= 4 * len(frac)
    if mant == 0:
        return 0
    # Far outside the format's range the exact power need not be built (linear cost).
    top = mant.bit_length() + exp
    if top > fmt.bias + 2:
        raise ValueError(RANGE)
    if top < -(fmt.bias + fmt.mant_bits + 2):
        return 0
    if exp >= 0:
        return round_rational(mant << exp, 1, fmt)
    return round_rational(mant, 1 << -exp, fmt)


def _dec_float(m: re.Match, fmt: FloatFormat) -> int:
    whole = m.group(2).replace("_", "")
    frac = (m.group(3) or "").replace("_", "")
    exp = int(m.group(4).replace("_", "")) if m.group(4) else 0
    digits = (whole + frac).lstrip("0")
    exp -= len(frac)
    if not digits:
        return 0
    # 10**k > 2**(3k); bounds with room to spare for both formats.
    magnitude = len(digits) + exp
    if magnitude > 400:
        raise ValueError(RANGE)
    if magnitude < -400:
        return 0
    mant = int(digits)
    if exp >= 0:
        return round_rational(mant * 10 ** exp, 1, fmt)
    return round_rational(mant, 10 ** -exp, fmt)


def round_rational(num: int, den: int, fmt: FloatFormat) -> int:
    """The bits of the positive rational num/den rounded to nearest-even in ``fmt``.

    Raises ValueError("constant out of range") when it rounds to infinity.
    """
    if num == 0:
        return 0
    precision = fmt.mant_bits + 1
    emin = 1 - fmt.bias
    e = num.bit_length() - den.bit_length()
    if (num < den << e) if e >= 0 else (num << -e < den):
        e -= 1
    # now 2**e <= num/den < 2**(e+1)
    e = max(e, emin)  # subnormal: the quantum stays 2**(emin - mant_bits)
    shift = precision - 1 - e
    if shift >= 0:
        q, r = divmod(num << shift, den)
        twice_r, d = r << 1, den
    else:
        q, r = divmod(num, den << -shift)
        twice_r, d = r << 1, den << -shift
    if twice_r > d or (twice_r == d and q & 1):
        q += 1
    if q == 1 << precision:
        q >>= 1
        e += 1
    if e > fmt.bias:
        raise ValueError(RANGE)
    if q < 1 << fmt.mant_bits:
        return q  # subnormal (or zero): biased exponent 0
    return ((e + fmt.bias) << fmt.mant_bits) | (q - (1 << fmt.mant_bits))
