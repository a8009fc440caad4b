"""The table of WASI calls and the wrapper that turns an implementation into a host function.

Each implementation is ``impl(state, mem, *args) -> errno`` (None means success) taking the
store's ``WasiState``, the caller's memory (a bytearray) and the internal wasm values (i32 and
i64 as unsigned ints). It raises ``WasiErrno`` or lets a host ``OSError`` through; the wrapper
turns both into the errno result. ``syscall(name, params)`` registers one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .constants import EINVAL, errno_from_os
from .guest import WasiErrno
from .state import state_of

MODULE = "wasi_snapshot_preview1"

Impl = Callable[..., Any]


class Syscall(NamedTuple):
    """One WASI function: wasm parameter types ("i" i32, "I" i64), whether it returns an
    errno (all but ``proc_exit``), and the implementation."""

    params: str
    returns_errno: bool
    impl: Impl


SYSCALLS: dict[str, Syscall] = {}
_EMPTY = bytearray()


def syscall(name: str, params: str, returns_errno: bool = True) -> Callable[[Impl], Impl]:
    """Register ``impl`` as the WASI function ``name`` with parameter types ``params``."""

    def register(impl: Impl) -> Impl:
        SYSCALLS[name] = Syscall(params, returns_errno, impl)
        return impl

    return register


def host_function(impl: Impl) -> Callable[..., Any]:
    """The internal-convention host function ``fn(caller, *args)`` for ``impl``."""

    def call(caller: Any, *args: int) -> int:
        state = state_of(caller.store)
        mem = caller.memory_data()
        try:
            return impl(state, _EMPTY if mem is None else mem, *args) or 0
        except WasiErrno as exc:
            return exc.errno
        except OSError as exc:
            return errno_from_os(exc)
        except (OverflowError, ValueError):
            return EINVAL  # a value the host call cannot represent (time, offset, size)

    call.__name__ = call.__qualname__ = impl.__name__
    return call
