"""Linear memories: the internal instance (``MemoryInst``) and the public ``Memory`` handle.

Backing store (measured in ``benchmarks/memory_instantiate.py``): a memory of one page or
more lives in an anonymous ``mmap``, which the OS commits page by page as it is touched, so
``(memory 65536)`` reserves 4 GiB of address space in microseconds instead of zeroing 4 GiB.
``mmap.resize`` grows it in place and keeps the object's identity, which translated code
relies on (it binds ``rt.memories[i].data`` once); struct access, indexing and slicing cost
the same as on a bytearray (within 5% in a micro-benchmark). An anonymous mapping cannot be
empty, so a memory of zero pages, and every memory where the platform cannot resize an
anonymous mapping (no ``mremap``), is a bytearray grown by ``extend``: that commits what it
allocates, and ``Store.set_limits(memory_size=...)`` is the way to bound it.
"""

from __future__ import annotations

import mmap
import struct
import types
from typing import Any

from ..compat import PYPY
from ..errors import EngineError, MemoryAccessError
from ..types import Limits, MemoryType

#: Bytes a memory may hold: a larger declared minimum cannot be instantiated and growth past
#: it fails (memory.grow returns -1), as the spec allows for resource reasons. A 32-bit
#: memory's type already bounds it by 4 GiB; this bounds a 64-bit one.
MAX_BYTES = 1 << 40

#: None: no typed views (compile/visit_memory.VIEWS is off without cells).
_CellType: Any = getattr(types, "CellType", None)


def _anonymous(nbytes: int) -> mmap.mmap:
    # Private, not mmap's default MAP_SHARED: a shared anonymous mapping is a shmem object of
    # fixed size, and pages that mremap adds past it raise SIGBUS when touched.
    return mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


def _probe_mmap() -> bool:
    """True where a private anonymous mapping can be resized in place (Linux: mremap)."""
    try:
        m = _anonymous(mmap.PAGESIZE)
        m.resize(2 * mmap.PAGESIZE)
        m[-1] = 1
        m.close()
        return True
    except (OSError, ValueError, TypeError, SystemError, AttributeError):
        return False


MMAP_RESIZABLE = _probe_mmap()


#: PyPy's JIT inlines struct access and indexing on a bytearray but not on an mmap (5x on
#: a load/store loop; 2.6x on the sieve kernel: ``python -m benchmarks --only pypy``), so
#: there memories up to this size start as bytearrays; bigger ones keep the lazy-commit mmap.
BYTEARRAY_MAX = 1 << 28 if PYPY else 0


def allocate(nbytes: int) -> Any:
    """A zeroed buffer of ``nbytes`` that translated code can use as a memory's ``data``."""
    if nbytes > BYTEARRAY_MAX and MMAP_RESIZABLE:
        return _anonymous(nbytes)
    return bytearray(nbytes)


def _extend(data: Any, nbytes: int) -> None:
    """Grow ``data`` by ``nbytes`` zero bytes, in place (identity kept)."""
    if isinstance(data, mmap.mmap):
        data.resize(len(data) + nbytes)  # fresh anonymous pages read as zero
    else:
        data.extend(bytes(nbytes))


def typed_views(data: Any, code: str) -> list[memoryview]:
    """Views of ``data`` as an array of ``code`` items (``I``, ``Q``, ``d``: native order,
    so only on a little-endian host), one per byte phase: view ``k`` reads the item at byte
    address ``a`` (``a % size == k``) as ``view[a // size]``, and covers exactly the items
    that fit, so a read past the end is an IndexError (an out-of-bounds trap), as a
    ``struct`` read there raises ``struct.error``."""
    size = struct.calcsize(code)
    n = len(data)
    whole = memoryview(data)
    try:
        return [whole[k:k + (n - k) // size * size].cast(code) for k in range(size)]
    finally:
        whole.release()  # the slices keep the buffer; this view is not needed


class MemoryInst:
    """What translated code uses: ``data`` (a buffer grown in place: an anonymous mmap or a
    bytearray), ``max`` (pages), ``page_log2`` (the page size exponent: 16, or 0 for custom
    1-byte pages), ``type`` (the declared MemoryType: index type, sharing) and the typed
    views ``vI0``..``vd7`` (:meth:`view_cells`); ``store_limits`` is the owning store's
    StoreLimits or None.

    Typed views (measured on the macro programs: an aligned i32 read as ``view[a >> 2]`` is
    16 ns where ``struct``'s ``unpack_from(data, a)[0]`` is 42 ns): translated code whose
    address is known to be ``k`` modulo the item size (compile/align.py) reads
    ``V[a >> s]`` from the view of phase ``k``, a closure cell shared by every function
    of every instance using this memory. A live view pins the buffer's size, so
    :meth:`grow` releases every view, resizes, and stores new views in the same cells:
    code running in any frame reads the new view at its next access.
    """

    __slots__ = ("_views", "data", "max", "page_log2", "store_limits", "type")

    def __init__(self, mtype: MemoryType, limits: Any = None) -> None:
        lim = mtype.limits
        bound = mtype.max_pages
        if lim.min > bound or (lim.max is not None and not lim.min <= lim.max <= bound):
            raise EngineError("invalid memory type")
        self.type = mtype
        self.page_log2 = mtype.page_size_log2
        self.max = lim.max
        self.store_limits = limits
        self._views: dict[str, list[Any]] | None = None  # view cells by item code
        nbytes = lim.min << self.page_log2
        if nbytes > MAX_BYTES:
            raise EngineError(f"cannot allocate a memory of {lim.min} pages: over {MAX_BYTES} bytes")
        try:
            self.data = allocate(nbytes)
        except (MemoryError, OverflowError, OSError) as exc:
            raise EngineError(f"cannot allocate a memory of {lim.min} pages: {exc}") from None

    @property
    def pages(self) -> int:
        return len(self.data) >> self.page_log2

    def view_cells(self, code: str) -> list[Any]:
        """Closure cells holding the typed views of ``code`` (:func:`typed_views`), one per
        byte phase, made on first use. Translated code closes over these very cells (the
        factory recipe passes a cell through as is), so :meth:`grow` renews every
        function's view by setting the cells' contents."""
        cells = self._views
        if cells is None:
            cells = self._views = {}
        found = cells.get(code)
        if found is None:
            found = cells[code] = [_CellType(v) for v in typed_views(self.data, code)]
        return found

    def _release_views(self) -> None:
        for found in (self._views or {}).values():
            for cell in found:
                cell.cell_contents.release()

    def _renew_views(self) -> None:
        for code, found in (self._views or {}).items():
            for cell, view in zip(found, typed_views(self.data, code)):
                cell.cell_contents = view

    def limits(self) -> Limits:
        """Current limits, as import matching sees them."""
        return Limits(self.pages, self.max)

    def current_type(self) -> MemoryType:
        """The memory type with the current size as minimum (import matching)."""
        t = self.type
        return MemoryType(self.limits(), t.is_64, t.shared, t.page_size_log2)

    def grow(self, delta: int) -> int:
        """Grow by ``delta`` pages; the old size in pages, or -1 (memory.grow semantics):
        past the type's maximum, past the store's ``memory_size`` limit, or out of memory."""
        shift = self.page_log2
        old = len(self.data) >> shift
        new = old + delta
        if new > (self.type.max_pages if self.max is None else self.max):
            return -1
        if new << shift > MAX_BYTES:
            return -1
        store_limits = self.store_limits
        if store_limits is not None and not store_limits.memory_fits(new << shift):
            return -1
        if delta:
            self._release_views()
            try:
                _extend(self.data, delta << shift)
            except (MemoryError, OverflowError, BufferError, OSError):
                # BufferError: a live memoryview (a host's) pins the buffer's size.
                return -1
            finally:
                self._renew_views()
        return old


def _view_cell(code: str, phase: int) -> property:
    return property(lambda self: self.view_cells(code)[phase])


# The names translated code binds (``rt.memories[i].vI0``: a recipe reads an attribute).
for _code, _size in (("I", 4), ("Q", 8), ("d", 8)):
    for _phase in range(_size):
        setattr(MemoryInst, f"v{_code}{_phase}", _view_cell(_code, _phase))


class Memory:
    """A linear memory handle (wasmtime-py shaped). Identity is kept across export/import."""

    __slots__ = ("_mem", "_store")

    def __init__(self, store: Any, mtype: MemoryType) -> None:
        """A new memory of ``store``; ResourceLimitError past the store's limits."""
        limits = getattr(store, "limits", None)
        if limits is not None:
            limits.reserve(0, 1, 0, [mtype.min_bytes], [])
        try:
            self._mem = MemoryInst(mtype, limits)
        except EngineError:
            if limits is not None:
                limits.num_memories -= 1  # not created: not counted
            raise
        self._store = store

    @classmethod
    def _wrap(cls, mem: MemoryInst, store: Any) -> Memory:
        self = cls.__new__(cls)
        self._mem = mem
        self._store = store
        return self

    def type(self, store: Any = None) -> MemoryType:
        return self._mem.current_type()

    def size(self, store: Any = None) -> int:
        """Current size in pages."""
        return self._mem.pages

    def data_len(self, store: Any = None) -> int:
        """Current size in bytes."""
        return len(self._mem.data)

    def grow(self, store: Any, delta: int) -> int:
        """Grow by ``delta`` pages and return the old size; EngineError if it cannot grow
        (past the maximum or the store's limit), as wasmtime-py."""
        if delta < 0:
            raise EngineError("cannot grow memory by a negative amount")
        old = self._mem.grow(delta)
        if old < 0:
            raise EngineError(f"failed to grow memory by {delta} pages")
        return old

    def read(self, store: Any, start: int | None = 0, stop: int | None = None) -> bytearray:
        """A copy of bytes ``[start:stop]`` as a new bytearray, with list slicing semantics
        (negative indices count from the end, out-of-range bounds are clipped), as
        wasmtime-py."""
        data = self._mem.data
        start, stop, _ = slice(start, stop).indices(len(data))
        return bytearray(data[start:stop]) if start < stop else bytearray()

    def write(self, store: Any, value: bytes | bytearray | memoryview, start: int | None = None
              ) -> int:
        """Write ``value`` at ``start`` (negative counts from the end); the number of bytes
        written. MemoryAccessError (an IndexError) if ``start`` is not inside the memory or
        ``value`` does not fit, as wasmtime-py; nothing is written then."""
        data = self._mem.data
        size = len(data)
        begin = slice(start, None).indices(size)[0]
        value = bytes(value)
        end = begin + len(value)
        if begin >= size or end > size:
            raise MemoryAccessError(
                f"out of bounds memory access: {len(value)} bytes at {begin}, memory size {size}")
        data[begin:end] = value
        return len(value)

    @property
    def data(self) -> Any:
        """The live buffer (an mmap, or a bytearray for an empty memory); do not keep
        memoryviews of it across a grow."""
        return self._mem.data

    def __repr__(self) -> str:
        return f"<Memory pages={self._mem.pages} max={self._mem.max}>"
