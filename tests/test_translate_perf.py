"""The translator's speed-oriented forms keep exact semantics: counted ``for`` loops
(wrap-around, empty loops, early exits, the counter's final value) and inline call_indirect.
"""

from __future__ import annotations

import pytest

from engine.binary import decode_body, decode_module
from engine.compile import signed64
from engine.errors import Trap
from tests.test_compile import T, instantiate, wat2wasm

M32 = 0xFFFFFFFF


def _count(start: int, stop: int, step: int, mask: int = M32) -> tuple[int, int]:
    """Reference: (iterations, final counter) of `while i < stop: i = (i + step) & mask`."""
    i, n = start, 0
    while i < stop:
        n += 1
        i = (i + step) & mask
    return n, i


LOOPS = """(module
  (func (export "var") (param $i i32) (param $n i32) (param $s i32) (result i32 i32)
    (local $c i32)
    (block $done (loop $top
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (local.get $s)))
      (br $top)))
    (local.get $c) (local.get $i))
  (func (export "one") (param $i i32) (param $n i32) (result i32 i32)
    (local $c i32)
    (block $done (loop $top
      (br_if $done (i32.eqz (i32.lt_u (local.get $i) (local.get $n))))
      (local.set $c (i32.add (local.get $c) (local.get $i)))
      (local.set $i (i32.add (i32.const 1) (local.get $i)))
      (br $top)))
    (local.get $c) (local.get $i))
  (func (export "big") (param $i i32) (result i32 i32)
    (local $c i32)
    (block $done (loop $top
      (br_if $done (i32.ge_u (local.get $i) (i32.const 0xFFFFFFF0)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 0x7FFFFFF8)))
      (br $top)))
    (local.get $c) (local.get $i))
  (func (export "i64") (param $i i64) (param $n i64) (result i64 i64)
    (local $c i64)
    (block $done (loop $top
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $c (i64.add (local.get $c) (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 3)))
      (br $top)))
    (local.get $c) (local.get $i))
  (func (export "exit") (param $i i32) (param $n i32) (param $x i32) (result i32 i32)
    (local $c i32)
    (block $out
      (loop $again
        (block $done (loop $top
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (if (i32.eq (local.get $i) (local.get $x)) (then (br $out)))
          (if (i32.eq (local.get $i) (i32.const 1000)) (then (return (i32.const 7) (i32.const 7))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $top)))
        (local.set $c (i32.add (local.get $c) (i32.const 100)))))
    (local.get $c) (local.get $i))
  (func (export "writes") (param $i i32) (param $n i32) (result i32)
    (block $done (loop $top
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $top)))
    (local.get $i)))"""


@pytest.fixture(scope="module")
def loops() -> dict:
    return instantiate(LOOPS)[1]


@pytest.mark.parametrize(
    "start,stop,step",
    [(0, 10, 1), (5, 5, 1), (9, 3, 2), (3, 100, 7), (0x10, 0xFFFFFFF0, 0xFFFFFFF8),
     (M32 - 5, M32 - 2, 4), (7, 3, 0), (0, 17, 0x80000001)],
)
def test_variable_step(loops: dict, start: int, stop: int, step: int) -> None:
    assert loops["var"](start, stop, step) == _count(start, stop, step)


@pytest.mark.parametrize("start,stop", [(0, 10), (10, 10), (20, 10), (M32 - 3, M32)])
def test_unit_step_and_eqz_form(loops: dict, start: int, stop: int) -> None:
    total = sum(range(start, stop)) & M32
    assert loops["one"](start, stop) == (total, max(start, stop))


@pytest.mark.parametrize("start", [0, 5, 0x7FFFFFF8, 0xFFFFFFF0, M32])
def test_constant_bound_near_wrap(loops: dict, start: int) -> None:
    assert loops["big"](start) == _count(start, 0xFFFFFFF0, 0x7FFFFFF8)


def test_i64_counter(loops: dict) -> None:
    m64 = (1 << 64) - 1
    _, i = _count(4, 50, 3, m64)
    assert loops["i64"](4, 50) == (sum(range(4, 50, 3)), i)
    assert loops["i64"](m64 - 4, m64 - 2) == (m64 - 4, m64 - 1)


def test_early_exits(loops: dict) -> None:
    assert loops["exit"](0, 10, 99) == (110, 10)  # exhaustion: final counter is the bound
    assert loops["exit"](0, 10, 4) == (4, 4)  # br to an outer block mid-loop
    assert loops["exit"](995, 2000, 99) == (7, 7)  # return from inside


def test_body_writing_the_bound_stays_a_while_loop(loops: dict) -> None:
    assert loops["writes"](0, 10) == 5


def _source(text: str, index: int) -> str:
    info = decode_module(wat2wasm(text))
    return T.translate_source(info, index, decode_body(info, index))


def test_counted_loops_become_for_loops() -> None:
    assert "for l0 in range(l0, l1):" in _source(LOOPS, 1)
    assert "crange(" in _source(LOOPS, 0)
    assert "for " not in _source(LOOPS, 5)


MASKS = """(module
  (memory 1)
  (table 3 funcref)
  (type $bin (func (param i32 i32) (result i32)))
  (type $un (func (param i32) (result i32)))
  (elem (i32.const 0) $add $neg)
  (func $add (type $bin) (i32.add (local.get 0) (local.get 1)))
  (func $neg (type $un) (i32.sub (i32.const 0) (local.get 0)))
  (func (export "store8_sub") (param i32 i32) (result i32)
    (i32.store8 (i32.const 8)
      (i32.add (i32.sub (i32.and (local.get 0) (i32.const 15)) (i32.and (local.get 1) (i32.const 15)))
               (i32.const 1)))
    (i32.load (i32.const 8)))
  (func (export "store16_shr") (param i32) (result i32)
    (i32.store16 (i32.const 16) (i32.shr_u (local.get 0) (i32.const 16)))
    (i32.store8 (i32.const 18) (i32.const 0x1FF))
    (i32.load (i32.const 16)))
  (func (export "ring") (param i32 i32) (result i32)
    (i32.xor
      (i32.and (i32.mul (local.get 0) (i32.const 0x9E3779B1)) (i32.const 0xFFFF0))
      (i32.shl (i32.and (local.get 1) (i32.const 255)) (i32.const 2))))
  (func (export "wrap") (param i32 i32) (result i32)
    (i32.add (i32.shl (i32.shr_u (local.get 0) (i32.const 1)) (i32.const 1))
             (i32.sub (i32.load8_u (local.get 1)) (i32.const 3))))
  (func (export "pick") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.sub (local.get 0) (i32.const 1)))
      (else (i32.const 42))))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (type $bin) (local.get 1) (i32.const 5) (local.get 0))))"""


@pytest.fixture(scope="module")
def masks() -> dict:
    return instantiate(MASKS)[1]


@pytest.mark.parametrize("a,b", [(0, 0), (1, 15), (15, 1), (3, 9), (M32, 7)])
def test_store8_of_a_subtraction_truncates(masks: dict, a: int, b: int) -> None:
    assert masks["store8_sub"](a, b) == ((a & 15) - (b & 15) + 1) & 0xFF


@pytest.mark.parametrize("a", [0, 0x12345678, M32])
def test_store16_of_a_shift_and_const_store8(masks: dict, a: int) -> None:
    assert masks["store16_shr"](a) == (a >> 16) | 0xFF << 16


@pytest.mark.parametrize("a,b", [(0, 0), (M32, M32), (0x12345678, 0x9ABCDEF0), (7, 300)])
def test_masks_of_ring_chains(masks: dict, a: int, b: int) -> None:
    want = ((a * 0x9E3779B1) & M32 & 0xFFFF0) ^ (((b & 255) << 2) & M32)
    assert masks["ring"](a, b) == want


@pytest.mark.parametrize("a,addr", [(0, 0), (M32, 1), (5, 2)])
def test_subtraction_in_an_unmasked_chain_wraps(masks: dict, a: int, addr: int) -> None:
    assert masks["wrap"](a, addr) == (((a >> 1) << 1) + 0 - 3) & M32  # memory is zero there


def test_if_arms_return_directly(masks: dict) -> None:
    assert masks["pick"](5) == 4
    assert masks["pick"](0) == 42


def test_inline_call_indirect_traps() -> None:
    _, ex = instantiate(MASKS)
    assert ex["indirect"](0, 7) == 12
    for index, message in ((1, "indirect call type mismatch"), (2, "uninitialized element"),
                           (3, "undefined element"), (M32, "undefined element")):
        with pytest.raises(Trap, match=message):
            ex["indirect"](index, 1)


HOIST = """(module
  (memory 1)
  (func (export "grid") (param $n i32) (param $m i32) (result i32)
    (local $i i32) (local $j i32) (local $acc i32)
    (block $id (loop $il
      (br_if $id (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $j (i32.const 0))
      (block $jd (loop $jl
        (br_if $jd (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc)
          (i32.add (i32.mul (local.get $i) (local.get $m)) (local.get $j))))
        (if (i32.eq (local.get $j) (i32.const 2)) (then (local.set $m (i32.add (local.get $m) (i32.const 1)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il)))
    (local.get $acc)))"""


def test_hoisting_respects_writes_in_the_loop() -> None:
    def ref(n: int, m: int) -> int:
        acc = 0
        for i in range(n):
            for j in range(n):
                acc = (acc + ((i * m) & M32) + j) & M32
                if j == 2:
                    m += 1
        return acc & M32

    _, ex = instantiate(HOIST)
    for n, m in ((0, 3), (5, 7), (6, M32)):
        assert ex["grid"](n, m) == ref(n, m & M32) & M32


def test_invariants_leave_the_inner_loop() -> None:
    src = _source(HOIST.replace(
        "(if (i32.eq (local.get $j) (i32.const 2)) (then (local.set $m (i32.add (local.get $m) (i32.const 1)))))", ""), 0)
    # PyPy writes an i32 product that may pass 2**63 as the wrapping imul (visit_numeric).
    assert ("h0 = (imul(l2, l1)" if signed64.ENABLED else "h0 = ((l2 * l1)") in src
