"""Execution benchmarks: every kernel in every available engine, checksums verified.

A kernel that computes a different checksum from the hand-written Python reference (at the
same size) is a failure: it is marked WRONG in the table and makes the run exit non-zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from benchmarks.runners import WASM_ENGINES, RunFn, Unavailable, normalise, show
from benchmarks.suite import KERNELS, Kernel
from benchmarks.timing import fmt_ratio, fmt_time, geomean, markdown_table, median_time


@dataclass
class Measurement:
    """One engine on one kernel."""

    engine: str
    status: str = "n/a"  # ok | n/a | error | wrong
    size: int = 0
    seconds: float | None = None
    per_unit: float | None = None
    checksum: str = ""
    message: str = ""


@dataclass
class KernelResult:
    kernel: Kernel
    size: int
    cells: dict[str, Measurement] = field(default_factory=dict)

    def ratio(self, slow: str, fast: str) -> float | None:
        """Per-unit time of ``slow`` divided by that of ``fast`` (both must be ok)."""
        a, b = self.cells.get(slow), self.cells.get(fast)
        if not a or not b or a.status != "ok" or b.status != "ok" or not b.per_unit:
            return None
        return a.per_unit / b.per_unit


@dataclass
class Options:
    quick: bool = False
    runs: int = 5
    engines: tuple[str, ...] = ("ours", "pywasm", "wasmtime")
    kernels: tuple[str, ...] = ()  # empty: all
    mode: str | None = None  # our engine's compilation mode (None: Config default)


def _measure(kernel: Kernel, engine: str, n: int, load: Callable[[], RunFn], runs: int,
             expected: object) -> Measurement:
    """Load, warm up, time ``runs`` calls; check every result against ``expected``."""
    m = Measurement(engine, size=n)
    try:
        run = load()
        seconds, results = median_time(lambda: run(n), runs)
    except Unavailable as exc:
        m.message = str(exc)
        return m
    except Exception as exc:  # noqa: BLE001 - an engine failure is a reported result
        m.status, m.message = "error", f"{type(exc).__name__}: {exc}"
        return m
    got = [normalise(kernel.result, r) for r in results]
    m.seconds, m.per_unit = seconds, seconds / max(1, kernel.work(n))
    m.checksum = show(kernel.result, got[-1])
    bad = [g for g in got if g != expected]
    if bad:
        m.status = "wrong"
        m.message = (f"checksum {show(kernel.result, bad[0])} != expected "
                     f"{show(kernel.result, expected)} at size {n}")
    else:
        m.status = "ok"
    return m


def run_kernel(kernel: Kernel, opts: Options) -> KernelResult:
    """All enabled engines on one kernel; hand-written Python is the reference."""
    size = kernel.quick_size if opts.quick else kernel.size
    runs = 1 if opts.quick else opts.runs
    res = KernelResult(kernel, size)
    ref_seconds, ref_results = median_time(lambda: kernel.python(size), runs)
    expected = normalise(kernel.result, ref_results[0])
    py = Measurement("python", "ok", size, ref_seconds, ref_seconds / max(1, kernel.work(size)),
                     show(kernel.result, expected))
    if any(normalise(kernel.result, r) != expected for r in ref_results):
        py.status, py.message = "wrong", "hand-written Python is not deterministic"
    res.cells["python"] = py
    wasm = kernel.wasm_bytes()
    for name in opts.engines:
        loader = WASM_ENGINES[name]
        args = (wasm, opts.mode) if name == "ours" and opts.mode is not None else (wasm,)
        n = min(size, kernel.pywasm_size) if name == "pywasm" else size
        if name in kernel.unsupported_by:
            res.cells[name] = Measurement(name, "n/a", n, message="engine lacks a feature")
            continue
        exp = expected if n == size else normalise(kernel.result, kernel.python(n))
        res.cells[name] = _measure(kernel, name, n, partial(loader, *args), runs, exp)
    return res


def run_all(opts: Options, progress: Callable[[str], None] | None = None) -> list[KernelResult]:
    """Every selected kernel, in suite order."""
    out = []
    for kernel in KERNELS:
        if opts.kernels and kernel.name not in opts.kernels:
            continue
        if progress:
            progress(f"kernel {kernel.name} ...")
        out.append(run_kernel(kernel, opts))
    return out


def _cell(m: Measurement | None) -> str:
    if m is None:
        return "-"
    if m.status == "ok":
        return fmt_time(m.seconds)
    return {"n/a": "n/a", "error": "ERROR", "wrong": "WRONG"}[m.status]


def table(results: list[KernelResult]) -> str:
    """The comparison table with per-unit ratios and their geometric means."""
    headers = ["kernel", "size", "Python (hand)", "ours", "ours / Python",
               "pywasm (size)", "pywasm / ours (per unit)", "wasmtime", "ours / wasmtime"]
    rows, r_py, r_pw, r_wt = [], [], [], []
    for r in results:
        pw = r.cells.get("pywasm")
        a, b, c = r.ratio("ours", "python"), r.ratio("pywasm", "ours"), r.ratio("ours", "wasmtime")
        r_py.append(a)
        r_pw.append(b)
        r_wt.append(c)
        pw_cell = _cell(pw)
        if pw is not None and pw.status == "ok":
            pw_cell += f" (n={pw.size})"
        size = f"{r.size} ({r.kernel.unit}s: {r.kernel.work(r.size)})"
        rows.append([f"{r.kernel.name}: {r.kernel.description}", size, _cell(r.cells.get("python")),
                     _cell(r.cells.get("ours")), fmt_ratio(a), pw_cell, fmt_ratio(b),
                     _cell(r.cells.get("wasmtime")), fmt_ratio(c)])
    rows.append(["**geometric mean**", "", "", "", fmt_ratio(geomean(r_py)), "",
                 fmt_ratio(geomean(r_pw)), "", fmt_ratio(geomean(r_wt))])
    return markdown_table(headers, rows)


def problems(results: list[KernelResult]) -> list[str]:
    """Errors and wrong checksums, one line each (n/a is not a problem)."""
    out = []
    for r in results:
        for m in r.cells.values():
            if m.status in ("error", "wrong"):
                out.append(f"{r.kernel.name} / {m.engine}: {m.status.upper()}: {m.message}")
    return out


def to_json(results: list[KernelResult]) -> list[dict]:
    """Raw figures for --json."""
    return [{
        "kernel": r.kernel.name, "size": r.size, "unit": r.kernel.unit,
        "work": r.kernel.work(r.size),
        "engines": {name: vars(m) for name, m in r.cells.items()},
        "ratios": {"ours_over_python": r.ratio("ours", "python"),
                   "pywasm_over_ours_per_unit": r.ratio("pywasm", "ours"),
                   "ours_over_wasmtime": r.ratio("ours", "wasmtime")},
    } for r in results]


def unavailable(results: list[KernelResult]) -> dict[str, str]:
    """Why each n/a engine was not run (first reason seen per engine)."""
    out: dict[str, str] = {}
    for r in results:
        for m in r.cells.values():
            if m.status == "n/a":
                out.setdefault(m.engine, m.message)
    return out
