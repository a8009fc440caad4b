"""Where the time goes in a macro program: cProfile of one ``run(n)`` in our engine,
grouped by kind of callee.

``python -m benchmarks.macro.profile [--mode M] [--frac F] PROGRAM[.BUILD] ...``

Groups: ``wasm code`` (self time of translated functions; their call count is the number
of wasm-level calls), ``struct`` (loads/stores through ``struct.Struct`` methods),
``numerics`` (engine/compile/numerics.py helpers: rotates, float ops, bulk memory ...),
``simd`` (engine/compile/simd.py helpers, including those it generates), ``int<->bytes``
(``int.to_bytes``/``int.from_bytes``, the v128 helpers' conversions), ``other``. cProfile adds a fixed cost to every
call it sees, so profiled shares overstate callees; ``est. real`` re-prices each callee's
calls at its measured unprofiled cost per call (timed here on the same arguments' types),
which is the figure to plan optimisations with.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict

from benchmarks.macro.programs import PROGRAMS
from benchmarks.runners import load_ours
from engine.errors import WASM_FILE


def _group(filename: str, func: str) -> str:
    if filename == WASM_FILE:
        return "wasm code"
    if "_struct.Struct" in func:
        return "struct"
    if filename.endswith("numerics.py"):
        return "numerics"
    if filename.endswith("simd.py") or filename == "<string>":  # simd.py execs some helpers
        return "simd"
    if "to_bytes" in func or "from_bytes" in func:
        return "int<->bytes"
    return "other"


def _call_cost() -> float:
    """Unprofiled seconds per call of a small Python helper (rotl64-sized)."""
    from engine.compile import numerics as N
    f, x, loops = N.rotl64, 0x0123456789ABCDEF, 200_000
    t = time.perf_counter()
    for _ in range(loops):
        f(x, 13)
    per = (time.perf_counter() - t) / loops
    t = time.perf_counter()
    for _ in range(loops):
        pass
    return per - (time.perf_counter() - t) / loops


def _struct_cost() -> float:
    """Unprofiled seconds per ``Struct.unpack_from`` call on a bytearray."""
    import struct
    u, mem, loops = struct.Struct("<I").unpack_from, bytearray(65536), 200_000
    t = time.perf_counter()
    for i in range(loops):
        u(mem, 64)
    per = (time.perf_counter() - t) / loops
    t = time.perf_counter()
    for i in range(loops):
        pass
    return per - (time.perf_counter() - t) / loops


def profile(name: str, build: str, mode: str | None, frac: float, top: int) -> str:
    """A text report for one program build."""
    prog = next(p for p in PROGRAMS if p.name == name)
    run = load_ours(prog.wasm(build), mode) if mode else load_ours(prog.wasm(build))
    n = max(1, int(prog.size * frac))
    run(n)  # warm-up: the lazy modes translate here
    t = time.perf_counter()
    run(n)
    plain = time.perf_counter() - t
    prof = cProfile.Profile()
    prof.enable()
    run(n)
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    groups: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, _ct, _callers) in stats.items():
        g = _group(filename, func)
        groups[g][0] += ncalls
        groups[g][1] += tottime
        rows.append((tottime, ncalls, f"{filename}:{line}({func})"))
    total = sum(v[1] for v in groups.values())
    call, st = _call_cost(), _struct_cost()
    est = {"struct": groups["struct"][0] * st,
           "numerics": groups["numerics"][0] * call, "simd": groups["simd"][0] * call,
           "int<->bytes": groups["int<->bytes"][0] * st}
    head = (f"== {name}.{build} n={n}: {plain * 1e3:.1f} ms unprofiled, "
            f"{total * 1e3:.1f} ms profiled; {plain / n * 1e6:.1f} us per {prog.unit}")
    out = [head]
    for g, (nc, tt) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        real = f"; est. real >= {est[g] / plain:5.1%}" if g in est else ""
        out.append(f"  {g:10} {tt / total:6.1%} profiled, {nc / n:10.2f} calls per "
                   f"{prog.unit}{real}")
    out.append("  top callees (tottime, calls):")
    for tt, nc, where in sorted(rows, reverse=True)[:top]:
        out.append(f"    {tt * 1e3:8.1f} ms {nc:9d}  {where.split('/')[-1][:90]}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.macro.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="+", metavar="PROGRAM[.BUILD]")
    p.add_argument("--mode", choices=("eager", "lazy-translation", "lazy"))
    p.add_argument("--frac", type=float, default=0.25, help="fraction of the table's size")
    p.add_argument("--top", type=int, default=6)
    a = p.parse_args(argv)
    for target in a.targets:
        name, _, build = target.partition(".")
        for b in [build] if build else ["O2", "O0", "O3simd"]:
            print(profile(name, b, a.mode, a.frac, a.top), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
