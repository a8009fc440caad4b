"""The WASI state of one store: arguments, environment and the fd table, built from a
``WasiConfig`` on the store's first WASI call."""

from __future__ import annotations

import os
import weakref
from typing import Any

from ..errors import Trap
from .config import StdioSpec, WasiConfig
from .constants import DIR_RIGHTS, FILE_RIGHTS, FILETYPE_DIRECTORY
from .fdtable import Entry, FdTable, stream_entry

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class WasiState:
    """``args`` and ``environ`` as NUL-terminated UTF-8 strings, and the fd table
    (0-2 stdio, then the preopened directories in configuration order)."""

    def __init__(self, config: WasiConfig) -> None:
        self.args = [a.encode("utf-8") + b"\0" for a in config.argv]
        self.environ = [f"{k}={v}".encode() + b"\0" for k, v in config.env]
        self.fds = FdTable()
        try:
            self.fds.add(_stdio(config.stdin, 0, os.O_RDONLY))
            self.fds.add(_stdio(config.stdout, 1, os.O_WRONLY | os.O_CREAT | os.O_TRUNC))
            self.fds.add(_stdio(config.stderr, 2, os.O_WRONLY | os.O_CREAT | os.O_TRUNC))
            for pre in config.preopens:
                fd = os.open(pre.host, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
                rights = DIR_RIGHTS
                self.fds.add(
                    Entry(fd, FILETYPE_DIRECTORY, rights, DIR_RIGHTS | FILE_RIGHTS, True,
                          preopen=pre.guest)
                )  # fmt: skip
        except OSError as exc:
            self.fds.close_all()
            raise Trap(f"failed to set up WASI: {exc}") from None
        # The host fds are closed by close(), or when the state is collected.
        weakref.finalize(self, self.fds.close_all)

    def close(self) -> None:
        """Close every host fd the program still holds."""
        self.fds.close_all()


def _stdio(spec: StdioSpec, host_fd: int, flags: int) -> Entry:
    if spec is None:
        return stream_entry(None, False)
    if spec == "inherit":
        return stream_entry(host_fd, False)
    if isinstance(spec, str):
        return stream_entry(os.open(spec, flags | _CLOEXEC, 0o666), True)
    return stream_entry(None, False, spec)  # a Python binary stream


def state_of(store: Any) -> WasiState:
    """The store's WASI state, created on first use (Trap if WASI is not configured)."""
    state = getattr(store, "wasi_state", None)
    if state is None:
        config = getattr(store, "wasi_config", None)
        if config is None:
            raise Trap("WASI is not configured for this store: call store.set_wasi(config)")
        state = store.wasi_state = WasiState(config)
    return state
