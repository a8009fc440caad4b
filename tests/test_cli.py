"""The ``lazywasm`` command line: run (exit codes, stdio, --dir, --env, --invoke, traps with
backtraces, --fuel), validate, compile, and --help on each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import build_parser, main
from tests.programs.harness import MODES, wasm_path

ROOT = Path(__file__).resolve().parent.parent


def lazywasm(*args: str, stdin: bytes = b"", cwd: Path | None = None):
    """Run ``python -m engine ARGS`` in a subprocess (stdio are real file descriptors)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "engine", *args], input=stdin,
                          capture_output=True, env=env, cwd=cwd, timeout=300, check=False)  # fmt: skip


def prog(name: str) -> str:
    return str(wasm_path(name))


@pytest.mark.parametrize("mode", MODES)
def test_run_hello(mode: str) -> None:
    r = lazywasm("run", "--mode", mode, prog("hello"))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"hello, world\n", b"hello, stderr\n")


def test_exit_code_args_and_env() -> None:
    r = lazywasm("run", "--env", "GREETING=hey", prog("args_env"), "x", "--exit=9")
    assert r.returncode == 9
    out = r.stdout.decode().splitlines()
    assert out[1:4] == [f"argv[0]={prog('args_env')}", "argv[1]=x", "argv[2]=--exit=9"]
    assert "GREETING=hey" in out


def test_stdin_streams_through() -> None:
    r = lazywasm("run", prog("cat"), stdin=b"abc\n" * 1000)
    assert r.returncode == 0 and r.stdout == b"ABC\n" * 1000 and r.stderr == b"4000 bytes\n"


def test_dir_copy_and_guest_name(tmp_path: Path) -> None:
    (tmp_path / "src.txt").write_bytes(b"payload" * 100)
    r = lazywasm("run", "--dir", f"{tmp_path}::/work", prog("copy"), "/work/src.txt",
                 "/work/dst.txt")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "dst.txt").read_bytes() == b"payload" * 100


def test_dir_without_guest_name(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("12")
    r = lazywasm("run", "--dir", ".", prog("ls"), ".", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == b".:\n  x 2\n"


def test_trap_prints_backtrace() -> None:
    r = lazywasm("run", prog("trap"))
    assert r.returncode == 134
    assert r.stdout == b"about to trap\n"
    err = r.stderr.decode().splitlines()
    assert err[0] == "error: wasm trap: unreachable"
    names = [line.split()[-1] for line in err[2:]]
    assert names[:4] == ["innermost", "middle", "outer_function", "main"]
    assert "_start" in names


def test_call_stack_exhaustion_backtrace_is_elided() -> None:
    r = lazywasm("run", "--max-call-depth", "200", "--invoke", "fib", prog("calc"), "1000")
    err = r.stderr.decode()
    assert r.returncode == 134 and "call stack exhausted" in err
    assert "frames elided" in err and "func[0] fib" in err


def test_invoke_with_typed_arguments(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--invoke", "fib", prog("calc"), "15"]) == 0
    assert main(["run", "--invoke", "mul64", prog("calc"), "0x100000000", "-3"]) == 0
    assert main(["run", "--invoke", "half", prog("calc"), "5"]) == 0
    assert main(["run", "--invoke", "pair", prog("calc")]) == 0
    assert capfd.readouterr().out == "610\n-12884901888\n2.5\n"


def test_invoke_errors(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--invoke", "fib", prog("calc")]) == 2
    assert main(["run", "--invoke", "fib", prog("calc"), "x"]) == 2
    assert main(["run", "--invoke", "nope", prog("calc")]) == 2
    assert main(["run", "--invoke", "divide", prog("calc"), "1", "0"]) == 134
    err = capfd.readouterr().err
    assert "takes 1 arguments, 0 given" in err and "cannot read 'x' as i32" in err
    assert "no exported function 'nope'" in err
    assert "integer divide by zero" in err and "func[3] divide" in err


def test_run_errors(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x01")
    assert main(["run", str(bad)]) == 1
    assert main(["run", str(tmp_path / "missing.wasm")]) == 2
    assert main(["run", "--dir", str(tmp_path / "nodir"), prog("hello")]) == 2
    assert main(["run", prog("caller")]) == 1  # imports env::sum_bytes
    assert main(["run", prog("calc")]) == 2  # no _start
    err = capfd.readouterr().err
    assert "MalformedError" in err and "cannot read" in err and "is not a directory" in err
    assert "unknown import env::sum_bytes" in err and "no _start export" in err


def test_fuel(capfd: pytest.CaptureFixture[str]) -> None:
    from engine import Config, Store

    supported = hasattr(Config(), "consume_fuel") and hasattr(Store, "set_fuel")
    status = main(["run", "--fuel", "100", prog("lz"), "2000"])
    if supported:
        assert status == 134  # out of fuel long before the end
    else:
        assert status == 2
        assert "fuel not supported by this engine build" in capfd.readouterr().err


def test_validate(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", prog("lz")]) == 0
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x02\0\0\0")
    assert main(["validate", str(bad)]) == 1
    out = capfd.readouterr().out
    assert "lz.wasm: valid" in out and "unknown binary version" in out


def test_compile_reports_sizes(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", prog("calc")]) == 0
    lines = capfd.readouterr().out.splitlines()
    assert lines[0].split() == ["func", "wasm", "B", "py", "lines", "py", "chars", "ms", "name"]
    rows = {line.split()[-1]: line.split() for line in lines[1:-1]}
    assert set(rows) == {"fib", "mul64", "half", "divide", "pair"}
    assert all(int(r[1]) > 0 and int(r[2]) > 0 for r in rows.values())
    assert lines[-1].startswith("5 functions: ")
    assert main(["compile", "--sort", "size", "--top", "2", prog("lz")]) == 0
    assert len(capfd.readouterr().out.splitlines()) == 4


@pytest.mark.parametrize("command", [[], ["run"], ["validate"], ["compile"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: lazywasm")
    if command == ["run"]:
        assert "--dir HOST[::GUEST]" in out and "--invoke NAME" in out and "--fuel N" in out


def test_console_script_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'lazywasm = "engine.cli:entry_point"' in text


def test_program_arguments_that_look_like_options() -> None:
    r = lazywasm("run", prog("args_env"), "--exit=3", "-x", "--help")
    assert r.returncode == 3
    assert r.stdout.decode().splitlines()[1:5] == [
        f"argv[0]={prog('args_env')}", "argv[1]=--exit=3", "argv[2]=-x", "argv[3]=--help",
    ]  # fmt: skip
