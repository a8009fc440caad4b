"""WASI ``path_*`` calls: every path is resolved inside its directory fd by ``sandbox``."""

from __future__ import annotations

import os

from . import constants as c
from .calls_fd import filestat_values, store_filestat, utime_ns
from .fdtable import file_entry
from .guest import WasiErrno, load_str, store_bytes, store_u32
from .registry import syscall
from .sandbox import Resolved, resolve, single_name
from .state import WasiState

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _resolve(
    state: WasiState, mem: bytearray, fd: int, rights: int, ptr: int, size: int, follow: bool
) -> Resolved:
    """Resolve the guest path at ``ptr`` inside directory ``fd`` (which needs ``rights``)."""
    entry = state.fds.dir(fd, rights)
    path = load_str(mem, ptr, size)
    return resolve(entry.host_fd, path, follow)  # type: ignore[arg-type]


def _open_flags(rights: int, oflags: int, fdflags: int) -> int:
    """Host open(2) flags: the access mode follows the read/write rights asked for."""
    reads = rights & (c.FD_READ | c.FD_READDIR)
    writes = rights & (c.FD_WRITE | c.FD_ALLOCATE | c.FD_FILESTAT_SET_SIZE)
    flags = os.O_RDWR if reads and writes else os.O_WRONLY if writes else os.O_RDONLY
    if oflags & c.OFLAGS_DIRECTORY:
        flags = os.O_RDONLY | os.O_DIRECTORY
    if oflags & c.OFLAGS_CREAT:
        flags |= os.O_CREAT
    if oflags & c.OFLAGS_EXCL:
        flags |= os.O_EXCL
    if oflags & c.OFLAGS_TRUNC:
        flags |= os.O_TRUNC
    if fdflags & c.FDFLAGS_APPEND:
        flags |= os.O_APPEND
    if fdflags & c.FDFLAGS_NONBLOCK:
        flags |= os.O_NONBLOCK
    if fdflags & (c.FDFLAGS_DSYNC | c.FDFLAGS_RSYNC | c.FDFLAGS_SYNC):
        flags |= os.O_SYNC
    return flags | os.O_NOFOLLOW | _CLOEXEC


@syscall("path_open", "iiiiiIIii")
def path_open(
    state: WasiState, mem: bytearray, fd: int, lookup: int, path: int, path_len: int,
    oflags: int, rights: int, inheriting: int, fdflags: int, fd_ptr: int,
) -> None:  # fmt: skip
    need = c.PATH_OPEN
    if oflags & c.OFLAGS_CREAT:
        need |= c.PATH_CREATE_FILE
    if oflags & c.OFLAGS_TRUNC:
        need |= c.PATH_FILESTAT_SET_SIZE
    dir_entry = state.fds.dir(fd, need)
    store_u32(mem, fd_ptr, 0)  # a bad pointer traps before any effect
    rights &= dir_entry.inheriting  # an fd never gets more than its directory passes on
    inheriting &= dir_entry.inheriting
    follow = bool(lookup & c.LOOKUP_SYMLINK_FOLLOW)
    flags = _open_flags(rights, oflags, fdflags)
    with resolve(dir_entry.host_fd, load_str(mem, path, path_len), follow) as res:  # type: ignore[arg-type]
        if res.must_be_dir:
            flags = (flags & ~(os.O_WRONLY | os.O_RDWR)) | os.O_DIRECTORY
        host = os.open(res.name, flags, 0o666, dir_fd=res.dir_fd)
    entry = file_entry(host, rights, inheriting)
    entry.fdflags = fdflags
    store_u32(mem, fd_ptr, state.fds.add(entry))


@syscall("path_create_directory", "iii")
def path_create_directory(state: WasiState, mem: bytearray, fd: int, path: int, n: int) -> None:
    with _resolve(state, mem, fd, c.PATH_CREATE_DIRECTORY, path, n, False) as res:
        os.mkdir(single_name(res), 0o777, dir_fd=res.dir_fd)


@syscall("path_remove_directory", "iii")
def path_remove_directory(state: WasiState, mem: bytearray, fd: int, path: int, n: int) -> None:
    with _resolve(state, mem, fd, c.PATH_REMOVE_DIRECTORY, path, n, False) as res:
        os.rmdir(single_name(res), dir_fd=res.dir_fd)


@syscall("path_unlink_file", "iii")
def path_unlink_file(state: WasiState, mem: bytearray, fd: int, path: int, n: int) -> None:
    with _resolve(state, mem, fd, c.PATH_UNLINK_FILE, path, n, False) as res:
        if res.must_be_dir:
            raise WasiErrno(c.ENOTDIR)  # "file/": a trailing slash names a directory
        os.unlink(single_name(res), dir_fd=res.dir_fd)


@syscall("path_filestat_get", "iiiii")
def path_filestat_get(
    state: WasiState, mem: bytearray, fd: int, flags: int, path: int, n: int, buf: int
) -> None:
    follow = bool(flags & c.LOOKUP_SYMLINK_FOLLOW)
    with _resolve(state, mem, fd, c.PATH_FILESTAT_GET, path, n, follow) as res:
        st = os.stat(res.name, dir_fd=res.dir_fd, follow_symlinks=False)
    store_filestat(mem, buf, filestat_values(st))


@syscall("path_filestat_set_times", "iiiiIIi")
def path_filestat_set_times(
    state: WasiState, mem: bytearray, fd: int, flags: int, path: int, n: int,
    atim: int, mtim: int, fst: int,
) -> None:  # fmt: skip
    follow = bool(flags & c.LOOKUP_SYMLINK_FOLLOW)
    with _resolve(state, mem, fd, c.PATH_FILESTAT_SET_TIMES, path, n, follow) as res:
        st = os.stat(res.name, dir_fd=res.dir_fd, follow_symlinks=False)
        times = utime_ns(st, atim, mtim, fst)
        os.utime(res.name, ns=times, dir_fd=res.dir_fd, follow_symlinks=False)


@syscall("path_link", "iiiiiii")
def path_link(
    state: WasiState, mem: bytearray, old_fd: int, old_flags: int, old_path: int, old_n: int,
    new_fd: int, new_path: int, new_n: int,
) -> None:  # fmt: skip
    follow = bool(old_flags & c.LOOKUP_SYMLINK_FOLLOW)
    # nested: a parenthesized with-statement is not Python 3.9
    with _resolve(state, mem, old_fd, c.PATH_LINK_SOURCE, old_path, old_n, follow) as src:  # noqa: SIM117
        with _resolve(state, mem, new_fd, c.PATH_LINK_TARGET, new_path, new_n, False) as dst:
            os.link(
                single_name(src), single_name(dst), src_dir_fd=src.dir_fd,
                dst_dir_fd=dst.dir_fd, follow_symlinks=False,
            )  # fmt: skip


@syscall("path_rename", "iiiiii")
def path_rename(
    state: WasiState, mem: bytearray, old_fd: int, old_path: int, old_n: int,
    new_fd: int, new_path: int, new_n: int,
) -> None:  # fmt: skip
    with _resolve(state, mem, old_fd, c.PATH_RENAME_SOURCE, old_path, old_n, False) as src:  # noqa: SIM117
        with _resolve(state, mem, new_fd, c.PATH_RENAME_TARGET, new_path, new_n, False) as dst:
            os.rename(
                single_name(src), single_name(dst), src_dir_fd=src.dir_fd, dst_dir_fd=dst.dir_fd
            )


@syscall("path_symlink", "iiiii")
def path_symlink(
    state: WasiState, mem: bytearray, old_path: int, old_n: int, fd: int, new_path: int, n: int
) -> None:
    """The link's contents are stored as given: resolution never follows them outside."""
    target = load_str(mem, old_path, old_n)
    with _resolve(state, mem, fd, c.PATH_SYMLINK, new_path, n, False) as res:
        if target.startswith("/"):
            raise WasiErrno(c.EPERM)  # an absolute link could never be followed
        os.symlink(target, single_name(res), dir_fd=res.dir_fd)


@syscall("path_readlink", "iiiiii")
def path_readlink(
    state: WasiState, mem: bytearray, fd: int, path: int, n: int, buf: int, size: int, used: int
) -> None:
    with _resolve(state, mem, fd, c.PATH_READLINK, path, n, False) as res:
        target = os.readlink(res.name, dir_fd=res.dir_fd).encode("utf-8", "surrogateescape")
    out = target[:size]  # truncated to the buffer, as readlink(2)
    store_bytes(mem, buf, out)
    store_u32(mem, used, len(out))
