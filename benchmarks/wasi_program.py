"""Real compiled WASI programs run from the command line of each engine, side by side:

    python -m benchmarks.wasi_program [--programs lz,vm] [--runs 1]

- ``lz N`` (tests/programs/src/lz.c): an LZ77 compressor and its decompressor on N bytes.
- ``vm N`` (tests/programs/src/vm.c): a bytecode interpreter counting the primes below N.

Each engine runs as its own process, as a user would start it (interpreter start-up,
module loading and compilation included): ours as ``python -m engine run``, pywasm as
``python -m pywasm --wasi preview1``, wasmtime through wasmtime-py. The programs' outputs
must agree; pywasm (about 100x slower) only runs the smaller sizes. Size 0 measures
start-up, loading and translation alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "programs"


class Workload(NamedTuple):
    """A program, the sizes it runs at, and the largest size pywasm is given."""

    program: str
    sizes: tuple[int, ...]
    pywasm_max: int


WORKLOADS = {
    "lz": Workload("lz", (0, 20000, 200000), 20000),
    "vm": Workload("vm", (3000, 30000), 3000),
}

_WASMTIME = """
import sys, wasmtime
engine = wasmtime.Engine(); store = wasmtime.Store(engine)
config = wasmtime.WasiConfig(); config.argv = ["prog", sys.argv[2]]; config.inherit_stdout()
store.set_wasi(config)
linker = wasmtime.Linker(engine); linker.define_wasi()
inst = linker.instantiate(store, wasmtime.Module.from_file(engine, sys.argv[1]))
inst.exports(store)["_start"](store)
"""


def commands(program: str, size: int) -> dict[str, list[str]]:
    py, wasm, n = sys.executable, str(PROGRAMS / f"{program}.wasm"), str(size)
    return {
        "ours (lazywasm run)": [py, "-m", "engine", "run", wasm, n],
        "pywasm": [py, "-m", "pywasm", "--wasi", "preview1", "--wasi-args", n, wasm],
        "wasmtime-py": [py, "-c", _WASMTIME, wasm, n],
    }


def available(name: str) -> bool:
    module = {"pywasm": "pywasm", "wasmtime-py": "wasmtime"}.get(name)
    if module is None:
        return True
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def time_run(cmd: list[str], runs: int) -> tuple[float, bytes]:
    """Median wall time of ``runs`` runs and the program's stdout (exit status checked)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    times, out = [], b""
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[:4]} exited {proc.returncode}: {proc.stderr[-300:]!r}")
        out = proc.stdout
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programs", default="lz,vm", help="workloads: " + ",".join(WORKLOADS))
    parser.add_argument("--runs", type=int, default=1, help="median of N runs")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, median of {args.runs} run(s)\n")
    print("| program | N | engine | seconds | vs ours |")
    print("|---|---:|---|---:|---:|")
    status = 0
    for key in args.programs.split(","):
        work = WORKLOADS[key]
        for size in work.sizes:
            status |= _compare(work, size, args.runs)
    return status


def _compare(work: Workload, size: int, runs: int) -> int:
    """One table row per engine for ``work`` at ``size``; 1 if an output differs."""
    status = 0
    ours_time, ours_out = None, None
    for name, cmd in commands(work.program, size).items():
        if not available(name) or (name == "pywasm" and size > work.pywasm_max):
            print(f"| {work.program} | {size} | {name} | n/a | |")
            continue
        seconds, out = time_run(cmd, runs)
        if ours_time is None:
            ours_time, ours_out = seconds, out
        elif out != ours_out:
            print(f"output differs: {name}: {out!r} vs ours {ours_out!r}")
            status = 1
        ratio = seconds / ours_time
        print(f"| {work.program} | {size} | {name} | {seconds:.2f} | {ratio:.2f}x |")
    return status


if __name__ == "__main__":
    sys.exit(main())
