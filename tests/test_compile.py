"""The translator end to end on a minimal fake runtime record (engine.compile only).

Modules come from WAT via engine.wat2wasm; each test runs in both control-flow forms
(structured and the flat basic-block fallback).
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest

from engine import wat2wasm as engine_wat2wasm
from engine.binary import decode_body, decode_module
from engine.compile import numerics as N
from engine.errors import Trap
from engine.runtime.calls import invoke
from engine.runtime.memory import MemoryInst
from engine.types import intern_func_type

T = importlib.import_module("engine.compile.translate")  # the module, not the function


def wat2wasm(text: str) -> bytes:
    """The module of WAT ``text``, assembled by the engine's own text front end."""
    return engine_wat2wasm(text)


class _Table:
    def __init__(self, n: int) -> None:
        self.elements: list[Any] = [None] * n
        self.max = None

    def grow(self, delta: int, init: Any) -> int:
        old = len(self.elements)
        self.elements.extend([init] * delta)
        return old


class _Func:
    def __init__(self, ftype: Any, fn: Any) -> None:
        self.ftype = ftype
        self.fn = fn


class _Funcs(dict):
    def __missing__(self, i: int) -> Any:
        fn = self.factory(i)(self.rt)
        self[i] = fn
        return fn


def _const(expr: list) -> Any:
    (op, imm), = expr
    if op.name == "f64.const":
        return N.f64_from_bits(imm)
    if op.name == "f32.const":
        return N.f32_from_bits(imm)
    return imm


def instantiate(text: str, host: dict[int, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """A fake runtime record for the module and its exported functions by name."""
    info = decode_module(wat2wasm(text))
    nimp = info.num_imported_funcs
    funcs = _Funcs()
    funcs.factory = lambda i: T.translate(info, i, decode_body(info, i))
    funcs.update(host or {})
    rt = SimpleNamespace(
        funcs=funcs,
        memories=[MemoryInst(m) for m in info.mems],  # data, grow and the typed views
        globals=[SimpleNamespace(value=_const(g.init)) for g in info.globals],
        tables=[_Table(t.limits.min) for t in info.tables],
        types=[intern_func_type(t.params, t.results) for t in info.types],
        datas=[d.init for d in info.datas],
        elems=[],
    )
    funcs.rt = rt
    rt.func_refs = {
        i: _Func(rt.types[info.func_type_index(i)], funcs[i]) for i in range(nimp, nimp + len(info.funcs))
    }
    for seg in info.elems:
        refs = [rt.func_refs[e[0][1]] if e[0][0].name == "ref.func" else None for e in seg.init]
        rt.elems.append(refs)
        if seg.mode == "active":
            off = _const(seg.offset)
            rt.tables[seg.table].elements[off : off + len(refs)] = refs
    for seg in info.datas:
        if seg.mode == "active":
            off = _const(seg.offset)
            rt.memories[0].data[off : off + len(seg.init)] = seg.init
    exports = {e.name: _boundary(funcs[e.index]) for e in info.exports if e.kind == "func"}
    return rt, exports


def _boundary(fn: Any) -> Any:
    """``fn`` called as the runtime calls wasm from the host (``calls.invoke``: where an
    exception raised by translated code becomes its trap)."""
    return lambda *args: invoke(10_000, fn, args)


@pytest.fixture(params=[False, True], ids=["structured", "flat"])
def flat(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(T, "FORCE_FLAT", request.param)
    return request.param


def test_fib_and_loops(flat: bool) -> None:
    _, ex = instantiate("""(module
      (func $fib (export "fib") (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
          (then (local.get 0))
          (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                         (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
      (func (export "sum") (param i32) (result i32) (local i32)
        (block $done (loop $l
          (br_if $done (i32.eqz (local.get 0)))
          (local.set 1 (i32.add (local.get 1) (local.get 0)))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br $l)))
        (local.get 1)))""")
    assert ex["fib"](20) == 6765
    assert ex["sum"](100) == 5050


def test_br_table_and_multi_level_exits(flat: bool) -> None:
    _, ex = instantiate("""(module
      (func (export "bt") (param i32) (result i32)
        (block $a (block $b (block $c
          (br_table $a $b $c $b (local.get 0)))
          (return (i32.const 10)))
         (return (i32.const 20)))
        (i32.const 30))
      (func (export "nested") (param i32) (result i32) (local i32 i32)
        ;; count pairs (i, j) with j < i < n, leaving both loops from the inner one at 50
        (block $out
          (loop $i
            (local.set 2 (i32.const 0))
            (block $next
              (loop $j
                (br_if $next (i32.ge_u (local.get 2) (local.get 1)))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (br_if $out (i32.eqz (local.get 0)))
                (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                (br $j)))
            (local.set 1 (i32.add (local.get 1) (i32.const 1)))
            (br $i)))
        (i32.add (i32.mul (local.get 1) (i32.const 1000)) (local.get 2))))""")
    assert [ex["bt"](i) for i in range(6)] == [30, 20, 10, 20, 20, 20]
    assert ex["nested"](7) == 4000  # 0+1+2+3=6 > 7-1: stops at i=4, j=0
    assert ex["nested"](50) == 10004


def test_block_params_results_and_multi_value(flat: bool) -> None:
    _, ex = instantiate("""(module
      (func $two (result i32 i64) (i32.const 1) (i64.const 2))
      (func (export "swap") (param i32 i32) (result i32 i32)
        (local.get 1) (local.get 0))
      (func (export "blk") (param i32) (result i32)
        (local.get 0)
        (block (param i32) (result i32)
          (i32.const 2) (i32.mul)
          (br_if 0 (i32.const 5) (local.get 0))
          (drop) (i32.const 7) (i32.add)))
      (func (export "loopp") (result i32)
        (i32.const 0)
        (loop (param i32) (result i32)
          (i32.const 1) (i32.add)
          (br_if 0 (i32.lt_u (i32.const 0) (i32.const 0)))))
      (func (export "callmv") (result i64) (local i64)
        (call $two) (local.set 0) (i64.extend_i32_u) (local.get 0) (i64.add)))""")
    assert ex["swap"](1, 2) == (2, 1)
    assert ex["blk"](3) == 5 and ex["blk"](0) == 7
    assert ex["loopp"]() == 1
    assert ex["callmv"]() == 3


def test_loop_with_params_counts(flat: bool) -> None:
    _, ex = instantiate("""(module
      (func (export "f") (param i32) (result i32)
        (i32.const 0)
        (loop $l (param i32) (result i32)
          (i32.add (i32.const 3))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br_if $l (local.get 0)))))""")
    assert ex["f"](4) == 12


def test_traps_and_messages(flat: bool) -> None:
    _, ex = instantiate("""(module (memory 1)
      (func (export "divu") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
      (func (export "divs") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func (export "load") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
      (func (export "store8") (param i32) (i32.store8 (local.get 0) (i32.const 1)))
      (func (export "unr") (unreachable))
      (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0))))""")
    with pytest.raises(Trap, match="integer divide by zero"):
        ex["divu"](1, 0)
    with pytest.raises(Trap, match="integer overflow"):
        ex["divs"](0x8000_0000, 0xFFFF_FFFF)
    with pytest.raises(Trap, match="out of bounds memory access"):
        ex["load"](65532)
    with pytest.raises(Trap, match="out of bounds memory access"):
        ex["load"](0xFFFF_FFFF)  # no wrap-around of base + offset
    assert ex["load"](65528) == 0
    with pytest.raises(Trap, match="out of bounds memory access"):
        ex["store8"](65536)
    with pytest.raises(Trap, match="unreachable"):
        ex["unr"]()
    with pytest.raises(Trap, match="invalid conversion to integer"):
        ex["trunc"](float("nan"))


def test_host_exceptions_are_not_remapped(flat: bool) -> None:
    def host() -> None:
        raise IndexError("host bug")

    _, ex = instantiate("""(module (import "m" "h" (func $h)) (memory 1)
      (func (export "f") (result i32) (call $h) (i32.load (i32.const 0))))""", {0: host})
    with pytest.raises(IndexError, match="host bug"):
        ex["f"]()


def test_memory_numerics_bits(flat: bool) -> None:
    rt, ex = instantiate("""(module (memory 1 2)
      (func (export "cpf32") (f32.store (i32.const 8) (f32.load (i32.const 0))))
      (func (export "negf32") (f32.store (i32.const 8) (f32.neg (f32.load (i32.const 0)))))
      (func (export "i64") (param i64) (result i64)
        (i64.store (i32.const 16) (local.get 0))
        (i64.add (i64.load32_s (i32.const 16)) (i64.load8_u (i32.const 17))))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "size") (result i32) (memory.size))
      (func (export "fill") (param i32 i32 i32)
        (memory.fill (local.get 0) (local.get 1) (local.get 2))))""")
    mem = rt.memories[0].data
    mem[0:4] = (0x7FA0_0001).to_bytes(4, "little")
    ex["cpf32"]()
    assert mem[8:12] == mem[0:4]
    ex["negf32"]()
    assert int.from_bytes(mem[8:12], "little") == 0xFFA0_0001
    assert ex["i64"](0xFFFF_FF80) == (0xFFFF_FFFF_FFFF_FF80 + 0xFF) & N.M64
    assert ex["grow"](1) == 1 and ex["size"]() == 2 and ex["grow"](1) == 0xFFFF_FFFF
    with pytest.raises(Trap, match="out of bounds memory access"):
        ex["fill"](2 * 65536 - 1, 7, 2)
    ex["fill"](10, 0x1FF, 3)
    assert mem[9:14] == b"\x00\xff\xff\xff\x00"


def test_float_ops(flat: bool) -> None:
    _, ex = instantiate("""(module
      (func (export "f32add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
      (func (export "div") (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
      (func (export "min") (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))
      (func (export "cvt") (param i64) (result f32) (f32.convert_i64_u (local.get 0)))
      (func (export "lt") (param f64 f64) (result i32) (f64.lt (local.get 0) (local.get 1)))
      (func (export "ne") (param f64 f64) (result i32) (f64.ne (local.get 0) (local.get 1)))
      (func (export "nan") (result f32) (f32.const nan:0x200001)))""")
    assert ex["f32add"](N.f32r(0.1), N.f32r(0.2)) == N.f32r(N.f32r(0.1) + N.f32r(0.2))
    assert ex["div"](1.0, -0.0) == float("-inf")
    assert str(ex["min"](0.0, -0.0)) == "-0.0"
    assert ex["cvt"]((1 << 60) + (1 << 36) + 1) == float((1 << 60) + (1 << 37))
    nan = float("nan")
    assert ex["lt"](nan, 1.0) == 0 and ex["ne"](nan, nan) == 1
    assert N.f32_to_bits(ex["nan"]()) == 0x7FA0_0001


def test_evaluation_order_and_local_hazards(flat: bool) -> None:
    _, ex = instantiate("""(module (memory 1)
      (global $g (mut i32) (i32.const 5))
      (func $bump (result i32) (global.set $g (i32.add (global.get $g) (i32.const 1)))
        (global.get $g))
      (func (export "order") (result i32)
        ;; global read before the call that changes it: 5 * 100 + 6
        (i32.add (i32.mul (global.get $g) (i32.const 100)) (call $bump)))
      (func (export "tee") (param i32) (result i32)
        (i32.sub (local.get 0) (local.tee 0 (i32.const 1))))
      (func (export "sel") (param i32) (result i32)
        (select (call $bump) (i32.const 0) (local.get 0)))
      (func (export "trap_order") (result i32)
        ;; the load traps before the division would
        (i32.div_u (i32.load (i32.const 65536)) (i32.const 0))))""")
    assert ex["order"]() == 506
    assert ex["tee"](10) == 9
    assert ex["sel"](0) == 0  # the call still happened
    assert ex["sel"](1) == 8
    with pytest.raises(Trap, match="out of bounds memory access"):
        ex["trap_order"]()


def test_call_indirect_and_tables(flat: bool) -> None:
    _, ex = instantiate("""(module
      (type $ii (func (param i32) (result i32)))
      (table 4 funcref)
      (elem (i32.const 0) $inc $dbl)
      (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
      (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
      (func $nop)
      (func (export "call") (param i32 i32) (result i32)
        (call_indirect (type $ii) (local.get 1) (local.get 0)))
      (func (export "size") (result i32) (table.size 0))
      (func (export "isnull") (param i32) (result i32) (ref.is_null (table.get 0 (local.get 0)))))""")
    assert ex["call"](0, 5) == 6 and ex["call"](1, 5) == 10
    with pytest.raises(Trap, match="uninitialized element"):
        ex["call"](2, 5)
    with pytest.raises(Trap, match="undefined element"):
        ex["call"](4, 5)
    assert ex["size"]() == 4
    assert ex["isnull"](0) == 0 and ex["isnull"](3) == 1
    with pytest.raises(Trap, match="out of bounds table access"):
        ex["isnull"](4)


def _nested_blocks(depth: int) -> str:
    body = "(local.get 0)"
    for i in range(depth):
        lab = (depth - 1 - i) % 3
        body = f"(block (result i32) (br_if {lab} (i32.const {i}) (local.get 0)) drop {body})"
    return f'(module (func (export "f") (param i32) (result i32) {body}))'


def test_deep_nesting_falls_back_to_flat() -> None:
    text = _nested_blocks(60)
    info = decode_module(wat2wasm(text))
    body = decode_body(info, 0)
    assert "pc = " in T.translate_source(info, 0, body)
    _, ex = instantiate(text)
    assert ex["f"](0) == 0
    assert ex["f"](1) == 59


def test_long_expression_chain_compiles() -> None:
    expr = "(local.get 0)"
    for _ in range(3000):
        expr = f"(i32.add {expr} (i32.const 1))"
    _, ex = instantiate(f'(module (func (export "f") (param i32) (result i32) {expr}))')
    assert ex["f"](5) == 3005


def test_source_holds_no_module_strings() -> None:
    text = """(module (import "os; import sys" "__import__('os')" (func $h))
      (func (export "exec('x')") (call $h)))"""
    info = decode_module(wat2wasm(text))
    src = T.translate_source(info, 1, decode_body(info, 1))
    assert "import" not in src and "exec" not in src
