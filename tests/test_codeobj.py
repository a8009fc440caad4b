"""Compact factories (engine/compile/codeobj.py) and the code map's sharing of identical
bodies without copies: what compiled code retains must not change what it computes."""

from __future__ import annotations

import sys
import traceback
import types

import pytest

from engine import Config, Engine, Instance, Module, Store, Trap, codemap
from engine.compile import codeobj
from tests.test_codemap import wat

CPY311 = sys.implementation.name == "cpython" and sys.version_info >= (3, 11)

TEXT = """(module
  (memory 1)
  (global $g (mut i32) (i32.const 5))
  (func $fact (export "fact") (param i64) (result i64)
    local.get 0 i64.eqz
    if (result i64) i64.const 1
    else local.get 0 local.get 0 i64.const 1 i64.sub call $fact i64.mul end)
  (func (export "bump") (result i32)
    global.get $g i32.const 1 i32.add global.set $g global.get $g)
  (func (export "nan") (result i64)
    f64.const nan:0x4000000000001 i64.reinterpret_f64)
  (func (export "negzero") (result i64)
    f64.const -0 i64.reinterpret_f64)
  (func (export "load") (param i32) (result i32)
    local.get 0 i32.load))"""


def _instance(mode: str, text: str = TEXT) -> tuple[Store, dict]:
    store = Store(Engine(Config(compilation_mode=mode)))
    inst = Instance(store, Module(store.engine, wat(text)), [])
    return store, inst.exports(store)


@pytest.mark.parametrize("mode", ["eager", "lazy-translation", "lazy"])
def test_recipes_constants_and_recursion(mode: str) -> None:
    """Direct recursion (``f`` in its own closure), mutable globals read through a bound
    cell, and constants that are not Python literals (NaN payload, -0.0) as closure cells;
    two instances of one module keep separate state."""
    store, ex = _instance(mode)
    assert ex["fact"](store, 20) == 2432902008176640000
    assert [ex["bump"](store) for _ in range(3)] == [6, 7, 8]
    assert ex["nan"](store) & 0xFFFF_FFFF_FFFF_FFFF == 0x7FF4000000000001
    assert ex["negzero"](store) & 0xFFFF_FFFF_FFFF_FFFF == 0x8000000000000000
    store2, ex2 = _instance(mode)
    assert ex2["bump"](store2) == 6


def test_trap_traceback_formats() -> None:
    """A trap raised in translated code formats as a traceback (the flat line table is a
    valid one) and names the wasm function by its index (as the line number: one shared
    filename, not one string per function)."""
    store, ex = _instance("eager")
    with pytest.raises(Trap) as info:
        ex["load"](store, 70000)
    exc = info.value
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert "out of bounds memory access" in text
    if CPY311:
        assert 'File "<wasm>", line 4, in f' in text
    assert [f.func_index for f in exc.frames][:1] == [4]


BOUNDARY = """(module
  (import "host" "call" (func $host (param i32) (result i32)))
  (memory 1)
  (func $divide (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)
  (func $middle (param i32) (result i32) i32.const 7 local.get 0 call $divide)
  (func (export "outer") (param i32) (result i32) local.get 0 call $middle)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "via_host") (param i32) (result i32) local.get 0 call $host))"""


def _boundary_instance(mode: str, host: object) -> tuple[Store, dict]:
    from engine import Func, FuncType, ValType

    store = Store(Engine(Config(compilation_mode=mode)))
    ft = FuncType([ValType.i32()], [ValType.i32()])
    inst = Instance(store, Module(store.engine, wat(BOUNDARY)), [Func(store, ft, host)])
    return store, inst.exports(store)


@pytest.mark.parametrize("mode", ["eager", "lazy"])
def test_traps_are_made_at_the_call_boundary(mode: str) -> None:
    """Translated code has no handler: an exception raised in a wasm frame becomes its trap
    where the host called in (``runtime.calls``), with every wasm frame still listed; the
    same exception types raised by a host function pass through wasm unchanged, and a
    trap under a host function that called back into wasm reaches that host as a Trap."""
    seen: list[BaseException] = []

    def host(x: int) -> int:
        if x == 0:
            raise ZeroDivisionError("host's own")
        if x == 1:
            raise IndexError("host's own")
        try:
            ex["load"](store, 70000)
        except Trap as exc:
            seen.append(exc)
        return ex["outer"](store, x - 2)  # x == 2: traps inside the callback

    store, ex = _boundary_instance(mode, host)
    with pytest.raises(Trap, match="integer divide by zero") as info:
        ex["outer"](store, 0)
    assert [f.func_index for f in info.value.frames] == [1, 2, 3]  # innermost first
    assert ex["outer"](store, 2) == 3
    with pytest.raises(ZeroDivisionError, match="host's own"):
        ex["via_host"](store, 0)
    with pytest.raises(IndexError, match="host's own"):
        ex["via_host"](store, 1)
    assert ex["via_host"](store, 4) == 3
    assert len(seen) == 1 and seen[0].message == "out of bounds memory access"
    with pytest.raises(Trap, match="integer divide by zero") as info:
        ex["via_host"](store, 2)
    assert [f.func_index for f in info.value.frames][:3] == [1, 2, 3]
    assert ex["outer"](store, 7) == 1  # the store stays usable


def test_factory_keeps_only_f_code_and_shared_globals() -> None:
    engine = Engine(Config(compilation_mode="eager"))
    module = Module(engine, wat(TEXT))
    factories = module.code.factories
    if not codeobj._CELLS:
        pytest.skip("this interpreter has no callable cell type: make-based factories")
    for fac in factories:
        assert isinstance(fac, codeobj.Factory)
        assert fac.code.co_name == "f"
        assert fac.globals is factories[0].globals  # one namespace per process
        assert not any(isinstance(c, types.CodeType) and c.co_name == "make"
                       for c in fac.code.co_consts)
    assert module.code.shared is None  # eager mode keeps nothing for sharing


def test_fallback_when_a_bind_has_another_shape() -> None:
    """A bind the recipe does not know is evaluated by running ``make`` itself."""
    src = ("def make(rt):\n    X = rt.value * 2\n    def f(a):\n        return a + X + K0\n"
           "    return f\n")
    fac = codeobj.build_factory(src, 3, {"X": "rt.value * 2"}, {"K0": 100}, {"__builtins__": {}})
    assert isinstance(fac, types.FunctionType)
    assert fac(types.SimpleNamespace(value=4))(1) == 109


def test_canonical_tables_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codeobj, "_CANON_MAX", 4)
    monkeypatch.setattr(codeobj, "_INTS", {})
    values = [10**6 + i for i in range(10)]
    for v in values:
        assert codeobj._canon(v) == v
    assert len(codeobj._INTS) <= 4
    big = 10**9
    assert codeobj._canon(int(str(big))) is codeobj._canon(int(str(big)))
    monkeypatch.setattr(codeobj, "_FLOATS", {0.5: 0.5})
    assert str(codeobj._canon(-0.0)) == "-0.0" and str(codeobj._canon(0.0)) == "0.0"
    assert not codeobj._FLOATS.keys() - {0.5}  # zeros and NaN are never tabled
    codeobj._canon(float("nan"))
    assert not codeobj._FLOATS.keys() - {0.5}


def test_lazy_sharing_survives_hash_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every body hashing alike must not make different bodies share a factory; identical
    bodies still share one."""
    monkeypatch.setattr(codemap, "_body_key", lambda info, i: 42)
    text = """(module
      (func (export "a") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func (export "b") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func (export "c") (param i32) (result i32) local.get 0 i32.const 2 i32.add))"""
    store, ex = _instance("lazy", text)
    assert (ex["a"](store, 1), ex["b"](store, 1), ex["c"](store, 1)) == (2, 2, 3)
    module = Module(Engine(Config(compilation_mode="lazy")), wat(text))
    module.compile_all()
    factories = module.code.factories
    assert factories[0] is factories[1]
    assert factories[0] is not factories[2]
    assert module.code.shared == {42: 0}
