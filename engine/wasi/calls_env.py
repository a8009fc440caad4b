"""WASI calls about the process: args, environ, clocks, random, proc_*, sched_yield, sockets."""

from __future__ import annotations

import os
import time

from ..errors import ExitTrap
from .constants import (
    CLOCK_MONOTONIC,
    CLOCK_PROCESS_CPUTIME,
    CLOCK_REALTIME,
    CLOCK_THREAD_CPUTIME,
    EINVAL,
    ENOTSOCK,
    ENOTSUP,
)
from .guest import WasiErrno, check, store_bytes, store_u32, store_u64
from .registry import syscall
from .state import WasiState


def _put_strings(mem: bytearray, ptrs: int, buf: int, strings: list[bytes]) -> None:
    """Write the NUL-terminated ``strings`` at ``buf`` and their addresses at ``ptrs``."""
    for i, s in enumerate(strings):
        store_u32(mem, ptrs + 4 * i, buf)
        store_bytes(mem, buf, s)
        buf += len(s)


@syscall("args_get", "ii")
def args_get(state: WasiState, mem: bytearray, argv: int, argv_buf: int) -> None:
    _put_strings(mem, argv, argv_buf, state.args)


@syscall("args_sizes_get", "ii")
def args_sizes_get(state: WasiState, mem: bytearray, argc_ptr: int, size_ptr: int) -> None:
    store_u32(mem, argc_ptr, len(state.args))
    store_u32(mem, size_ptr, sum(len(a) for a in state.args))


@syscall("environ_get", "ii")
def environ_get(state: WasiState, mem: bytearray, environ: int, buf: int) -> None:
    _put_strings(mem, environ, buf, state.environ)


@syscall("environ_sizes_get", "ii")
def environ_sizes_get(state: WasiState, mem: bytearray, count_ptr: int, size_ptr: int) -> None:
    store_u32(mem, count_ptr, len(state.environ))
    store_u32(mem, size_ptr, sum(len(e) for e in state.environ))


#: clockid -> (read in ns, name for time.get_clock_info)
_CLOCKS = {
    CLOCK_REALTIME: (time.time_ns, "time"),
    CLOCK_MONOTONIC: (time.monotonic_ns, "monotonic"),
    CLOCK_PROCESS_CPUTIME: (time.process_time_ns, "process_time"),
    CLOCK_THREAD_CPUTIME: (time.thread_time_ns, "thread_time"),
}


def _clock(clock_id: int) -> tuple:
    clock = _CLOCKS.get(clock_id)
    if clock is None:
        raise WasiErrno(EINVAL)
    return clock


def now_ns(clock_id: int) -> int:
    """The current time of WASI clock ``clock_id`` in ns (EINVAL for an unknown clock)."""
    return _clock(clock_id)[0]()


@syscall("clock_res_get", "ii")
def clock_res_get(state: WasiState, mem: bytearray, clock_id: int, res_ptr: int) -> None:
    resolution = time.get_clock_info(_clock(clock_id)[1]).resolution
    store_u64(mem, res_ptr, max(1, round(resolution * 1e9)))


@syscall("clock_time_get", "iIi")
def clock_time_get(
    state: WasiState, mem: bytearray, clock_id: int, precision: int, time_ptr: int
) -> None:
    store_u64(mem, time_ptr, now_ns(clock_id))


@syscall("random_get", "ii")
def random_get(state: WasiState, mem: bytearray, buf: int, length: int) -> None:
    check(mem, buf, length)  # a bad buffer traps before asking the host for bytes
    mem[buf : buf + length] = os.urandom(length)


@syscall("proc_exit", "i", returns_errno=False)
def proc_exit(state: WasiState, mem: bytearray, code: int) -> None:
    """Unwind the whole program: ``ExitTrap`` carries the exit code to the embedder."""
    raise ExitTrap(code)


@syscall("proc_raise", "i")
def proc_raise(state: WasiState, mem: bytearray, sig: int) -> int:
    """Not supported: a signal cannot be delivered to the host process on the program's
    behalf (proc_raise was dropped from later WASI versions). ENOTSUP, as wasmtime."""
    return ENOTSUP


@syscall("sched_yield", "")
def sched_yield(state: WasiState, mem: bytearray) -> None:
    if hasattr(os, "sched_yield"):
        os.sched_yield()


# -- sockets: preview 1 can only use sockets handed over as preopened fds, and none are (the
#    configuration has no way to pass one), so every fd is a non-socket or a bad fd.


def _no_socket(state: WasiState, fd: int) -> int:
    state.fds.get(fd)  # EBADF for a closed fd
    return ENOTSOCK


@syscall("sock_accept", "iii")
def sock_accept(state: WasiState, mem: bytearray, fd: int, flags: int, fd_ptr: int) -> int:
    return _no_socket(state, fd)


@syscall("sock_recv", "iiiiii")
def sock_recv(
    state: WasiState, mem: bytearray, fd: int, ri: int, ri_len: int, flags: int, n: int, rf: int
) -> int:
    return _no_socket(state, fd)


@syscall("sock_send", "iiiii")
def sock_send(
    state: WasiState, mem: bytearray, fd: int, si: int, si_len: int, flags: int, n: int
) -> int:
    return _no_socket(state, fd)


@syscall("sock_shutdown", "ii")
def sock_shutdown(state: WasiState, mem: bytearray, fd: int, how: int) -> int:
    return _no_socket(state, fd)
