"""``lazywasm validate`` and ``lazywasm compile``: check a module, or translate every
function and report its sizes (wasm body bytes, generated Python lines and characters)."""

from __future__ import annotations

import argparse
import time
from typing import Any, NamedTuple

from ..binary import decode_module
from ..binary.instructions import decode_body
from ..compile import translate_source
from ..errors import WasmError
from ..runtime import Engine, Module
from ..validate import validate_body, validate_module
from .names import function_names


def add_parsers(sub: Any) -> None:
    v = sub.add_parser("validate", help="check that a module is well-formed and valid",
                       description="Decode and validate MODULE and every function body; "
                       "exit 0 if it is valid, 1 (with the reason) if not.")
    v.add_argument("module", metavar="MODULE")
    v.set_defaults(command=validate_command)
    c = sub.add_parser("compile", help="translate every function and report sizes",
                       description="Translate every function of MODULE to Python and print, "
                       "per function: index, name, wasm body bytes, generated Python lines "
                       "and characters, translation time; then the totals.")
    c.add_argument("module", metavar="MODULE")
    c.add_argument("--sort", choices=("index", "size", "time"), default="index",
                   help="order of the rows (size: largest generated code first)")
    c.add_argument("--top", type=int, metavar="N", help="print only the first N rows")
    c.set_defaults(command=compile_command)  # fmt: skip


def _read(path: str) -> bytes:
    from .run import UsageError

    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def validate_command(args: argparse.Namespace) -> int:
    try:
        Module.validate(Engine(), _read(args.module))
    except WasmError as exc:
        print(f"{args.module}: invalid: {type(exc).__name__}: {exc}")
        return 1
    print(f"{args.module}: valid")
    return 0


class FuncSize(NamedTuple):
    index: int
    name: str
    wasm_bytes: int
    py_lines: int
    py_chars: int
    seconds: float


def function_sizes(data: bytes) -> list[FuncSize]:
    """Decode, validate and translate every defined function; its sizes."""
    info = decode_module(data)
    validate_module(info)
    names = function_names(info)
    rows = []
    base = info.num_imported_funcs
    for i in range(len(info.funcs)):
        index = base + i
        t0 = time.perf_counter()
        body = decode_body(info, index)
        validate_body(info, index, body)
        source = translate_source(info, index, body)
        compile(source, f"<wasm function {index}>", "exec")
        seconds = time.perf_counter() - t0
        rows.append(FuncSize(index, names.get(index, ""), info.code_lengths[i],
                             source.count("\n") + 1, len(source), seconds))  # fmt: skip
    return rows


def compile_command(args: argparse.Namespace) -> int:
    try:
        rows = function_sizes(_read(args.module))
    except WasmError as exc:
        print(f"{args.module}: invalid: {type(exc).__name__}: {exc}")
        return 1
    key = {"index": lambda r: r.index, "size": lambda r: -r.py_chars,
           "time": lambda r: -r.seconds}[args.sort]  # fmt: skip
    shown = sorted(rows, key=key)[: args.top]
    print(f"{'func':>6} {'wasm B':>8} {'py lines':>9} {'py chars':>9} {'ms':>8}  name")
    for r in shown:
        print(f"{r.index:>6} {r.wasm_bytes:>8} {r.py_lines:>9} {r.py_chars:>9} "
              f"{r.seconds * 1000:>8.2f}  {r.name}")  # fmt: skip
    total_ms = sum(r.seconds for r in rows) * 1000
    print(f"{len(rows)} functions: {sum(r.wasm_bytes for r in rows)} wasm bytes -> "
          f"{sum(r.py_lines for r in rows)} Python lines, "
          f"{sum(r.py_chars for r in rows)} chars, {total_ms:.1f} ms")  # fmt: skip
    return 0
