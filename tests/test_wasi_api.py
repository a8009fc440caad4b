"""Host functions with the caller, the WASI configuration API, and WASI calls called
directly (clocks, poll_oneoff, fd_* corner cases) where a C program cannot reach."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from engine import (
    Caller,
    Engine,
    EngineError,
    ExitTrap,
    Func,
    FuncType,
    Instance,
    Linker,
    Memory,
    Module,
    Store,
    Trap,
    ValType,
)
from engine.wasi import SYSCALLS, WasiConfig, WasiState, wasi_functions
from engine.wasi import constants as c
from engine.wasi.calls_env import clock_res_get, clock_time_get, proc_exit
from engine.wasi.calls_fd import (
    fd_advise,
    fd_filestat_get,
    fd_filestat_set_times,
    fd_prestat_dir_name,
    fd_read,
    fd_readdir,
    fd_seek,
    fd_tell,
    fd_write,
)
from engine.wasi.calls_path import path_filestat_set_times, path_open
from engine.wasi.calls_poll import poll_oneoff
from engine.wasi.guest import GuestFault, WasiErrno
from tests.programs.harness import wasm_path

I32 = ValType.i32()


# -- host functions with the caller --------------------------------------------------------


def _caller_module(store: Store) -> Module:
    return Module(store.engine, wasm_path("caller").read_bytes())


def test_func_with_caller_reads_and_writes_memory() -> None:
    store = Store(Engine())
    seen = []

    def sum_bytes(caller: Caller, ptr: int, n: int) -> int:
        seen.append(caller)
        mem = caller["memory"]
        assert isinstance(mem, Memory) and caller.get("memory") is mem
        assert caller.get("no such export") is None and caller.store is store
        return sum(mem.read(store, ptr, ptr + n))

    def fill(caller: Caller, ptr: int, n: int, value: int) -> None:
        caller["memory"].write(store, bytes([value]) * n, ptr)

    funcs = [
        Func(store, FuncType([I32, I32], [I32]), sum_bytes, access_caller=True),
        Func(store, FuncType([I32, I32, I32], []), fill, access_caller=True),
    ]
    instance = Instance(store, _caller_module(store), funcs)
    exports = instance.exports(store)
    assert exports["run"](store) == sum(b"caller")
    assert exports["fill_and_sum"](store, 3) == 48
    with pytest.raises(KeyError):
        seen[0]["nothing"]


def test_linker_define_func_with_caller() -> None:
    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)
    linker.define_func("env", "sum_bytes", FuncType([I32, I32], [I32]),
                       lambda caller, p, n: sum(caller["memory"].data[p : p + n]),
                       access_caller=True)  # fmt: skip
    linker.define_func("env", "fill", FuncType([I32, I32, I32], []), lambda p, n, v: None)
    instance = linker.instantiate(store, _caller_module(store))
    assert instance.exports(store)["run"](store) == sum(b"caller")
    assert instance.exports(store)["fill_and_sum"](store, 9) == 0  # fill did nothing


def test_each_instance_sees_its_own_memory() -> None:
    """One caller-taking Func imported by two instances: each call sees its caller."""
    store = Store(Engine())
    func = Func(store, FuncType([I32, I32], [I32]),
                lambda caller, p, n: caller["memory"].data[p], access_caller=True)  # fmt: skip
    fill = Func(store, FuncType([I32, I32, I32], []), lambda p, n, v: None)
    module = _caller_module(store)
    a = Instance(store, module, [func, fill])
    b = Instance(store, module, [func, fill])
    b.exports(store)["memory"].data[:] = bytes(len(b.exports(store)["memory"].data))
    assert a.exports(store)["run"](store) == ord("c")
    assert b.exports(store)["run"](store) == 0


def test_plain_host_functions_are_unchanged() -> None:
    store = Store(Engine())
    f = Func(store, FuncType([I32], [I32]), lambda x: x + 1)
    assert f(store, 41) == 42
    assert f.fn(5) == 6  # internal convention, no caller argument


# -- configuration and state -----------------------------------------------------------------


def test_config_api(tmp_path: Path) -> None:
    config = WasiConfig()
    config.argv = ["prog", 1]
    config.env = [("A", "1")]
    config.preopen_dir(tmp_path, "/data")
    config.stdout_file = tmp_path / "out"
    config.inherit_stderr()
    assert config.argv == ["prog", "1"] and config.env == [("A", "1")]
    assert config.preopens[0].guest == "/data" and config.stdout_file == str(tmp_path / "out")
    state = WasiState(config)
    try:
        assert state.args == [b"prog\0", b"1\0"] and state.environ == [b"A=1\0"]
        assert state.fds.get(3).preopen == "/data" and sorted(state.fds.entries) == [0, 1, 2, 3]
    finally:
        state.close()


def test_every_preview1_function_is_defined() -> None:
    names = set(SYSCALLS)
    assert len(names) == 46
    funcs = wasi_functions()
    assert funcs["fd_write"].ftype == FuncType((I32,) * 4, (I32,))
    assert funcs["path_open"].ftype.params == (I32,) * 5 + (ValType.i64(),) * 2 + (I32,) * 2
    assert funcs["proc_exit"].ftype.results == ()


def test_store_without_wasi_config_traps() -> None:
    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, Module(engine, wasm_path("hello").read_bytes()))
    with pytest.raises(Trap, match="set_wasi"):
        instance.exports(store)["_start"](store)


def test_exit_trap_carries_code() -> None:
    with pytest.raises(ExitTrap) as info:
        proc_exit(None, bytearray(), 3)
    # wasmtime-py: ExitTrap is a WasmtimeError (our EngineError), not a Trap.
    assert info.value.code == 3 and isinstance(info.value, EngineError)
    assert not isinstance(info.value, Trap)


def test_exit_code_through_linker(tmp_path: Path) -> None:
    engine = Engine()
    store = Store(engine)
    config = WasiConfig()
    config.argv = ["args_env", "--exit=42"]
    config.stdout_file = tmp_path / "out"
    store.set_wasi(config)
    linker = Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, Module(engine, wasm_path("args_env").read_bytes()))
    with pytest.raises(ExitTrap) as info:
        instance.exports(store)["_start"](store)
    assert info.value.code == 42
    store.wasi_state.close()
    assert b"argv[1]=--exit=42" in (tmp_path / "out").read_bytes()


# -- direct calls ------------------------------------------------------------------------------


@pytest.fixture
def state(tmp_path: Path):
    (tmp_path / "f.txt").write_bytes(b"0123456789")
    config = WasiConfig()
    config.preopen_dir(tmp_path, "/d")
    config.stdin = _Reader(b"input")
    s = WasiState(config)
    yield s
    s.close()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, n: int) -> bytes:
        out, self.data = self.data[:n], self.data[n:]
        return out


def call(state: WasiState, mem: bytearray, impl, *args: int) -> int:
    try:
        return impl(state, mem, *args) or 0
    except WasiErrno as exc:
        return exc.errno
    except OSError as exc:
        return c.errno_from_os(exc)


def _open(state: WasiState, mem: bytearray, path: bytes, rights: int = c.FILE_RIGHTS) -> int:
    mem[500 : 500 + len(path)] = path
    assert call(state, mem, path_open, 3, 0, 500, len(path), 0, rights, 0, 0, 0) == 0
    return struct.unpack_from("<I", mem, 0)[0]


def test_clocks(state: WasiState) -> None:
    mem = bytearray(64)
    for clock in range(4):
        assert call(state, mem, clock_time_get, clock, 0, 8) == 0
        assert struct.unpack_from("<Q", mem, 8)[0] > 0
        assert call(state, mem, clock_res_get, clock, 16) == 0
        assert struct.unpack_from("<Q", mem, 16)[0] >= 1
    assert call(state, mem, clock_time_get, 4, 0, 8) == c.EINVAL


def test_bad_pointer_is_a_guest_fault(state: WasiState) -> None:
    with pytest.raises(GuestFault, match="out of bounds"):
        call(state, bytearray(64), clock_time_get, 0, 0, 60)


def test_read_seek_tell_stdin(state: WasiState) -> None:
    mem = bytearray(1024)
    struct.pack_into("<II", mem, 0, 100, 3)
    assert call(state, mem, fd_read, 0, 0, 1, 8) == 0
    assert bytes(mem[100:103]) == b"inp" and struct.unpack_from("<I", mem, 8)[0] == 3
    assert call(state, mem, fd_seek, 0, 0, 0, 16) == c.ENOTCAPABLE  # stdio: no seek
    fd = _open(state, mem, b"f.txt")
    assert call(state, mem, fd_seek, fd, (-3) & (2**64 - 1), c.WHENCE_END, 16) == 0
    assert struct.unpack_from("<Q", mem, 16)[0] == 7
    assert call(state, mem, fd_tell, fd, 24) == 0 and struct.unpack_from("<Q", mem, 24)[0] == 7
    assert call(state, mem, fd_seek, fd, 0, 3, 16) == c.EINVAL
    assert call(state, mem, fd_seek, fd, (-100) & (2**64 - 1), c.WHENCE_CUR, 16) == c.EINVAL
    assert call(state, mem, fd_advise, fd, 0, 10, 9) == c.EINVAL
    assert call(state, mem, fd_advise, fd, 0, 10, 2) == 0


def test_write_to_object_stream(tmp_path: Path) -> None:
    import io

    config = WasiConfig()
    out = io.BytesIO()
    config.stdout = out
    state = WasiState(config)
    mem = bytearray(64)
    mem[32:37] = b"hello"
    struct.pack_into("<II", mem, 0, 32, 5)
    assert call(state, mem, fd_write, 1, 0, 1, 8) == 0
    assert out.getvalue() == b"hello" and struct.unpack_from("<I", mem, 8)[0] == 5
    assert call(state, mem, fd_write, 0, 0, 1, 8) == 0  # stdin of nothing: discarded
    state.close()


def test_readdir_cookies_and_small_buffers(state: WasiState, tmp_path: Path) -> None:
    for name in ("b", "a", "c"):
        (tmp_path / name).write_text(name)
    mem = bytearray(4096)
    names, cookie = [], 0
    while True:  # a buffer that holds one whole dirent at a time (24 + name)
        assert call(state, mem, fd_readdir, 3, 1000, 40, cookie, 8) == 0
        used = struct.unpack_from("<I", mem, 8)[0]
        if used == 0:
            break
        nxt, _ino, namlen, _ftype = struct.unpack_from("<QQIB", mem, 1000)
        names.append(bytes(mem[1024 : 1024 + namlen]).decode())
        cookie = nxt
    assert names == [".", "..", "a", "b", "c", "f.txt"]
    assert call(state, mem, fd_readdir, 3, 1000, 10, 0, 8) == 0  # cut-off dirent
    assert struct.unpack_from("<I", mem, 8)[0] == 10


def test_prestat_name_buffer_too_small(state: WasiState) -> None:
    mem = bytearray(64)
    assert call(state, mem, fd_prestat_dir_name, 3, 0, 1) == c.ENAMETOOLONG
    assert call(state, mem, fd_prestat_dir_name, 3, 0, 2) == 0 and mem[:2] == b"/d"
    assert call(state, mem, fd_prestat_dir_name, 0, 0, 2) == c.EBADF


def test_set_times(state: WasiState, tmp_path: Path) -> None:
    mem = bytearray(1024)
    fd = _open(state, mem, b"f.txt")
    assert call(state, mem, fd_filestat_set_times, fd, 5 * 10**9, 7 * 10**9,
                c.FSTFLAGS_ATIM | c.FSTFLAGS_MTIM) == 0  # fmt: skip
    assert call(state, mem, fd_filestat_get, fd, 64) == 0
    assert struct.unpack_from("<QQ", mem, 64 + 40) == (5 * 10**9, 7 * 10**9)
    assert call(state, mem, fd_filestat_set_times, fd, 0, 0,
                c.FSTFLAGS_ATIM | c.FSTFLAGS_ATIM_NOW) == c.EINVAL  # fmt: skip
    mem[500:505] = b"f.txt"
    assert call(state, mem, path_filestat_set_times, 3, 0, 500, 5, 0, 9 * 10**9,
                c.FSTFLAGS_MTIM) == 0  # fmt: skip
    assert (tmp_path / "f.txt").stat().st_mtime_ns == 9 * 10**9
    assert (tmp_path / "f.txt").stat().st_atime_ns == 5 * 10**9  # kept


def _sub_clock(mem: bytearray, at: int, userdata: int, timeout_ns: int, flags: int = 0,
               clock: int = c.CLOCK_MONOTONIC) -> None:  # fmt: skip
    struct.pack_into("<QB", mem, at, userdata, c.EVENTTYPE_CLOCK)
    struct.pack_into("<IxxxxQQH", mem, at + 16, clock, timeout_ns, 0, flags)


def _sub_fd(mem: bytearray, at: int, userdata: int, kind: int, fd: int) -> None:
    struct.pack_into("<QB", mem, at, userdata, kind)
    struct.pack_into("<I", mem, at + 16, fd)


def _events(mem: bytearray, at: int, count_at: int) -> list[tuple[int, int, int, int]]:
    n = struct.unpack_from("<I", mem, count_at)[0]
    return [struct.unpack_from("<QHBxxxxxQ", mem, at + 32 * i) for i in range(n)]


def test_poll_clock_and_ready_fds(state: WasiState) -> None:
    import time

    mem = bytearray(2048)
    _sub_clock(mem, 0, 1, 30_000_000)
    t0 = time.monotonic()
    assert call(state, mem, poll_oneoff, 0, 1000, 1, 8) == 0
    assert time.monotonic() - t0 >= 0.029
    assert _events(mem, 1000, 8) == [(1, 0, c.EVENTTYPE_CLOCK, 0)]
    # an absolute realtime deadline in the past fires at once
    _sub_clock(mem, 0, 2, 1, flags=c.SUBCLOCKFLAGS_ABSTIME, clock=c.CLOCK_REALTIME)
    assert call(state, mem, poll_oneoff, 0, 1000, 1, 8) == 0
    assert _events(mem, 1000, 8)[0][0] == 2
    # a file is always readable (nbytes = what is left); stdin (an object) is ready
    fd = _open(state, mem, b"f.txt")
    _sub_clock(mem, 0, 3, 10**10)
    _sub_fd(mem, 48, 4, c.EVENTTYPE_FD_READ, fd)
    _sub_fd(mem, 96, 5, c.EVENTTYPE_FD_READ, 0)
    assert call(state, mem, poll_oneoff, 0, 1000, 3, 8) == 0
    assert _events(mem, 1000, 8) == [(4, 0, c.EVENTTYPE_FD_READ, 10), (5, 0, 1, 0)]
    _sub_fd(mem, 48, 4, c.EVENTTYPE_FD_READ, 77)
    assert call(state, mem, poll_oneoff, 0, 1000, 2, 8) == c.EBADF
    struct.pack_into("<QB", mem, 0, 1, 9)  # unknown event type
    assert call(state, mem, poll_oneoff, 0, 1000, 1, 8) == c.EINVAL


def test_poll_waits_on_a_pipe(tmp_path: Path) -> None:
    import os
    import threading

    r, w = os.pipe()
    config = WasiConfig()
    config.preopen_dir(tmp_path, "/d")
    state = WasiState(config)
    try:
        state.fds.entries[0].host_fd = r  # stdin from a pipe
        mem = bytearray(2048)
        _sub_clock(mem, 0, 1, 5 * 10**9)
        _sub_fd(mem, 48, 2, c.EVENTTYPE_FD_READ, 0)
        threading.Timer(0.05, lambda: os.write(w, b"x")).start()
        assert call(state, mem, poll_oneoff, 0, 1000, 2, 8) == 0
        assert _events(mem, 1000, 8) == [(2, 0, c.EVENTTYPE_FD_READ, 0)]
        _sub_clock(mem, 0, 1, 10_000_000)
        os.read(r, 1)
        assert call(state, mem, poll_oneoff, 0, 1000, 2, 8) == 0  # nothing to read: clock
        assert _events(mem, 1000, 8)[0][:3] == (1, 0, c.EVENTTYPE_CLOCK)
    finally:
        os.close(r)
        os.close(w)
        state.close()
