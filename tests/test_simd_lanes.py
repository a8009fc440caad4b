"""v128 values kept as lanes (engine/compile/simd_lanes.py, simd_locals.py, simd_webs.py).

The translator may hold a v128 as one Python value per lane between lane-wise instructions
and keep v128 locals as lane variables, split into webs (one per group of definitions and
the uses they reach). These tests check the results against wasmtime on code shaped to
stress the webs (a local reused with another lane kind, values live across loop back edges,
br_if / br_table / if-else merges, params, tee, memory round trips) in every compilation
mode, that NaN payloads survive lane moves, and that the web analysis splits what it should.
"""

from __future__ import annotations

import importlib
import random
import re
import struct

import pytest

from benchmarks.runners import load_ours, load_wasmtime
from engine.binary import decode_body, decode_module
from engine.text import wat2wasm

T = importlib.import_module("engine.compile.translate")
MODES = ("eager", "lazy-translation", "lazy")

# One v128 local ($v) is an f64x2 accumulator in the first loop and an i32x4 in the
# second; $w is live across a loop exit by br_if; a br_table merges three definitions.
WEBS = """
(module
  (memory 1)
  (func $mix (param $a v128) (param $b v128) (result v128)
    (f64x2.add (local.get $a) (f64x2.mul (local.get $b) (v128.const f64x2 0.5 -2.0))))
  (func (export "run") (param $n i32) (result i64)
    (local $v v128) (local $w v128) (local $i i32) (local $acc i64)
    (local.set $v (f64x2.splat (f64.const 0.5)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (f64x2.add (local.get $v)
                                 (f64x2.mul (local.get $v) (f64x2.splat (f64.const 0.25)))))
        (if (i32.and (local.get $i) (i32.const 1))
          (then (local.set $v (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                                             (local.get $v) (local.get $v))))
          (else (local.set $v (call $mix (local.get $v) (local.get $v)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.set $acc (i64.reinterpret_f64 (f64x2.extract_lane 0 (local.get $v))))
    (local.set $acc (i64.xor (i64.rotl (local.get $acc) (i64.const 7))
                             (i64.reinterpret_f64 (f64x2.extract_lane 1 (local.get $v)))))
    (v128.store offset=32 (i32.const 0) (local.get $v))
    (local.set $v (i32x4.splat (local.get $n)))
    (local.set $w (v128.const i32x4 1 2 3 4))
    (local.set $i (i32.const 0))
    (block $out
      (loop $l2
        (local.set $w (i32x4.add (i32x4.mul (local.tee $w (i32x4.shl (local.get $w) (i32.const 1)))
                                            (local.get $v))
                                 (v128.const i32x4 7 -1 0x80000000 3)))
        (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l2)))
    (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 (i32.rem_u (local.get $n) (i32.const 3))))
      (local.set $v (v128.xor (local.get $w) (local.get $v)))
      (br $b2))
      (local.set $v (i32x4.sub (local.get $w) (local.get $v))))
    (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $v)))))
    (local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 13))
                             (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $v)))))
    (local.set $acc (i64.xor (local.get $acc) (i64x2.extract_lane 1 (local.get $w))))
    (local.set $v (v128.load offset=32 (i32.const 0)))
    (local.set $v (f64x2.sub (local.get $v) (f64x2.splat (f64.load offset=40 (i32.const 0)))))
    (v128.store offset=64 (i32.const 0) (local.get $v))
    (i64.add (local.get $acc) (i64.load offset=64 (i32.const 0)))))
"""

# Integer lane kinds, shifts by constants, comparisons, lane loads/stores, a v128 parameter.
INTS = """
(module
  (memory 1)
  (func $k (param $x v128) (param $s i32) (result v128)
    (i16x8.add (i16x8.shr_s (local.get $x) (i32.const 3))
               (i16x8.splat (local.get $s))))
  (func (export "run") (param $n i32) (result i64)
    (local $v v128) (local $u v128) (local $i i32)
    (local.set $v (v128.const i8x16 0 1 2 3 250 251 252 253 128 127 9 10 11 12 13 255))
    (loop $l
      (local.set $u (i8x16.sub (local.get $v) (i8x16.splat (local.get $i))))
      (local.set $v (v128.or (i8x16.add (local.get $u) (local.get $v))
                             (i8x16.gt_s (local.get $u) (local.get $v))))
      (v128.store32_lane offset=100 2 (i32.const 0) (local.get $v))
      (local.set $u (v128.load32_lane offset=100 1 (i32.const 0) (i32x4.splat (local.get $i))))
      (local.set $v (v128.xor (local.get $v) (i32x4.shr_u (local.get $u) (i32.const 33))))
      (local.set $v (call $k (local.get $v) (local.get $i)))
      (local.set $v (i64x2.add (local.get $v) (i64x2.shl (local.get $v) (i32.const 61))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.xor (i64x2.extract_lane 0 (local.get $v))
             (i64.extend_i32_s (i8x16.extract_lane_s 15 (local.get $v))))))
"""


def _pair(text: str, mode: str) -> tuple:
    wasmtime = pytest.importorskip("wasmtime", reason="wasmtime is the reference engine")
    wasm = wat2wasm(text)
    assert wasmtime is not None
    return load_ours(wasm, mode), load_wasmtime(wasm)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text", [WEBS, INTS], ids=["webs", "ints"])
def test_results_equal_wasmtime(text: str, mode: str) -> None:
    ours, ref = _pair(text, mode)
    for n in (0, 1, 2, 3, 4, 5, 9):
        assert ours(n) & (2**64 - 1) == ref(n) & (2**64 - 1), n


def _source(text: str, index: int) -> str:
    info = decode_module(wat2wasm(text))
    return T.translate_source(info, index, decode_body(info, index))


def test_reused_local_gets_one_web_per_lane_kind() -> None:
    src = _source(WEBS, 1)
    # $v is local 1: f64x2 webs (lanes l1_<web>_0..1) and i32x4 webs (l1_<web>_0..3)
    lanes: dict[str, int] = {}
    for web, j in re.findall(r"\bl1_(\d+)_(\d+)\b", src):
        lanes[web] = max(lanes.get(web, 0), int(j) + 1)
    assert 2 in lanes.values() and 4 in lanes.values()
    assert "v_f64x2_add" not in src  # the lane-wise arithmetic is inline


SNAN = 0x7FF0000000000001  # a signalling NaN payload: moves must keep every bit
QNAN_NEG = 0xFFF8000000000123


def test_nan_payloads_survive_lane_moves() -> None:
    text = f"""
    (module (memory 1)
      (func (export "run") (param $n i32) (result i64)
        (local $v v128) (local $w v128)
        (local.set $v (f64x2.replace_lane 1 (f64x2.splat (f64.reinterpret_i64 (i64.const {SNAN})))
                                           (f64.reinterpret_i64 (i64.const {QNAN_NEG - 2**64}))))
        (local.set $w (f64x2.neg (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                                                (local.get $v) (local.get $v))))
        (v128.store (i32.const 16) (f64x2.abs (local.get $w)))
        (v128.store (i32.const 32) (local.get $w))
        (i64.xor (i64.reinterpret_f64 (f64x2.extract_lane 0 (local.get $v)))
                 (i64.load (i32.const 24)))))
    """
    for mode in MODES:
        ours, ref = _pair(text, mode)
        assert ours(0) & (2**64 - 1) == ref(0) & (2**64 - 1) == SNAN ^ SNAN & ~(1 << 63)


def test_float_lane_values_are_exact() -> None:
    # f64x2 lanes round like scalar f64 (Python floats are doubles); min/max/div/sqrt rules
    text = """
    (module
      (func (export "run") (param $n i32) (result i64)
        (local $v v128)
        (local.set $v (f64x2.div (v128.const f64x2 1.0 -0.0)
                                 (f64x2.splat (f64.convert_i32_s (local.get $n)))))
        (local.set $v (f64x2.add (f64x2.min (local.get $v) (v128.const f64x2 -0.0 0.0))
                                 (f64x2.sqrt (f64x2.max (local.get $v) (v128.const f64x2 0.1 3.0)))))
        (i64.xor (i64.reinterpret_f64 (f64x2.extract_lane 0 (local.get $v)))
                 (i64.rotl (i64.reinterpret_f64 (f64x2.extract_lane 1 (local.get $v)))
                           (i64.const 1)))))
    """
    for mode in MODES:
        ours, ref = _pair(text, mode)
        for n in (1, 3, -7, 2**31 - 1):  # no NaN results: their sign is nondeterministic
            assert ours(n) & (2**64 - 1) == ref(n) & (2**64 - 1), (mode, n)
    assert struct.pack("<d", -0.0) != struct.pack("<d", 0.0)


@pytest.mark.parametrize("text", [WEBS, INTS], ids=["webs", "ints"])
def test_flat_form_equals_wasmtime(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The flat form (a pc dispatch loop) keeps the same lane variables and webs."""
    monkeypatch.setattr(T, "FORCE_FLAT", True)
    ours, ref = _pair(text, "eager")
    for n in (0, 1, 2, 5):
        assert ours(n) & (2**64 - 1) == ref(n) & (2**64 - 1), n
    assert "pc = " in _source(text, 1)


# -- random structured programs: v128 locals of mixed kinds across branches and loops --------

_V = ("$a", "$b", "$c")
_SHUF = " ".join(str(i) for i in (8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7))


def _vexpr(rng: random.Random, depth: int = 0) -> str:
    """A v128 expression; float arithmetic only with one constant operand (a NaN lane then
    propagates the same on every engine)."""
    get = f"(local.get {rng.choice(_V)})"
    if depth > 2:
        return get
    sub = _vexpr(rng, depth + 1)
    return rng.choice([
        get,
        f"(f64x2.add {sub} (v128.const f64x2 1.5 -0.25))",
        f"(f64x2.mul {sub} (f64x2.splat (f64.const 0.5)))",
        f"(f64x2.pmin {sub} {get})",
        f"(f64x2.neg {sub})",
        f"(f64x2.replace_lane 1 {sub} (f64.const -3.0))",
        f"(i32x4.add {sub} {get})",
        f"(i32x4.mul {sub} (i32x4.splat (i32.const 7)))",
        f"(i32x4.sub {get} {sub})",
        f"(i32x4.shr_s {sub} (i32.const 3))",
        f"(i32x4.replace_lane 2 {sub} (i32.const -9))",
        f"(i64x2.add {sub} {get})",
        f"(i16x8.sub {sub} {get})",
        f"(i8x16.add {sub} (i8x16.splat (i32.const 200)))",
        f"(v128.xor {sub} {get})",
        f"(i8x16.shuffle {_SHUF} {sub} {get})",
        f"(i32x4.eq {sub} {get})",
    ])


def _scalar(rng: random.Random) -> str:
    v = f"(local.get {rng.choice(_V)})"
    return rng.choice([
        f"(i64x2.extract_lane {rng.randrange(2)} {v})",
        f"(i64.extend_i32_u (i32x4.extract_lane {rng.randrange(4)} {v}))",
        f"(i64.reinterpret_f64 (f64x2.extract_lane {rng.randrange(2)} {v}))",
        f"(i64.extend_i32_s (i8x16.extract_lane_s {rng.randrange(16)} {v}))",
    ])


def _stmts(rng: random.Random, depth: int, labels: list[bool]) -> str:
    """Statements; ``labels``: the enclosing labels, innermost last, True for a loop (never
    a branch target here: every loop ends by its own counter)."""
    targets = [d for d, is_loop in enumerate(reversed(labels)) if not is_loop]
    v = f"(local.get {rng.choice(_V)})"
    out = []
    for _ in range(rng.randrange(1, 4)):
        r = rng.random()
        if r < 0.35:
            out.append(f"(local.set {rng.choice(_V)} {_vexpr(rng)})")
        elif r < 0.5:
            out.append("(local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 5)) "
                       f"{_scalar(rng)}))")
        elif r < 0.6 and targets:
            cond = f"(i32.and (i32x4.extract_lane 0 {v}) (i32.const 1))"
            out.append(f"(br_if {rng.choice(targets)} {cond})")
        elif r < 0.65 and targets:
            table = " ".join(str(rng.choice(targets)) for _ in range(3))
            out.append(f"(br_table {table} (i32.and (i32x4.extract_lane 1 {v}) (i32.const 3)))")
        elif depth < 3 and r < 0.75:
            out.append(f"(block {_stmts(rng, depth + 1, [*labels, False])})")
        elif depth < 3 and r < 0.85:
            inner = [*labels, False]
            out.append(f"(if (i32.and (i32x4.extract_lane 3 {v}) (i32.const 2)) "
                       f"(then {_stmts(rng, depth + 1, inner)}) "
                       f"(else {_stmts(rng, depth + 1, inner)}))")
        elif depth < 3 and sum(labels) < 3:
            c = f"$i{sum(labels)}"
            body = _stmts(rng, depth + 1, [*labels, True])
            out.append(f"(local.set {c} (i32.const {rng.randrange(1, 4)})) (loop {body} "
                       f"(local.set {c} (i32.sub (local.get {c}) (i32.const 1))) "
                       f"(br_if 0 (local.get {c})))")
        else:
            out.append(f"(local.set {rng.choice(_V)} {_vexpr(rng)})")
    return " ".join(out)


def _program(seed: int) -> str:
    rng = random.Random(seed)
    body = _stmts(rng, 0, [False])
    return f"""(module (func (export "run") (param $n i32) (result i64)
      (local $a v128) (local $b v128) (local $c v128) (local $i0 i32) (local $i1 i32)
      (local $i2 i32) (local $acc i64)
      (local.set $a (i32x4.splat (local.get $n)))
      (local.set $b (v128.const i32x4 0x3ff00000 0x12345 -7 0x40000000))
      (block {body})
      (i64.add (local.get $acc) (i64.add {_scalar(rng)} {_scalar(rng)}))))"""


@pytest.mark.parametrize("seed", range(40))
def test_random_programs_equal_wasmtime(seed: int) -> None:
    ours, ref = _pair(_program(seed), MODES[seed % 3])
    for n in (0, 1, 6, -5):
        assert ours(n) & (2**64 - 1) == ref(n) & (2**64 - 1), (seed, n)


def test_bodies_with_handlers_keep_one_web_per_local() -> None:
    """A throw may leave a try_table from anywhere, so the web analysis declines such
    bodies; the lanes then follow the local (one web each), still exact."""
    text = """
    (module
      (tag $e (param i32))
      (func $maybe (param $x i32) (if (local.get $x) (then (throw $e (local.get $x)))))
      (func (export "run") (param $n i32) (result i64)
        (local $v v128) (local $k i32)
        (local.set $v (f64x2.splat (f64.const 1.5)))
        (local.set $k
          (block $h (result i32)
            (try_table (catch $e $h)
              (local.set $v (f64x2.mul (local.get $v) (v128.const f64x2 2.0 3.0)))
              (call $maybe (local.get $n))
              (local.set $v (f64x2.add (local.get $v) (local.get $v))))
            (i32.const 100)))
        (i64.add (i64.extend_i32_u (local.get $k))
                 (i64.trunc_f64_s (f64.add (f64x2.extract_lane 0 (local.get $v))
                                           (f64.mul (f64.const 10.0)
                                                    (f64x2.extract_lane 1 (local.get $v))))))))
    """
    src = _source(text, 1)
    assert re.search(r"\bl1_1_1\b", src)  # $v (local 1) as f64x2 lanes of the local's web
    for mode in MODES:
        run = load_ours(wat2wasm(text), mode)
        assert run(0) == 100 + 6 + 90  # no throw: (3, 4.5) doubled
        assert run(7) == 7 + 3 + 45  # thrown after the mul: (3, 4.5)
