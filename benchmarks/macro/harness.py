"""The macro benchmark: each program and build in our engine, pywasm and wasmtime.

wasmtime is the reference: every result any engine returns is checked against wasmtime's
at the same size (when wasmtime is missing, against our engine's, and the table says so).
Ratios compare time per unit of work, so pywasm may run a smaller size. A separate pass
measures the memory of compiled code: bytes retained (tracemalloc) by ``Module(...)`` in
eager mode plus ``compile_all()``, per byte of function bodies, the binary excluded.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

from benchmarks.macro.programs import PROGRAMS, Program, build_names
from benchmarks.runners import WASM_ENGINES, RunFn, Unavailable
from benchmarks.timing import fmt_ratio, fmt_time, geomean, markdown_table

Progress = Callable[[str], None]

#: The engines the macro table compares (pywasm at its own smaller sizes).
ENGINES = ("ours", "pywasm", "wasmtime")


@dataclass
class Options:
    quick: bool = False
    runs: int = 5
    engines: tuple[str, ...] = ENGINES
    programs: tuple[str, ...] = ()  # empty: all
    builds: tuple[str, ...] = ()  # empty: all
    mode: str | None = None  # our engine's compilation mode (None: Config's default)
    memory: bool = True  # the compiled-size pass


@dataclass
class Cell:
    """One engine on one program build."""

    engine: str
    status: str = "n/a"  # ok | n/a | error | wrong
    size: int = 0
    seconds: float | None = None
    per_unit: float | None = None
    checksum: int | None = None
    message: str = ""


@dataclass
class BuildResult:
    program: Program
    build: str
    size: int
    reference: str = "wasmtime"
    cells: dict[str, Cell] = field(default_factory=dict)
    retained: float | None = None  # bytes retained per byte of function bodies
    compiled: float | None = None  # the compiled code's share of it (module record excluded)
    body_bytes: int = 0

    def ratio(self, slow: str, fast: str) -> float | None:
        """Per-unit time of ``slow`` over ``fast`` (both must be ok)."""
        a, b = self.cells.get(slow), self.cells.get(fast)
        if not a or not b or a.status != "ok" or b.status != "ok" or not b.per_unit:
            return None
        return a.per_unit / b.per_unit


class Reference:
    """Expected checksums by size, computed once each by the reference engine."""

    def __init__(self, program: Program, wasm: bytes, mode: str | None) -> None:
        self.program = program
        self.results: dict[int, int] = {}
        try:
            self.engine, self.run = "wasmtime", WASM_ENGINES["wasmtime"](wasm)
        except Unavailable:
            args = (wasm,) if mode is None else (wasm, mode)
            self.engine, self.run = "ours", WASM_ENGINES["ours"](*args)

    def __call__(self, n: int) -> int:
        if n not in self.results:
            self.results[n] = self.program.normalise(self.run(n))
        return self.results[n]


class _Timed(NamedTuple):
    """One engine's part of an interleaved measurement."""

    n: int
    load: Callable[[], RunFn]
    runs: int


def _measure(prog: Program, engine: str, n: int, load: Callable[[], RunFn], runs: int,
             expected: Callable[[int], int]) -> Cell:
    """One engine alone: :func:`_measure_together` of one."""
    return _measure_together(prog, {engine: _Timed(n, load, runs)}, expected)[engine]


#: Seconds one timed sample lasts at least: a fast engine's sample is several calls, so
#: every engine's samples span the same stretches of time (see _measure_together).
SAMPLE_SECONDS = 0.5


def _measure_together(prog: Program, timed: dict[str, _Timed],
                      expected: Callable[[int], int]) -> dict[str, Cell]:
    """Load each engine and warm it up (first call: the lazy modes compile here), then
    time the engines in interleaved rounds, one sample of each per round until each has
    its ``runs``; a call's time is the median sample over the sample's calls.

    This machine's speed drifts: a pure-Python loop timed every 25 ms for a minute ran
    between 18 and 32 ms, in phases of seconds. Timed one after the other, one engine could
    run in a slow phase and the other in a fast one; and a 100 ms call lands in one phase
    where pywasm's 1 s call averages over several, which moved single ratios by up to 20%
    between runs. So the engines take turns, and each sample lasts at least
    :data:`SAMPLE_SECONDS` (a fast engine's sample is several consecutive calls)."""
    cells = {name: Cell(name, size=t.n) for name, t in timed.items()}
    runs: dict[str, RunFn] = {}
    results: dict[str, list] = {}
    reps: dict[str, int] = {}
    for name, t in timed.items():
        try:
            run = t.load()
            results[name] = [run(t.n)]
            reps[name] = _calls_per_sample(run, t.n, results[name], t.runs)
            runs[name] = run
        except Unavailable as exc:
            cells[name].message = str(exc)
        except Exception as exc:  # noqa: BLE001 - an engine failure is a reported result
            cells[name].status, cells[name].message = "error", f"{type(exc).__name__}: {exc}"
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(max((timed[name].runs for name in runs), default=0)):
        for name, run in list(runs.items()):
            if len(times[name]) >= max(1, timed[name].runs):
                continue
            n, k = timed[name].n, reps[name]
            try:
                start = time.perf_counter()
                for _ in range(k):
                    results[name].append(run(n))
                times[name].append((time.perf_counter() - start) / k)
            except Exception as exc:  # noqa: BLE001 - an engine failure is a reported result
                cells[name].status, cells[name].message = "error", f"{type(exc).__name__}: {exc}"
                del runs[name]
    for name in runs:
        _judge(prog, cells[name], statistics.median(times[name]), results[name], expected)
    return cells


def _calls_per_sample(run: RunFn, n: int, results: list, runs: int) -> int:
    """Calls per timed sample: enough to last :data:`SAMPLE_SECONDS` (one call, untimed
    like the warm-up, measures a call; none for one run, the quick form)."""
    if runs <= 1:
        return 1
    start = time.perf_counter()
    results.append(run(n))
    took = time.perf_counter() - start
    return max(1, min(1000, round(SAMPLE_SECONDS / max(took, 1e-6))))


def _judge(prog: Program, cell: Cell, seconds: float, results: list,
           expected: Callable[[int], int]) -> None:
    """Fill ``cell`` from an engine's timing and every result it returned."""
    try:
        want = expected(cell.size)
    except Exception as exc:  # noqa: BLE001 - the reference failing is a reported result
        cell.status, cell.message = "error", f"reference: {type(exc).__name__}: {exc}"
        return
    got = [prog.normalise(r) for r in results]
    cell.seconds, cell.per_unit, cell.checksum = seconds, seconds / cell.size, got[-1]
    bad = [g for g in got if g != want]
    cell.status = "wrong" if bad else "ok"
    if bad:
        cell.message = f"checksum {bad[0]} != reference {want} at n={cell.size}"


def run_build(prog: Program, build: str, opts: Options) -> BuildResult:
    """Every enabled engine on one program build, timed in interleaved rounds."""
    wasm = prog.wasm(build)
    size = prog.quick_size if opts.quick else prog.size
    res = BuildResult(prog, build, size)
    ref = Reference(prog, wasm, opts.mode)
    res.reference = ref.engine
    timed = {}
    for name in opts.engines:
        args = (wasm, opts.mode) if name == "ours" and opts.mode is not None else (wasm,)
        n, runs = size, (1 if opts.quick else opts.runs)
        if name == "pywasm":
            n, runs = (1 if opts.quick else prog.pywasm_sizes[build]), min(runs, 3)
        timed[name] = _Timed(n, partial(WASM_ENGINES[name], *args), runs)
    res.cells.update(_measure_together(prog, timed, ref))
    return res


def retained_bytes(wasm: bytes, compiled: bool = True) -> tuple[int, int]:
    """(bytes retained by an eagerly compiled Module, bytes of function bodies); with
    ``compiled=False``, by the same Module in lazy mode before any call: the module record
    alone (decoded sections, exports, types; no function compiled).

    The binary is copied inside the traced window and its size subtracted: the module's
    reference to its input is not compiled code.
    """
    from engine import Config, Engine, Module

    engine = Engine(Config(compilation_mode="eager" if compiled else "lazy"))
    gc.collect()
    tracemalloc.start()
    try:
        data = bytes(bytearray(wasm))
        module = Module(engine, data)
        if compiled:
            module.compile_all()
        gc.collect()
        current = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    body = sum(module.info.code_lengths)
    return current - sys.getsizeof(data), body


def min_retained(wasm: bytes, tries: int = 3, compiled: bool = True) -> tuple[int, int]:
    """The smallest of ``tries`` measurements: an interpreter-wide table that happens to
    grow inside the traced window (the interned-string dict: 400 KB seen on one window
    out of three) is not the module's memory."""
    return min(retained_bytes(wasm, compiled) for _ in range(tries))


def compiled_share(wasm: bytes, retained: int) -> int:
    """What compiling every body adds to the module record: ``retained`` (eager, all
    compiled) minus the lazy-mode Module before any call. Small modules carry a few KB of
    fixed records (sections, exports, types) that do not grow with the code."""
    return retained - min_retained(wasm, compiled=False)[0]


def measure_memory(results: list[BuildResult], progress: Progress | None) -> None:
    """Fill ``retained``/``compiled``/``body_bytes``. Warms the engine up on every *other*
    program of the same build first, so that one-time imports and process-wide tables (the
    SIMD helper namespace, made when a first function uses SIMD) are not charged to the
    measured program, while its own constants are not pre-cached either."""
    for r in results:
        if progress:
            progress(f"macro memory {r.program.name}.{r.build} ...")
        for other in PROGRAMS:
            if other.name != r.program.name:
                retained_bytes(other.wasm(r.build))
        wasm = r.program.wasm(r.build)
        retained, body = min_retained(wasm)
        r.retained, r.body_bytes = retained / body, body
        r.compiled = compiled_share(wasm, retained) / body


@dataclass
class BigModule:
    """The compiled-size figure of the big module (``bigmodule.py``), when measured."""

    functions: int
    body_bytes: int
    retained: int
    compiled: int  # the compiled code's share of ``retained``

    def line(self) -> str:
        return (f"Big module (`benchmarks/macro/wasm/big.wasm`: generated C + wasi-libc, "
                f"{self.functions:,} functions, {self.body_bytes:,} bytes of bodies): "
                f"**{self.retained / self.body_bytes:.2f}** bytes retained per byte of body "
                f"({self.retained:,} bytes) after eager compilation, least of 3; "
                f"{self.compiled / self.body_bytes:.2f} of them are the compiled code "
                f"(the rest: the module record).")


def measure_big(progress: Progress | None = None) -> BigModule | None:
    """Bytes the big module's eager compilation retains (None when it is not built)."""
    from benchmarks.macro.build import BIG
    from engine.binary import decode_module

    if not BIG.exists():
        return None
    if progress:
        progress("macro memory big module (3 eager compilations) ...")
    wasm = BIG.read_bytes()
    retained, body = min_retained(wasm)
    return BigModule(len(decode_module(wasm).funcs), body, retained,
                     compiled_share(wasm, retained))


def run_all(opts: Options, progress: Progress | None = None) -> list[BuildResult]:
    """Every selected program and build, programs in suite order."""
    out = []
    for prog in PROGRAMS:
        if opts.programs and prog.name not in opts.programs:
            continue
        for build in build_names():
            if opts.builds and build not in opts.builds:
                continue
            if progress:
                progress(f"macro {prog.name}.{build} ...")
            out.append(run_build(prog, build, opts))
    if opts.memory:
        measure_memory(out, progress)
    return out


def _cell(c: Cell | None) -> str:
    if c is None:
        return "-"
    if c.status == "ok":
        return fmt_time(c.seconds)
    return {"n/a": "n/a", "error": "ERROR", "wrong": "WRONG"}[c.status]


def table(results: list[BuildResult]) -> str:
    """Per program and build: times, per-unit ratios, compiled size; geomeans per build."""
    headers = ["program", "build", "n", "ours", "pywasm (n)", "pywasm / ours",
               "wasmtime", "ours / wasmtime", "retained B / body B (body)",
               "compiled B / body B"]
    rows = []
    for r in results:
        pw = r.cells.get("pywasm")
        pw_cell = _cell(pw) + (f" ({pw.size})" if pw is not None and pw.status == "ok" else "")
        mem = "n/a" if r.retained is None else f"{r.retained:.1f} ({r.body_bytes} B)"
        code = "n/a" if r.compiled is None else f"{r.compiled:.1f}"
        rows.append([r.program.name, r.build, f"{r.size} {r.program.unit}s",
                     _cell(r.cells.get("ours")), pw_cell, fmt_ratio(r.ratio("pywasm", "ours")),
                     _cell(r.cells.get("wasmtime")), fmt_ratio(r.ratio("ours", "wasmtime")), mem,
                     code])
    for build in dict.fromkeys(r.build for r in results):
        sel = [r for r in results if r.build == build]
        mem = geomean([r.retained for r in sel if r.retained])
        code = geomean([r.compiled for r in sel if r.compiled])
        rows.append([f"**geometric mean {build}**", "", "", "", "",
                     fmt_ratio(geomean([r.ratio("pywasm", "ours") for r in sel])), "",
                     fmt_ratio(geomean([r.ratio("ours", "wasmtime") for r in sel])),
                     "n/a" if mem is None else f"{mem:.1f}",
                     "n/a" if code is None else f"{code:.1f}"])
    return markdown_table(headers, rows)


def _build_ratio(by: dict, prog: str, build: str, engine: str) -> float | None:
    """Per-unit time of ``build`` over the -O2 build of ``prog`` in ``engine``."""
    a, b = by.get((prog, build)), by.get((prog, "O2"))
    if a is None or b is None:
        return None
    ca, cb = a.cells.get(engine), b.cells.get(engine)
    if not ca or not cb or ca.status != "ok" or cb.status != "ok":
        return None
    return ca.per_unit / cb.per_unit


def build_table(results: list[BuildResult]) -> str:
    """Per program: -O0 / -O2 and -O3 -msimd128 / -O2 time ratios, ours and wasmtime."""
    by = {(r.program.name, r.build): r for r in results}
    cols = [("O0", "ours"), ("O0", "wasmtime"), ("O3simd", "ours"), ("O3simd", "wasmtime")]
    headers = ["program"] + [f"{e} {b}/O2" for b, e in cols]
    rows, per_col = [], {c: [] for c in cols}
    for prog in dict.fromkeys(r.program.name for r in results):
        row = [prog]
        for b, e in cols:
            v = _build_ratio(by, prog, b, e)
            per_col[(b, e)].append(v)
            row.append(fmt_ratio(v))
        rows.append(row)
    rows.append(["**geometric mean**"] + [fmt_ratio(geomean(per_col[c])) for c in cols])
    return markdown_table(headers, rows)


def problems(results: list[BuildResult]) -> list[str]:
    """Errors and wrong checksums, one line each (n/a is not a problem)."""
    return [f"macro {r.program.name}.{r.build} / {c.engine}: {c.status.upper()}: {c.message}"
            for r in results for c in r.cells.values() if c.status in ("error", "wrong")]


def to_json(results: list[BuildResult]) -> list[dict]:
    """Raw figures for --json."""
    return [{
        "program": r.program.name, "build": r.build, "size": r.size, "unit": r.program.unit,
        "reference": r.reference, "engines": {n: vars(c) for n, c in r.cells.items()},
        "retained_per_body_byte": r.retained, "compiled_per_body_byte": r.compiled,
        "body_bytes": r.body_bytes,
        "ratios": {"pywasm_over_ours": r.ratio("pywasm", "ours"),
                   "ours_over_wasmtime": r.ratio("ours", "wasmtime")},
    } for r in results]


def section(opts: Options, progress: Progress | None = None) -> tuple[list[str], dict, list]:
    """The README-ready markdown section, the JSON figures and the problems."""
    results = run_all(opts, progress)
    big = measure_big(progress) if opts.memory and not opts.quick else None
    runs = "1 run" if opts.quick else f"median of {opts.runs} runs (pywasm: of " \
        f"{min(opts.runs, 3)}) after 1 warm-up, the engines' samples interleaved, each at " \
        f"least {SAMPLE_SECONDS} s of consecutive calls"
    mode = opts.mode or "the default mode (Config())"
    refs = sorted({r.reference for r in results})
    lines = [
        "## Macro benchmarks (C programs built by clang)", "",
        (f"Freestanding C programs in `benchmarks/macro/src`, built by "
         f"`python -m benchmarks.macro.build` at -O2, -O0 and -O3 -msimd128. Times are per "
         f"call of `run(n)` ({runs}); ours runs in {mode}. Ratios compare time per unit of "
         f"work, so pywasm runs a smaller n (shown). Every result is checked against "
         f"{' and '.join(refs)} at the same n. `retained B / body B`: bytes that "
         f"`Module(...)` in eager mode plus `compile_all()` keeps (tracemalloc, the binary "
         f"excluded, least of 3) per byte of function bodies; `compiled B / body B`: the "
         f"part of it that compiling adds (the same Module in lazy mode before any call, "
         f"its fixed module record, subtracted)."), "",
        table(results), ""] + ([big.line(), ""] if big else []) + [
        "Build ratios (time per unit of work against the -O2 build):", "",
        build_table(results), ""]
    figures = {"programs": to_json(results), "big_module": vars(big) if big else None}
    return lines, figures, problems(results)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.macro.harness``: the macro section alone, with filters."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m benchmarks.macro.harness", description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--mode", choices=("eager", "lazy-translation", "lazy"))
    p.add_argument("--program", action="append", default=[])
    p.add_argument("--build", action="append", default=[], choices=build_names())
    p.add_argument("--engines", default="ours,pywasm,wasmtime")
    p.add_argument("--no-memory", action="store_true")
    a = p.parse_args(argv)
    opts = Options(a.quick, a.runs, tuple(a.engines.split(",")), tuple(a.program),
                   tuple(a.build), a.mode, not a.no_memory)
    lines, _, bad = section(opts, lambda m: print(m, file=sys.stderr, flush=True))
    print("\n".join(lines + [f"- {b}" for b in bad]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
