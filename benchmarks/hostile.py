"""Compile time per input byte of the hostile corpus (tests/hostile/corpus.py) at two sizes.

``python -m benchmarks --only hostile``: for each case, the module at n and 2n, eager
compilation (decode + validate + translate every body), median time per byte; linear cost
shows as the same figure at both sizes (ratio ~1.0; a quadratic cost would show ~2.0).
"""

from __future__ import annotations

import statistics
import time

from tests.hostile.corpus import CASES, compile_case


def _per_byte(wasm: bytes, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        compile_case(wasm)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / len(wasm)


def run_section(quick: bool = False, runs: int = 3) -> str:
    compile_case(CASES["straight_line"][0](100))  # warm-up: imports, first compile
    rows = ["| case | n | bytes | us/byte at n | us/byte at 2n | ratio |",
            "|---|---:|---:|---:|---:|---:|"]
    for name, (gen, base) in CASES.items():
        n = max(4, base // 10 if quick else base)
        small, large = gen(n), gen(2 * n)
        r = 1 if quick else max(1, min(runs, 3))
        a, b = _per_byte(small, r), _per_byte(large, r)
        rows.append(f"| {name} | {n} | {len(small)} | {a * 1e6:.2f} | {b * 1e6:.2f} | "
                    f"{b / a:.2f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(run_section())
