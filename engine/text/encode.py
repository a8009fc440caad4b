"""Binary encoding helpers: LEB128 integers, vectors, names, sections (spec: Binary Format)."""

from __future__ import annotations

import struct


def uleb(value: int) -> bytes:
    """Unsigned LEB128 of a non-negative int (minimal length)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(value: int) -> bytes:
    """Signed LEB128 of an int (minimal length)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def signed(bits_value: int, bits: int) -> int:
    """The two's-complement reading of an unsigned ``bits``-wide pattern."""
    return bits_value - (1 << bits) if bits_value >> (bits - 1) else bits_value


def f32_bytes(bits: int) -> bytes:
    return struct.pack("<I", bits)


def f64_bytes(bits: int) -> bytes:
    return struct.pack("<Q", bits)


def name(raw: str) -> bytes:
    """A name: its bytes (``raw`` is a latin-1 str of them) prefixed by their length."""
    data = raw.encode("latin-1")
    return uleb(len(data)) + data


def vec(items: list[bytes]) -> bytes:
    """A vector: the count then the concatenated encoded items."""
    return uleb(len(items)) + b"".join(items)


def section(section_id: int, body: bytes) -> bytes:
    """A section: id byte, body length, body."""
    return bytes((section_id,)) + uleb(len(body)) + body


MAGIC = b"\0asm\1\0\0\0"
