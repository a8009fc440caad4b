"""Grouped loads (engine/compile/load_groups.py) against wasmtime.

Neighbouring loads through one base local are read by one ``struct`` call at the first of
them; v128 loads, splats and lane loads join scalar ones, their addresses found by a
symbolic operand stack even when pushed long before the load (clang's splat + three lane
loads). These tests run random load runs shaped that way (addresses pushed in batches, mixed
widths and lane kinds, a write of the base local or a store between, bases near the end of
memory and past 2**32 so some ``base + c`` wrap) and compare results and traps with wasmtime
in every compilation mode; a guard checks that the runs do reach grouped reads, the
wrap-around path and v128 members; unit tests check the address analysis.
"""

from __future__ import annotations

import importlib
import random
import re

import pytest

from engine.binary import decode_body, decode_module
from engine.text import wat2wasm
from tests.differential.harness import needs_tools

T = importlib.import_module("engine.compile.translate")
G = importlib.import_module("engine.compile.load_groups")
MODES = ("eager", "lazy-translation", "lazy")
M64 = (1 << 64) - 1
#: Bases: inside, near the end of the page (some members trap), past it, and below 2**32
#: by a little (``base + c`` wraps for positive c; with negative c the guard's other side).
BASES = (0, 8, 100, 4096, 65536 - 200, 65536 - 40, 65536 - 8, 70000, -4, -12, -16, -100)


def _data(rng: random.Random, n: int) -> str:
    return "".join(f"\\{rng.randrange(256):02x}" for _ in range(n))


#: Literals added to each base local: ``$p`` mixes signs (a negative one traps where a
#: positive one wraps), ``$r`` only positive ones of at least 16, so that from the bases
#: -16 and -12 every ``$r + c`` wraps to a valid address (the guard's slow path, no trap).
CONSTS = {"$p": (0, 4, 8, 12, 16, 24, 32, 48, 64, -8, -16, -4), "$r": (16, 20, 24, 32, 40, 64)}


def _addr(rng: random.Random, local: str) -> str:
    c = rng.choice(CONSTS[local])
    if c == 0 and rng.random() < 0.5:
        return f"(local.get {local})"
    return f"(i32.add (local.get {local}) (i32.const {c}))"


def _fold_v(v: str) -> str:
    """An i64 from every bit of a v128 expression (kept in $v)."""
    return (f"(local.set $v {v}) (local.set $acc (i64.add (i64.rotl (local.get $acc) "
            f"(i64.const 9)) (i64.xor (i64x2.extract_lane 0 (local.get $v)) "
            f"(i64x2.extract_lane 1 (local.get $v)))))")


def _fold(x: str) -> str:
    return (f"(local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 5)) {x}))")


def _item(rng: random.Random) -> str:
    r = rng.random()
    at = rng.choice(tuple(CONSTS))
    off = rng.choice((0, 0, 4, 8, 16))
    if r < 0.25:  # clang's splat + three lane loads: the four addresses first
        addrs = [_addr(rng, at) for _ in range(4)]
        return _fold_v(
            f"(i32x4.add (v128.load32_lane offset={off} 3 {addrs[0]} (v128.load32_lane "
            f"offset={off} 2 {addrs[1]} (v128.load32_lane offset={off} 1 {addrs[2]} "
            f"(v128.load32_splat offset={off} {addrs[3]})))) (local.get $w))")
    if r < 0.35:  # 64-bit splat and lane, consumed as f64x2 (moves only: exact bits)
        a, b = _addr(rng, at), _addr(rng, at)
        return _fold_v(f"(f64x2.replace_lane 0 (v128.load64_lane offset={off} 1 {a} "
                       f"(v128.load64_splat {b})) (f64x2.extract_lane 1 (local.get $w)))")
    if r < 0.45:  # the same, consumed as i64x2
        a, b = _addr(rng, at), _addr(rng, at)
        return _fold_v(f"(i64x2.add (v128.load64_lane 0 {a} (v128.load64_splat "
                       f"offset={off} {b})) (local.get $w))")
    if r < 0.6:  # full loads of several shapes
        shape = rng.choice(("i32x4.mul", "i16x8.add", "i64x2.sub", "i8x16.add_sat_u"))
        return _fold_v(f"({shape} (v128.load offset={off} {_addr(rng, at)}) (local.get $w))")
    if r < 0.68:  # f64x2 full load: its bits through lane moves
        return _fold(f"(i64.reinterpret_f64 (f64x2.extract_lane {rng.randrange(2)} "
                     f"(v128.load offset={off} {_addr(rng, at)})))")
    if r < 0.85:
        load = rng.choice(("i32.load", "i64.load", "f64.load", "i32.load8_u"))
        x = f"({load} offset={off} {_addr(rng, at)})"
        if load == "f64.load":
            x = f"(i64.reinterpret_f64 {x})"
        elif load != "i64.load":
            x = f"(i64.extend_i32_u {x})"
        return _fold(x)
    if r < 0.9:  # the base changes: later places read the new value
        return (f"(local.set {at} (i32.add (local.get {at}) "
                f"(i32.const {rng.choice((4, 8, -8))})))")
    if r < 0.95:  # a store between: no group across it
        return f"(i32.store offset=4 {_addr(rng, at)} (i32.wrap_i64 (local.get $acc)))"
    return "(local.set $w (v128.load offset=16 (local.get $q)))"


def _module(seed: int) -> str:
    rng = random.Random(seed)
    body = " ".join(_item(rng) for _ in range(rng.randrange(8, 24)))
    return f"""(module (memory 1)
      (data (i32.const 0) "{_data(rng, 384)}")
      (data (i32.const 65280) "{_data(rng, 256)}")
      (func (export "run") (param $n i32) (result i64)
        (local $p i32) (local $r i32) (local $q i32) (local $v v128) (local $w v128) (local $acc i64)
        (local.set $p (local.get $n))
        (local.set $r (local.get $n))
        (local.set $q (i32.const 64))
        (local.set $w (v128.const i32x4 7 -3 0x10001 0x7fffffff))
        {body}
        (local.get $acc)))"""


def _results(run, trap_type) -> list:
    out = []
    for n in BASES:
        try:
            out.append(run(n) & M64)
        except trap_type:
            out.append("trap")
    return out


@needs_tools()
@pytest.mark.parametrize("seed", range(60))
def test_random_load_runs_equal_wasmtime(seed: int) -> None:
    import wasmtime

    from benchmarks.runners import load_ours, load_wasmtime
    from engine import Trap

    wasm = wat2wasm(_module(seed))
    ref = _results(load_wasmtime(wasm), wasmtime.Trap)
    assert _results(load_ours(wasm, MODES[seed % 3]), Trap) == ref


def test_random_load_runs_reach_grouped_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard: the random runs above do group, with v128 members (splats, lane loads, full
    loads) and the wrap-around path (on PyPy, whose JIT compiles struct calls, nothing is
    grouped)."""
    from engine.compat import PYPY

    if PYPY:
        pytest.skip("grouped loads are CPython's")
    members: set[str] = set()
    find = G.find_group

    def spy(instrs, *args):
        g = find(instrs, *args)
        if g is not None:
            members.update(instrs[m.idx][0].name for m in g.members)
        return g

    monkeypatch.setattr(G, "find_group", spy)
    groups = slow = 0
    for seed in range(60):
        info = decode_module(wat2wasm(_module(seed)))
        src = T.translate_source(info, 0, decode_body(info, 0))
        groups += len(re.findall(r"= \(?LDG\d+\(M0, l\d", src))
        slow += src.count("LDGSLOW")
    assert groups >= 20 and slow >= 10, (groups, slow)
    assert members >= set(G.SCALAR_CODES) | set(G.V128_MEMBERS), members
def _instrs(text: str, index: int = 0) -> list:
    info = decode_module(wat2wasm(text))
    return decode_body(info, index).instrs


def test_address_places_see_through_pushed_addresses() -> None:
    """clang's shape: four addresses pushed, then a splat and three lane loads; each load
    gets its own address, and a write of the base between forgets the places of it."""
    instrs = _instrs("""(module (memory 1) (func (param $p i32) (result v128)
      (v128.load32_lane 3 (i32.add (local.get $p) (i32.const 12))
        (v128.load32_lane 2 (i32.add (i32.const 8) (local.get $p))
          (v128.load32_lane 1 (i32.add (local.get $p) (i32.const -4))
            (v128.load32_splat (local.tee $p (local.get $p))))))))""")
    places = G.address_places(instrs)
    loads = [i for i, (op, _) in enumerate(instrs) if op.name.startswith("v128.load")]
    # The tee writes $p: the three addresses pushed before it are forgotten; the splat's
    # address is the tee's value, not a local read.
    assert [places.get(i) for i in loads] == [None, None, None, None]
    instrs = _instrs("""(module (memory 1) (func (param $p i32) (result v128)
      (v128.load32_lane 3 (i32.add (local.get $p) (i32.const 12))
        (v128.load32_lane 2 (i32.add (i32.const 8) (local.get $p))
          (v128.load32_lane 1 (i32.add (local.get $p) (i32.const -4))
            (v128.load32_splat (local.get $p)))))))""")
    places = G.address_places(instrs)
    loads = [i for i, (op, _) in enumerate(instrs) if op.name.startswith("v128.load")]
    assert [places.get(i) for i in loads] == [(0, 0), (0, -4), (0, 8), (0, 12)]


def test_address_places_forget_across_control() -> None:
    """An address pushed before a block is not followed into it (the analysis forgets the
    stack at control instructions), and a call's result is no place."""
    instrs = _instrs("""(module (memory 1) (func $f (result i32) (i32.const 0))
      (func (param $p i32) (result i32)
        (i32.add (i32.load (local.get $p))
          (block (result i32) (i32.load offset=4 (call $f))))))""", 1)
    assert len(G.address_places(instrs)) == 1
