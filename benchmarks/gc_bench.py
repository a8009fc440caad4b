"""GC workloads: our engine vs the same work hand-written in Python, with bytes per object.

``python -m benchmarks.gc_bench [--runs R] [--mode M] [--depth D] [--n N]``

Kernels (``kernels/gc/*.wat``, assembled with ``wasm-tools parse``, binaries committed):

- ``binary_trees``: ``run(depth)`` builds 4 complete binary trees of GC structs
  ``(struct (ref null $node) (ref null $node))`` bottom-up and walks them; returns the
  node count (an allocation kernel).
- ``array_sum``: ``run(n)`` allocates a mutable i32 array, stores ``i*3`` at ``i`` and sums
  it with ``array.get`` (element access).

The Python twins use tuples ``(left, right)`` for nodes and a ``list`` for the array. The
table prints the median time per run, the ratio ours / Python (per unit of work: same
sizes) and the bytes per object of each representation (tracemalloc over 10,000 objects:
a node, and an array of 1,000 i32). wasmtime (native) is shown for scale when installed.
An engine that cannot run GC yet shows "n/a" with the reason. "translated" runs the same
bodies through our translator directly (``gc_direct.py``: no validation, no public API
call overhead), the figure for generated GC code while the pipeline does not take GC
modules yet.
"""

from __future__ import annotations

import argparse
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.timing import median_time

GC_DIR = Path(__file__).parent / "kernels" / "gc"
MASK32 = 0xFFFF_FFFF


# --- hand-written twins ---------------------------------------------------------------


def py_make(d: int) -> tuple:
    """A complete tree of depth ``d`` as nested (left, right) tuples."""
    if d == 0:
        return (None, None)
    return (py_make(d - 1), py_make(d - 1))


def py_check(t: tuple) -> int:
    """Node count of a tree."""
    left = t[0]
    if left is None:
        return 1
    return 1 + py_check(left) + py_check(t[1])


def py_binary_trees(depth: int) -> int:
    total = 0
    for _ in range(4):
        total += py_check(py_make(depth))
    return total & MASK32


def py_array_sum(n: int) -> int:
    a = [0] * n
    for i in range(n):
        a[i] = (i * 3) & MASK32
    s = 0
    for i in range(len(a)):
        s = (s + a[i]) & MASK32
    return s


PY: dict[str, Callable[[int], int]] = {"binary_trees": py_binary_trees, "array_sum": py_array_sum}


# --- engines ------------------------------------------------------------------------------


def ours(kernel: str, mode: str) -> Callable[[int], int]:
    """``run`` of a fresh instance in our engine (raises if the engine cannot run it)."""
    from engine import Config, Engine, Instance, Module, Store

    config = Config()
    config.compilation_mode = mode
    engine = Engine(config)
    store = Store(engine)
    module = Module(engine, (GC_DIR / f"{kernel}.wasm").read_bytes())
    run = Instance(store, module, []).exports(store)["run"]
    return lambda n: run(store, n) & MASK32  # results come back signed, as wasmtime-py


def wasmtime_run(kernel: str) -> Callable[[int], int]:
    import wasmtime

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module.from_file(engine, str(GC_DIR / f"{kernel}.wasm"))
    run = wasmtime.Instance(store, module, []).exports(store)["run"]
    return lambda n: run(store, n) & MASK32


# --- bytes per object ---------------------------------------------------------------------


def bytes_per(make: Callable[[int], Any], count: int = 10_000) -> float:
    """Bytes retained per object built by ``make(i)`` (tracemalloc)."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    keep = [make(i) for i in range(count)]
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del keep
    return (used - 8 * count) / count


def object_sizes() -> dict[str, tuple[float, float]]:
    """(ours, Python) bytes per node and per 1,000-element i32 array."""
    from engine.compile import gc_helpers as h
    from engine.gctypes import ArrayType, FieldType, RefType, StructType, SubType, canonicalize

    node, arr = canonicalize([
        (SubType(True, (), StructType((FieldType(RefType(True, 0)),) * 2)),),
        (SubType(True, (), ArrayType(FieldType("i32", True))),),
    ])
    leaf = (None, None)
    return {
        "binary_trees": (bytes_per(lambda i: h.struct_new(node, None, None)),
                         bytes_per(lambda i: (leaf, leaf))),
        "array_sum": (bytes_per(lambda i: h.array_new_default(arr, 1000)),
                      bytes_per(lambda i: [0] * 1000)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mode", default="lazy")
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--n", type=int, default=200_000)
    args = ap.parse_args()
    sizes = {"binary_trees": args.depth, "array_sum": args.n}
    objects = object_sizes()
    print("| kernel | size | Python ms | ours ms | ours / Python | translated ms "
          "| translated / Python | wasmtime ms | bytes/object ours | bytes/object Python |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kernel, n in sizes.items():
        t_py, res = median_time(lambda k=kernel, n=n: PY[k](n), args.runs)
        expected = res[0]
        cells = [kernel, str(n), f"{t_py * 1e3:.1f}"]
        try:
            run = ours(kernel, args.mode)
            t_ours, got = median_time(lambda run=run, n=n: run(n), args.runs)
            if any(g != expected for g in got):
                raise RuntimeError(f"wrong result {got[0]} (expected {expected})")
            cells += [f"{t_ours * 1e3:.1f}", f"{t_ours / t_py:.2f}"]
        except Exception as exc:  # noqa: BLE001 - any failure is reported as n/a
            cells += [f"n/a ({type(exc).__name__}: {str(exc)[:60]})", "n/a"]
        try:
            from benchmarks.gc_direct import load

            drun = load((GC_DIR / f"{kernel}.wasm").read_bytes())
            t_d, got = median_time(lambda drun=drun, n=n: drun(n), args.runs)
            if any(g != expected for g in got):
                raise RuntimeError(f"wrong result {got[0]} (expected {expected})")
            cells += [f"{t_d * 1e3:.1f}", f"{t_d / t_py:.2f}"]
        except Exception as exc:  # noqa: BLE001
            cells += [f"n/a ({type(exc).__name__}: {str(exc)[:60]})", "n/a"]
        try:
            wrun = wasmtime_run(kernel)
            t_wt, got = median_time(lambda wrun=wrun, n=n: wrun(n), args.runs)
            cells.append(f"{t_wt * 1e3:.2f}" if got[0] == expected else "wrong result")
        except Exception:  # noqa: BLE001
            cells.append("n/a")
        b_ours, b_py = objects[kernel]
        cells += [f"{b_ours:.0f}", f"{b_py:.0f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
