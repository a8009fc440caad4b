"""WASI ``poll_oneoff``: clock timeouts and fd readiness (stdio, files, directories).

Regular files are always ready (as with poll(2)); stdio backed by a terminal or a pipe is
waited on with ``select``; a stream backed by a Python object or by nothing is ready.
"""

from __future__ import annotations

import os
import select
import struct
import time
from typing import NamedTuple

from . import constants as c
from .calls_env import now_ns
from .guest import WasiErrno, check, pack_into, store_u32, unpack_from
from .registry import syscall
from .state import WasiState

_SUB_HEAD = struct.Struct("<QB")  # userdata, tag
_SUB_CLOCK = struct.Struct("<IxxxxQQH")  # id, timeout, precision, flags (at offset 16)
_SUB_FD = struct.Struct("<I")  # fd (at offset 16)
_EVENT = struct.Struct("<QHBxxxxxQH")  # userdata, error, type, nbytes, flags
_SUB_SIZE, _EVENT_SIZE = 48, 32


class Event(NamedTuple):
    userdata: int
    error: int
    type: int
    nbytes: int = 0


class _Clock(NamedTuple):
    userdata: int
    deadline: int  # monotonic ns


class _FdWait(NamedTuple):
    userdata: int
    type: int
    host_fd: int


def _clock_sub(mem: bytearray, ptr: int, userdata: int) -> _Clock:
    clock_id, timeout, _precision, flags = unpack_from(_SUB_CLOCK, mem, ptr + 16)
    now = now_ns(clock_id)
    delay = timeout - now if flags & c.SUBCLOCKFLAGS_ABSTIME else timeout
    return _Clock(userdata, time.monotonic_ns() + max(0, delay))


def _fd_sub(state: WasiState, mem: bytearray, ptr: int, userdata: int, kind: int):
    """An immediate Event (error, file, ready stream) or an _FdWait for select."""
    (fd,) = unpack_from(_SUB_FD, mem, ptr + 16)
    entry = state.fds.get(fd, c.POLL_FD_READWRITE)  # a bad fd fails the call, as wasmtime
    if entry.host_fd is None or entry.stream is not None:
        return Event(userdata, 0, kind)
    if entry.filetype in (c.FILETYPE_REGULAR_FILE, c.FILETYPE_DIRECTORY):
        nbytes = 0
        if kind == c.EVENTTYPE_FD_READ and entry.filetype == c.FILETYPE_REGULAR_FILE:
            pos = os.lseek(entry.host_fd, 0, os.SEEK_CUR)
            nbytes = max(0, os.fstat(entry.host_fd).st_size - pos)
        return Event(userdata, 0, kind, nbytes)
    return _FdWait(userdata, kind, entry.host_fd)


@syscall("poll_oneoff", "iiii")
def poll_oneoff(
    state: WasiState, mem: bytearray, subs: int, events: int, nsubs: int, nevents_ptr: int
) -> None:
    if nsubs == 0:
        raise WasiErrno(c.EINVAL)
    check(mem, subs, _SUB_SIZE * nsubs)
    check(mem, events, _EVENT_SIZE * nsubs)
    ready: list[Event] = []
    clocks: list[_Clock] = []
    waits: list[_FdWait] = []
    for i in range(nsubs):
        ptr = subs + _SUB_SIZE * i
        userdata, tag = unpack_from(_SUB_HEAD, mem, ptr)
        if tag == c.EVENTTYPE_CLOCK:
            try:
                clocks.append(_clock_sub(mem, ptr, userdata))
            except WasiErrno as exc:
                ready.append(Event(userdata, exc.errno, tag))
        elif tag in (c.EVENTTYPE_FD_READ, c.EVENTTYPE_FD_WRITE):
            got = _fd_sub(state, mem, ptr, userdata, tag)
            (ready if isinstance(got, Event) else waits).append(got)  # type: ignore[arg-type]
        else:
            raise WasiErrno(c.EINVAL)
    if not ready:
        ready = _wait(clocks, waits)
    else:
        ready += [Event(k.userdata, 0, c.EVENTTYPE_CLOCK) for k in _expired(clocks)]
    for i, ev in enumerate(ready):
        pack_into(_EVENT, mem, events + _EVENT_SIZE * i, ev.userdata, ev.error, ev.type,
                  ev.nbytes, 0)  # fmt: skip
    store_u32(mem, nevents_ptr, len(ready))


def _expired(clocks: list[_Clock]) -> list[_Clock]:
    now = time.monotonic_ns()
    return [k for k in clocks if k.deadline <= now]


def _wait(clocks: list[_Clock], waits: list[_FdWait]) -> list[Event]:
    """Block until a stream is ready or the first clock expires."""
    first = min((k.deadline for k in clocks), default=None)
    while True:
        timeout = None if first is None else max(0, first - time.monotonic_ns()) / 1e9
        if waits:
            rlist = [w.host_fd for w in waits if w.type == c.EVENTTYPE_FD_READ]
            wlist = [w.host_fd for w in waits if w.type == c.EVENTTYPE_FD_WRITE]
            r, w, _ = select.select(rlist, wlist, [], timeout)
            out = [Event(x.userdata, 0, x.type) for x in waits
                   if x.host_fd in (r if x.type == c.EVENTTYPE_FD_READ else w)]  # fmt: skip
            if out:
                return out
        elif timeout:
            time.sleep(timeout)
        done = _expired(clocks)
        if done:
            return [Event(k.userdata, 0, c.EVENTTYPE_CLOCK) for k in done]
