"""Primitive readers of the binary format: LEB128 integers, bytes, names, vectors, types.

Every reader takes ``(data, pos)`` and returns ``(value, new_pos)``. Reads are bounded by the
end of the whole module, as in the reference interpreter: a section or body that overruns its
declared size is caught afterwards by its caller ("section size mismatch"). Reading past the
end of ``data`` raises ``IndexError`` from ``data[pos]``; the entry points
(``decode_module`` / ``decode_body``) turn it into :data:`EOS` ("unexpected end of section or
function"), so the hot paths need no explicit bounds checks.
"""

from __future__ import annotations

from ..errors import MalformedError
from ..types import HEAP_TYPE_CODES, SHORTHAND_CODES, VALTYPE_CODES, Exact, RefType

#: Message for running past the end of the input.
EOS = "unexpected end of section or function"

_TOO_LONG = "integer representation too long"
_TOO_LARGE = "integer too large"


def fail(message: str) -> MalformedError:
    """A MalformedError to raise (``raise fail(...)`` keeps call sites short)."""
    return MalformedError(message)


def read_uleb(data: bytes, pos: int, bits: int) -> tuple[int, int]:
    """An unsigned LEB128 integer of ``bits`` bits.

    Spec rule: at most ceil(bits/7) bytes ("integer representation too long"), and the
    unused high bits of the last permitted byte must be zero ("integer too large").
    """
    result = 0
    shift = 0
    limit = bits - 7  # bytes at shifts up to here carry 7 full value bits: no checks
    while shift <= limit:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
    n = bits - shift  # value bits left for the last permitted byte
    if n <= 0:
        raise fail(_TOO_LONG)
    b = data[pos]
    if (b & 0x7F) >= (1 << n):
        raise fail(_TOO_LARGE)
    if b & 0x80:
        raise fail(_TOO_LONG)
    return result | (b << shift), pos + 1


def read_sleb(data: bytes, pos: int, bits: int) -> tuple[int, int]:
    """A signed LEB128 integer of ``bits`` bits, as a Python int (negative if negative).

    In the last permitted byte the unused bits must all equal the sign bit ("integer too
    large"); a continuation bit there is "integer representation too long".
    """
    result = 0
    shift = 0
    limit = bits - 7
    while shift <= limit:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result, pos
    n = bits - shift
    if n <= 0:
        raise fail(_TOO_LONG)
    b = data[pos]
    mask = (-1 << (n - 1)) & 0x7F
    bm = b & mask
    if bm != 0 and bm != mask:
        raise fail(_TOO_LARGE)
    if b & 0x80:
        raise fail(_TOO_LONG)
    result |= b << shift
    if b & 0x40:
        result -= 1 << (shift + 7)
    return result, pos + 1


def read_u32(data: bytes, pos: int) -> tuple[int, int]:
    """An unsigned 32-bit LEB128 integer (fast path for one byte)."""
    b = data[pos]
    if b < 0x80:
        return b, pos + 1
    return read_uleb(data, pos, 32)


def read_u64(data: bytes, pos: int) -> tuple[int, int]:
    """An unsigned 64-bit LEB128 integer (memory64 / table64 limits and offsets)."""
    b = data[pos]
    if b < 0x80:
        return b, pos + 1
    return read_uleb(data, pos, 64)


def read_s32(data: bytes, pos: int) -> tuple[int, int]:
    """A signed 32-bit LEB128 integer, as the unsigned bit pattern (fast path for one byte)."""
    b = data[pos]
    if b < 0x40:
        return b, pos + 1
    if b < 0x80:
        return b + 0xFFFF_FF80, pos + 1  # negative: sign-extend the 7 bits
    c = data[pos + 1]
    if c < 0x80:  # two bytes: 14 bits, sign bit 0x40 of the second byte
        v = (b & 0x7F) | (c << 7)
        return (v + 0xFFFF_C000 if c & 0x40 else v), pos + 2
    v, pos = read_sleb(data, pos, 32)
    return v & 0xFFFF_FFFF, pos


def read_s64(data: bytes, pos: int) -> tuple[int, int]:
    """A signed 64-bit LEB128 integer, as the unsigned bit pattern (fast path for one byte)."""
    b = data[pos]
    if b < 0x40:
        return b, pos + 1
    if b < 0x80:
        return b + 0xFFFF_FFFF_FFFF_FF80, pos + 1
    v, pos = read_sleb(data, pos, 64)
    return v & 0xFFFF_FFFF_FFFF_FFFF, pos


def read_len(data: bytes, pos: int) -> tuple[int, int]:
    """A u32 length (of a vector, byte string or section) that must fit in what is left.

    Checking against the remaining input first means a hostile count such as 2**32-1 fails
    at once instead of allocating or looping.
    """
    # Measured from before the LEB, as the reference interpreter does: a count one past
    # the end then reports "unexpected end" where the testsuite expects it.
    n, after = read_u32(data, pos)
    if n > len(data) - pos:
        raise fail("length out of bounds")
    return n, after


def read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    """A length-prefixed byte string."""
    n, pos = read_len(data, pos)
    end = pos + n
    if end > len(data):
        raise fail(EOS)
    return data[pos:end], end


def read_fixed(data: bytes, pos: int, n: int) -> tuple[bytes, int]:
    """Exactly ``n`` raw bytes."""
    end = pos + n
    if end > len(data):
        raise fail(EOS)
    return data[pos:end], end


def read_name(data: bytes, pos: int) -> tuple[str, int]:
    """A name: a length-prefixed UTF-8 string (strict: no surrogates, no overlong forms)."""
    raw, pos = read_bytes(data, pos)
    try:
        return raw.decode("utf-8"), pos
    except UnicodeDecodeError:
        raise fail("malformed UTF-8 encoding") from None


def read_byte(data: bytes, pos: int) -> tuple[int, int]:
    """One raw byte."""
    return data[pos], pos + 1


def read_heaptype(data: bytes, pos: int) -> tuple[object, int]:
    """A heap type: an abstract name (one negative s33 byte), a type index (s33 >= 0) or,
    custom descriptors, ``0x62 x``: the exact type index ``x`` (:class:`Exact`).

    The exact prefix is decoded whatever the feature flags (this reader has none): a
    Wasm 3.0 module cannot contain it, so valid 3.0 modules decode as before."""
    b = data[pos]
    name = HEAP_TYPE_CODES.get(b)
    if name is not None:
        return name, pos + 1
    if b == 0x62:
        idx, pos = read_sleb(data, pos + 1, 33)
        if idx < 0:
            raise fail("malformed reference type")
        return Exact(idx), pos
    idx, pos = read_sleb(data, pos, 33)
    if idx < 0:
        raise fail("malformed reference type")  # the spec interpreter's wording
    return idx, pos


def read_reftype(data: bytes, pos: int) -> tuple[str, int]:
    """A reference type: a shorthand byte (``funcref`` ...) or ``0x63``/``0x64`` (``ref
    null ht`` / ``ref ht``) and a heap type."""
    b = data[pos]
    t = SHORTHAND_CODES.get(b)
    if t is not None:
        return t, pos + 1
    if b == 0x63 or b == 0x64:
        heap, pos = read_heaptype(data, pos + 1)
        return RefType(b == 0x63, heap), pos
    raise fail(_TOO_LONG if b & 0x80 else "malformed reference type")


def read_valtype(data: bytes, pos: int) -> tuple[str, int]:
    """A value type: a number/vector type byte or a reference type."""
    b = data[pos]
    t = VALTYPE_CODES.get(b)
    if t is not None:
        return t, pos + 1
    if b in SHORTHAND_CODES or b == 0x63 or b == 0x64:
        return read_reftype(data, pos)
    # Type codes are one-byte signed LEBs (s7): a continuation bit is a too-long LEB.
    raise fail(_TOO_LONG if b & 0x80 else "malformed value type")


def read_valtypes(data: bytes, pos: int) -> tuple[tuple[str, ...], int]:
    """A vector of value types."""
    n, pos = read_len(data, pos)
    out = []
    for _ in range(n):
        t, pos = read_valtype(data, pos)
        out.append(t)
    return tuple(out), pos
