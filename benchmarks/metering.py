"""Overhead of fuel (``Config.consume_fuel``) and epoch interruption
(``Config.epoch_interruption``) on every execution kernel.

``python -m benchmarks --only metering``: per kernel, the time of one ``run(size)`` with
metering off, with fuel, with epoch interruption and with both (the best of interleaved
runs), and the ratios to "off" (goal: at most 1.20). Times are the process's CPU time
(``time.process_time``): on shared cores, wall time also counts the waits for a core, which
dwarfed the differences measured (ratios of 0.8 to 1.5 between identical variants); and the
best, not the median, since interference (a busy sibling hyperthread) only ever adds time:
medians of 5 still showed 0.78 between identical code.
"""

from __future__ import annotations

import time

from benchmarks.suite import KERNELS

VARIANTS = {"off": {}, "fuel": {"consume_fuel": True}, "epoch": {"epoch_interruption": True},
            "both": {"consume_fuel": True, "epoch_interruption": True}}


def _load(wasm: bytes, flags: dict[str, bool]):
    from engine import Config, Engine, Instance, Module, Store

    config = Config()
    for name, value in flags.items():
        setattr(config, name, value)
    store = Store(Engine(config))
    if config.consume_fuel:
        store.set_fuel(10**15)
    if config.epoch_interruption:
        store.set_epoch_deadline(10**9)
    func = Instance(store, Module(store.engine, wasm)).exports(store)["run"]
    return lambda n: func(store, n)


def run_section(quick: bool = False, runs: int = 5) -> str:
    """The markdown table of the metering overheads."""
    rows = ["| kernel | off | fuel | epoch | both | fuel/off | epoch/off | both/off |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kernel in KERNELS:
        n = kernel.quick_size if quick else kernel.size
        fns = {v: _load(kernel.wasm_bytes(), flags) for v, flags in VARIANTS.items()}
        times: dict[str, list[float]] = {v: [] for v in VARIANTS}
        results = {v: fn(n) for v, fn in fns.items()}  # warm-up (compiles), same checksum
        if len({repr(r) for r in results.values()}) != 1:
            raise AssertionError(f"{kernel.name}: metering changed the result: {results}")
        for _ in range(max(1, 1 if quick else runs)):
            for v, fn in fns.items():  # interleaved, so that machine noise hits all alike
                t0 = time.process_time()
                fn(n)
                times[v].append(time.process_time() - t0)
        med = {v: min(ts) for v, ts in times.items()}
        ratios = " | ".join(f"{med[v] / med['off']:.2f}" for v in ("fuel", "epoch", "both"))
        rows.append(f"| {kernel.name} | " + " | ".join(f"{med[v] * 1e3:.1f} ms" for v in VARIANTS)
                    + f" | {ratios} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(run_section())
