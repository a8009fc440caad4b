"""Truncated, mutated and deeply nested text: only engine errors (WasmError) come out."""

from __future__ import annotations

import random

import pytest

from engine import Engine, Module, WasmError
from engine.text import wat2wasm

SAMPLE = r'''
(module $m
  (type $t (func (param i32 i64) (result f32)))
  (import "env" "f" (func $imp (type $t)))
  (import "env" "mem" (memory 1 2))
  (table $tab 2 funcref)
  (global $g (mut i32) (i32.const -0x10))
  (func $f (export "f") (param $x i32) (result i32) (local $y f64)
    (block $b (result i32)
      (loop $l
        local.get $x
        i32.eqz
        br_if $l
        (br_if $b (i32.const 1) (local.get $x)))
      (if (result i32) (local.get 0) (then (i32.const 2)) (else (i32.const 3))))
    (f64.const 0x1.8p+3) (local.set $y)
    (i32.load8_u offset=4 align=1 (i32.const 0)) drop
    (v128.const f32x4 1.5 -inf nan:0x1 3e38) drop
    (select (i32.const 1) (i32.const 2) (global.get $g)) drop
    (call_indirect $tab (type $t) (i32.const 0) (i64.const 0) (i32.const 1)) drop)
  (elem (i32.const 0) $f)
  (data (i32.const 8) "a\00\u{1F600}\ff")
  (@custom "c" (after func) "x")
  (start $f2) (func $f2)
)
'''


def _expect_engine_error(text: str | bytes) -> None:
    try:
        wasm = wat2wasm(text)
    except WasmError:
        return
    assert wasm.startswith(b"\0asm")
    try:
        Module(Engine(), wasm)
    except WasmError:
        pass


def test_sample_parses() -> None:
    wasm = wat2wasm(SAMPLE)
    assert wasm.startswith(b"\0asm\1\0\0\0")


@pytest.mark.parametrize("seed", range(4))
def test_truncated(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        _expect_engine_error(SAMPLE[:rng.randrange(len(SAMPLE))])


@pytest.mark.parametrize("seed", range(4))
def test_mutated(seed: int) -> None:
    rng = random.Random(seed)
    pieces = list("()$\";\\ 0xapi.=@-") + ["(;", ";)", "nan:0x", "\xff", "\u00e9", "(@x"]
    for _ in range(200):
        chars = list(SAMPLE)
        for _ in range(rng.randrange(1, 5)):
            pos = rng.randrange(len(chars))
            if rng.random() < 0.5:
                chars[pos] = rng.choice(pieces)
            else:
                del chars[pos]
        _expect_engine_error("".join(chars))


@pytest.mark.parametrize("seed", range(2))
def test_mutated_bytes(seed: int) -> None:
    rng = random.Random(seed)
    data = bytearray(SAMPLE.encode())
    for _ in range(100):
        copy = bytearray(data)
        copy[rng.randrange(len(copy))] = rng.randrange(256)
        _expect_engine_error(bytes(copy))


@pytest.mark.parametrize("depth", [10_000])
def test_deep_nesting(depth: int) -> None:
    """Folded and flat nesting far past Python's recursion limit: parsed, no RecursionError."""
    folded = "(module (func (result i32) " + "(i32.add (i32.const 1) " * depth + \
        "(i32.const 0)" + ")" * depth + "))"
    assert wat2wasm(folded).startswith(b"\0asm")
    blocks = "(module (func " + "(block " * depth + ")" * depth + "))"
    assert wat2wasm(blocks).startswith(b"\0asm")
    flat = "(module (func " + "block " * depth + "end " * depth + "))"
    assert wat2wasm(flat).startswith(b"\0asm")
    comment = "(module " + "(;" * depth + ";)" * depth + ")"
    assert wat2wasm(comment).startswith(b"\0asm")


def test_unbalanced_deep() -> None:
    with pytest.raises(WasmError):
        wat2wasm("(module (func " + "(block " * 5000)
