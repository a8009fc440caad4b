"""v128 kernels vs the same work in scalar instructions, through the engine's public API.

``python -m benchmarks.simd_vs_scalar [--n N] [--runs R] [--mode M]``

Both modules (``kernels/simd/saxpy_v128.wat`` and ``saxpy_scalar.wat``) compute the same
results: ``saxpy`` (y = a*x + y over n f32 values) and ``sum_i32`` (sum of n i32 values).
The v128 kernel does a quarter of the iterations with lane-wise helpers; the table prints
time per call and the ratio v128 / scalar (below 1 = v128 faster). The aim is that
translated v128 code is not an order of magnitude slower than scalar code (ratio < 10).
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

from benchmarks.timing import median_time

SIMD_DIR = Path(__file__).parent / "kernels" / "simd"


def wasm_bytes(name: str) -> bytes:
    """Assemble ``kernels/simd/<name>.wat`` with the engine's own text front end (the same
    bytes wabt's wat2wasm writes, up to the name section; no external tool needed)."""
    from engine import wat2wasm

    return wat2wasm((SIMD_DIR / f"{name}.wat").read_text())


def instantiate(name: str, mode: str):
    """(store, exports) of a fresh instance of the kernel in our engine."""
    from engine import Config, Engine, Instance, Module, Store

    config = Config()
    config.compilation_mode = mode
    engine = Engine(config)
    store = Store(engine)
    instance = Instance(store, Module(engine, wasm_bytes(name)), [])
    return store, instance.exports(store)


def fill(store, memory, n: int) -> None:
    """x[i] = i * 0.5 at 0, y[i] = 1.0 at 32768, as f32."""
    memory.write(store, struct.pack(f"<{n}f", *[i * 0.5 for i in range(n)]), 0)
    memory.write(store, struct.pack(f"<{n}f", *[1.0] * n), 32768)


def measure(name: str, n: int, runs: int, mode: str) -> dict[str, float]:
    """Median seconds per call of each kernel function, after checking results agree."""
    store, ex = instantiate(name, mode)
    fill(store, ex["memory"], n)
    saxpy, sum_i32 = ex["saxpy"], ex["sum_i32"]
    t_saxpy, _ = median_time(lambda: saxpy(store, n, 0.25), runs)
    t_sum, sums = median_time(lambda: sum_i32(store, n), runs)
    y = ex["memory"].read(store, 32768, 32768 + 4 * n)
    return {"saxpy": t_saxpy, "sum_i32": t_sum, "check": hash((bytes(y), sums[-1]))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4096, help="values per call (multiple of 4)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mode", default="eager")
    args = ap.parse_args(argv)
    n = min(8192, args.n - args.n % 4)
    vec = measure("saxpy_v128", n, args.runs, args.mode)
    sca = measure("saxpy_scalar", n, args.runs, args.mode)
    if vec["check"] != sca["check"]:
        print("results differ between the v128 and scalar kernels", file=sys.stderr)
        return 1
    print(f"n = {n}, mode = {args.mode}, median of {args.runs}")
    print("| kernel | v128 (ms) | scalar (ms) | v128 / scalar |")
    print("|---|---:|---:|---:|")
    worst = 0.0
    for k in ("saxpy", "sum_i32"):
        ratio = vec[k] / sca[k]
        worst = max(worst, ratio)
        print(f"| {k} | {vec[k] * 1e3:.2f} | {sca[k] * 1e3:.2f} | {ratio:.2f} |")
    return 0 if worst < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
