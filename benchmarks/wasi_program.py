"""A real compiled WASI program (tests/programs/src/lz.c: an LZ77 compressor and its
decompressor) run from the command line of each engine, side by side:

    python -m benchmarks.wasi_program [--sizes 0,20000,200000] [--pywasm-max 20000] [--runs 1]

Each engine runs as its own process, as a user would start it (interpreter start-up,
module loading and compilation included): ours as ``python -m engine run``, pywasm as
``python -m pywasm --wasi preview1``, wasmtime through wasmtime-py. The programs' outputs
(sizes and checksum) must agree; pywasm only runs the sizes up to ``--pywasm-max``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "tests" / "programs" / "lz.wasm"

_WASMTIME = """
import sys, wasmtime
engine = wasmtime.Engine(); store = wasmtime.Store(engine)
config = wasmtime.WasiConfig(); config.argv = ["lz", sys.argv[2]]; config.inherit_stdout()
store.set_wasi(config)
linker = wasmtime.Linker(engine); linker.define_wasi()
inst = linker.instantiate(store, wasmtime.Module.from_file(engine, sys.argv[1]))
inst.exports(store)["_start"](store)
"""


def commands(size: int) -> dict[str, list[str]]:
    py, wasm, n = sys.executable, str(PROGRAM), str(size)
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
    parser.add_argument("--sizes", default="0,20000,200000",
                        help="input sizes in bytes (0: start-up, loading and compilation only)")
    parser.add_argument("--pywasm-max", type=int, default=20000,
                        help="largest size pywasm runs (it is ~100x slower)")  # fmt: skip
    parser.add_argument("--runs", type=int, default=1, help="median of N runs")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"WASI program: {PROGRAM.relative_to(ROOT)} ({PROGRAM.stat().st_size} bytes), "
          f"Python {sys.version.split()[0]}, median of {args.runs}\n")  # fmt: skip
    print("| input bytes | engine | seconds | vs ours |")
    print("|---:|---|---:|---:|")
    status = 0
    for size in sizes:
        ours_time, ours_out = None, None
        for name, cmd in commands(size).items():
            if not available(name) or (name == "pywasm" and size > args.pywasm_max):
                print(f"| {size} | {name} | n/a | |")
                continue
            seconds, out = time_run(cmd, args.runs)
            if ours_time is None:
                ours_time, ours_out = seconds, out
            elif out != ours_out:
                print(f"output differs: {name}: {out!r} vs ours {ours_out!r}")
                status = 1
            print(f"| {size} | {name} | {seconds:.2f} | {seconds / ours_time:.2f}x |")
    return status


if __name__ == "__main__":
    sys.exit(main())
