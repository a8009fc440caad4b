"""Command line: ``python -m spectest run|compare|badge ...`` (``--help`` on each)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectest import report as rep
from spectest.adapters import Adapter, SessionSpec, adapter_names, get_adapter
from spectest.badge import badge_figure, svg
from spectest.manifest import MANIFEST_PATH, Manifest
from spectest.runner import DEFAULT_CONVERTERS, ScriptResult, run_script
from spectest.suites import Script, SuiteNotFound, select, unmatched

MAX_LISTED_FAILURES = 30
#: Suite name of scripts given as paths (``python -m spectest run ./my.wast``).
PATH_SUITE = "file"

_ADAPTERS: dict[str, Adapter] = {}


def _adapter(name: str) -> Adapter:
    if name not in _ADAPTERS:
        _ADAPTERS[name] = get_adapter(name)
    return _ADAPTERS[name]


@dataclass(frozen=True)
class Job:
    """One (script, mode) to run, with what its suite prescribes."""

    script: Script
    mode: str
    engine: str
    manifest_path: str
    timeout: float
    flags: tuple[str, ...] = ()
    converters: tuple[str, ...] = DEFAULT_CONVERTERS
    features: dict[str, bool] = field(default_factory=dict)


def run_one(job: Job) -> ScriptResult:
    """Run one job; top level so that worker processes can run it."""
    manifest = Manifest(Path(job.manifest_path))
    expect = manifest.expectations(job.engine, job.mode, job.script.id)
    spec = SessionSpec(job.mode, job.script.suite, job.script.pin, job.features,
                       manifest.reworded(job.script.pin))
    return run_script(job.script, job.mode, _adapter(job.engine), expect, job.timeout,
                      job.flags, job.converters, spec)


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


class UsageError(Exception):
    """A selection the CLI cannot run (printed, exit code 2)."""


def _path_scripts(paths: list[Path]) -> list[Script]:
    out: list[Script] = []
    for path in paths:
        files = sorted(path.glob("*.wast")) if path.is_dir() else [path]
        if not files:
            raise UsageError(f"{path}: no .wast files")
        out.extend(Script(f"{PATH_SUITE}/{f.name}", f.resolve(), PATH_SUITE, "") for f in files)
    return out


def select_scripts(manifest: Manifest, args: argparse.Namespace) -> list[Script]:
    """Scripts from paths (each its own suite) and/or names and globs within the suites."""
    paths = [Path(s) for s in args.scripts if s.endswith(".wast") and Path(s).is_file()
             or Path(s).is_dir()]
    patterns = [s for s in args.scripts if Path(s) not in paths]
    scripts = _path_scripts(paths)
    if patterns or not paths:
        if args.suite:
            suites = [manifest.suite(s).name for s in args.suite.split(",")]
        elif args.pin:
            pins = manifest.testsuite_pins() if args.pin == "all" else args.pin.split(",")
            suites = [s for p in pins for s in manifest.suites_of_pin(p)]
        else:
            suites = manifest.default_suites
        pool = manifest.scripts(suites)
        missing = unmatched(pool, patterns)
        if missing:
            raise UsageError(f"no script matches {', '.join(missing)} in the suites "
                             f"{', '.join(suites)} (names match exactly, with or without "
                             f".wast; globs as globs; a path must exist)")
        scripts += select(pool, patterns or None)
    if not scripts:
        raise UsageError("no scripts selected")
    return scripts


def make_jobs(manifest: Manifest, scripts: list[Script], modes: list[str], engine: str,
              timeout: float, converter: str | None) -> list[Job]:
    """The jobs of a run, each with its suite's flags, converters and features."""
    jobs = []
    for s in scripts:
        in_manifest = s.suite in manifest.suites
        convs = manifest.converters(s.suite) if in_manifest else manifest.path_converters
        if converter:
            convs = (converter,)
        flags = manifest.flags(s.suite) if in_manifest and not converter else ()
        features = manifest.features(s.suite) if in_manifest else manifest.path_features
        jobs.extend(Job(s, m, engine, str(manifest.path), timeout, flags, convs, features)
                    for m in modes)
    return jobs


class Progress:
    """A progress bar on a terminal, one line per finished job otherwise."""

    def __init__(self, total: int, show_failures: bool, quiet: bool) -> None:
        self.total, self.done = total, 0
        self.failed = 0
        self.tty = sys.stderr.isatty()
        self.show_failures, self.quiet = show_failures, quiet
        self.start = time.perf_counter()

    def update(self, r: ScriptResult) -> None:
        self.done += 1
        c = r.counts()
        self.failed += c["failed"]
        if self.tty and not self.quiet:
            width = 30
            filled = width * self.done // max(self.total, 1)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/"
                             f"{self.total} {time.perf_counter() - self.start:6.1f} s, "
                             f"{self.failed} failed  {r.script[:40]:<40}")
            if self.done == self.total:
                sys.stderr.write("\n")
        elif not self.quiet:
            print(f"[{self.done}/{self.total}] {r.script} [{r.mode}] {c['passed']}/"
                  f"{c['present']} passed, {c['failed']} failed, {c['xfailed']} xfailed "
                  f"({r.seconds:.1f} s)", file=sys.stderr)
        if self.show_failures:
            if self.tty and not self.quiet and self.done != self.total and r.failures():
                sys.stderr.write("\n")
            for line in _failures_of(r)[:MAX_LISTED_FAILURES]:
                print("  " + line[:400], file=sys.stderr)


def execute(jobs: list[Job], n_jobs: int, progress: Progress) -> list[ScriptResult]:
    """Run the jobs (in worker processes when ``n_jobs`` > 1), in order."""
    results: list[ScriptResult] = []
    if n_jobs > 1:
        with ProcessPoolExecutor(n_jobs) as pool:
            for r in pool.map(run_one, jobs, chunksize=1):
                results.append(r)
                progress.update(r)
    else:
        for job in jobs:
            r = run_one(job)
            results.append(r)
            progress.update(r)
    return results


def _notes(adapter: Adapter, jobs: list[Job]) -> list[str]:
    """Feature flags the adapter cannot take (engines that predate feature sets, or lack a
    proposal)."""
    probe = getattr(adapter, "unapplied_features", None)
    notes = []
    for suite, features in {j.script.suite: j.features for j in jobs}.items():
        missing = probe(features) if probe and features else []
        if missing:
            notes.append(f"{adapter.name}: its Config has no such feature flags, so these "
                         f"flags of suite {suite} were not applied ({', '.join(missing)})")
    return notes


def build_report(manifest: Manifest, engine: str, modes: list[str],
                 results: list[ScriptResult], jobs: list[Job],
                 notes: list[str]) -> dict[str, Any]:
    """The report of a run (pins described by the manifest)."""
    pins = {name: rep.PinInfo(name, p.commit, p.title, p.date)
            for name, p in manifest.pins.items()}
    pins[""] = rep.PinInfo(PATH_SUITE, title="scripts given as paths")
    suite_of = {j.script.id: j.script for j in jobs}
    entries = [rep.Entry(r.script, suite_of[r.script].suite, suite_of[r.script].pin or "",
                         r.mode, r.counts(), r.converter) for r in results]
    failures: dict[str, dict[str, list[str]]] = {}
    for r in results:
        listed = _failures_of(r)
        if listed:
            failures.setdefault(r.script, {})[r.mode] = listed[:MAX_LISTED_FAILURES]
    return rep.build(engine, modes, entries, pins, failures, notes)


def run_engine(args: argparse.Namespace, engine: str,
               manifest: Manifest) -> tuple[dict[str, Any], list[ScriptResult]]:
    """Select, run and report one engine (shared by ``run`` and ``compare``)."""
    adapter = _adapter(engine)
    modes = parse_modes(args.mode, manifest.modes)
    own_modes = list(getattr(adapter, "modes", manifest.modes))
    if set(own_modes) < set(manifest.modes):  # e.g. wasmtime: one mode
        modes = [m for m in modes if m in own_modes] or own_modes[:1]
    scripts = select_scripts(manifest, args)
    timeout = manifest.timeout if args.timeout is None else args.timeout
    jobs = make_jobs(manifest, scripts, modes, engine, timeout, args.converter)
    # biggest scripts first: with several workers the long ones start early
    jobs.sort(key=lambda j: -j.script.path.stat().st_size if args.jobs > 1 else 0)
    progress = Progress(len(jobs), args.failures, args.quiet)
    results = execute(jobs, args.jobs, progress)
    order = {(j.script.id, j.mode): i for i, j in enumerate(
        make_jobs(manifest, scripts, modes, engine, timeout, args.converter))}
    results.sort(key=lambda r: order[(r.script, r.mode)])
    return build_report(manifest, engine, modes, results, jobs, _notes(adapter, jobs)), results


def _failed(report: dict[str, Any]) -> int:
    totals = rep.zero()
    for c in report["totals"].values():
        rep.add(totals, c)
    return totals["failed"]


def _all_modes(manifest: Manifest, engine: str,
               results: list[ScriptResult]) -> list[ScriptResult]:
    """An adapter with one mode (wasmtime, pywasm) stands for every mode in the manifest, so
    its expectations hold for pytest items of any mode."""
    own = set(getattr(_adapter(engine), "modes", manifest.modes))
    if own >= set(manifest.modes):
        return results
    return [dataclasses.replace(r, mode=m) for r in results for m in manifest.modes]


def cmd_run(args: argparse.Namespace) -> int:
    manifest = Manifest(Path(args.manifest))
    start = time.perf_counter()
    report, results = run_engine(args, args.engine, manifest)
    if args.json:
        rep.write(report, args.json)
    if args.update_manifest:
        n = manifest.update(args.engine, _all_modes(manifest, args.engine, results))
        print(f"manifest: {n} expected failures of {args.engine} written to {manifest.path}",
              file=sys.stderr)
    print(rep.table(report))
    failing = sorted({r.script for r in results if r.failures()})
    print(f"scripts with failures: {len(failing)}" + (f" ({', '.join(failing[:20])}"
                                                      f"{' ...' if len(failing) > 20 else ''})"
                                                      if failing else ""))
    print(f"wall time: {time.perf_counter() - start:.1f} s")
    return 1 if _failed(report) and not args.update_manifest else 0


def markdown(reports: list[dict[str, Any]], seconds: dict[str, float]) -> str:
    """One table of several engines' reports: per engine, pin and mode."""
    cols = ("present", "passed", "failed", "xfailed", "skipped", "text")
    rows = ["| engine | pin | mode | " + " | ".join(cols) + " | passed % | wall time |",
            "|---|---|---|" + "---:|" * (len(cols) + 2)]
    for r in reports:
        for pin, info in r["pins"].items():
            if not info.get("commit"):
                continue
            for mode, c in info["totals"].items():
                rows.append(f"| {r['engine']} | {pin} | {mode} | "
                            + " | ".join(str(c[k]) for k in cols)
                            + f" | {rep.percent(c):.2f} | {seconds[r['engine']]:.0f} s |")
    return "\n".join(rows)


def cmd_compare(args: argparse.Namespace) -> int:
    manifest = Manifest(Path(args.manifest))
    reports, seconds = [], {}
    for engine in args.engines.split(","):
        start = time.perf_counter()
        report, _ = run_engine(args, engine, manifest)
        seconds[engine] = time.perf_counter() - start
        reports.append(report)
        print(rep.table(report), file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")
    print(markdown(reports, seconds))
    return 0


def cmd_badge(args: argparse.Namespace) -> int:
    try:
        with open(args.report, encoding="utf-8") as f:
            report: dict[str, Any] = json.load(f)
    except FileNotFoundError:
        print(f"badge: no report at {args.report} (write one with "
              f"`python -m spectest run --json {args.report}`)", file=sys.stderr)
        return 2
    except (OSError, json.JSONDecodeError) as exc:
        print(f"badge: cannot read the report {args.report}: {exc}", file=sys.stderr)
        return 2
    try:
        value, label = badge_figure(report, args.mode, args.suite, args.pin)
    except (KeyError, TypeError, ValueError) as exc:
        print(f"badge: {args.report} is not a conformance report ({exc!r})", file=sys.stderr)
        return 2
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(svg(value, args.label or label), encoding="utf-8")
    print(f"{args.output}: {value:.2f}%")
    return 0


def _selection_args(run: argparse.ArgumentParser) -> None:
    run.add_argument("scripts", nargs="*",
                     help="paths to .wast files or folders (each runs as its own suite), or "
                          "script names/ids (exact, .wast optional) or globs within the "
                          "selected suites (default: all of them)")
    run.add_argument("--pin", default=None,
                     help="the suites of one pin: d76759e, 193e551, a comma list, or all")
    run.add_argument("--suite", default=None,
                     help="suites by name or prefix (top, spec3, spec3-threads, own, ...), "
                          "a comma list (default: the manifest's default_suites)")
    run.add_argument("--mode", default="all",
                     help="eager, lazy-translation, lazy, a comma list, or all (default)")
    run.add_argument("--converter", default=None,
                     help="converter for every script (default: the suite's): wabt, "
                          "wasm-tools, own")
    run.add_argument("--timeout", type=float, default=None,
                     help="per-command time limit in seconds (hang guard; 0 = none)")
    run.add_argument("-j", "--jobs", type=int, default=min(4, os.cpu_count() or 1),
                     help="worker processes (default: up to 4, the CPU count)")
    run.add_argument("--failures", action="store_true", help="list failing commands")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    run.add_argument("--json", metavar="REPORT.json", help="write the report here")
    run.add_argument("--manifest", default=str(MANIFEST_PATH), help="manifest YAML")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m spectest",
        description="Run the official WebAssembly testsuite (or any .wast script) through "
                    "an engine, command by command.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run scripts and print a table (and a JSON report)",
                         description="Run .wast scripts through an engine, command by command. "
                                     "Examples: `run` (everything), `run --pin 193e551 --mode "
                                     "eager i32`, `run ./my.wast`.")
    _selection_args(run)
    run.add_argument("--engine", default=os.environ.get("SPECTEST_ENGINE", "engine"),
                     help=f"adapter to run: {', '.join(adapter_names())} or one registered "
                          f"under the entry-point group lazywasm.spectest_engines")
    run.add_argument("--update-manifest", action="store_true",
                     help="rewrite this engine's expected failures from this run")
    run.set_defaults(func=cmd_run)
    compare = sub.add_parser("compare", help="run several engines, print one markdown table",
                             description="Run the same selection through several engines.")
    _selection_args(compare)
    compare.add_argument("--engines", default="engine,wasmtime,pywasm",
                         help="comma list of adapters (default: engine,wasmtime,pywasm)")
    compare.set_defaults(func=cmd_compare)
    badge = sub.add_parser("badge", help="write an SVG badge from a report",
                           description="Write an SVG badge: passed/present of a report, "
                                       "over the newest pin that ran.")
    badge.add_argument("report", help="REPORT.json")
    badge.add_argument("-o", "--output", default="badge.svg", help="SVG file to write")
    badge.add_argument("--mode", default=None, help="one mode (default: all modes summed)")
    badge.add_argument("--suite", default=None, help="one suite (default: the pin's)")
    badge.add_argument("--pin", default=None, help="one pin (default: the newest that ran)")
    badge.add_argument("--label", default=None, help="left-hand text")
    badge.set_defaults(func=cmd_badge)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m spectest``."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (SuiteNotFound, UsageError, ValueError, TypeError) as exc:
        print(f"spectest: {exc}", file=sys.stderr)
        return 2
