"""The WASI sandbox: a program sees only its preopened directories.

The escape program (tests/programs/src/escape.c) tries every way out through the real
calls; the direct tests below call the sandbox resolution and the path calls from Python
with host-made symlinks, loops and races the program cannot set up itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.wasi import WasiConfig, WasiState
from engine.wasi import constants as c
from engine.wasi.calls_fd import fd_readdir
from engine.wasi.calls_path import (
    path_create_directory,
    path_filestat_get,
    path_open,
    path_readlink,
    path_rename,
    path_symlink,
    path_unlink_file,
)
from engine.wasi.guest import WasiErrno
from tests.programs.harness import MODES, Setup, run_engine, snapshot


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/secret.txt and tmp/outside/ next to the sandbox tmp/box (with sub/ and a file)."""
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "outside").mkdir()
    box = tmp_path / "box"
    (box / "sub").mkdir(parents=True)
    (box / "inside.txt").write_text("inside")
    return tmp_path


@pytest.mark.parametrize("mode", MODES)
def test_escape_program_is_contained(mode: str, tree: Path) -> None:
    before = snapshot(tree)
    run = run_engine("escape", Setup(dirs=[(str(tree / "box"), "/sandbox")]), tree.parent / "io",
                     mode)  # fmt: skip
    out = run.stdout.decode().splitlines()
    assert run.code == 0 and out[-1] == "escapes: 0"
    assert not [line for line in out if "ESCAPED" in line]
    assert len(out) > 25
    after = snapshot(tree)
    outside = {k: v for k, v in after.items() if not k.startswith("box")}
    assert outside == {k: v for k, v in before.items() if not k.startswith("box")}
    assert after["box/inside.txt"] == before["box/inside.txt"]  # rename attempts failed


# -- direct calls --------------------------------------------------------------------------


class Guest:
    """A WasiState with tree/box preopened as fd 3 and a scratch memory, to call the WASI
    implementations directly."""

    def __init__(self, box: Path) -> None:
        config = WasiConfig()
        config.preopen_dir(box, "/box")
        self.state = WasiState(config)
        self.mem = bytearray(65536)
        self.top = 1024

    def put(self, text: str) -> tuple[int, int]:
        raw = text.encode()
        ptr = self.top
        self.mem[ptr : ptr + len(raw)] = raw
        self.top += len(raw) + 8
        return ptr, len(raw)

    def call(self, impl, *args: int) -> int:
        try:
            return impl(self.state, self.mem, *args) or 0
        except WasiErrno as exc:
            return exc.errno
        except OSError as exc:
            return c.errno_from_os(exc)

    def open(self, path: str, follow: bool = True, oflags: int = 0,
             rights: int = c.FD_READ | c.FD_WRITE, fd: int = 3) -> int:  # fmt: skip
        p, n = self.put(path)
        return self.call(path_open, fd, int(follow), p, n, oflags, rights, 0, 0, 16)

    def close(self) -> None:
        self.state.close()


@pytest.fixture
def guest(tree: Path):
    g = Guest(tree / "box")
    yield g
    g.close()


ESCAPES = ["../secret.txt", "sub/../../secret.txt", "/etc/passwd", "..", "../box/inside.txt",
           "sub/../../box/../secret.txt", "./../secret.txt", "sub/./../.././secret.txt"]  # fmt: skip


@pytest.mark.parametrize("path", ESCAPES)
def test_dotdot_and_absolute_paths_are_refused(guest: Guest, path: str) -> None:
    assert guest.open(path) == c.ENOTCAPABLE


@pytest.mark.parametrize("target", ["../secret.txt", "..", "../outside", "sub/../../secret.txt"])
def test_host_made_relative_symlinks_out_are_refused(guest: Guest, tree: Path, target: str):
    os.symlink(target, tree / "box" / "link")
    assert guest.open("link") == c.ENOTCAPABLE
    assert guest.open("link/secret.txt") in (c.ENOTCAPABLE, c.ENOENT)
    p, n = guest.put("link/x")
    assert guest.call(path_create_directory, 3, p, n) == c.ENOTCAPABLE
    assert not (tree / "outside" / "x").exists() and not (tree / "x").exists()


def test_absolute_symlink_is_refused(guest: Guest, tree: Path) -> None:
    os.symlink(str(tree / "secret.txt"), tree / "box" / "abs")
    os.symlink(str(tree / "outside"), tree / "box" / "absdir")
    assert guest.open("abs") == c.ENOTCAPABLE
    p, n = guest.put("absdir/new")
    assert guest.call(path_create_directory, 3, p, n) == c.ENOTCAPABLE
    assert os.listdir(tree / "outside") == []


def test_symlinks_inside_are_followed(guest: Guest, tree: Path) -> None:
    os.symlink("sub/..", tree / "box" / "self")
    os.symlink("../inside.txt", tree / "box" / "sub" / "up")
    assert guest.open("self/inside.txt") == 0
    assert guest.open("sub/up") == 0
    assert guest.open("self/self/self/sub/up") == 0


def test_final_symlink_without_follow_is_not_opened(guest: Guest, tree: Path) -> None:
    os.symlink("inside.txt", tree / "box" / "ln")
    assert guest.open("ln", follow=False) == c.ELOOP
    assert guest.open("ln", follow=True) == 0


def test_symlink_loops_end(guest: Guest, tree: Path) -> None:
    os.symlink("b", tree / "box" / "a")
    os.symlink("a", tree / "box" / "b")
    os.symlink("self/x", tree / "box" / "self")
    assert guest.open("a") == c.ELOOP
    assert guest.open("self") == c.ELOOP


def test_program_made_symlink_cannot_lead_out(guest: Guest, tree: Path) -> None:
    for target in ("..", "../secret.txt", "/etc"):
        t, tn = guest.put(target)
        p, n = guest.put("made")
        rc = guest.call(path_symlink, t, tn, 3, p, n)
        assert rc in (0, c.EPERM)
        assert guest.open("made") == c.ENOTCAPABLE or not (tree / "box" / "made").exists()
        assert guest.open("made/secret.txt") in (c.ENOTCAPABLE, c.ENOENT)
        if (tree / "box" / "made").is_symlink():
            os.unlink(tree / "box" / "made")
    # readlink shows the contents, which is not an escape
    os.symlink("../secret.txt", tree / "box" / "shown")
    p, n = guest.put("shown")
    assert guest.call(path_readlink, 3, p, n, 4000, 100, 8) == 0
    assert bytes(guest.mem[4000:4013]) == b"../secret.txt"


def test_rename_and_unlink_cannot_reach_out(guest: Guest, tree: Path) -> None:
    a, an = guest.put("inside.txt")
    b, bn = guest.put("../stolen.txt")
    assert guest.call(path_rename, 3, a, an, 3, b, bn) == c.ENOTCAPABLE
    s, sn = guest.put("../secret.txt")
    assert guest.call(path_unlink_file, 3, s, sn) == c.ENOTCAPABLE
    assert (tree / "secret.txt").exists() and (tree / "box" / "inside.txt").exists()


def test_stat_of_parent_is_refused(guest: Guest) -> None:
    p, n = guest.put("..")
    assert guest.call(path_filestat_get, 3, 0, p, n, 2000) == c.ENOTCAPABLE
    p, n = guest.put("sub/..")
    assert guest.call(path_filestat_get, 3, 0, p, n, 2000) == 0


def test_directory_replaced_by_symlink_out(guest: Guest, tree: Path) -> None:
    sub = tree / "box" / "sub"
    os.rmdir(sub)
    os.symlink(str(tree / "outside"), sub)
    assert guest.open("sub/anything", oflags=c.OFLAGS_CREAT) == c.ENOTCAPABLE
    assert os.listdir(tree / "outside") == []


def test_symlink_swapped_in_after_the_check_is_not_followed(
    guest: Guest, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: sub/ becomes a symlink out after the walk looked at it (simulated by hiding
    the link from the check). Each component is opened with O_NOFOLLOW relative to its
    parent, so the open fails instead of following it."""
    from engine.wasi import sandbox

    sub = tree / "box" / "sub"
    os.rmdir(sub)
    os.symlink("../outside", sub)
    monkeypatch.setattr(sandbox, "_read_link", lambda name, dir_fd: None)
    assert guest.open("sub/anything", oflags=c.OFLAGS_CREAT) in (c.ELOOP, c.ENOTDIR)
    os.symlink("../secret.txt", tree / "box" / "final")
    assert guest.open("final", follow=True) == c.ELOOP  # final open is O_NOFOLLOW too
    assert os.listdir(tree / "outside") == []


def test_opened_directory_fd_is_a_new_root_inside(guest: Guest, tree: Path) -> None:
    """An fd opened on sub/ is confined to sub/ (as its own root); ".." out of it fails."""
    assert guest.open("sub", oflags=c.OFLAGS_DIRECTORY,
                      rights=c.PATH_OPEN | c.FD_READDIR) == 0  # fmt: skip
    sub_fd = int.from_bytes(guest.mem[16:20], "little")
    assert guest.open("../inside.txt", fd=sub_fd) == c.ENOTCAPABLE
    assert guest.call(fd_readdir, sub_fd, 3000, 200, 0, 8) == 0


def test_rights_of_preopen_limit_children(guest: Guest) -> None:
    """A child fd never gets rights its directory cannot pass on; a stdio fd is no dir."""
    assert guest.open("inside.txt", rights=c.RIGHTS_ALL) == 0
    fd = int.from_bytes(guest.mem[16:20], "little")
    assert guest.state.fds.get(fd).rights & ~c.FILE_RIGHTS == 0
    assert guest.open("inside.txt", fd=1) == c.EBADF


def test_long_and_degenerate_paths(guest: Guest, tree: Path) -> None:
    """Many "." and "/" components resolve (in linear time: the walk counts the names
    left instead of rescanning); "sub/" must be a directory; "" is ENOENT."""
    assert guest.open("./" * 20000 + "inside.txt") == 0
    assert guest.open("sub//./", oflags=c.OFLAGS_DIRECTORY, rights=c.FD_READDIR) == 0
    assert guest.open("inside.txt/") == c.ENOTDIR
    assert guest.open("") == c.ENOENT
    assert guest.open("sub/" + "../sub/" * 500 + "..") == 0
