"""-O3 -msimd128 shapes: a loop's value reused after it (engine/compile/simd_exits.py) and
lanes nothing reads left unassigned (engine/compile/simd_demand.py).

Both change what the translator computes, never what the program does: random programs
shaped like clang's vectorised reductions (the update ``X = op(tee A, tee B)`` in a loop, the
same ``op(A, B)`` after it, with writes, exits and nesting that must block the reuse) and
random chains of shuffles, tees and partial lane reads are checked against wasmtime in
every compilation mode; the generated source is checked for what the analyses remove.
"""

from __future__ import annotations

import importlib
import random
import re
import struct

import pytest

from benchmarks.runners import load_ours, load_wasmtime
from engine.binary import decode_body, decode_module
from engine.compile.control import scan
from engine.compile.simd_demand import ALL, operand_need, widen
from engine.compile.simd_exits import exit_reuses
from engine.text import wat2wasm
from tests.wasm_pairs import fresh_each

T = importlib.import_module("engine.compile.translate")
VM = importlib.import_module("engine.compile.visit_memory")
MODES = ("eager", "lazy-translation", "lazy")
MASK64 = 2**64 - 1


def _pair(text: str, mode: str) -> tuple:
    pytest.importorskip("wasmtime", reason="wasmtime is the reference engine")
    wasm = wat2wasm(text)
    return load_ours(wasm, mode), load_wasmtime(wasm)


def _source(text: str, index: int = 0) -> str:
    info = decode_module(wat2wasm(text))
    return T.translate_source(info, index, decode_body(info, index))


# -- the matmul reduction of matrix.O3simd, by hand ------------------------------------------

MATMUL = """
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i64)
    (local $a v128) (local $b v128) (local $x v128) (local $s v128) (local $i i32)
    (local.set $s (f64x2.splat (f64.convert_i32_s (local.get $n))))
    (local.set $i (i32.const 4))
    (loop $l
      (local.set $x (f64x2.add (local.tee $a (f64x2.mul (local.get $s)
                                                        (v128.const f64x2 0.5 -1.25)))
                               (local.tee $b (local.get $x))))
      (local.set $s (f64x2.add (local.get $s) (v128.const f64x2 1.0 2.0)))
      (local.tee $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l))
    (v128.store (i32.const 16) (f64x2.add (local.get $a) (local.get $b)))
    (i64.xor (i64.load (i32.const 16)) (i64.rotl (i64.load (i32.const 24)) (i64.const 9)))))
"""


def test_reduction_reads_the_loop_value_and_drops_the_copies() -> None:
    src = _source(MATMUL)
    # $a and $b (locals 1, 2) are neither assigned in the loop nor read after it
    assert not re.search(r"\bl[12]_\d+_\d+(, \S+)? = \(", src), src
    assert re.search(r"v_st_f64x2\(M0, 16, l3_\d+_0, l3_\d+_1\)|V0d0\[", src), src
    for mode in MODES:
        ours, ref = _pair(MATMUL, mode)
        for n in (0, 1, -3, 7):
            assert ours(n) & MASK64 == ref(n) & MASK64, (mode, n)


# Horizontal i32x4 sum of clang's reductions: lanes 2 and 3 of $t are never read.
HSUM = """
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i64)
    (local $v v128) (local $t v128)
    (local.set $v (i32x4.mul (i32x4.splat (local.get $n)) (v128.const i32x4 3 5 7 11)))
    (v128.store32_lane 0 (i32.const 8)
      (i32x4.add (local.tee $t (i32x4.add (local.get $v)
                                         (i8x16.shuffle 8 9 10 11 12 13 14 15 0 0 0 0 0 0 0 0
                                                        (local.get $v) (local.get $v))))
                 (i8x16.shuffle 4 5 6 7 0 0 0 0 0 0 0 0 0 0 0 0
                                (local.get $t) (local.get $t))))
    (i64.load (i32.const 8))))
"""


def test_horizontal_sum_assigns_only_the_lane_read() -> None:
    src = _source(HSUM)
    stmts = [ln.strip() for ln in src.splitlines() if re.match(r"\s*l2_\d+_\d", ln)]
    # lane 1 only: lane 0 is passed on by the tee itself, lanes 2 and 3 read by no one
    assert [re.sub(r"_\d+_", "_", s.partition(" = ")[0]) for s in stmts] == ["l2_1"], src
    assert not re.search(r"\bl2_\d+_[023]\b", src), src


def test_horizontal_sum_equals_wasmtime() -> None:
    for mode in MODES:
        ours, ref = _pair(HSUM, mode)
        for n in (0, 1, -1, 0x7FFFFFFF, 12345):
            assert ours(n) & MASK64 == ref(n) & MASK64, (mode, n)


def test_operand_needs() -> None:
    shuf = tuple([4, 5, 6, 7] + [0] * 12)
    assert operand_need("i8x16.shuffle", shuf, 0, 0xF) == 0xF0
    assert operand_need("i8x16.shuffle", shuf, 1, 0xF) == 0
    assert operand_need("i32x4.add", None, 1, 0x10) == 0xF0
    assert operand_need("f64x2.mul", None, 0, 0x1) == 0xFF
    assert operand_need("v128.and", None, 0, 0x1234) == 0x1234
    assert operand_need("i32x4.extract_lane", 2, 0, 0) == 0xF00
    assert operand_need("i32x4.replace_lane", 1, 0, ALL) == ALL & ~0xF0
    assert operand_need("v128.store16_lane", ((0, 0, 0), 3), 1, 0) == 0xC0
    assert operand_need("v128.load64_lane", ((0, 0, 0), 0), 1, ALL) == 0xFF00
    assert operand_need("i32x4.dot_i16x8_s", None, 0, 0x1) == ALL  # not modelled: all
    assert widen(0x0101, 64) == ALL


# -- random reductions: the reuse and what must block it ------------------------------------

_FLOAT_OPS = ("f64x2.add", "f64x2.sub", "f64x2.mul", "f64x2.min", "f64x2.max")
_INT_OPS = ("i32x4.add", "i32x4.mul", "i64x2.sub", "v128.xor", "i16x8.add", "v128.and",
            "i8x16.sub", "i32x4.eq")


def _family(rng: random.Random) -> dict:
    if rng.random() < 0.5:
        return {"ops": _FLOAT_OPS,
                "init": "(f64x2.splat (f64.convert_i32_s (local.get $n)))",
                "e": ["(f64x2.mul (local.get $c) (v128.const f64x2 0.5 -0.75))",
                      "(f64x2.add (local.get $c) (local.get $x))",
                      "(f64x2.neg (local.get $c))"],
                "step": "(f64x2.add (local.get $c) (v128.const f64x2 1.25 -2.5))",
                "fold": "(i64.reinterpret_f64 (f64x2.extract_lane {k} {v}))"}
    return {"ops": _INT_OPS,
            "init": "(i32x4.mul (i32x4.splat (local.get $n)) (v128.const i32x4 3 -5 7 65537))",
            "e": ["(i32x4.mul (local.get $c) (v128.const i32x4 3 -5 7 65537))",
                  "(i8x16.add (local.get $c) (local.get $x))",
                  ("(i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 "
                   "(local.get $c) (local.get $x))")],
            "step": "(i32x4.add (local.get $c) (v128.const i32x4 1 -2 3 -4))",
            "fold": "(i64x2.extract_lane {k} {v})"}


def _write(rng: random.Random, fam: dict, who: str) -> str:
    """A write of local ``who`` (sometimes only on one arm of an if)."""
    w = f"(local.set {who} {rng.choice(fam['e'])})"
    if rng.random() < 0.4:
        return f"(if (i32.and (local.get $i) (i32.const 1)) (then {w}))"
    return w


def _reduction(seed: int) -> str:
    rng = random.Random(seed)
    fam = _family(rng)
    op = rng.choice(fam["ops"])
    upd = (f"(local.set $x ({op} (local.tee $a {rng.choice(fam['e'])}) "
           f"(local.tee $b (local.get $x))))")
    if rng.random() < 0.15:  # not at the loop's top level: no reuse
        upd = f"(block {upd})"
    if rng.random() < 0.1:  # B not a tee of its own
        upd = f"(local.set $x ({op} (local.tee $a {rng.choice(fam['e'])}) (local.get $x)))"
    pre = [_write(rng, fam, rng.choice(("$a", "$b", "$x"))) for _ in range(rng.randrange(2))]
    post = []
    for _ in range(rng.randrange(3)):
        r = rng.random()
        if r < 0.3:
            post.append(_write(rng, fam, rng.choice(("$a", "$b", "$x"))))
        elif r < 0.5:
            post.append("(br_if $out (i32.eq (local.get $i) (i32.const 2)))")
        elif r < 0.6:
            post.append("(br_if $l (i32.eq (local.get $i) (i32.const 7)))")
        else:
            post.append(f"(local.set $c {fam['step']})")
    post.append(f"(local.set $c {fam['step']})")
    after = []
    for _ in range(rng.randrange(3)):
        r = rng.random()
        if r < 0.25:
            after.append(_write(rng, fam, rng.choice(("$a", "$b", "$x"))))
        elif r < 0.4:
            after.append("(nop)")
        else:
            after.append(f"(local.set $c {fam['step']})")
    pairs = [("$a", "$b")] * 6 + [("$b", "$a"), ("$a", "$x")]
    a2, b2 = rng.choice(pairs)
    op2 = op if rng.random() < 0.85 else rng.choice(fam["ops"])
    after.append(f"(local.set $y ({op2} (local.get {a2}) (local.get {b2})))")
    if rng.random() < 0.5:  # a second repeat, reading what the first may have left
        after.append(f"(local.set $c ({op} (local.get $a) (local.get $b)))")
    read = ("$y", "$x", "$c", "$a", "$b") if rng.random() < 0.3 else ("$y", "$x", "$c")
    fold = " ".join(
        f"(local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 11)) "
        f"{fam['fold'].format(k=k, v=f'(local.get {v})')}))"
        for v in read for k in (0, 1))
    return f"""(module (func (export "run") (param $n i32) (result i64)
      (local $a v128) (local $b v128) (local $c v128) (local $x v128) (local $y v128)
      (local $i i32) (local $acc i64)
      (local.set $c {fam['init']})
      (local.set $x (local.get $c))
      (local.set $i (i32.add (i32.and (local.get $n) (i32.const 3)) (i32.const 1)))
      (block $out
        (loop $l
          {' '.join(pre)}
          {upd}
          {' '.join(post)}
          (local.set $i (i32.sub (local.get $i) (i32.const 1)))
          (br_if $l (i32.gt_s (local.get $i) (i32.const 0))))
        {' '.join(after)})
      {fold}
      (local.get $acc)))"""


@pytest.mark.parametrize("seed", range(48))
def test_random_reductions_equal_wasmtime(seed: int) -> None:
    ours, ref = _pair(_reduction(seed), MODES[seed % 3])
    for n in (0, 1, 2, 3, -6):
        assert ours(n) & MASK64 == ref(n) & MASK64, (seed, n)


def _reuses(text: str) -> list:
    info = decode_module(wat2wasm(text))
    body = decode_body(info, 0)
    types = body.local_types(info.func_type(0).params)
    v128 = {i for i, t in enumerate(types) if t == "v128"}
    return exit_reuses(body.instrs, scan(body.instrs).ends, v128)


def test_random_reductions_reach_the_reuse() -> None:
    """The generator makes repeats the analysis reuses as well as blocked ones."""
    found = [len(_reuses(_reduction(seed))) for seed in range(48)]
    assert sum(n > 0 for n in found) >= 8 and found.count(0) >= 8, found


def test_reuse_is_blocked_by_what_may_change_the_operands() -> None:
    def text(loop_tail: str = "", after: str = "", update: str = "") -> str:
        update = update or ("(local.set $x (f64x2.add (local.tee $a (local.get $c)) "
                            "(local.tee $b (local.get $x))))")
        return f"""(module (func (export "run") (param $n i32) (result f64)
          (local $a v128) (local $b v128) (local $c v128) (local $x v128) (local $i i32)
          (block $out (loop $l {update} {loop_tail} (br_if $l (local.get $n)))
            {after} (local.set $c (f64x2.add (local.get $a) (local.get $b))))
          (f64x2.extract_lane 0 (local.get $c))))"""

    assert len(_reuses(text())) == 1
    assert len(_reuses(text(loop_tail="(br_if $out (local.get $i))"))) == 1
    assert not _reuses(text(loop_tail="(local.set $b (local.get $c))"))
    assert not _reuses(text(loop_tail="(if (local.get $i) (then (local.set $x (local.get $c))))"))
    assert not _reuses(text(after="(local.set $a (local.get $c))"))
    assert not _reuses(text(after="(block)"))  # not straight-line
    assert not _reuses(text(update="(block (local.set $x (f64x2.add (local.tee $a (local.get "
                                   "$c)) (local.tee $b (local.get $x)))))"))
    assert not _reuses(text(update="(local.set $x (f64x2.add (local.tee $a (local.get $c)) "
                                   "(local.tee $b (local.get $x)))) (local.set $a (local.get $x))"))
    assert not _reuses(text(update="(local.set $x (f64x2.sub (local.tee $a (local.get $c)) "
                                   "(local.tee $b (local.get $x))))"))


# -- random shuffles, tees and partial lane reads -------------------------------------------

_LOCALS = ("$p", "$q", "$r")


def _shuffle(rng: random.Random) -> str:
    if rng.random() < 0.5:  # clang's "rest of the vector" shuffles: a half, then zeros
        k = rng.choice((4, 8))
        lanes = list(range(k, 16)) + [rng.choice((0, 16))] * k
    else:
        lanes = [rng.randrange(32) for _ in range(16)]
    return " ".join(map(str, lanes))


def _vec(rng: random.Random, depth: int = 0) -> str:
    get = f"(local.get {rng.choice(_LOCALS)})"
    if depth > 2:
        return get
    sub = _vec(rng, depth + 1)
    loc = rng.choice(_LOCALS)
    return rng.choice([
        get, get,
        # clang's reduction step: a tee, then a shuffle of the value it wrote
        (f"(i32x4.add (local.tee {loc} {sub}) "
         f"(i8x16.shuffle {_shuffle(rng)} (local.get {loc}) (local.get {loc})))"),
        f"(local.tee {rng.choice(_LOCALS)} {sub})",
        f"(i8x16.shuffle {_shuffle(rng)} {sub} {_vec(rng, depth + 1)})",
        f"(i32x4.add {sub} {_vec(rng, depth + 1)})",
        f"(i16x8.sub {sub} {get})",
        f"(i64x2.add {sub} {get})",
        f"(v128.xor {sub} {get})",
        f"(i8x16.add {sub} (i8x16.splat (i32.const 77)))",
        f"(i32x4.shl {sub} (i32.const 3))",
        f"(i32x4.replace_lane {rng.randrange(4)} {sub} (i32.const -9))",
        f"(v128.load32_lane offset=64 {rng.randrange(4)} (i32.const 0) {sub})",
        "(i32x4.splat (local.get $s))",  # names a later set of $s must not change
        f"(i32x4.replace_lane {rng.randrange(4)} {sub} (local.get $s))",
    ])


def _consume(rng: random.Random) -> str:
    v = _vec(rng)
    acc = "(local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 7)) {}))"
    r = rng.random()
    if r < 0.3:
        return acc.format(f"(i64.extend_i32_u (i32x4.extract_lane {rng.randrange(4)} {v}))")
    if r < 0.4:
        return acc.format(f"(i64.extend_i32_s (i8x16.extract_lane_s {rng.randrange(16)} {v}))")
    if r < 0.5:
        return acc.format(f"(i64x2.extract_lane {rng.randrange(2)} {v})")
    if r < 0.65:
        width, n = rng.choice(((8, 16), (16, 8), (32, 4), (64, 2)))
        return (f"(v128.store{width}_lane offset=64 {rng.randrange(n)} (i32.const 0) {v}) "
                + acc.format("(i64.load offset=64 (i32.const 0))"))
    if r < 0.72:
        return f"(drop {v})"
    if r < 0.8:
        return (f"(v128.store offset=64 (i32.const 0) {v}) "
                + acc.format("(i64.load offset=72 (i32.const 0))"))
    if r < 0.83:
        return "(local.set $s (i32.add (i32.rotl (local.get $s) (i32.const 5)) (i32.const 7)))"
    if r < 0.86:  # a load straight into a local (unpacked in that local's lane kind)
        load = rng.choice(("v128.load", "v128.load64_splat", "v128.load32_splat"))
        return f"(local.set {rng.choice(_LOCALS)} ({load} offset={rng.choice((64, 68))} " \
               "(i32.const 0)))"
    return f"(local.set {rng.choice(_LOCALS)} {v})"


def _lanes_program(seed: int) -> str:
    rng = random.Random(seed)
    stmts = [_consume(rng) for _ in range(rng.randrange(3, 8))]
    if rng.random() < 0.6:  # some of it in a loop (webs across the back edge)
        k = rng.randrange(1, len(stmts))
        body = " ".join(stmts[k:])
        stmts = stmts[:k] + [
            (f"(local.set $i (i32.const 3)) (loop {body} "
             "(local.tee $i (i32.sub (local.get $i) (i32.const 1))) (br_if 0))")]
    fold = " ".join(
        "(local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 5)) "
        f"(i64x2.extract_lane {k} (local.get {v}))))" for v in _LOCALS for k in (0, 1))
    return f"""(module (memory 1) (func (export "run") (param $n i32) (result i64)
      (local $p v128) (local $q v128) (local $r v128) (local $i i32) (local $acc i64)
      (local $s i32)
      (local.set $s (local.get $n))
      (local.set $p (i32x4.mul (i32x4.splat (local.get $n)) (v128.const i32x4 3 -5 7 65537)))
      (local.set $q (v128.const i32x4 0x01020304 0x8090a0b0 -1 0x7fff8000))
      {' '.join(stmts)}
      {fold}
      (local.get $acc)))"""


@pytest.mark.parametrize("seed", range(48))
def test_random_lane_chains_equal_wasmtime(seed: int) -> None:
    ours, ref = _pair(_lanes_program(seed), MODES[seed % 3])
    for n in (0, 1, -1, 0x12345678):
        assert ours(n) & MASK64 == ref(n) & MASK64, (seed, n)


def test_random_lane_chains_leave_lanes_unassigned() -> None:
    """Some of the random chains have lanes that no one reads, so the tests above run the
    partial assignments (and the zeros read in their place)."""
    partial = 0
    for seed in range(96):
        src = _source(_lanes_program(seed))
        lanes: dict[str, set[str]] = {}
        for web, j in re.findall(r"\b(l\d+_\d+)_(\d+)\b", src):
            lanes.setdefault(web, set()).add(j)
        partial += any(len(js) not in (2, 4, 8, 16) for js in lanes.values())
    assert partial >= 5, partial


@pytest.mark.parametrize("seed", range(6))
def test_flat_form_equals_wasmtime(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(T, "FORCE_FLAT", True)
    for text in (_reduction(seed), _lanes_program(seed)):
        ours, ref = _pair(text, "eager")
        for n in (0, 3, -2):
            assert ours(n) & MASK64 == ref(n) & MASK64, (seed, n)


# -- v128 stores through the typed views (visit_simd._view_store, lane_store_lane) -----------

STORES = """
(module (memory 1)
  (func (export "run") (param $n i32) (result i64)
    (local $p i32) (local $v v128) (local $w v128)
    (local.set $p (i32.and (local.get $n) (i32.const -8)))
    (local.set $v (f64x2.mul (f64x2.splat (f64.convert_i32_u (local.get $n)))
                             (v128.const f64x2 1.5 -2.25)))
    (local.set $w (i64x2.add (i64x2.splat (i64.extend_i32_u (local.get $n)))
                             (v128.const i64x2 -1 0x123456789)))
    (v128.store offset=8 (i32.const 65504) (local.get $v))
    (if (i32.eq (local.get $n) (i32.const 24))  ;; the high lane past the end
      (then (v128.store offset=8 (i32.const 65520) (local.get $v))))
    (v128.store (local.get $p) (f64x2.add (local.get $v) (local.get $v)))
    (v128.store offset=16 (local.get $p) (i64x2.sub (local.get $w) (local.get $w)))
    (v128.store32_lane offset=4 3 (local.get $p)
                       (i32x4.mul (i32x4.splat (local.get $n)) (v128.const i32x4 1 2 3 -4)))
    (v128.store64_lane 1 (i32.add (local.get $p) (i32.const 8)) (local.get $w))
    (i64x2.extract_lane 0 (local.get $w)))
  (func (export "sum") (result i64) (local $a i32) (local $s i64)
    (loop (local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 1))
                                 (i64.load (local.get $a))))
          (br_if 0 (i32.ne (local.tee $a (i32.add (local.get $a) (i32.const 8)))
                           (i32.const 65536))))
    (local.get $s)))
"""
_STORE_BASES = (0, 8, 24, 64, 65496, 65504, 65512, 65520, 65524, 65528, 65536, 2**31, 2**32 - 8)


def test_view_stores_trap_before_writing_and_equal_wasmtime() -> None:
    pytest.importorskip("wasmtime", reason="wasmtime is the reference engine")
    wasm = wat2wasm(STORES)
    src = _source(STORES)
    assert "V0d0[8190] = " in src and "V0Q0[(t" in src and "V0I0[(" in src, src

    expected = fresh_each(wasm, None, _STORE_BASES)
    for mode in MODES:
        assert fresh_each(wasm, mode, _STORE_BASES) == expected, mode


# -- lane assignments split into statements (simd_lanes.assign) ------------------------------

ROTATE = """
(module
  (func (export "run") (param $n i32) (result i64)
    (local $v v128) (local $h v128) (local $i i32)
    (local.set $v (i32x4.mul (i32x4.splat (local.get $n)) (v128.const i32x4 3 5 7 11)))
    (local.set $h (i16x8.add (i16x8.splat (local.get $n)) (v128.const i16x8 1 2 3 4 5 6 7 8)))
    (local.set $i (i32.const 3))
    (loop $l
      (if (i32.and (local.get $i) (i32.const 1))  ;; one web: rotated in place
        (then (local.set $v (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3
                                           (local.get $v) (local.get $v)))))
      (local.set $h (i8x16.shuffle 14 15 0 1 2 3 4 5 6 7 8 9 10 11 12 13
                                   (local.get $h) (local.get $h)))
      (local.set $v (i32x4.add (local.get $v) (v128.const i32x4 1 0 0 0)))
      (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
    (i64.xor (i64.xor (i64x2.extract_lane 0 (local.get $v))
                      (i64.rotl (i64x2.extract_lane 1 (local.get $v)) (i64.const 17)))
             (i64.xor (i64x2.extract_lane 0 (local.get $h))
                      (i64.rotl (i64x2.extract_lane 1 (local.get $h)) (i64.const 29))))))
"""


def test_rotated_lanes_stay_one_assignment() -> None:
    """A lane permutation of a local into itself reads lanes it also writes: a tuple
    assignment; an update lane by lane is split into statements."""
    src = _source(ROTATE)
    assert re.search(r"(l1_(\d+)_0), l1_\2_1, l1_\2_2, l1_\2_3 = l1_\2_1, .*, \1$", src,
                     re.MULTILINE), src
    assert re.search(r"l1_(\d+)_0 = \(\(l1_\1_0 \+ 1\).*; l1_\1_1 = ", src), src
    for mode in MODES:
        ours, ref = _pair(ROTATE, mode)
        for n in (0, 1, -9, 0x10203):
            assert ours(n) & MASK64 == ref(n) & MASK64, (mode, n)


# -- v128 locals that only hold one constant (simd_locals._const_webs) ------------------------

def _consts_program(first: str, second: str, param: bool) -> str:
    """$k is read before its set in the loop (the first iteration reads its value on
    entry: zero, or the parameter), $c only after; both set to constants."""
    decl = ("(param $n i32) (param $k v128) (result i64)" if param
            else "(param $n i32) (result i64) (local $k v128)")
    return f"""(module (memory 1)
      (func $f {decl}
        (local $c v128) (local $acc v128) (local $i i32)
        (local.set $i (i32.const 3))
        (loop $l
          (local.set $acc (i32x4.add (local.get $acc) (local.get $k)))
          (local.set $k (v128.const i32x4 {first}))
          (local.set $c (v128.const i32x4 {second}))
          (local.set $acc (v128.xor (local.get $acc) (i32x4.mul (local.get $c) (local.get $c))))
          (v128.store offset=16 (local.get $i) (local.tee $c (v128.const i32x4 {second})))
          (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
        (i64.add (i64x2.extract_lane 0 (local.get $acc))
                 (i64.add (i64x2.extract_lane 1 (local.get $acc)) (i64.load offset=20 (i32.const 0)))))
      (func (export "run") (param $n i32) (result i64)
        (call $f (local.get $n) {"(i32x4.splat (local.get $n))" if param else ""})))"""


@pytest.mark.parametrize("param", [False, True])
@pytest.mark.parametrize("first", ["0 0 0 0", "1 -2 3 0x7fffffff"])
def test_constant_locals_equal_wasmtime(first: str, param: bool) -> None:
    text = _consts_program(first, "5 6 -7 8", param)
    # $c is read as its literal (no lane or int variable); $k only when its entry value,
    # zero, is that literal
    src = _source(text)
    assert not re.search(r"\bl2\b|\bl2_\d+_\d\b", src), src
    assert bool(re.search(r"\bl1\b|\bl1_\d+_\d\b", src)) == (param or first != "0 0 0 0"), src
    for mode in MODES:
        ours, ref = _pair(text, mode)
        for n in (0, 1, -4):
            assert ours(n) & MASK64 == ref(n) & MASK64, (mode, n)


# -- a v128 local read as the names it was set to (simd_locals._windows, _alias) -------------

ALIAS = """
(module
  (func (export "run") (param $n i32) (result i64)
    (local $v v128) (local $w v128) (local $s i32) (local $x f64)
    (local.set $s (i32.mul (local.get $n) (i32.const 3)))
    (local.set $x (f64.convert_i32_s (local.get $n)))
    (local.set $v (i32x4.splat (local.get $s)))                 ;; read after $s changes
    (local.set $s (i32.add (local.get $s) (i32.const 99)))
    (local.set $w (f64x2.splat (local.get $x)))                 ;; read as $x itself
    (i64.add
      (i64.add (i64x2.extract_lane 0 (local.get $v))
               (i64.extend_i32_u (i32x4.extract_lane 3 (i32x4.add (local.get $v)
                                                                   (i32x4.splat (local.get $s))))))
      (i64.trunc_f64_s (f64x2.extract_lane 1 (f64x2.mul (local.get $w) (local.get $w)))))))
"""


def test_alias_reads_the_names_unless_they_change() -> None:
    src = _source(ALIAS)
    assert re.search(r"^ *l1_\d+_0\b.* = l3\b", src, re.MULTILINE), src  # $v: l3 is rewritten
    assert not re.search(r"\bl2_\d+_\d\b", src), src  # $w: read as l4 (x) itself
    for mode in MODES:
        ours, ref = _pair(ALIAS, mode)
        for n in (0, 5, -7, 123456):
            assert ours(n) & MASK64 == ref(n) & MASK64, (mode, n)


# -- runs of v128 stores as one mem_init (visit_simd._store_run) ------------------------------

def _run_stores(base: str, value: str, offsets: list[int]) -> str:
    first, *rest = offsets
    out = [f"(v128.store offset={first} {base} (local.tee $v {value}))"]
    out += [f"(v128.store offset={o} {base} (local.get $v))" for o in rest]
    return " ".join(out)


RUNS = f"""
(module (memory 1)
  (func (export "run") (param $n i32) (result i64)
    (local $p i32) (local $v v128)
    (local.set $p (i32.and (local.get $n) (i32.const -4)))
    {_run_stores("(local.get $p)", "(i32x4.splat (i32.add (local.get $n) (i32.const 3)))",
                 [160, 144, 128, 112, 96, 80, 64])}
    {_run_stores("(i32.const 200)", "(v128.const i64x2 -1 0x123456789)", [64, 48, 32, 16, 0])}
    {_run_stores("(local.get $p)", "(f64x2.splat (f64.convert_i32_s (local.get $n)))",
                 [16, 32, 48, 64, 80])}
    {_run_stores("(local.get $p)", "(i64x2.splat (i64.extend_i32_u (local.get $n)))",
                 [300, 284, 268, 240, 224])}
    (i64.load offset=8 (local.get $p)))
  (func (export "sum") (result i64) (local $a i32) (local $s i64)
    (loop (local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 1))
                                 (i64.load (local.get $a))))
          (br_if 0 (i32.ne (local.tee $a (i32.add (local.get $a) (i32.const 8)))
                           (i32.const 65536))))
    (local.get $s)))
"""
_RUN_BASES = (0, 4, 100, 65320, 65360, 65364, 65368, 65372, 65376, 65380, 65536, 2**32 - 16)


def test_store_runs_trap_before_writing_and_equal_wasmtime() -> None:
    pytest.importorskip("wasmtime", reason="wasmtime is the reference engine")
    wasm = wat2wasm(RUNS)
    src = _source(RUNS)
    assert src.count("mem_init(") == 2, src  # the two downward runs; not upward, not broken
    assert "mem_init(M0, v_b_i32x4(" in src and "1" in src, src

    expected = fresh_each(wasm, None, _RUN_BASES)
    for mode in MODES:
        assert fresh_each(wasm, mode, _RUN_BASES) == expected, mode


# -- v128 loads read inside the lane expressions (MemEntry.inline_lanes) ----------------------

def _rmw_program(seed: int) -> str:
    """Loads at p + 0/8/16/24 (p a multiple of 8, near the end of memory for some n), lane
    arithmetic, stores to the same or to overlapping addresses, and consumers that read
    one lane only."""
    rng = random.Random(seed)
    data = b"".join(struct.pack("<d", rng.uniform(-4, 4)) for _ in range(8))
    text = "".join(f"\\{b:02x}" for b in data)

    def addr() -> str:
        return f"(i32.add (local.get $p) (i32.const {rng.choice((0, 8, 16, 24))}))"

    def vec(kind: str) -> str:
        load = f"(v128.load {addr()})"
        if kind == "f64x2":
            return rng.choice([load, f"(f64x2.add {load} (v128.const f64x2 0.5 -1.5))",
                               f"(f64x2.mul {load} (f64x2.splat (f64.load {addr()})))",
                               (f"(f64x2.sub {load} (f64x2.mul (v128.load64_splat {addr()}) "
                                f"{load}))"),
                               f"(f64x2.sub {load} {load})"])
        return rng.choice([load, f"(i64x2.add {load} (v128.const i64x2 3 -5))",
                           f"(v128.xor {load} {load})"])

    stmts = []
    for _ in range(rng.randrange(2, 6)):
        kind = rng.choice(("f64x2", "i64x2"))
        r = rng.random()
        if r < 0.5:
            stmts.append(f"(v128.store {addr()} {vec(kind)})")
        elif r < 0.65:
            fold = ("(i64.reinterpret_f64 (f64x2.extract_lane {k} {v}))" if kind == "f64x2"
                    else "(i64x2.extract_lane {k} {v})")
            stmts.append("(local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 3)) "
                         f"{fold.format(k=rng.randrange(2), v=vec(kind))}))")
        elif r < 0.8:
            stmts.append(f"(v128.store64_lane {rng.randrange(2)} {addr()} {vec(kind)})")
        elif r < 0.9:
            lane = ("(f64x2.replace_lane {k} {v} (f64.const 2.5))" if kind == "f64x2"
                    else "(i64x2.replace_lane {k} {v} (i64.const 7))")
            stmts.append(f"(v128.store {addr()} {lane.format(k=rng.randrange(2), v=vec(kind))})")
        else:
            stmts.append(f"(i64.store {addr()} (i64.const {rng.randrange(1 << 40)}))")
    return f"""(module (memory 1)
      (data (i32.const 0) "{text}")
      (data (i32.const 65472) "{text}")
      (func (export "run") (param $n i32) (result i64)
        (local $p i32) (local $acc i64)
        (local.set $p (i32.and (local.get $n) (i32.const -8)))
        {' '.join(stmts)}
        (local.get $acc))
      (func (export "sum") (result i64) (local $a i32) (local $s i64)
        (loop (local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 1))
                                     (i64.load (local.get $a))))
              (br_if 0 (i32.ne (local.tee $a (i32.add (local.get $a) (i32.const 8)))
                               (i32.const 65536))))
        (local.get $s)))"""


_RMW_BASES = (0, 8, 65472, 65480, 65488, 65496, 65504, 65512, 65520, 65528, 65536)


@pytest.mark.parametrize("seed", range(40))
def test_random_read_modify_write_equal_wasmtime(seed: int) -> None:
    pytest.importorskip("wasmtime", reason="wasmtime is the reference engine")
    wasm = wat2wasm(_rmw_program(seed))
    assert fresh_each(wasm, MODES[seed % 3], _RMW_BASES) == fresh_each(wasm, None, _RMW_BASES)


def test_random_read_modify_write_reach_inline_loads() -> None:
    """The generator makes both store forms: into the items read (two statements) and
    elsewhere (one tuple assignment)."""
    if not VM.VIEWS:
        pytest.skip("typed views (which these forms read and write) are CPython's")
    same = tuple_form = 0
    for seed in range(40):
        src = _source(_rmw_program(seed))
        same += bool(re.search(r"V0[dQ]0\[(t\d+) \+ 1\] = .*V0[dQ]0\[\1 \+ 1\]", src))
        tuple_form += bool(re.search(r"\+ 1\], V0[dQ]0\[t\d+\] = ", src))
    assert same >= 3 and tuple_form >= 3, (same, tuple_form)


def test_a_load_is_not_read_before_an_earlier_trap_of_another_kind() -> None:
    """A v128 load may be read before earlier loads (reads commute, one trap), never before
    an earlier division (simd_locals._loads_only_below)."""
    from engine import Trap

    text = """(module (memory 1)
      (func (export "run") (param $z i32) (param $p i32) (result i64)
        (i64.add (i64.div_s (i64.const 1) (i64.extend_i32_u (local.get $z)))
                 (i64.reinterpret_f64 (f64x2.extract_lane 0
                   (f64x2.mul (v128.load (local.get $p))
                              (v128.load64_splat offset=8 (local.get $p))))))))"""
    from engine import Config, Engine, Instance, Module, Store

    for mode in MODES:
        store = Store(Engine(Config(compilation_mode=mode)))
        run = Instance(store, Module(store.engine, wat2wasm(text)), []).exports(store)["run"]
        assert run(store, 1, 0) == 1
        for z, p, message in ((0, 65536, "divide by zero"), (1, 65528, "out of bounds")):
            with pytest.raises(Trap, match=message):
                run(store, z, p)
