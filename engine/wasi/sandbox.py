"""Path resolution confined to a directory fd: the WASI sandbox.

A guest path is resolved component by component from a directory's host fd, opening each
intermediate directory with ``O_NOFOLLOW | O_DIRECTORY`` relative to the previous one, never
by string prefix. ``..`` pops back to the previous directory and fails at the starting one;
absolute paths fail; a symbolic link is read (``readlink`` relative to its directory) and
its target's components are spliced into the walk, so a link (even one the program made)
can only lead where the program could walk itself. The final component is returned with its
parent's fd, and the operations act on it with ``dir_fd=`` and without following links, so
a link swapped in meanwhile is not followed either (opening it fails with ELOOP).

Escapes fail with ENOTCAPABLE (wasmtime answers EPERM for some of them; the program sees an
error either way and the host file system is not touched).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable

from .constants import EINVAL, ELOOP, ENOENT, ENOTCAPABLE
from .guest import WasiErrno

#: Symbolic links followed in one resolution before ELOOP (Linux's limit).
MAX_SYMLINKS = 40
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class Resolved:
    """The result: ``dir_fd`` (the parent directory's host fd) and ``name`` (one component,
    ``"."`` for the directory itself). A context manager closing the directories opened."""

    __slots__ = ("_owned", "dir_fd", "must_be_dir", "name")

    def __init__(self, dir_fd: int, name: str, owned: list[int], must_be_dir: bool) -> None:
        self.dir_fd = dir_fd
        self.name = name
        self._owned = owned
        self.must_be_dir = must_be_dir

    def close(self) -> None:
        for fd in self._owned:
            os.close(fd)
        self._owned = []

    def __enter__(self) -> Resolved:  # noqa: PYI034  (typing.Self is not in Python 3.9)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_link(name: str, dir_fd: int) -> str | None:
    """The target of symlink ``name`` in ``dir_fd``; None if it is not a symlink or absent."""
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None


def _count_names(parts: Iterable[str]) -> int:
    return sum(1 for p in parts if p not in ("", "."))


def resolve(base_fd: int, path: str, follow: bool) -> Resolved:
    """Resolve ``path`` inside the directory ``base_fd``; ``follow``: follow a final symlink.

    A trailing ``/`` requires a directory and follows a final symlink, as in POSIX.
    """
    if path == "":
        raise WasiErrno(ENOENT)
    if path.startswith("/"):
        raise WasiErrno(ENOTCAPABLE)
    stack = [base_fd]  # stack[0] is the caller's, the rest are ours to close
    queue = deque(path.split("/"))
    pending = _count_names(queue)  # components left that are not "" or "." (keeps it linear)
    links = 0
    must_dir = False
    try:
        while queue:
            comp = queue.popleft()
            if comp in ("", "."):
                continue
            pending -= 1
            last = pending == 0
            if last and queue:
                must_dir = True  # only "/" or "/." follow: the name must be a directory
            if comp == "..":
                if len(stack) == 1:
                    raise WasiErrno(ENOTCAPABLE)
                os.close(stack.pop())
                continue
            if last and not (follow or must_dir):
                return Resolved(stack[-1], comp, stack[1:], must_dir)
            target = _read_link(comp, stack[-1])
            if target is not None:
                links += 1
                if links > MAX_SYMLINKS:
                    raise WasiErrno(ELOOP)
                if target.startswith("/"):
                    raise WasiErrno(ENOTCAPABLE)
                if target == "":
                    raise WasiErrno(ENOENT)
                parts = target.split("/")
                pending += _count_names(parts)
                queue.extendleft(reversed(parts))
                continue
            if last:
                return Resolved(stack[-1], comp, stack[1:], must_dir)
            stack.append(os.open(comp, _DIR_FLAGS, dir_fd=stack[-1]))
        return Resolved(stack[-1], ".", stack[1:], True)
    except BaseException:
        for fd in stack[1:]:
            os.close(fd)
        raise


def single_name(res: Resolved) -> str:
    """The final name for operations that create or remove it ("." is not allowed)."""
    if res.name == ".":
        raise WasiErrno(EINVAL)
    return res.name
