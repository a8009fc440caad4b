"""Generate hostile (valid) modules whose compilation used to cost more than linear time.

Each case is a function ``case(n) -> bytes``; ``n`` scales the input linearly. Run as a script
to print, per case and size, the module size, the time to compile every body (eager mode:
decode + validate + translate) and the peak traced memory::

    python tests/hostile/corpus.py [--scale 1.0] [--mode eager]

``benchmarks/hostile.py`` (``python -m benchmarks --only hostile``) reports the same cases as
time per input byte at two sizes, so that linearity is visible.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.wasmgen import (
    BLOCK,
    BLOCK_EMPTY,
    BR_IF,
    CALL,
    END,
    I32,
    I32_ADD,
    I32_CONST,
    IF,
    LOCAL_GET,
    LOCAL_SET,
    LOOP,
    code_entry,
    functype,
    name,
    section,
    uleb,
    vec,
)

DROP, BR_TABLE, GLOBAL_GET, GLOBAL_SET, I32_LOAD, I32_STORE = 0x1A, 0x0E, 0x23, 0x24, 0x28, 0x36


def _module(
    types: list[bytes],
    bodies: list[tuple[int, bytes]],
    imports: int = 0,
    globals_: int = 0,
    memory: bool = False,
) -> bytes:
    """A module of ``bodies`` ((type index, code entry)); ``imports`` functions ``env.f<i>``
    of type 0; ``globals_`` mutable i32 globals; function ``imports`` exported as "run"."""
    out = [b"\x00asm\x01\x00\x00\x00", section(1, vec(types))]
    if imports:
        out.append(section(2, vec([name("env") + name(f"f{i}") + b"\x00" + uleb(0)
                                   for i in range(imports)])))
    out.append(section(3, vec([uleb(t) for t, _ in bodies])))
    if memory:
        out.append(section(5, vec([b"\x00\x01"])))
    if globals_:
        out.append(section(6, vec([bytes([I32, 1, I32_CONST, 0, END])] * globals_)))
    out.append(section(7, vec([name("run") + b"\x00" + uleb(imports)])))
    out.append(section(10, vec([body for _, body in bodies])))
    return b"".join(out)


_VOID = functype([], [])
_I32_VOID = functype([I32], [])


def get_set(n: int) -> bytes:
    """n ``local.get 0`` then n ``local.set 0``: every set used to rescan the deep stack."""
    body = bytes([LOCAL_GET, 0]) * n + bytes([LOCAL_SET, 0]) * n + bytes([END])
    return _module([_VOID], [(0, code_entry([(1, I32)], body))])


def get_set_many(n: int) -> bytes:
    """n ``local.get 0`` then n ``local.set`` of other locals (nothing to spill, but the scan)."""
    body = bytes([LOCAL_GET, 0]) * n + bytes([LOCAL_SET, 1]) * n + bytes([END])
    return _module([_VOID], [(0, code_entry([(2, I32)], body))])


def br_table_alt(n: int) -> bytes:
    """A ``br_table`` of n targets alternating between two labels."""
    labels = [i & 1 for i in range(n)]
    body = bytes([BLOCK, BLOCK_EMPTY, BLOCK, BLOCK_EMPTY, LOCAL_GET, 0, BR_TABLE])
    body += vec([uleb(x) for x in labels]) + uleb(0) + bytes([END, END, END])
    return _module([_I32_VOID], [(0, code_entry([], body))])


def deep_nesting(n: int) -> bytes:
    """n nested blocks, the innermost branching to the outermost."""
    body = bytes([BLOCK, BLOCK_EMPTY]) * n + bytes([LOCAL_GET, 0, BR_IF]) + uleb(n - 1)
    body += bytes([END]) * n + bytes([END])
    return _module([_I32_VOID], [(0, code_entry([], body))])


def blocks_over_stack(n: int) -> bytes:
    """n values on the stack, then n ``if`` blocks over them (each used to copy the stack)."""
    body = bytes([LOCAL_GET, 0]) * n
    body += bytes([LOCAL_GET, 0, IF, BLOCK_EMPTY, END]) * n
    body += bytes([DROP]) * n + bytes([END])
    return _module([_I32_VOID], [(0, code_entry([], body))])


def huge_locals(n: int) -> bytes:
    """n declared locals (one run), the last one read."""
    body = bytes([LOCAL_GET]) + uleb(n) + bytes([DROP, END])
    return _module([_VOID], [(0, code_entry([(n + 1, I32)], body))])


def straight_line(n: int) -> bytes:
    """n times ``l0 = l0 + 1``."""
    body = bytes([LOCAL_GET, 0, I32_CONST, 1, I32_ADD, LOCAL_SET, 0]) * n + bytes([END])
    return _module([_VOID], [(0, code_entry([(1, I32)], body))])


def many_imports(n: int) -> bytes:
    """n imported functions, each called once by one body (each call looked up its type)."""
    body = b"".join(bytes([CALL]) + uleb(i) for i in range(n)) + bytes([END])
    return _module([_VOID], [(0, code_entry([], body))], imports=n)


def flush_heavy(n: int) -> bytes:
    """n mutable ``global.get`` (effectful entries) then n ``global.set``: each set flushes."""
    body = b"".join(bytes([GLOBAL_GET]) + uleb(i % 4) for i in range(n))
    body += b"".join(bytes([GLOBAL_SET]) + uleb(i % 4) for i in range(n)) + bytes([END])
    return _module([_VOID], [(0, code_entry([], body))], globals_=4)


def loads_then_stores(n: int) -> bytes:
    """n loads kept on the stack, then n stores of them (effects interleaved with spills)."""
    body = bytes([I32_CONST, 0, I32_LOAD, 2, 0]) * n
    body += bytes([LOCAL_SET, 0, I32_CONST, 0, LOCAL_GET, 0, I32_STORE, 2, 0]) * n
    body += bytes([END])
    return _module([_VOID], [(0, code_entry([(1, I32)], body))], memory=True)


def loop_nest(n: int) -> bytes:
    """n sequential loops each with a conditional back edge (many Python loops in one body)."""
    body = bytes([LOOP, BLOCK_EMPTY, LOCAL_GET, 0, BR_IF, 0, END]) * n + bytes([END])
    return _module([_I32_VOID], [(0, code_entry([], body))])


def many_functions(n: int) -> bytes:
    """n functions, function i calling function i - 1."""
    bodies = [(0, code_entry([], bytes([END])))]
    bodies += [(0, code_entry([], bytes([CALL]) + uleb(i - 1) + bytes([END])))
               for i in range(1, n)]
    return _module([_VOID], bodies)


def branch_out_of_stack(n: int) -> bytes:
    """A deep stack, then n ``br_if`` out of a block over it."""
    body = bytes([BLOCK, BLOCK_EMPTY]) + bytes([LOCAL_GET, 0]) * n
    body += bytes([LOCAL_GET, 0, BR_IF, 0]) * n + bytes([DROP]) * n + bytes([END, END])
    return _module([_I32_VOID], [(0, code_entry([], body))])


#: name -> (generator, base n): the base size compiles in well under a second when linear.
CASES: dict[str, tuple[Callable[[int], bytes], int]] = {
    "get_set": (get_set, 10_000),
    "get_set_many": (get_set_many, 10_000),
    "br_table_alt": (br_table_alt, 20_000),
    "deep_nesting": (deep_nesting, 1_000),
    "blocks_over_stack": (blocks_over_stack, 5_000),
    "huge_locals": (huge_locals, 20_000),
    "straight_line": (straight_line, 5_000),
    "many_imports": (many_imports, 5_000),
    "flush_heavy": (flush_heavy, 10_000),
    "loads_then_stores": (loads_then_stores, 5_000),
    "loop_nest": (loop_nest, 2_000),
    "many_functions": (many_functions, 5_000),
    "branch_out_of_stack": (branch_out_of_stack, 5_000),
}


def compile_case(wasm: bytes, mode: str = "eager") -> None:
    """Decode, validate and translate every body of ``wasm`` (mode "eager")."""
    from engine import Config, Engine, Module

    Module(Engine(Config(compilation_mode=mode)), wasm).compile_all()


def measure(wasm: bytes, mode: str = "eager") -> tuple[float, int]:
    """(seconds, peak traced bytes) of compiling ``wasm``; timed without tracing."""
    t0 = time.perf_counter()
    compile_case(wasm, mode)
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    try:
        compile_case(wasm, mode)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return seconds, peak


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="multiply every base size")
    p.add_argument("--mode", default="eager")
    p.add_argument("--only", action="append", default=[], help="case name (repeatable)")
    args = p.parse_args(argv)
    compile_case(straight_line(100), args.mode)  # warm-up: imports, first compile
    print("| case | n | bytes | seconds | us/byte | peak MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for case, (gen, base) in CASES.items():
        if args.only and case not in args.only:
            continue
        for mult in (1, 2):
            n = max(2, int(base * args.scale * mult))
            wasm = gen(n)
            seconds, peak = measure(wasm, args.mode)
            print(f"| {case} | {n} | {len(wasm)} | {seconds:.3f} | "
                  f"{seconds / len(wasm) * 1e6:.2f} | {peak / 2**20:.1f} |", flush=True)


if __name__ == "__main__":
    main()
