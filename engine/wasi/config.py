"""``WasiConfig``: what a WASI program is given (wasmtime-py shaped).

Arguments, environment, stdio and preopened directories. Nothing is opened here; the WASI
state of a store (``engine.wasi.state``) opens the files when the program first calls WASI.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, NamedTuple


class Preopen(NamedTuple):
    """A host directory the program sees under ``guest`` (its only view of the file system)."""

    host: str
    guest: str


#: A stdio setting: "inherit" (the host's own stream), a path, a binary file object, or None
#: (nothing: reads see end of file, writes are discarded).
StdioSpec = Any


class WasiConfig:
    """Arguments, environment, stdio and preopened directories of a WASI program."""

    def __init__(self) -> None:
        self._argv: list[str] = []
        self._env: list[tuple[str, str]] = []
        self.preopens: list[Preopen] = []
        self.stdin: StdioSpec = None
        self.stdout: StdioSpec = None
        self.stderr: StdioSpec = None

    # -- arguments and environment ----------------------------------------------------
    @property
    def argv(self) -> list[str]:
        return list(self._argv)

    @argv.setter
    def argv(self, values: Iterable[str]) -> None:
        self._argv = [str(v) for v in values]

    @property
    def env(self) -> list[tuple[str, str]]:
        return list(self._env)

    @env.setter
    def env(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._env = [(str(k), str(v)) for k, v in pairs]

    def inherit_argv(self) -> None:
        self._argv = list(sys.argv)

    def inherit_env(self) -> None:
        self._env = list(os.environ.items())

    # -- stdio ---------------------------------------------------------------------------
    def inherit_stdin(self) -> None:
        self.stdin = "inherit"

    def inherit_stdout(self) -> None:
        self.stdout = "inherit"

    def inherit_stderr(self) -> None:
        self.stderr = "inherit"

    @property
    def stdin_file(self) -> StdioSpec:
        return self.stdin

    @stdin_file.setter
    def stdin_file(self, path: str | os.PathLike[str]) -> None:
        self.stdin = os.fspath(path)

    @property
    def stdout_file(self) -> StdioSpec:
        return self.stdout

    @stdout_file.setter
    def stdout_file(self, path: str | os.PathLike[str]) -> None:
        self.stdout = os.fspath(path)

    @property
    def stderr_file(self) -> StdioSpec:
        return self.stderr

    @stderr_file.setter
    def stderr_file(self, path: str | os.PathLike[str]) -> None:
        self.stderr = os.fspath(path)

    # -- file system ---------------------------------------------------------------------
    def preopen_dir(self, path: str | os.PathLike[str], guest_path: str) -> None:
        """Let the program see host directory ``path`` as ``guest_path`` (fd 3, 4, ...)."""
        self.preopens.append(Preopen(os.fspath(path), guest_path))

    def __repr__(self) -> str:
        return f"WasiConfig(argv={self._argv!r}, preopens={self.preopens!r})"
