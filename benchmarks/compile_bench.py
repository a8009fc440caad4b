"""Compile and instantiate figures for our engine, per compilation mode.

For generated modules of N functions (``wasmgen``) and each ``Config.compilation_mode``:
median wall time of ``Module(...)`` and of ``Instance(...)``, and the bytes each retains per
function, measured with tracemalloc in a separate pass (tracemalloc slows allocation down, so
it never overlaps the timed pass). Module bytes exclude the binary itself: the bytes object
is allocated inside the traced window and its size subtracted, so an engine that keeps a
reference to it pays nothing and one that copies it pays for the copy. Instance bytes
exclude the linear memory's data (one 64 KiB page in the realistic modules), which is per
instance, not per function.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from dataclasses import dataclass
from statistics import median

from benchmarks import wasmgen
from benchmarks.timing import fmt_ratio, fmt_time, markdown_table

MODES = ("eager", "lazy-translation", "lazy")
FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (40,)
EMPTY_SIZE, QUICK_EMPTY_SIZE = 100_000, 100


@dataclass
class CompileRow:
    kind: str  # "realistic" | "empty"
    functions: int
    mode: str
    status: str = "ok"  # ok | error | n/a
    module_s: float | None = None
    instance_s: float | None = None
    first_call_s: float | None = None
    module_bpf: float | None = None
    instance_bpf: float | None = None
    message: str = ""


def _api():
    from engine import Config, Engine, Instance, Module, Store
    return Config, Engine, Store, Module, Instance


def _setup(mode: str):
    Config, Engine, Store, Module, Instance = _api()
    config = Config()
    config.compilation_mode = mode
    engine = Engine(config)
    return engine, Store(engine), Module, Instance


def _check(kind: str, store, instance) -> None:
    """The instance must work: one call into a generated function."""
    exports = instance.exports(store)
    if kind == "realistic":
        got = exports["f1"](store, 10)  # loop shape, i = 1: 10 + 9 + ... + 1 + 1
        if got != 56:
            raise AssertionError(f"generated f1(10) returned {got!r}, expected 56")
    else:
        exports["f0"](store)


def _time_once(kind: str, data: bytes, mode: str) -> tuple[float, float, float]:
    """Module(...), Instance(...) and the first call into the instance (where the lazy
    modes pay for the one function they compile)."""
    engine, store, Module, Instance = _setup(mode)
    gc.collect()
    t0 = time.perf_counter()
    module = Module(engine, data)
    t1 = time.perf_counter()
    instance = Instance(store, module, [])
    t2 = time.perf_counter()
    _check(kind, store, instance)
    return t1 - t0, t2 - t1, time.perf_counter() - t2


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _memory(data: bytes, mode: str, memory_bytes: int) -> tuple[int, int]:
    """Bytes retained by Module (minus the binary) and by Instance, objects kept alive."""
    engine, store, Module, Instance = _setup(mode)
    warm = wasmgen.realistic_module(8)  # first-use imports and caches are not per-function
    Instance(store, Module(engine, warm), [])
    tracemalloc.start()
    try:
        before = _traced()
        binary = bytes(bytearray(data))
        module = Module(engine, binary)
        after_module = _traced()
        instance = Instance(store, module, [])
        after_instance = _traced()
    finally:
        tracemalloc.stop()
    del instance, module
    return (after_module - before - sys.getsizeof(binary),
            after_instance - after_module - memory_bytes)


def measure(kind: str, n: int, mode: str, runs: int) -> CompileRow:
    """One (module, mode) row; engine failures become an ERROR row, not a crash."""
    if kind == "realistic":
        n = max(4, (n + 3) // 4 * 4)  # what realistic_module generates
    row = CompileRow(kind, n, mode)
    data = wasmgen.realistic_module(n) if kind == "realistic" else wasmgen.empty_module(n)
    try:
        runs = 1 if n >= 100_000 else runs
        times = [_time_once(kind, data, mode) for _ in range(max(1, runs))]
        row.module_s = median(t[0] for t in times)
        row.instance_s = median(t[1] for t in times)
        row.first_call_s = median(t[2] for t in times)
        mod_b, inst_b = _memory(data, mode, wasmgen.PAGE if kind == "realistic" else 0)
        row.module_bpf, row.instance_bpf = mod_b / n, inst_b / n
    except ImportError as exc:
        row.status, row.message = "n/a", f"engine not importable: {exc}"
    except Exception as exc:  # noqa: BLE001 - reported, and fails the run
        row.status, row.message = "error", f"{type(exc).__name__}: {exc}"
    return row


def run_all(quick: bool, runs: int, max_functions: int | None = None,
            progress=None) -> list[CompileRow]:
    """Realistic modules at each size plus the empty-functions case, in every mode."""
    sizes = QUICK_SIZES if quick else FULL_SIZES
    empty = QUICK_EMPTY_SIZE if quick else EMPTY_SIZE
    cases = [("realistic", n) for n in sizes] + [("empty", empty)]
    rows = []
    for kind, n in cases:
        if max_functions is not None and n > max_functions:
            continue
        for mode in MODES:
            if progress:
                progress(f"compile {kind} {n} {mode} ...")
            row = measure(kind, n, mode, 1 if quick else runs)
            rows.append(row)
            if row.status == "n/a":
                return rows
    return rows


def _find(rows: list[CompileRow], kind: str, n: int, mode: str) -> CompileRow | None:
    for r in rows:
        if r.kind == kind and r.functions == n and r.mode == mode and r.status == "ok":
            return r
    return None


def _fmt_b(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.1f}"


def table(rows: list[CompileRow]) -> str:
    """Per-(module, mode) times and bytes, with the eager/this-mode time ratio."""
    headers = ["module", "mode", "Module(...)", "Instance(...)", "Module+Instance",
               "eager / this (M+I)", "first call", "Module B/fn", "Instance B/fn"]
    out = []
    for r in rows:
        if r.status != "ok":
            cell = "ERROR" if r.status == "error" else "n/a"
            out.append([f"{r.functions:,} {r.kind}", r.mode] + [cell] * 7)
            continue
        total = r.module_s + r.instance_s
        eager = _find(rows, r.kind, r.functions, "eager")
        ratio = (eager.module_s + eager.instance_s) / total if eager and total else None
        out.append([f"{r.functions:,} {r.kind}", r.mode, fmt_time(r.module_s),
                    fmt_time(r.instance_s), fmt_time(total), fmt_ratio(ratio),
                    fmt_time(r.first_call_s),
                    _fmt_b(r.module_bpf), _fmt_b(r.instance_bpf)])
    return markdown_table(headers, out)


def targets(rows: list[CompileRow]) -> list[dict]:
    """The code-map budget and laziness targets, evaluated on the largest measured cases."""
    out = []
    empties = sorted({r.functions for r in rows if r.kind == "empty"})
    reals = [r.functions for r in rows if r.kind == "realistic"]
    if empties:
        n = empties[-1]
        for mode in ("lazy", "lazy-translation"):
            r = _find(rows, "empty", n, mode)
            out.append(_target(f"Module B/fn, {n:,} empty, {mode}",
                               r and r.module_bpf, "<=", 16))
        r = _find(rows, "empty", n, "lazy")
        out.append(_target(f"Instance B/fn, {n:,} empty, lazy", r and r.instance_bpf, "<=", 32))
    if reals:
        n = 10_000 if 10_000 in reals else max(reals)
        lazy, eager = _find(rows, "realistic", n, "lazy"), _find(rows, "realistic", n, "eager")
        both = lazy is not None and eager is not None
        out.append(_target(f"Module time lazy / eager, {n:,} functions",
                           both and lazy.module_s / eager.module_s, "<=", 0.25))
        out.append(_target(
            f"Module+Instance eager / lazy, {n:,} functions",
            both and (eager.module_s + eager.instance_s) / (lazy.module_s + lazy.instance_s),
            ">=", 20))
    return out


def _target(label: str, value, op: str, goal: float) -> dict:
    value = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    met = None if value is None else (value <= goal if op == "<=" else value >= goal)
    return {"target": label, "value": value, "goal": f"{op} {goal}", "met": met}


def targets_table(items: list[dict]) -> str:
    rows = [[t["target"], "n/a" if t["value"] is None else f"{t['value']:.3g}", t["goal"],
             {True: "yes", False: "NO", None: "n/a"}[t["met"]]] for t in items]
    return markdown_table(["target", "measured", "goal", "met"], rows)


def problems(rows: list[CompileRow]) -> list[str]:
    return [f"compile {r.functions} {r.kind} / {r.mode}: ERROR: {r.message}"
            for r in rows if r.status == "error"]
