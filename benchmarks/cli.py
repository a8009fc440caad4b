"""``python -m benchmarks``: run the suite and print markdown tables (README-ready).

Sections: ``kernels`` (execution, each kernel also selectable by name), ``macro`` (C
programs built by clang, benchmarks/macro), ``compile``
(compile/instantiate per mode), ``simd`` (benchmarks/simd_vs_scalar.py when present) and
``conformance`` (only with --conformance). Exit status 1 when any benchmark errored or
computed a wrong checksum; engines that are not installed are "n/a", not failures.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import sys
from dataclasses import asdict

from benchmarks import compile_bench, conformance, execution, pypy_compare
from benchmarks.macro import harness as macro
from benchmarks.runners import WASM_ENGINES
from benchmarks.suite import kernel_names
from benchmarks.timing import machine_info

SECTIONS = ("kernels", "pypy", "macro", "compile", "simd", "conformance", "hostile", "metering")
#: Sections that run only when named with --only.
OPT_IN = ("hostile", "metering")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small sizes, one run (smoke test); never runs conformance")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help=f"run only this section or kernel (repeatable, comma-separated): "
                        f"{', '.join(SECTIONS + tuple(kernel_names()))}")
    p.add_argument("--json", metavar="OUT", help="also write all figures to this JSON file")
    p.add_argument("--runs", type=int, default=5, help="timed runs per figure (median)")
    p.add_argument("--mode", choices=compile_bench.MODES,
                   help="our engine's compilation mode for the kernels (default: Config's)")
    for name in WASM_ENGINES:
        if name != "ours":
            p.add_argument(f"--no-{name}", action="store_true", help=f"skip {name}")
    p.add_argument("--no-ours", action="store_true", help="skip our engine in the kernels")
    p.add_argument("--max-functions", type=int, metavar="N",
                   help="skip compile cases with more than N functions")
    p.add_argument("--conformance", action="store_true",
                   help="also time the full conformance run per mode (long)")
    p.add_argument("--conformance-timeout", type=float, default=3600, metavar="SECONDS")
    args = p.parse_args(argv)
    args.only = {x.strip() for item in args.only for x in item.split(",") if x.strip()}
    unknown = args.only - set(SECTIONS) - set(kernel_names())
    if unknown:
        p.error(f"unknown --only name(s): {', '.join(sorted(unknown))}")
    return args


def _selected(args: argparse.Namespace, section: str) -> bool:
    if not args.only:
        return section not in OPT_IN
    if section == "kernels":
        return "kernels" in args.only or bool(args.only & set(kernel_names()))
    return section in args.only


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _kernels(args, out: dict, problems: list[str]) -> list[str]:
    engines = tuple(e for e in WASM_ENGINES if not getattr(args, f"no_{e}"))
    picked = tuple(k for k in kernel_names() if k in args.only)
    opts = execution.Options(args.quick, args.runs, engines, picked, args.mode)
    results = execution.run_all(opts, _progress)
    out["execution"] = execution.to_json(results)
    problems += execution.problems(results)
    runs = "1 run" if args.quick else f"median of {args.runs} runs after 1 warm-up"
    return ["## Execution kernels", "",
            (f"Times are per call of the kernel's `run(size)` ({runs}). Ratios compare time "
             "per unit of work (size normalised), so pywasm may run a smaller size (shown). "
             "`ours / Python` is our slowdown against the hand-written Python twin (target "
             "<= 3x); `pywasm / ours` is our speed-up over pywasm (target >= 50x). Every "
             "checksum is checked against hand-written Python at the same size."), "",
            execution.table(results), ""] + [
            f"n/a {name}: {why}" for name, why in execution.unavailable(results).items()] + [""]


def _macro(args, out: dict, problems: list[str]) -> list[str]:
    engines = tuple(e for e in macro.ENGINES if not getattr(args, f"no_{e}", False))
    opts = macro.Options(args.quick, args.runs, engines, mode=args.mode)
    lines, out["macro"], bad = macro.section(opts, _progress)
    problems += bad
    return lines


def _pypy(args, out: dict, problems: list[str]) -> list[str]:
    """Our engine on CPython vs on PyPy (subprocess), when pypy3 is installed."""
    version, rows = pypy_compare.run_all(args.quick, args.runs, args.mode, _progress)
    if not rows:
        return ["## Our engine on PyPy", "", "n/a: pypy3 not found (PATH or BENCH_PYPY)", ""]
    out["pypy"] = {"version": version, "rows": [asdict(r) for r in rows]}
    problems += pypy_compare.problems(rows)
    return ["## Our engine on PyPy", "",
            (f"{version} in a subprocess vs this CPython: every kernel and every C program "
             "build of the macro set, same sizes; PyPy gets "
             f"{pypy_compare.PYPY_WARMUP} warm-up calls (JIT), CPython 1; medians of the "
             "timed runs; kernel checksums checked against the hand-written Python, a C "
             "program's PyPy result against its CPython result."), "",
            pypy_compare.table(rows), ""]


def _compile(args, out: dict, problems: list[str]) -> list[str]:
    rows = compile_bench.run_all(args.quick, max(1, min(args.runs, 3)), args.max_functions,
                                 _progress)
    tgts = compile_bench.targets(rows)
    out["compile"] = [asdict(r) for r in rows]
    out["compile_targets"] = tgts
    problems += compile_bench.problems(rows)
    return ["## Compile and instantiate (our engine)", "",
            ("Generated modules (arithmetic / loop / call / memory bodies, and empty "
             "bodies); times are medians, bytes per function are retained allocations "
             "(tracemalloc; the module binary and the 64 KiB linear memory excluded). "
             "`first call` is one call into the new instance (f1, a loop body; f0 when "
             "empty), where the lazy modes compile that function."), "",
            compile_bench.table(rows), "", compile_bench.targets_table(tgts), ""]


def _simd(args, out: dict, problems: list[str]) -> list[str]:
    """The SIMD colleague's section (benchmarks/simd_vs_scalar.py) when present: its
    ``run_section(quick=, runs=) -> str`` if it has one, else its ``main(argv)``'s output."""
    try:
        mod = importlib.import_module("benchmarks.simd_vs_scalar")
    except ImportError:
        return []
    _progress("simd ...")
    buf = io.StringIO()
    try:
        if hasattr(mod, "run_section"):
            text = mod.run_section(quick=args.quick, runs=args.runs)
        else:
            argv = ["--runs", "1" if args.quick else str(args.runs)]
            argv += ["--n", "64"] if args.quick else []
            with contextlib.redirect_stdout(buf):
                code = mod.main(argv)
            text = buf.getvalue().strip()
            if code:
                problems.append(f"simd: exit status {code}: {text.splitlines()[-1:]}")
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported, and fails the run
        problems.append(f"simd: ERROR: {type(exc).__name__}: {exc}")
        return []
    out["simd"] = text
    return ["## SIMD vs scalar (our engine)", "", text, ""]


def _conformance(args, out: dict, problems: list[str]) -> list[str]:
    rows = conformance.run_all(args.conformance_timeout, _progress)
    out["conformance"] = [asdict(r) for r in rows]
    return ["## Conformance run wall time", "",
            "`python -m spectest run --mode M --engine engine --suite top` (whole top-level suite).", "",
            conformance.table(rows), ""]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine_info()
    out: dict = {"machine": info, "quick": args.quick, "runs": args.runs}
    problems: list[str] = []
    lines = ["# Benchmarks", "",
             f"{info['date']}; {info['platform']}; {info['cpu']}; {info['python']}", ""]
    if _selected(args, "kernels"):
        lines += _kernels(args, out, problems)
    if _selected(args, "pypy"):
        lines += _pypy(args, out, problems)
    if _selected(args, "macro"):
        lines += _macro(args, out, problems)
    if _selected(args, "compile"):
        lines += _compile(args, out, problems)
    if _selected(args, "simd"):
        lines += _simd(args, out, problems)
    for section, title in (("hostile", "Hostile corpus: compile time per input byte"),
                           ("metering", "Fuel / epoch interruption overhead")):
        if _selected(args, section):
            _progress(f"{section} ...")
            mod = importlib.import_module(f"benchmarks.{section}")
            lines += [f"## {title}", "", mod.run_section(quick=args.quick, runs=args.runs), ""]
    if args.conformance and not args.quick and _selected(args, "conformance"):
        lines += _conformance(args, out, problems)
    if problems:
        lines += ["## FAILURES", ""] + [f"- {p}" for p in problems] + [""]
    out["problems"] = problems
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2, default=str)
    if problems:
        print(f"benchmarks: {len(problems)} failure(s), see FAILURES", file=sys.stderr)
        return 1
    return 0
