"""Runtime helpers that translated code uses on PyPy only, where the JIT wants another shape.

Bulk memory: PyPy writes a bytearray slice (``mem[d:d+n] = ...``) one byte at a time
(measured, PyPy 7.3.11: 1.4 us for 2300 bytes against 45 ns here; CPython: 90-220 ns), and
memories up to 256 MiB are bytearrays there (``runtime/memory.py``: its JIT inlines scalar
access on them). ``_cffi_backend`` is a module built into PyPy itself (like ``__pypy__``; no
package to install): ``ffi.memmove`` on ``ffi.from_buffer(mem)`` is one C ``memmove``, with
C's overlap semantics, which are memory.copy's. The buffer's address is taken anew in every
call, since growing a memory may move its bytes. Where ``_cffi_backend`` is missing, or on
CPython, ``HELPERS`` is empty and the portable helpers of ``numerics.py`` stay in use.

Shared memories keep the portable helpers (the translator picks them): another thread may
grow a shared memory between taking its address and the copy.
"""

from __future__ import annotations

from typing import Any

from ..compat import PYPY
from ..errors import Trap

_OOB = "out of bounds memory access"


def _ffi() -> Any:
    if not PYPY:
        return None
    try:
        import _cffi_backend  # PyPy's built-in module; optional elsewhere
    except ImportError:
        return None
    return _cffi_backend.FFI()


FFI = _ffi()


def make_bulk(ffi: Any) -> dict[str, Any]:
    """memory.fill / memory.copy / memory.init through ``ffi.memmove`` (same traps and
    results as ``numerics.mem_fill`` / ``mem_copy`` / ``mem_init``)."""
    memmove = ffi.memmove
    from_buffer = ffi.from_buffer

    def mem_fill_raw(mem: Any, d: int, val: int, n: int) -> None:
        if d + n > len(mem):
            raise Trap(_OOB)
        if n:
            memmove(from_buffer(mem) + d, bytes((val & 0xFF,)) * n, n)

    def mem_copy_raw(dst: Any, src: Any, d: int, s: int, n: int) -> None:
        if d + n > len(dst) or s + n > len(src):
            raise Trap(_OOB)
        if n:
            memmove(from_buffer(dst) + d, from_buffer(src) + s, n)

    def mem_init_raw(mem: Any, seg: bytes, d: int, s: int, n: int) -> None:
        if d + n > len(mem) or s + n > len(seg):
            raise Trap(_OOB)
        if n:
            memmove(from_buffer(mem) + d, from_buffer(seg) + s, n)

    return {"mem_fill_raw": mem_fill_raw, "mem_copy_raw": mem_copy_raw,
            "mem_init_raw": mem_init_raw}


#: Names the translated code reads (assemble.base_globals adds them); empty off PyPy.
HELPERS: dict[str, Any] = make_bulk(FFI) if FFI is not None else {}
