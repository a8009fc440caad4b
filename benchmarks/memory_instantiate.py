"""Instantiating a module that declares a large memory, with and without store limits, and
the access cost of the two backings of linear memory (anonymous mmap vs bytearray).

    python -m benchmarks.memory_instantiate [--full] [--quick]

Each instantiation runs in a fresh subprocess, so its peak RSS (``ru_maxrss``) is its own:
the figure is the growth of peak RSS across ``Instance(...)`` plus one write to the last byte.
``--full`` also instantiates ``(memory 65536)`` on a bytearray (4 GiB committed, several
seconds): the cost the mmap backing avoids. The access table times the operations translated
code performs on ``rt.memories[0].data`` (struct unpack_from / pack_into, byte index, slice);
the kernel table runs the memory-using benchmark kernels on each backing, alternating.
"""

from __future__ import annotations

import argparse
import json
import mmap
import platform
import struct
import subprocess
import sys
import time
import timeit

from benchmarks.timing import markdown_table

PAGE = 65536

_CHILD = r"""
import json, resource, sys, time
from engine import Instance, Module, ResourceLimitError, Store
import engine.runtime.memory as memory
pages, backing, limit = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
if backing == "bytearray":
    memory.MMAP_RESIZABLE = False
# (module (memory <pages>)) with the memory exported as "m"
def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F; n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n: return bytes(out)
mem_sec = b"\x01\x00" + uleb(pages)
exp_sec = b"\x01\x01m\x02\x00"
wasm = (b"\x00asm\x01\x00\x00\x00" + b"\x05" + uleb(len(mem_sec)) + mem_sec
        + b"\x07" + uleb(len(exp_sec)) + exp_sec)
store = Store()
if limit >= 0:
    store.set_limits(memory_size=limit)
module = Module(store.engine, wasm)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    inst = Instance(store, module, [])
    m = inst.exports(store)["m"]
    m.write(store, b"\x01", m.data_len(store) - 1)
    outcome = "instantiated"
except ResourceLimitError as exc:
    outcome = "refused: " + str(exc)
t1 = time.perf_counter()
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
scale = 1 if sys.platform == "darwin" else 1024
print(json.dumps({"seconds": t1 - t0, "rss": (rss1 - rss0) * scale, "outcome": outcome}))
"""


def _instantiate(pages: int, backing: str, limit: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(pages), backing, str(limit)],
                          check=False, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"seconds": None, "rss": None, "outcome": f"failed: {proc.stderr.strip()[-200:]}"}
    return json.loads(proc.stdout)


def _fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def instantiate_rows(full: bool) -> list[list[str]]:
    cases = [
        (4096, "mmap", -1), (4096, "bytearray", -1),
        (65536, "mmap", -1), (65536, "mmap", 64 << 20), (65536, "bytearray", 64 << 20),
    ]
    if full:
        cases.append((65536, "bytearray", -1))
    rows = []
    for pages, backing, limit in cases:
        r = _instantiate(pages, backing, limit)
        secs = "-" if r["seconds"] is None else f"{r['seconds'] * 1e3:.2f} ms"
        rows.append([f"(memory {pages}) = {_fmt_bytes(pages * PAGE)}", backing,
                     "none" if limit < 0 else f"memory_size={_fmt_bytes(limit)}", secs,
                     _fmt_bytes(r["rss"]), r["outcome"]])
    return rows


def access_rows(number: int = 300_000) -> list[list[str]]:
    """ns per operation on a 1 MiB bytearray vs a 1 MiB private anonymous mmap."""
    u32, p32 = struct.Struct("<I").unpack_from, struct.Struct("<I").pack_into
    buffers = {"bytearray": bytearray(1 << 20),
               "mmap": mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)}
    ops = {"i32.load (unpack_from)": "U(M0, 4096)[0]", "i32.store (pack_into)": "P(M0, 4096, 7)",
           "load8_u (M0[i])": "M0[4096]", "store8 (M0[i] = v)": "M0[4096] = 7",
           "memory.size (len)": "len(M0)", "v128.load (16-byte slice)": "M0[4096:4112]"}
    rows = []
    for label, stmt in ops.items():
        cells = {}
        for name, buf in buffers.items():
            g = {"M0": buf, "U": u32, "P": p32}
            best = min(timeit.repeat(stmt, globals=g, number=number, repeat=5))
            cells[name] = best / number * 1e9
        rows.append([label, f"{cells['bytearray']:.0f}", f"{cells['mmap']:.0f}",
                     f"{cells['mmap'] / cells['bytearray']:.2f}x"])
    return rows


def kernel_rows(quick: bool, runs: int = 11) -> list[list[str]]:
    """The memory-using benchmark kernels on each backing, alternated run by run (medians)."""
    from statistics import median

    from benchmarks.runners import load_ours
    from benchmarks.suite import KERNELS
    from engine.runtime import memory

    rows = []
    for kernel in KERNELS:
        if kernel.name not in ("sieve", "matmul", "crc32", "bulk"):
            continue
        n = kernel.quick_size if quick else kernel.size
        runners, times = {}, {"bytearray": [], "mmap": []}
        saved = memory.MMAP_RESIZABLE
        try:
            for backing in times:
                memory.MMAP_RESIZABLE = backing == "mmap"
                runners[backing] = load_ours(kernel.wasm_bytes())
        finally:
            memory.MMAP_RESIZABLE = saved
        for backing in times:
            runners[backing](n)  # warm up: first-call translation
        for _ in range(runs):
            for backing, run in runners.items():
                t0 = time.perf_counter()
                run(n)
                times[backing].append(time.perf_counter() - t0)
        b, m = median(times["bytearray"]), median(times["mmap"])
        rows.append([f"{kernel.name} (n={n})", f"{b * 1e3:.1f}", f"{m * 1e3:.1f}", f"{m / b:.2f}x"])
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true",
                   help="also commit a 4 GiB bytearray memory (slow, needs 4 GiB of RAM)")
    p.add_argument("--quick", action="store_true", help="kernels at their smoke-test size")
    args = p.parse_args(argv)
    print(f"{platform.platform()}; Python {platform.python_version()}\n")
    print(markdown_table(["module", "backing", "store limit", "Instance + 1 write",
                          "peak RSS growth", "outcome"], instantiate_rows(args.full)))
    print()
    print(markdown_table(["operation", "bytearray ns", "mmap ns", "mmap / bytearray"],
                         access_rows()))
    print()
    print(markdown_table(["kernel", "bytearray ms", "mmap ms", "mmap / bytearray"],
                         kernel_rows(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
