"""``lazywasm run``: instantiate a module with WASI and run ``_start`` or ``--invoke NAME``.

Exit status: the program's own (``proc_exit`` / return from main), 134 for a trap (as
wasmtime's CLI: 128 + SIGABRT), 1 for a module that cannot be loaded or linked, 2 for bad
command-line use.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any

from ..config import Config
from ..errors import ExitTrap, LinkError, Trap, WasmError
from ..runtime import Engine, Linker, Module, Store
from ..runtime.func import Func
from ..wasi import MODULE as WASI_MODULE
from ..wasi import WasiConfig
from .names import format_backtrace, function_names, wasm_frames

TRAP_STATUS = 134


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a WebAssembly module (a WASI command, or one export with --invoke)",
        description="Run MODULE's _start (WASI preview 1 command), or the export given by "
        "--invoke with ARGS converted to its parameter types; its results are printed one "
        "per line. The exit status is the program's own; a trap prints its wasm backtrace "
        "to stderr and exits with 134.",
    )
    p.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                   help="preopen host directory HOST as GUEST (default: the same path)")
    p.add_argument("--env", action="append", default=[], metavar="NAME[=VALUE]",
                   help="set an environment variable (NAME alone: copy the host's value)")
    p.add_argument("--invoke", metavar="NAME", help="call export NAME instead of _start")
    p.add_argument("--mode", default="lazy-translation",
                   choices=("eager", "lazy-translation", "lazy"), help="compilation mode")
    p.add_argument("--fuel", type=int, metavar="N",
                   help="stop the program after N units of fuel (if the engine supports it)")
    p.add_argument("--max-call-depth", type=int, metavar="N", help="nested wasm call limit")
    p.add_argument("module", metavar="MODULE", help="the .wasm file")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="program arguments (or --invoke arguments)")
    p.set_defaults(command=run_command)  # fmt: skip


def wasi_config(args: argparse.Namespace) -> WasiConfig:
    """stdio inherited, argv = MODULE ARGS..., --env and --dir applied."""
    config = WasiConfig()
    config.argv = [args.module, *args.args]
    env = []
    for item in args.env:
        name, eq, value = item.partition("=")
        if not name:
            raise UsageError(f"--env {item!r}: expected NAME=VALUE")
        env.append((name, value if eq else os.environ.get(name, "")))
    config.env = env
    for item in args.dir:
        host, sep, guest = item.partition("::")
        if not os.path.isdir(host):
            raise UsageError(f"--dir {item!r}: {host!r} is not a directory")
        config.preopen_dir(host, guest if sep else host)
    config.inherit_stdin()
    config.inherit_stdout()
    config.inherit_stderr()
    return config


def make_engine(args: argparse.Namespace) -> tuple[Engine, Store]:
    config = Config(compilation_mode=args.mode)
    if args.max_call_depth is not None:
        config.max_call_depth = args.max_call_depth
    if args.fuel is not None:
        if not hasattr(config, "consume_fuel"):
            raise UsageError("--fuel: fuel not supported by this engine build")
        config.consume_fuel = True
    engine = Engine(config)
    store = Store(engine)
    if args.fuel is not None:
        if not hasattr(store, "set_fuel"):
            raise UsageError("--fuel: fuel not supported by this engine build")
        store.set_fuel(args.fuel)
    return engine, store


def run_command(args: argparse.Namespace) -> int:
    try:
        with open(args.module, "rb") as f:
            wasm = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {args.module}: {exc.strerror}") from None
    engine, store = make_engine(args)
    try:
        module = Module(engine, wasm)
    except WasmError as exc:
        return _fail(f"{args.module}: {type(exc).__name__}: {exc}")
    names = function_names(module.info)
    store.set_wasi(wasi_config(args))
    linker = Linker(engine)
    linker.define_wasi()
    missing = [f"{i.module}::{i.name}" for i in module.info.imports
               if i.module != WASI_MODULE]  # fmt: skip
    if missing:
        return _fail(f"{args.module}: unknown import {missing[0]} (only WASI is provided)")
    sys.stdout.flush()
    try:
        instance = linker.instantiate(store, module)
        exports = instance.exports(store)
        if args.invoke is None:
            return _run_start(store, exports, args)
        return _invoke(store, exports, args)
    except ExitTrap as exc:
        return exc.code
    except LinkError as exc:
        return _fail(f"{args.module}: link error: {exc}")
    except Trap as exc:
        return _trap(exc, names)
    finally:
        if store.wasi_state is not None:
            store.wasi_state.close()


def _run_start(store: Store, exports: Any, args: argparse.Namespace) -> int:
    start = exports.get("_start")
    if not isinstance(start, Func):
        raise UsageError(f"{args.module}: no _start export (use --invoke NAME)")
    start(store)
    return 0


def _invoke(store: Store, exports: Any, args: argparse.Namespace) -> int:
    func = exports.get(args.invoke)
    if not isinstance(func, Func):
        raise UsageError(f"{args.module}: no exported function {args.invoke!r}")
    init = exports.get("_initialize")
    if isinstance(init, Func):
        init(store)  # a WASI reactor sets itself up first
    params = func.ftype.params
    if len(args.args) != len(params):
        raise UsageError(f"{args.invoke} takes {len(params)} arguments, {len(args.args)} given")
    values = [parse_value(t, text) for t, text in zip(params, args.args)]
    result = func(store, *values)
    results = [] if result is None else result if len(func.ftype.results) > 1 else [result]
    for t, value in zip(func.ftype.results, results):
        print(format_value(t, value))
    return 0


def parse_value(vtype: str, text: str) -> Any:
    """A command-line argument as a value of ``vtype`` (ints in any base Python reads)."""
    try:
        if vtype in ("i32", "i64"):
            return int(text, 0)
        if vtype in ("f32", "f64"):
            return float(text)
    except ValueError:
        raise UsageError(f"cannot read {text!r} as {vtype}") from None
    raise UsageError(f"cannot pass a {vtype} on the command line")


def format_value(vtype: str, value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value)
    return str(value)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _trap(exc: Trap, names: dict[int, str]) -> int:
    sys.stdout.flush()
    lines = [f"error: wasm trap: {exc}", "wasm backtrace:"]
    frames = wasm_frames(exc, names)
    lines += format_backtrace(frames) if frames else ["    (no wasm frames)"]
    print("\n".join(lines), file=sys.stderr)
    return TRAP_STATUS
