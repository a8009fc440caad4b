"""Guest memory access for the WASI calls: every pointer and length is checked.

The calls receive the live ``bytearray`` of the caller's exported memory. A range that does
not fit in it is a trap (``GuestFault``), as in wasmtime, which traps with "pointer out of
bounds" rather than answering EFAULT: the program's state is already wrong. Never an
IndexError or struct.error.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from ..errors import Trap
from .constants import EILSEQ

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_IOVEC = struct.Struct("<II")


class WasiErrno(Exception):
    """Ends a WASI call with the errno ``errno`` (caught by the call wrapper)."""

    def __init__(self, errno: int) -> None:
        super().__init__(errno)
        self.errno = errno


class GuestFault(Trap):
    """A WASI call was given a guest pointer/length outside the caller's memory."""


def check(mem: bytearray, ptr: int, size: int) -> None:
    """Trap unless ``[ptr, ptr + size)`` lies inside the memory."""
    if ptr + size > len(mem):
        raise GuestFault(
            f"out of bounds memory access: WASI pointer {ptr} length {size}"
            f" outside memory of {len(mem)} bytes"
        )


def load_u32(mem: bytearray, ptr: int) -> int:
    check(mem, ptr, 4)
    return _U32.unpack_from(mem, ptr)[0]


def load_u64(mem: bytearray, ptr: int) -> int:
    check(mem, ptr, 8)
    return _U64.unpack_from(mem, ptr)[0]


def load_u16(mem: bytearray, ptr: int) -> int:
    check(mem, ptr, 2)
    return _U16.unpack_from(mem, ptr)[0]


def store_u32(mem: bytearray, ptr: int, value: int) -> None:
    check(mem, ptr, 4)
    _U32.pack_into(mem, ptr, value & 0xFFFFFFFF)


def store_u64(mem: bytearray, ptr: int, value: int) -> None:
    check(mem, ptr, 8)
    _U64.pack_into(mem, ptr, value & 0xFFFFFFFFFFFFFFFF)


def load_bytes(mem: bytearray, ptr: int, size: int) -> bytes:
    check(mem, ptr, size)
    return bytes(mem[ptr : ptr + size])


def store_bytes(mem: bytearray, ptr: int, data: bytes) -> None:
    check(mem, ptr, len(data))
    mem[ptr : ptr + len(data)] = data


def load_str(mem: bytearray, ptr: int, size: int) -> str:
    """A UTF-8 string (a path); EILSEQ if it is not valid UTF-8 or holds a NUL."""
    raw = load_bytes(mem, ptr, size)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WasiErrno(EILSEQ) from None
    if "\0" in text:
        raise WasiErrno(EILSEQ)
    return text


class Iovec(NamedTuple):
    """One ``iovec``/``ciovec``: a guest buffer."""

    buf: int
    length: int


def iovecs(mem: bytearray, ptr: int, count: int) -> Iterator[Iovec]:
    """The ``count`` iovecs at ``ptr``, each buffer checked against the memory."""
    check(mem, ptr, 8 * count)
    for i in range(count):
        buf, length = _IOVEC.unpack_from(mem, ptr + 8 * i)
        check(mem, buf, length)
        yield Iovec(buf, length)


def gather(mem: bytearray, ptr: int, count: int) -> bytes:
    """The concatenated contents of the ``count`` ciovecs at ``ptr``."""
    return b"".join(bytes(mem[v.buf : v.buf + v.length]) for v in iovecs(mem, ptr, count))


def scatter(mem: bytearray, vecs: list[Iovec], data: bytes) -> None:
    """Spread ``data`` over the iovecs in order (it is no longer than their total)."""
    pos = 0
    for v in vecs:
        if pos >= len(data):
            break
        chunk = data[pos : pos + v.length]
        mem[v.buf : v.buf + len(chunk)] = chunk
        pos += len(chunk)


def pack_into(fmt: struct.Struct, mem: bytearray, ptr: int, *values: int) -> None:
    """``fmt.pack_into`` after the bounds check."""
    check(mem, ptr, fmt.size)
    fmt.pack_into(mem, ptr, *values)


def unpack_from(fmt: struct.Struct, mem: bytearray, ptr: int) -> tuple[int, ...]:
    """``fmt.unpack_from`` after the bounds check."""
    check(mem, ptr, fmt.size)
    return fmt.unpack_from(mem, ptr)
