"""Linear memories: the internal instance (``MemoryInst``) and the public ``Memory`` handle."""

from __future__ import annotations

from typing import Any

from ..errors import Trap, WasmError
from ..types import MAX_PAGES, PAGE_SIZE, Limits, MemoryType


class MemoryInst:
    """What translated code uses: ``data`` (a bytearray grown in place), ``max`` (pages)."""

    __slots__ = ("data", "max")

    def __init__(self, mtype: MemoryType) -> None:
        lim = mtype.limits
        if lim.min > MAX_PAGES or (lim.max is not None and not lim.min <= lim.max <= MAX_PAGES):
            raise WasmError("invalid memory type")
        self.data = bytearray(lim.min * PAGE_SIZE)
        self.max = lim.max

    @property
    def pages(self) -> int:
        return len(self.data) // PAGE_SIZE

    def limits(self) -> Limits:
        """Current limits, as import matching sees them."""
        return Limits(self.pages, self.max)

    def grow(self, delta: int) -> int:
        """Grow by ``delta`` pages; the old size in pages, or -1 (memory.grow semantics)."""
        old = len(self.data) // PAGE_SIZE
        if old + delta > (MAX_PAGES if self.max is None else self.max):
            return -1
        if delta:
            try:
                self.data.extend(bytes(delta * PAGE_SIZE))
            except (MemoryError, OverflowError, BufferError):
                # BufferError: a live memoryview pins the bytearray's size.
                return -1
        return old


class Memory:
    """A linear memory handle (wasmtime-py shaped). Identity is kept across export/import."""

    __slots__ = ("_mem",)

    def __init__(self, store: Any, mtype: MemoryType) -> None:
        self._mem = MemoryInst(mtype)

    @classmethod
    def _wrap(cls, mem: MemoryInst) -> Memory:
        self = cls.__new__(cls)
        self._mem = mem
        return self

    def type(self, store: Any = None) -> MemoryType:
        return MemoryType(self._mem.limits())

    def size(self, store: Any = None) -> int:
        """Current size in pages."""
        return self._mem.pages

    def data_len(self, store: Any = None) -> int:
        """Current size in bytes."""
        return len(self._mem.data)

    def grow(self, store: Any, delta: int) -> int:
        """Grow by ``delta`` pages and return the old size; WasmError if it cannot grow."""
        if delta < 0:
            raise WasmError("memory delta must be non-negative")
        old = self._mem.grow(delta)
        if old < 0:
            raise WasmError("failed to grow memory")
        return old

    def read(self, store: Any, start: int, stop: int) -> bytearray:
        """Bytes ``[start, stop)`` as a new bytearray."""
        data = self._mem.data
        if not 0 <= start <= stop <= len(data):
            raise Trap("out of bounds memory access")
        return data[start:stop]

    def write(self, store: Any, value: bytes, start: int = 0) -> int:
        """Write ``value`` at ``start``; returns the number of bytes written."""
        data = self._mem.data
        end = start + len(value)
        if not 0 <= start <= end <= len(data):
            raise Trap("out of bounds memory access")
        data[start:end] = value
        return len(value)

    @property
    def data(self) -> bytearray:
        """The live bytearray (do not keep memoryviews of it across a grow)."""
        return self._mem.data

    def __repr__(self) -> str:
        return f"<Memory pages={self._mem.pages} max={self._mem.max}>"
