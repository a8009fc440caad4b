"""Command line: ``python -m spectest run ...`` and ``python -m spectest badge ...``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from spectest import report as rep
from spectest.adapters import Adapter, get_adapter
from spectest.badge import figure, svg
from spectest.convert import FLAGS, wabt_version
from spectest.manifest import MANIFEST_PATH, Manifest
from spectest.runner import ScriptResult, run_script
from spectest.suites import Script, SuiteNotFound, pin_of, select, testsuite_root

MODES = ("eager", "lazy-translation", "lazy")
MAX_LISTED_FAILURES = 30

_ADAPTERS: dict[str, Adapter] = {}


def _adapter(name: str) -> Adapter:
    if name not in _ADAPTERS:
        _ADAPTERS[name] = get_adapter(name)
    return _ADAPTERS[name]


def run_one(job: tuple[Script, str, str, str, float, tuple[str, ...]]) -> ScriptResult:
    """Run one (script, mode) job; top level so that worker processes can run it."""
    script, mode, engine, manifest_path, timeout, flags = job
    manifest = Manifest(Path(manifest_path))
    expect = manifest.expectations(engine, mode, script.id)
    return run_script(script, mode, _adapter(engine), expect, timeout, flags)


def parse_modes(text: str, known: list[str]) -> list[str]:
    """``all`` or a comma-separated list of modes."""
    if text == "all":
        return list(known)
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in known]
    if bad:
        raise SystemExit(f"unknown mode(s) {bad}; choose from {known} or all")
    return modes


def _failures_of(result: ScriptResult) -> list[str]:
    return [f"{result.script}:{c.line}: {c.detail}" for c in result.failures()]


def cmd_run(args: argparse.Namespace) -> int:
    manifest = Manifest(Path(args.manifest))
    modes = parse_modes(args.mode, manifest.modes)
    suites = manifest.default_suites[:1] if not args.suite else args.suite.split(",")
    try:
        scripts = select(manifest.scripts(suites), args.scripts)
        pin = pin_of(testsuite_root()) if any(s != "own" for s in suites) else manifest.pin
        if manifest.pin.startswith(pin):  # a short folder name: report the full commit
            pin = manifest.pin
    except SuiteNotFound as exc:
        print(exc, file=sys.stderr)
        return 2
    if not scripts:
        print("no scripts selected", file=sys.stderr)
        return 2
    timeout = manifest.timeout if args.timeout is None else args.timeout
    jobs = [(s, m, args.engine, str(manifest.path), timeout,
             manifest.flags(s.suite) if s.suite in manifest.suites else FLAGS)
            for s in scripts for m in modes]
    start = time.perf_counter()
    results: list[ScriptResult] = []

    def done(r: ScriptResult) -> None:
        results.append(r)
        c = r.counts()
        print(f"[{len(results)}/{len(jobs)}] {r.script} [{r.mode}] {c['passed']}/{c['present']}"
              f" passed, {c['failed']} failed, {c['xfailed']} xfailed ({r.seconds:.1f} s)",
              file=sys.stderr)
        if args.failures:
            for line in _failures_of(r)[:MAX_LISTED_FAILURES]:
                print("  " + line[:400], file=sys.stderr)

    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            for r in pool.map(run_one, jobs):
                done(r)
    else:
        for job in jobs:
            done(run_one(job))
    failures: dict[str, dict[str, list[str]]] = {}
    for r in results:
        listed = _failures_of(r)
        if listed:
            failures.setdefault(r.script, {})[r.mode] = listed[:MAX_LISTED_FAILURES]
    report = rep.build(args.engine, pin, wabt_version(), modes,
                       ((r.script, r.mode, r.counts()) for r in results), failures)
    if args.json:
        rep.write(report, args.json)
    if args.update_manifest:
        n = manifest.update(args.engine, results)
        print(f"manifest: {n} expected failures of {args.engine} written to {manifest.path}",
              file=sys.stderr)
    print(rep.table(report))
    failing = sorted({r.script for r in results if r.failures()})
    print(f"scripts with failures: {len(failing)}" + (f" ({', '.join(failing[:20])}"
                                                      f"{' ...' if len(failing) > 20 else ''})"
                                                      if failing else ""))
    print(f"wall time: {time.perf_counter() - start:.1f} s")
    totals = rep.zero()
    for c in report["totals"].values():
        rep.add(totals, c)
    return 1 if totals["failed"] and not args.update_manifest else 0


def cmd_badge(args: argparse.Namespace) -> int:
    import json

    with open(args.report, encoding="utf-8") as f:
        report: dict[str, Any] = json.load(f)
    value = figure(report, args.mode, args.suite)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(svg(value, args.label), encoding="utf-8")
    print(f"{args.output}: {value:.2f}%")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m spectest",
        description="Run the official WebAssembly testsuite through an engine.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run scripts and print a table (and a JSON report)",
                         description="Run .wast scripts through an engine, command by command.")
    run.add_argument("scripts", nargs="*",
                     help="script names, ids, globs or substrings (default: the whole suite)")
    run.add_argument("--mode", default="all",
                     help="eager, lazy-translation, lazy, a comma list, or all (default)")
    run.add_argument("--engine", default=os.environ.get("SPECTEST_ENGINE", "engine"),
                     choices=["engine", "wasmtime"], help="adapter to run (default: engine)")
    run.add_argument("--suite", default=None,
                     help="top (default), relaxed-simd, own, or a comma list")
    run.add_argument("--json", metavar="REPORT.json", help="write the report here")
    run.add_argument("--timeout", type=float, default=None,
                     help="per-command time limit in seconds (hang guard; 0 = none)")
    run.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1)")
    run.add_argument("--failures", action="store_true", help="list failing commands")
    run.add_argument("--manifest", default=str(MANIFEST_PATH), help="manifest YAML")
    run.add_argument("--update-manifest", action="store_true",
                     help="rewrite this engine's expected failures from this run")
    run.set_defaults(func=cmd_run)
    badge = sub.add_parser("badge", help="write an SVG badge from a report",
                           description="Write an SVG badge: passed/present of a report.")
    badge.add_argument("report", help="REPORT.json")
    badge.add_argument("-o", "--output", default="badge.svg", help="SVG file to write")
    badge.add_argument("--mode", default=None, help="one mode (default: all modes summed)")
    badge.add_argument("--suite", default=None, help="one suite (default: all)")
    badge.add_argument("--label", default="wasm spec", help="left-hand text")
    badge.set_defaults(func=cmd_badge)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m spectest``."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))
