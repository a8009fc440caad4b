"""WASI ``fd_*`` calls: reading, writing, seeking, metadata and directory listing."""

from __future__ import annotations

import os
import struct

from . import constants as c
from .fdtable import Entry
from .guest import (
    WasiErrno,
    check,
    gather,
    iovecs,
    pack_into,
    scatter,
    store_bytes,
    store_u32,
    store_u64,
)
from .registry import syscall
from .state import WasiState

_FDSTAT = struct.Struct("<BxHxxxxQQ")  # filetype, flags, rights base, rights inheriting
_FILESTAT = struct.Struct("<QQBxxxxxxxQQQQQ")  # dev ino type nlink size atim mtim ctim
_PRESTAT = struct.Struct("<BxxxI")  # tag (dir), name length
_DIRENT = struct.Struct("<QQIBxxx")  # d_next, d_ino, d_namlen, d_type
_I64 = 1 << 63


def signed64(v: int) -> int:
    return v - (1 << 64) if v & _I64 else v


def filestat_values(st: os.stat_result) -> tuple[int, ...]:
    """The ``filestat`` fields of a host stat result."""
    return (
        st.st_dev, st.st_ino, c.filetype_of_mode(st.st_mode), st.st_nlink, st.st_size,
        st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns,
    )  # fmt: skip


def store_filestat(mem: bytearray, ptr: int, values: tuple[int, ...]) -> None:
    pack_into(_FILESTAT, mem, ptr, *(v & 0xFFFFFFFFFFFFFFFF for v in values))


def _host(entry: Entry) -> int:
    """The host fd behind a file/directory entry (EBADF for a fd-less stream)."""
    if entry.host_fd is None:
        raise WasiErrno(c.EBADF)
    return entry.host_fd


# -- reading and writing --------------------------------------------------------------------


@syscall("fd_read", "iiii")
def fd_read(state: WasiState, mem: bytearray, fd: int, iovs: int, n: int, nread: int) -> None:
    entry = state.fds.get(fd, c.FD_READ)
    vecs = list(iovecs(mem, iovs, n))
    total = 0
    for v in vecs:
        if entry.is_dir:
            raise WasiErrno(c.EISDIR)
        data = entry.read(v.length)
        mem[v.buf : v.buf + len(data)] = data
        total += len(data)
        if len(data) < v.length:
            break  # short read: do not block for more
    store_u32(mem, nread, total)


@syscall("fd_write", "iiii")
def fd_write(state: WasiState, mem: bytearray, fd: int, iovs: int, n: int, nwritten: int) -> None:
    entry = state.fds.get(fd, c.FD_WRITE)
    data = gather(mem, iovs, n)
    store_u32(mem, nwritten, entry.write(data) if data else 0)


@syscall("fd_pread", "iiiIi")
def fd_pread(
    state: WasiState, mem: bytearray, fd: int, iovs: int, n: int, offset: int, nread: int
) -> None:
    entry = state.fds.get(fd, c.FD_READ | c.FD_SEEK)
    vecs = list(iovecs(mem, iovs, n))
    size = sum(v.length for v in vecs)
    if offset >= _I64:
        raise WasiErrno(c.EINVAL)
    data = os.pread(_host(entry), size, offset)
    scatter(mem, vecs, data)
    store_u32(mem, nread, len(data))


@syscall("fd_pwrite", "iiiIi")
def fd_pwrite(
    state: WasiState, mem: bytearray, fd: int, iovs: int, n: int, offset: int, nwritten: int
) -> None:
    entry = state.fds.get(fd, c.FD_WRITE | c.FD_SEEK)
    data = gather(mem, iovs, n)
    if offset >= _I64:
        raise WasiErrno(c.EINVAL)
    store_u32(mem, nwritten, os.pwrite(_host(entry), data, offset))


@syscall("fd_seek", "iIii")
def fd_seek(
    state: WasiState, mem: bytearray, fd: int, offset: int, whence: int, newoffset: int
) -> None:
    rights = c.FD_TELL if offset == 0 and whence == c.WHENCE_CUR else c.FD_SEEK | c.FD_TELL
    entry = state.fds.get(fd, rights)
    if whence not in (c.WHENCE_SET, c.WHENCE_CUR, c.WHENCE_END):
        raise WasiErrno(c.EINVAL)
    if entry.is_dir:
        raise WasiErrno(c.EBADF)
    host_whence = (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END)[whence]
    store_u64(mem, newoffset, os.lseek(_host(entry), signed64(offset), host_whence))


@syscall("fd_tell", "ii")
def fd_tell(state: WasiState, mem: bytearray, fd: int, offset_ptr: int) -> None:
    entry = state.fds.get(fd, c.FD_TELL)
    store_u64(mem, offset_ptr, os.lseek(_host(entry), 0, os.SEEK_CUR))


@syscall("fd_sync", "i")
def fd_sync(state: WasiState, mem: bytearray, fd: int) -> None:
    os.fsync(_host(state.fds.get(fd, c.FD_SYNC)))


@syscall("fd_datasync", "i")
def fd_datasync(state: WasiState, mem: bytearray, fd: int) -> None:
    host = _host(state.fds.get(fd, c.FD_DATASYNC))
    (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(host)


@syscall("fd_advise", "iIIi")
def fd_advise(
    state: WasiState, mem: bytearray, fd: int, offset: int, length: int, advice: int
) -> None:
    entry = state.fds.get(fd, c.FD_ADVISE)
    if advice > c.ADVICE_MAX:
        raise WasiErrno(c.EINVAL)
    if entry.is_dir:
        raise WasiErrno(c.EBADF)
    if offset >= _I64 or length >= _I64:
        raise WasiErrno(c.EINVAL)
    # Advice is only a hint: accepted and not passed on (Linux's numbering of POSIX_FADV_*
    # differs from WASI's for DONTNEED/NOREUSE, and the engine gains nothing from it).


@syscall("fd_allocate", "iII")
def fd_allocate(state: WasiState, mem: bytearray, fd: int, offset: int, length: int) -> None:
    entry = state.fds.get(fd, c.FD_ALLOCATE)
    if entry.is_dir:
        raise WasiErrno(c.EBADF)
    if offset + length >= _I64:
        raise WasiErrno(c.EINVAL)
    host = _host(entry)
    if os.fstat(host).st_size < offset + length:  # allocate = extend, never shrink
        os.ftruncate(host, offset + length)


@syscall("fd_close", "i")
def fd_close(state: WasiState, mem: bytearray, fd: int) -> None:
    state.fds.pop(fd).close()


@syscall("fd_renumber", "ii")
def fd_renumber(state: WasiState, mem: bytearray, fd: int, to: int) -> None:
    fds = state.fds
    fds.get(fd)
    fds.get(to)
    if fd == to:
        return
    fds.pop(to).close()
    fds.entries[to] = fds.pop(fd)


# -- metadata -------------------------------------------------------------------------------


@syscall("fd_fdstat_get", "ii")
def fd_fdstat_get(state: WasiState, mem: bytearray, fd: int, buf: int) -> None:
    e = state.fds.get(fd)
    pack_into(_FDSTAT, mem, buf, e.filetype, e.fdflags, e.rights, e.inheriting)


@syscall("fd_fdstat_set_flags", "ii")
def fd_fdstat_set_flags(state: WasiState, mem: bytearray, fd: int, flags: int) -> None:
    entry = state.fds.get(fd, c.FD_FDSTAT_SET_FLAGS)
    if flags & ~(c.FDFLAGS_APPEND | c.FDFLAGS_NONBLOCK):
        raise WasiErrno(c.ENOTSUP)  # the sync flags cannot be changed on an open file
    if entry.host_fd is not None and entry.stream is None:
        import fcntl

        host_flags = fcntl.fcntl(entry.host_fd, fcntl.F_GETFL)
        host_flags &= ~(os.O_APPEND | os.O_NONBLOCK)
        if flags & c.FDFLAGS_APPEND:
            host_flags |= os.O_APPEND
        if flags & c.FDFLAGS_NONBLOCK:
            host_flags |= os.O_NONBLOCK
        if entry.owned:  # never change the flags of the host's inherited stdio
            fcntl.fcntl(entry.host_fd, fcntl.F_SETFL, host_flags)
    entry.fdflags = flags


@syscall("fd_fdstat_set_rights", "iII")
def fd_fdstat_set_rights(
    state: WasiState, mem: bytearray, fd: int, base: int, inheriting: int
) -> None:
    """Rights can only be dropped, never gained (ENOTCAPABLE)."""
    entry = state.fds.get(fd)
    if base & ~entry.rights or inheriting & ~entry.inheriting:
        raise WasiErrno(c.ENOTCAPABLE)
    entry.rights, entry.inheriting = base, inheriting


@syscall("fd_filestat_get", "ii")
def fd_filestat_get(state: WasiState, mem: bytearray, fd: int, buf: int) -> None:
    entry = state.fds.get(fd, c.FD_FILESTAT_GET)
    if entry.host_fd is None:
        store_filestat(mem, buf, (0, 0, entry.filetype, 0, 0, 0, 0, 0))
    else:
        store_filestat(mem, buf, filestat_values(os.fstat(entry.host_fd)))


@syscall("fd_filestat_set_size", "iI")
def fd_filestat_set_size(state: WasiState, mem: bytearray, fd: int, size: int) -> None:
    entry = state.fds.get(fd, c.FD_FILESTAT_SET_SIZE)
    if size >= _I64:
        raise WasiErrno(c.EINVAL)
    os.ftruncate(_host(entry), size)


def utime_ns(st: os.stat_result, atim: int, mtim: int, flags: int) -> tuple[int, int]:
    """The (atime, mtime) pair for a ``*_set_times`` call (EINVAL for contradicting flags)."""
    if (flags & c.FSTFLAGS_ATIM and flags & c.FSTFLAGS_ATIM_NOW) or (
        flags & c.FSTFLAGS_MTIM and flags & c.FSTFLAGS_MTIM_NOW
    ):
        raise WasiErrno(c.EINVAL)
    if flags & ~0xF:
        raise WasiErrno(c.EINVAL)
    import time

    now = time.time_ns()
    a = atim if flags & c.FSTFLAGS_ATIM else now if flags & c.FSTFLAGS_ATIM_NOW else st.st_atime_ns
    m = mtim if flags & c.FSTFLAGS_MTIM else now if flags & c.FSTFLAGS_MTIM_NOW else st.st_mtime_ns
    return signed64(a), signed64(m)


@syscall("fd_filestat_set_times", "iIIi")
def fd_filestat_set_times(
    state: WasiState, mem: bytearray, fd: int, atim: int, mtim: int, flags: int
) -> None:
    host = _host(state.fds.get(fd, c.FD_FILESTAT_SET_TIMES))
    os.utime(host, ns=utime_ns(os.fstat(host), atim, mtim, flags))


# -- preopens -------------------------------------------------------------------------------


def _preopen(state: WasiState, fd: int) -> bytes:
    entry = state.fds.get(fd)
    if entry.preopen is None:
        raise WasiErrno(c.EBADF)
    return entry.preopen.encode("utf-8")


@syscall("fd_prestat_get", "ii")
def fd_prestat_get(state: WasiState, mem: bytearray, fd: int, buf: int) -> None:
    pack_into(_PRESTAT, mem, buf, c.PREOPENTYPE_DIR, len(_preopen(state, fd)))


@syscall("fd_prestat_dir_name", "iii")
def fd_prestat_dir_name(state: WasiState, mem: bytearray, fd: int, path: int, size: int) -> None:
    name = _preopen(state, fd)
    if size < len(name):
        raise WasiErrno(c.ENAMETOOLONG)
    store_bytes(mem, path, name)


# -- directories ----------------------------------------------------------------------------


def _listing(entry: Entry) -> list[tuple[str, int, int]]:
    """(name, inode, filetype) of every entry: ".", "..", then the names sorted, so cookies
    (indices into this list) stay valid while the program reads on."""
    host = _host(entry)
    own = os.fstat(host)
    rows = [(".", own.st_ino, c.FILETYPE_DIRECTORY), ("..", 0, c.FILETYPE_DIRECTORY)]
    for name in sorted(os.listdir(host)):
        try:
            st = os.stat(name, dir_fd=host, follow_symlinks=False)
            rows.append((name, st.st_ino, c.filetype_of_mode(st.st_mode)))
        except OSError:
            continue  # removed meanwhile
    return rows


@syscall("fd_readdir", "iiiIi")
def fd_readdir(
    state: WasiState, mem: bytearray, fd: int, buf: int, size: int, cookie: int, used_ptr: int
) -> None:
    """Dirents from ``cookie`` on; the last one may be cut off (the program then retries
    with a bigger buffer), a result shorter than ``size`` means the end."""
    entry = state.fds.dir(fd, c.FD_READDIR)
    check(mem, buf, size)  # a bad buffer traps up front
    if cookie == 0 or entry.listing is None:
        entry.listing = _listing(entry)
    out = bytearray()
    for i in range(cookie, len(entry.listing)):
        if len(out) >= size:
            break
        name, ino, ftype = entry.listing[i]
        raw = name.encode("utf-8", "surrogateescape")
        out += _DIRENT.pack(i + 1, ino, len(raw), ftype) + raw
    out = out[:size]
    store_bytes(mem, buf, bytes(out))
    store_u32(mem, used_ptr, len(out))
