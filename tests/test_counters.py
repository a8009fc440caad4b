"""Bounds of bottom-tested loop counters (engine/compile/counters.py).

Inside such a loop the translator reads the counter with a bound and leaves out the
reductions modulo 2**32 of its increment and of addresses built on it. These tests check
which loops qualify (each rule of the module docstring has a loop that breaks only it),
that the qualifying ones lose their reductions, and that every loop, qualifying or not, gives
wasmtime's results in every mode, including counters that rely on wrapping around 2**32.
"""

from __future__ import annotations

import importlib
import re

import pytest

from engine.binary import decode_body, decode_module
from engine.text import wat2wasm
from tests.differential.harness import needs_tools

C = importlib.import_module("engine.compile.counters")
T = importlib.import_module("engine.compile.translate")
MODES = ("eager", "lazy-translation", "lazy")


def _loop(init: str, body: str = "", test: str = "(i32.ne (local.get $i) (i32.const 64))",
          inc: str = "(local.set $i (i32.add (local.get $i) (i32.const 4)))",
          before: str = "", after: str = "") -> str:
    """A function summing bytes at ``$p + i`` over a bottom-tested loop on ``$i``."""
    return f"""(func (param $p i32) (result i32) (local $i i32) (local $s i32)
      {init} {before}
      (loop $l
        (local.set $s (i32.add (local.get $s)
          (i32.add (local.get $i) (i32.load8_u offset=3 (i32.add (local.get $p) (local.get $i))))))
        {body}
        {inc}
        (br_if $l {test})
        {after})
      (i32.add (local.get $s) (local.get $i)))"""


#: name -> (function, qualifies)
CASES = {
    "ne": (_loop("(local.set $i (i32.const 0))"), True),
    "ne_tee": (_loop("(local.set $i (i32.const 8))", inc="",
                     test="(i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8))) "
                          "(i32.const 64))"), True),
    "lt_u": (_loop("(local.set $i (i32.const 3))",
                   test="(i32.lt_u (local.get $i) (i32.const 62))"), True),
    "lt_u_start_above": (_loop("(local.set $i (i32.const 100))",
                               test="(i32.lt_u (local.get $i) (i32.const 62))"), True),
    "code_before": (_loop("(local.set $i (i32.const 0))",
                          before="(local.set $s (i32.const 7)) (block (nop))"), False),
    "blocks_before": (_loop("(local.set $i (i32.const 0))", before="(nop)"), True),
    # clang's wrap: from -64 up by 4 to 0 (not bounded: the values pass 2**31 .. 2**32)
    "wraps_to_zero": (_loop("(local.set $i (i32.const -64))",
                            test="(i32.ne (local.get $i) (i32.const 0))"), False),
    "step_misses_end": (_loop("(local.set $i (i32.const 1))"), False),
    "start_not_literal": (_loop("(local.set $i (local.get $p))"), False),
    "second_write": (_loop("(local.set $i (i32.const 0))",
                           body="(if (i32.eqz (local.get $s)) (then (local.set $i (i32.const 1))))"),
                     False),
    "code_after_test": (_loop("(local.set $i (i32.const 0))", after="(nop)"), False),
    "negative_step": (_loop("(local.set $i (i32.const 64))",
                            inc="(local.set $i (i32.add (local.get $i) (i32.const -4)))",
                            test="(i32.ne (local.get $i) (i32.const 0))"), False),
}


def _module() -> str:
    funcs = "\n".join(f for f, _ in CASES.values())
    exports = "\n".join(f'(export "{n}" (func {i}))' for i, n in enumerate(CASES))
    return f'(module (memory 1) (data (i32.const 0) "\\01\\02\\03\\f0\\ff\\80\\7f") {funcs} {exports})'


def test_which_loops_qualify() -> None:
    info = decode_module(wat2wasm(_module()))
    got = {name: bool(C.counter_bounds(decode_body(info, i).instrs))
           for i, name in enumerate(CASES)}
    assert got == {name: q for name, (_, q) in CASES.items()}


def test_qualifying_loops_lose_their_reductions() -> None:
    from engine.compat import PYPY

    if PYPY:
        pytest.skip("value bounds are CPython's")
    info = decode_module(wat2wasm(_module()))
    for i, (name, (_, q)) in enumerate(CASES.items()):
        src = T.translate_source(info, i, decode_body(info, i))
        unreduced = re.search(r"l1 = \(l1 [+-] \d\)$", src, re.MULTILINE) is not None
        assert unreduced == q, (name, src)


@needs_tools()
@pytest.mark.parametrize("mode", MODES)
def test_loops_equal_wasmtime(mode: str) -> None:
    import wasmtime

    from engine import Config, Engine, Instance, Module, Store, Trap

    wasm = wat2wasm(_module())
    wengine = wasmtime.Engine()
    wstore = wasmtime.Store(wengine)
    ref = wasmtime.Instance(wstore, wasmtime.Module(wengine, wasm), []).exports(wstore)
    config = Config()
    config.compilation_mode = mode
    store = Store(Engine(config))
    ours = Instance(store, Module(store.engine, wasm), []).exports(store)
    for name in CASES:
        for p in (0, 5, 65536 - 140, 65536 - 60):
            try:
                want = ref[name](wstore, p)
            except wasmtime.Trap:
                want = "trap"
            try:
                got = ours[name](store, p)
            except Trap:
                got = "trap"
            assert got == want, (name, p)
