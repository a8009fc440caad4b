"""Untrusted code (issue 12): fuel, epoch interruption, lazy failures that are not permanent,
nothing leaking, and the hostile corpus compiling."""

from __future__ import annotations

import importlib
import threading
import time

import pytest

from engine import Config, Engine, Instance, Module, Store, Trap
from tests.test_codemap import wat

MODES = ("eager", "lazy-translation", "lazy")

SPIN = """(module
  (func (export "spin") (loop (br 0)))
  (func (export "count") (param i32) (result i32) (local i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br 0)))
    (local.get 1))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"""


def _instance(mode: str, **flags: bool) -> tuple[Store, dict]:
    config = Config(compilation_mode=mode)
    for name, value in flags.items():
        setattr(config, name, value)
    store = Store(Engine(config))
    inst = Instance(store, Module(store.engine, wat(SPIN)))
    return store, inst.exports(store)


# -- fuel -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_fuel_stops_an_infinite_loop(mode: str) -> None:
    store, ex = _instance(mode, consume_fuel=True)
    store.set_fuel(10_000)
    with pytest.raises(Trap, match="all fuel consumed"):
        ex["spin"](store)
    assert store.get_fuel() == 0
    store.set_fuel(1_000_000)  # the store stays usable
    assert ex["count"](store, 100) == 100
    assert 0 < store.get_fuel() < 1_000_000


@pytest.mark.parametrize("flat", [False, True])
def test_fuel_is_charged_per_iteration_and_call(flat: bool, monkeypatch) -> None:
    T = importlib.import_module("engine.compile.translate")
    monkeypatch.setattr(T, "FORCE_FLAT", flat)
    store, ex = _instance("lazy", consume_fuel=True)
    store.set_fuel(10**9)
    ex["count"](store, 10)
    small = 10**9 - store.get_fuel()
    store.set_fuel(10**9)
    ex["count"](store, 1000)
    big = 10**9 - store.get_fuel()
    assert big > small * 50  # proportional to the iterations
    store.set_fuel(10**9)
    assert ex["fib"](store, 15) == 610
    calls = 10**9 - store.get_fuel()
    assert calls >= 1973  # fib(15) makes 1973 calls, each charged at entry


def test_fuel_needs_the_config_flag() -> None:
    store = Store(Engine())
    with pytest.raises(ValueError, match="consume_fuel"):
        store.set_fuel(5)


def test_fuel_off_generates_no_fuel_code() -> None:
    from engine.binary import decode_body, decode_module
    from engine.compile.translate import translate_source
    from engine.config import CodegenOptions

    info = decode_module(wat(SPIN))
    body = decode_body(info, 0)
    assert "FUEL" not in translate_source(info, 0, body)
    assert "INTR" not in translate_source(info, 0, body)
    assert "FUEL" in translate_source(info, 0, body, options=CodegenOptions(fuel=True))


# -- epoch interruption -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_increment_epoch_from_another_thread_stops_a_loop(mode: str) -> None:
    store, ex = _instance(mode, epoch_interruption=True)
    store.set_epoch_deadline(1)

    def tick() -> None:
        time.sleep(0.2)
        store.engine.increment_epoch()

    timer = threading.Thread(target=tick)
    timer.start()
    t0 = time.perf_counter()
    with pytest.raises(Trap, match="interrupt"):
        ex["spin"](store)
    timer.join()
    assert time.perf_counter() - t0 < 30
    store.set_epoch_deadline(10)  # a new deadline: the store runs again
    assert ex["count"](store, 50) == 50


def test_default_epoch_deadline_traps_at_once() -> None:
    store, ex = _instance("lazy", epoch_interruption=True)
    with pytest.raises(Trap, match="interrupt"):
        ex["count"](store, 5)
