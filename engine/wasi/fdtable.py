"""The WASI file descriptor table: guest fd -> ``Entry`` (a host fd or stream, with rights).

Guest fds are small integers chosen here (lowest free number, preopens from 3); the host fds
behind them are never shown to the program.
"""

from __future__ import annotations

import os
from typing import Any

from .constants import (
    DIR_RIGHTS,
    EBADF,
    ENOTCAPABLE,
    FILE_RIGHTS,
    FILETYPE_CHARACTER_DEVICE,
    FILETYPE_DIRECTORY,
    STREAM_RIGHTS,
    filetype_of_mode,
)
from .guest import WasiErrno


class Entry:
    """One open guest fd.

    ``host_fd`` is the host descriptor (None for a stream backed by a Python object or by
    nothing); ``stream`` that object; ``owned`` whether closing the entry closes the host fd;
    ``preopen`` the guest name of a preopened directory; ``listing`` the cached directory
    listing that ``fd_readdir`` cookies index.
    """

    __slots__ = (
        "fdflags",
        "filetype",
        "host_fd",
        "inheriting",
        "listing",
        "owned",
        "preopen",
        "rights",
        "stream",
    )

    def __init__(
        self,
        host_fd: int | None,
        filetype: int,
        rights: int,
        inheriting: int = 0,
        owned: bool = True,
        stream: Any = None,
        preopen: str | None = None,
    ) -> None:
        self.host_fd = host_fd
        self.filetype = filetype
        self.rights = rights
        self.inheriting = inheriting
        self.owned = owned
        self.stream = stream
        self.preopen = preopen
        self.fdflags = 0
        self.listing: list[Any] | None = None

    @property
    def is_dir(self) -> bool:
        return self.filetype == FILETYPE_DIRECTORY

    def read(self, size: int) -> bytes:
        if self.stream is not None:
            return bytes(self.stream.read(size) or b"")
        if self.host_fd is None:
            return b""
        return os.read(self.host_fd, size)

    def write(self, data: bytes) -> int:
        if self.stream is not None:
            self.stream.write(data)
            if hasattr(self.stream, "flush"):
                self.stream.flush()
            return len(data)
        if self.host_fd is None:
            return len(data)  # no stream configured: discarded, as wasmtime's sink
        return _write_all(self.host_fd, data)

    def close(self) -> None:
        if self.owned and self.host_fd is not None:
            os.close(self.host_fd)
        self.host_fd = None


def _write_all(fd: int, data: bytes) -> int:
    """``os.write`` until done: stdio pipes may take a large write in pieces."""
    view = memoryview(data)
    total = 0
    while total < len(data):
        total += os.write(fd, view[total:])
    return total


def file_entry(host_fd: int, rights_limit: int, inheriting_limit: int) -> Entry:
    """An entry for a host fd just opened by ``path_open`` (rights cut to its file type)."""
    filetype = filetype_of_mode(os.fstat(host_fd).st_mode)
    if filetype == FILETYPE_DIRECTORY:
        return Entry(host_fd, filetype, rights_limit & DIR_RIGHTS, inheriting_limit)
    return Entry(host_fd, filetype, rights_limit & FILE_RIGHTS, inheriting_limit & FILE_RIGHTS)


def stream_entry(host_fd: int | None, owned: bool, stream: Any = None) -> Entry:
    """A stdio entry over a host fd, a Python binary stream, or nothing."""
    filetype = FILETYPE_CHARACTER_DEVICE
    if host_fd is not None:
        try:
            filetype = filetype_of_mode(os.fstat(host_fd).st_mode)
        except OSError:
            host_fd = None
    return Entry(host_fd, filetype, STREAM_RIGHTS, 0, owned, stream)


class FdTable:
    """Guest fd -> Entry."""

    def __init__(self) -> None:
        self.entries: dict[int, Entry] = {}

    def get(self, fd: int, rights: int = 0) -> Entry:
        """The entry of ``fd``: EBADF if there is none, ENOTCAPABLE if it lacks ``rights``."""
        entry = self.entries.get(fd)
        if entry is None:
            raise WasiErrno(EBADF)
        if rights & ~entry.rights:
            raise WasiErrno(ENOTCAPABLE)
        return entry

    def dir(self, fd: int, rights: int) -> Entry:
        """A directory entry with ``rights`` (EBADF for another file type, as wasmtime)."""
        entry = self.entries.get(fd)
        if entry is None or not entry.is_dir:
            raise WasiErrno(EBADF)
        if rights & ~entry.rights:
            raise WasiErrno(ENOTCAPABLE)
        return entry

    def add(self, entry: Entry) -> int:
        """Insert at the lowest free fd; returns it."""
        fd = 0
        while fd in self.entries:
            fd += 1
        self.entries[fd] = entry
        return fd

    def pop(self, fd: int) -> Entry:
        entry = self.entries.pop(fd, None)
        if entry is None:
            raise WasiErrno(EBADF)
        return entry

    def close_all(self) -> None:
        for entry in self.entries.values():
            try:
                entry.close()
            except OSError:
                pass
        self.entries.clear()
