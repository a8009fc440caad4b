"""Run the WASI test programs under the engine and under wasmtime with the same setup.

``run_engine`` / ``run_wasmtime`` take the program name (``tests/programs/NAME.wasm``), its
arguments, environment, preopened directories and stdin, and return a ``Run`` with the exit
code and the captured stdout/stderr. ``snapshot`` describes a directory tree (names, types,
contents, link targets) so the file-system effects of two runs can be compared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import Config, Engine, ExitTrap, Func, Linker, Module, Store
from engine.wasi import MODULE, WasiConfig, wasi_functions

PROGRAMS = Path(__file__).parent
MODES = ("eager", "lazy-translation", "lazy")


@dataclass
class Setup:
    """What a program is given: argv after the program name, env pairs, (host, guest)
    directories, stdin bytes."""

    args: list[str] = field(default_factory=list)
    env: list[tuple[str, str]] = field(default_factory=list)
    dirs: list[tuple[str, str]] = field(default_factory=list)
    stdin: bytes = b""


@dataclass
class Run:
    code: int
    stdout: bytes
    stderr: bytes


def wasm_path(name: str) -> Path:
    return PROGRAMS / f"{name}.wasm"


def _stdio_files(tmp: Path, stdin: bytes) -> tuple[Path, Path, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    paths = tmp / "stdin", tmp / "stdout", tmp / "stderr"
    paths[0].write_bytes(stdin)
    return paths


def run_engine(
    name: str,
    setup: Setup,
    tmp: Path,
    mode: str = "lazy-translation",
    record: set[str] | None = None,
) -> Run:
    """Run ``name`` under this engine in compilation mode ``mode``; with ``record``, add
    the name of every WASI function the program calls to it."""
    stdin, stdout, stderr = _stdio_files(tmp, setup.stdin)
    config = WasiConfig()
    config.argv = [name, *setup.args]
    config.env = setup.env
    for host, guest in setup.dirs:
        config.preopen_dir(host, guest)
    config.stdin_file, config.stdout_file, config.stderr_file = stdin, stdout, stderr
    engine = Engine(Config(compilation_mode=mode))
    store = Store(engine)
    store.set_wasi(config)
    linker = Linker(engine)
    linker.define_wasi()
    if record is not None:
        _record_calls(linker, record)
    instance = linker.instantiate(store, Module.from_file(engine, wasm_path(name)))
    try:
        instance.exports(store)["_start"](store)
        code = 0
    except ExitTrap as exc:
        code = exc.code
    finally:
        if store.wasi_state is not None:
            store.wasi_state.close()
    return Run(code, stdout.read_bytes(), stderr.read_bytes())


def _record_calls(linker: Linker, record: set[str]) -> None:
    """Redefine each WASI function as a wrapper that notes its name, then calls it."""
    linker.allow_shadowing = True
    for fname, func in wasi_functions().items():

        def wrapper(caller: Any, *args: Any, _inner: Any = func._caller_fn, _n: str = fname):
            record.add(_n)
            return _inner(caller, *args)

        linker.define(None, MODULE, fname, Func.from_raw(None, func.ftype, wrapper, True))


def run_wasmtime(name: str, setup: Setup, tmp: Path) -> Run:
    """Run ``name`` under wasmtime-py (the reference)."""
    import wasmtime

    stdin, stdout, stderr = _stdio_files(tmp, setup.stdin)
    config = wasmtime.WasiConfig()
    config.argv = [name, *setup.args]
    config.env = setup.env
    for host, guest in setup.dirs:
        config.preopen_dir(host, guest)
    config.stdin_file, config.stdout_file, config.stderr_file = stdin, stdout, stderr
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_wasi(config)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(wasm_path(name))))
    try:
        instance.exports(store)["_start"](store)
        code = 0
    except wasmtime.ExitTrap as exc:
        code = exc.code
    del store, instance, linker  # closes wasmtime's files before they are read
    return Run(code, stdout.read_bytes(), stderr.read_bytes())


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> "dir", "link -> TARGET" or "file SIZE CONTENTS" for a whole tree."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                out[rel] = "dir"
            else:
                data = path.read_bytes()
                out[rel] = f"file {len(data)} {data[:200]!r}"
    return out
