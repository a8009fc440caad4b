"""Our engine on CPython (this process) against our engine on PyPy (a subprocess).

``python -m benchmarks --only pypy``: every kernel and every macro C program build
(benchmarks/macro), timed in both interpreters with the same size and number of runs;
kernel checksums are checked against the hand-written Python reference, a C program's
against CPython's result (which ``tests/test_macro.py`` checks against wasmtime). PyPy
gets more warm-up calls (its JIT compiles hot loops during the first ones); both report the
median of the timed runs. PyPy is ``pypy3`` on PATH or ``$BENCH_PYPY``; absent, the section
says so and is skipped (not a failure).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.macro.build import BUILDS
from benchmarks.macro.programs import PROGRAMS
from benchmarks.runners import load_ours, normalise, show
from benchmarks.suite import KERNELS
from benchmarks.timing import fmt_ratio, fmt_time, geomean, markdown_table, median_time

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "pypy_worker.py"
PYPY_WARMUP = 3
TIMEOUT = 1800


@dataclass
class Row:
    """One kernel in both interpreters (seconds per call; None when not measured)."""

    kernel: str
    size: int
    cpython: float | None
    pypy: float | None
    status: str  # ok | wrong | error
    message: str = ""

    @property
    def speedup(self) -> float | None:
        """CPython time over PyPy time."""
        if self.status != "ok" or not self.cpython or not self.pypy:
            return None
        return self.cpython / self.pypy


def pypy_path() -> str | None:
    return os.environ.get("BENCH_PYPY") or shutil.which("pypy3")


def pypy_version(exe: str) -> str:
    code = ("import sys; v = sys.pypy_version_info; "
            "print(f'PyPy {v.major}.{v.minor}.{v.micro} (Python {sys.version.split()[0]})')")
    out = subprocess.run([exe, "-c", code], capture_output=True, text=True, check=False)
    return out.stdout.strip() or out.stderr.strip()


def _run_pypy(exe: str, jobs: list[dict]) -> dict[str, dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([exe, str(WORKER)], input=json.dumps(jobs), capture_output=True,
                          text=True, env=env, timeout=TIMEOUT, check=False)
    out = {}
    for line in proc.stdout.splitlines():
        rec = json.loads(line)
        out[rec["name"]] = rec
    if proc.returncode and not out:
        raise RuntimeError(f"pypy worker failed: {proc.stderr.strip()[-500:]}")
    return out


def _jobs(quick: bool, runs: int, mode: str | None) -> list[dict]:
    """The worker's jobs: every kernel, then every C program build (``name.build``)."""
    warmup = 1 if quick else PYPY_WARMUP
    jobs = [{"name": k.name, "wasm": str(k.wasm_path),
             "size": k.quick_size if quick else k.size} for k in KERNELS]
    jobs += [{"name": f"{p.name}.{b}", "wasm": str(p.path(b)),
              "size": p.quick_size if quick else p.size} for p in PROGRAMS for b in BUILDS]
    for job in jobs:
        job.update(runs=runs, warmup=warmup, mode=mode)
    return jobs


def _row(name: str, n: int, wasm: bytes, mode: str | None, runs: int, rec: dict,
         norm: Callable[[object], int], expected: int | None,
         shown: Callable[[int], str]) -> Row:
    """Time ``run(n)`` on CPython and check both interpreters' checksums: against
    ``expected``, or against CPython's own result when it is None."""
    run = load_ours(wasm, mode)
    cp_seconds, cp_results = median_time(lambda: run(n), runs)
    row = Row(name, n, cp_seconds, rec.get("seconds"), "ok")
    got = [norm(r) for r in list(cp_results) + rec.get("results", [])]
    want = got[0] if expected is None else expected
    if "error" in rec:
        row.status, row.message = "error", rec["error"]
    elif any(g != want for g in got):
        bad = next(g for g in got if g != want)
        row.status, row.message = "wrong", f"checksum {shown(bad)} != expected {shown(want)}"
    return row


def run_all(quick: bool, runs: int, mode: str | None = None,
            progress: Callable[[str], None] | None = None) -> tuple[str, list[Row]]:
    """Measure every kernel and C program build; returns the PyPy version and the rows
    ([] without PyPy)."""
    exe = pypy_path()
    if exe is None:
        return "", []
    runs = 1 if quick else runs
    jobs = _jobs(quick, runs, mode)
    sizes = {j["name"]: j["size"] for j in jobs}
    if progress:
        progress("pypy: all kernels and C programs in a pypy3 subprocess ...")
    pypy = _run_pypy(exe, jobs)
    missing = {"error": "no result from the pypy worker"}
    rows = []
    for k in KERNELS:
        n = sizes[k.name]
        if progress:
            progress(f"pypy: {k.name} on CPython ...")
        rows.append(_row(k.name, n, k.wasm_bytes(), mode, runs, pypy.get(k.name, missing),
                         lambda v, k=k: normalise(k.result, v),
                         normalise(k.result, k.python(n)),
                         lambda v, k=k: show(k.result, v)))
    for p in PROGRAMS:
        for b in BUILDS:
            name = f"{p.name}.{b}"
            if progress:
                progress(f"pypy: {name} on CPython ...")
            rows.append(_row(name, sizes[name], p.wasm(b), mode, runs,
                             pypy.get(name, missing), p.normalise, None, str))
    return pypy_version(exe), rows


def table(rows: list[Row]) -> str:
    """CPython vs PyPy side by side, with the speed-up per kernel / C program build and the
    geometric means of the kernels, of the C programs and of both."""
    kernels = {k.name for k in KERNELS}
    body = []
    for r in rows:
        cp = fmt_time(r.cpython)
        py = fmt_time(r.pypy) if r.status == "ok" else r.status.upper()
        body.append([r.kernel, str(r.size), cp, py, fmt_ratio(r.speedup)])
    for label, chosen in (("kernels", [r for r in rows if r.kernel in kernels]),
                          ("C programs", [r for r in rows if r.kernel not in kernels]),
                          ("all", rows)):
        body.append([f"**geometric mean, {label}**", "", "", "",
                     fmt_ratio(geomean([r.speedup for r in chosen]))])
    return markdown_table(["kernel / program.build", "size", "ours on CPython",
                           "ours on PyPy", "CPython / PyPy"], body)


def problems(rows: list[Row]) -> list[str]:
    return [f"pypy / {r.kernel}: {r.status.upper()}: {r.message}" for r in rows
            if r.status != "ok"]


def main(argv: list[str] | None = None) -> int:
    """Standalone: ``python -m benchmarks.pypy_compare [--quick]``."""
    argv = sys.argv[1:] if argv is None else argv
    version, rows = run_all("--quick" in argv, 5, progress=lambda m: print(m, file=sys.stderr))
    if not rows:
        print("pypy3 not found (PATH or BENCH_PYPY)")
        return 0
    print(version)
    print(table(rows))
    return 1 if problems(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
