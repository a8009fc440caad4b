"""Wall time of the full conformance run per compilation mode.

Times ``python -m spectest run --mode M --engine engine --suite top --json OUT`` over the
top-level testsuite (``WASM_TESTSUITE``; when unset, the shared pin if present, else
spectest's own default). Long, so it only runs with
``--conformance`` and never with ``--quick``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.compile_bench import MODES
from benchmarks.timing import fmt_time, markdown_table

DEFAULT_SUITE = "/work/shared/testsuite/d76759e"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ConformanceRow:
    mode: str
    seconds: float | None = None
    returncode: int | None = None
    summary: str = ""


def _summary(report: Path, mode: str) -> str:
    """``passed / present`` for the mode from the runner's JSON report (``totals[mode]``)."""
    try:
        data = json.loads(report.read_text())
        counts = data["totals"][mode]
        passed, present = int(counts["passed"]), int(counts["present"])
    except (OSError, ValueError, KeyError, TypeError):
        return "report without totals for this mode"
    pct = 100.0 * passed / present if present else 0.0
    return f"passed {passed} / {present} ({pct:.2f}%)"


def run_mode(mode: str, timeout: float, scripts: tuple[str, ...] = ()) -> ConformanceRow:
    """One run in a subprocess (``scripts`` empty: the whole top-level suite); the wall time
    includes interpreter start-up."""
    env = dict(os.environ)
    if "WASM_TESTSUITE" not in env and Path(DEFAULT_SUITE).is_dir():
        env["WASM_TESTSUITE"] = DEFAULT_SUITE  # else spectest finds its own checkout
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    row = ConformanceRow(mode)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / f"conformance-{mode}.json"
        cmd = [sys.executable, "-m", "spectest", "run", "--mode", mode, "--engine", "engine",
               "--suite", "top", "--json", str(report), *scripts]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            row.summary = f"timed out after {timeout:.0f} s"
            return row
        row.seconds = time.perf_counter() - start
        row.returncode = proc.returncode
        row.summary = _summary(report, mode)
        if not report.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            row.summary = f"no report: {tail[0] if tail else 'no output'}"
    return row


def run_all(timeout: float = 3600, progress=None) -> list[ConformanceRow]:
    rows = []
    for mode in MODES:
        if progress:
            progress(f"conformance {mode} ...")
        rows.append(run_mode(mode, timeout))
    return rows


def table(rows: list[ConformanceRow]) -> str:
    return markdown_table(
        ["mode", "wall time", "exit code", "commands"],
        [[r.mode, fmt_time(r.seconds), "n/a" if r.returncode is None else str(r.returncode),
          r.summary] for r in rows])
