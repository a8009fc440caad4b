"""Fuel and epoch interruption (issue 12): the cost model charged exactly, in every
compilation mode, in both shapes of charge (CPython's meters and the cell charges PyPy
uses), structured and flat; traps that surface as such through calls, host calls,
exception handlers and tail calls; interrupts from another thread with fuel on too."""

from __future__ import annotations

import importlib
import sys
import threading
import time

import pytest

from engine import Config, Engine, Func, FuncType, Instance, Module, Store, Trap
from engine.compile import fuel as F
from tests.test_codemap import wat

MODES = ("eager", "lazy-translation", "lazy")

#: The costs below follow docs/untrusted.md: an invocation pays the instructions outside
#: loops (``end`` included) before its first call or loop, a loop iteration its own.
PROGRAM = """(module
  (import "host" "peek" (func $peek))
  (global $n (export "n") (mut i32) (i32.const 0))
  (func $leaf (export "leaf") (param i32) (result i32)     ;; no call, no loop: free
    (i32.add (local.get 0) (i32.const 1)))
  (func $caller (export "caller") (result i32)             ;; 3: const, call, end
    (call $leaf (i32.const 1)))
  (func $fib (export "fib") (param i32) (result i32)       ;; 17, when it calls
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $spin (export "spin")                              ;; 2, then 6 per iteration
    (loop (global.set $n (i32.add (global.get $n) (i32.const 1))) (br 0)))
  (func $down (export "down") (param i32)                  ;; 2, then 11 per iteration
    (loop
      (if (i32.eqz (local.get 0)) (then (return)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
  (func $recurse (export "recurse") (call $recurse))       ;; 2 per call, forever
  (func $tail (export "tail") (param i32) (result i32)     ;; 11 per call, forever
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call $tail (i32.add (local.get 0) (i32.const 1))))))
  (func $peeking (export "peeking") (param i32)            ;; 2, then 12 per iteration
    (loop
      (if (i32.eqz (local.get 0)) (then (return)))
      (call $peek)
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
  (func $mixed (export "mixed") (param i32) (result i32)  ;; 18 on every path
    (if (local.get 0)
      (then (if (i32.eq (local.get 0) (i32.const 2)) (then (br 1)))  ;; pays, then branches
            (drop (i32.const 5)))                          ;; pays at the arm's end
      (else (drop (call $leaf (i32.const 0)))))            ;; pays at the call
    (call $leaf (local.get 0)))
  (func $early (export "early") (param i32) (result i32)  ;; 9 if it calls, else free
    (block $b
      (br_if $b (local.get 0))
      (return (call $leaf (i32.const 7))))
    (i32.const -1))
  (tag $t)
  (func $guarded (export "guarded") (result i32)           ;; a trap is not an exception
    (block $h (try_table (catch_all $h) (call $spin)))
    (i32.const -1)))"""

FIB_15 = 986 * 17  # fib(15): 1973 calls, 986 of them make calls (the others are leaves)


#: Meters rely on how CPython's ``chain`` and sequence iterators treat an exception (they
#: stay alive); PyPy's do not, and PyPy charges with cells (``fuel.METERED``).
SHAPES = ["meters", "cells"] if sys.implementation.name == "cpython" else ["cells"]


@pytest.fixture(params=SHAPES)
def shape(request, monkeypatch) -> str:
    """Translate with CPython's meters or with the cell charges PyPy uses."""
    monkeypatch.setattr(F, "METERED", request.param == "meters")
    return request.param


#: Entry polls of the interrupt flag: ``if INTR`` (CPython) or a countdown whose end lets
#: waiting threads run (PyPy, ``fuel.COUNTED_POLLS``), where a JIT-compiled recursion without
#: loops would otherwise never release the GIL to the thread that advances the epoch.
POLLS = ["flag", "counted"] if sys.implementation.name == "cpython" else ["counted"]


@pytest.fixture(params=POLLS)
def polls(request, monkeypatch) -> str:
    """Translate entry polls as a flag test or as PyPy's countdown."""
    monkeypatch.setattr(F, "COUNTED_POLLS", request.param == "counted")
    return request.param


def _instance(mode: str, fuel: bool = True, epoch: bool = False, peek=None):
    config = Config(compilation_mode=mode)
    config.consume_fuel = fuel
    config.epoch_interruption = epoch
    store = Store(Engine(config))
    host = Func(store, FuncType([], []), peek or (lambda: None))
    inst = Instance(store, Module(store.engine, wat(PROGRAM)), [host])
    return store, inst.exports(store)


def _cost(store: Store, call) -> int:
    before = store.get_fuel()
    call()
    return before - store.get_fuel()


@pytest.mark.parametrize("mode", MODES)
def test_charges_follow_the_cost_model_exactly(mode: str, shape: str) -> None:
    store, ex = _instance(mode)
    store.set_fuel(10**6)
    assert _cost(store, lambda: ex["leaf"](store, 1)) == 0
    assert _cost(store, lambda: ex["caller"](store)) == 3
    assert _cost(store, lambda: ex["fib"](store, 1)) == 0  # returns before any call
    assert _cost(store, lambda: ex["fib"](store, 15)) == FIB_15
    assert _cost(store, lambda: ex["down"](store, 0)) == 2 + 11
    assert _cost(store, lambda: ex["down"](store, 100)) == 2 + 101 * 11
    big = 5 * 2**30 + 7  # beyond one chunk of the cell: charged the same
    store.set_fuel(big)
    assert _cost(store, lambda: ex["fib"](store, 15)) == FIB_15
    assert store.fuel[0] < 2**30


@pytest.mark.parametrize("flat", [False, True])
def test_flat_form_is_charged_the_same(flat: bool, shape: str, monkeypatch) -> None:
    monkeypatch.setattr(importlib.import_module("engine.compile.translate"), "FORCE_FLAT", flat)
    store, ex = _instance("lazy")
    store.set_fuel(10**6)
    assert _cost(store, lambda: ex["fib"](store, 15)) == FIB_15
    assert _cost(store, lambda: ex["down"](store, 100)) == 2 + 101 * 11
    assert _cost(store, lambda: ex["caller"](store)) == 3
    for p in (0, 1, 2):  # each path pays once: before a call, at an arm's end, at a branch
        assert _cost(store, lambda p=p: ex["mixed"](store, p)) == 18
    assert _cost(store, lambda: ex["early"](store, 1)) == 0  # leaves before any call
    assert _cost(store, lambda: ex["early"](store, 0)) == 9


@pytest.mark.parametrize("mode", MODES)
def test_fuel_runs_out_at_the_exact_charge(mode: str, shape: str) -> None:
    store, ex = _instance(mode)
    need = 2 + 51 * 11
    store.set_fuel(need)
    ex["down"](store, 50)
    assert store.get_fuel() == 0
    store.set_fuel(need - 1)
    with pytest.raises(Trap, match="all fuel consumed"):
        ex["down"](store, 50)
    assert store.get_fuel() == 0
    store.set_fuel(FIB_15)
    assert ex["fib"](store, 15) == 610
    store.set_fuel(FIB_15 - 1)
    with pytest.raises(Trap, match="all fuel consumed"):
        ex["fib"](store, 15)


@pytest.mark.parametrize("mode", MODES)
def test_fuel_stops_loops_and_unbounded_recursion(mode: str, shape: str) -> None:
    store, ex = _instance(mode)
    for name, args in (("spin", ()), ("recurse", ()), ("tail", (1,)), ("fib", (40,)),
                       ("guarded", ())):
        store.set_fuel(5000)
        with pytest.raises(Trap, match="all fuel consumed"):
            ex[name](store, *args)
        assert store.get_fuel() == 0
        store.set_fuel(10**6)  # the store stays usable, and charges as before
        assert _cost(store, lambda: ex["fib"](store, 15)) == FIB_15


def test_fuel_seen_from_a_host_call_decreases_exactly(shape: str) -> None:
    """A host function called by wasm reads the fuel left: what the meters took in advance
    counts as left, so it falls by exactly one iteration's cost between two calls."""
    seen: list[int] = []
    store, ex = _instance("lazy", peek=lambda: seen.append(store.get_fuel()))
    store.set_fuel(10**6)
    ex["peeking"](store, 500)
    assert len(seen) == 500
    assert [seen[i] - seen[i + 1] for i in range(len(seen) - 1)] == [12] * 499
    assert seen[0] == 10**6 - 2 - 12
    assert store.get_fuel() == 10**6 - 2 - 501 * 12


def test_set_fuel_from_a_host_call_replaces_what_was_taken(shape: str) -> None:
    calls = [0]

    def peek() -> None:
        calls[0] += 1
        if calls[0] == 10:
            store.set_fuel(12 * 5)  # five more iterations, then out

    store, ex = _instance("lazy", peek=peek)
    store.set_fuel(10**6)
    with pytest.raises(Trap, match="all fuel consumed"):
        ex["peeking"](store, 1000)
    assert calls[0] == 15


def test_big_charges_and_many_meters_share_the_fuel() -> None:
    """A charge larger than a meter's chunk (one tick per chunk), and meters of many sizes
    near the end of the fuel: the trap comes when less than the next charge is left."""
    drops = F.METER_UNITS // 2 + 10
    body = " ".join(["(drop (i32.const 0))"] * drops)
    funcs = "".join(f"""
      (func $g{k} (export "g{k}") (param i32)
        (loop (if (i32.eqz (local.get 0)) (then (return)))
          {"(nop) " * k}(local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br 0)))"""
                    for k in range(8))
    text = f"""(module (func (export "big") (param i32)
      (loop (if (i32.eqz (local.get 0)) (then (return))) {body}
        (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br 0))) {funcs})"""
    config = Config()
    config.consume_fuel = True
    store = Store(Engine(config))
    ex = Instance(store, Module(store.engine, wat(text))).exports(store)
    per = 2 * drops + 11  # one iteration of big, more than a meter takes at once
    assert per > F.METER_UNITS
    store.set_fuel(10**9)
    assert _cost(store, lambda: ex["big"](store, 3)) == 2 + 4 * per
    store.set_fuel(10**7)
    spent = 0
    with pytest.raises(Trap, match="all fuel consumed"):
        while True:
            for k in range(8):
                spent += _cost(store, lambda k=k: ex[f"g{k}"](store, 997))
    assert store.get_fuel() == 0 and spent > 10**7 - 20_000


# -- epoch interruption ------------------------------------------------------------------


def _interrupt_soon(store: Store, delay: float = 0.2) -> threading.Thread:
    def tick() -> None:
        time.sleep(delay)
        store.engine.increment_epoch()

    timer = threading.Thread(target=tick)
    timer.start()
    return timer


@pytest.mark.parametrize("fuel", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_epoch_from_another_thread_stops_loops_and_recursion(mode: str, fuel: bool,
                                                            shape: str, polls: str) -> None:
    """The timer thread gets to run while wasm loops or recurses (on PyPy, JIT-compiled
    recursion releases the GIL only through the counted entry polls)."""
    store, ex = _instance(mode, fuel=fuel, epoch=True)
    if fuel:
        store.set_fuel(10**15)
    for name, args in (("spin", ()), ("fib", (60,)), ("tail", (1,))):
        store.set_epoch_deadline(1)
        timer = _interrupt_soon(store)
        t0 = time.perf_counter()
        with pytest.raises(Trap, match="interrupt"):
            ex[name](store, *args)
        timer.join()
        assert time.perf_counter() - t0 < 30
    store.set_epoch_deadline(10)  # a new deadline: the store runs again
    assert ex["fib"](store, 10) == 55
    if fuel:
        assert _cost(store, lambda: ex["fib"](store, 15)) == FIB_15


@pytest.mark.parametrize("mode", MODES)
def test_interrupted_fuel_is_charged_exactly(mode: str, shape: str) -> None:
    """With both on, an interrupt ends the meters' chunks from the epoch thread; the fuel
    they held is not lost: what was spent is exactly the iterations that ran."""
    store, ex = _instance(mode, epoch=True)
    store.set_fuel(10**12)
    store.set_epoch_deadline(1)
    timer = _interrupt_soon(store, 0.1)
    with pytest.raises(Trap, match="interrupt"):
        ex["spin"](store)
    timer.join()
    iterations = ex["n"].value(store)
    assert iterations > 0
    assert store.get_fuel() == 10**12 - 2 - 6 * iterations


def test_default_deadline_and_deadline_set_from_a_host_call(shape: str, polls: str) -> None:
    calls = [0]

    def peek() -> None:
        calls[0] += 1
        if calls[0] == 3:
            store.set_epoch_deadline(0)  # now: the next charge traps

    store, ex = _instance("lazy", epoch=True, peek=peek)
    store.set_fuel(10**6)
    with pytest.raises(Trap, match="interrupt"):  # as wasmtime: no deadline set yet
        ex["fib"](store, 5)
    store.set_epoch_deadline(5)
    with pytest.raises(Trap, match="interrupt"):
        ex["peeking"](store, 10)
    assert calls[0] == 3


def test_counted_polls_count_entries_and_loops_keep_the_flag(monkeypatch) -> None:
    """PyPy's shape: entry polls count down the store's ticker, loop polls (whose back-edge
    lets PyPy's JIT release the GIL) test the flag; with meters there is no poll at all."""
    from engine.binary import decode_body, decode_module
    from engine.compile.translate import translate_source
    from engine.config import CodegenOptions

    monkeypatch.setattr(F, "COUNTED_POLLS", True)
    info = decode_module(wat(PROGRAM))
    funcs = {e.name: e.index for e in info.exports if e.kind == "func"}
    epoch = CodegenOptions(epoch=True)
    fib = translate_source(info, funcs["fib"], decode_body(info, funcs["fib"]), options=epoch)
    assert "EP.n -= 1" in fib and "INTR" not in fib
    down = translate_source(info, funcs["down"], decode_body(info, funcs["down"]),
                            options=epoch)
    assert down.count("EP.n -= 1") == 1 and down.count("if INTR:") == 1
    monkeypatch.setattr(F, "COUNTED_POLLS", False)
    fib = translate_source(info, funcs["fib"], decode_body(info, funcs["fib"]), options=epoch)
    assert "EP" not in fib and "if INTR:" in fib


@pytest.mark.parametrize("mode", MODES)
def test_counted_polls_see_a_flag_raised_behind_their_back(mode: str, monkeypatch) -> None:
    """A raised flag whose stop of the count was lost (the epoch thread raced with the
    count's own update) is seen within EPOCH_TICKS entries; until a new deadline every call
    traps at once; a new deadline counts again."""
    monkeypatch.setattr(F, "COUNTED_POLLS", True)
    store, ex = _instance(mode, fuel=False, epoch=True)
    store.set_epoch_deadline(1)
    assert ex["fib"](store, 10) == 55
    store.interrupt.append(True)  # the flag alone, as if ``stop`` had been overwritten
    assert store.epoch_ticker.n >= 0
    with pytest.raises(Trap, match="interrupt"):
        ex["fib"](store, 25)  # 121,392 polls (calls that call): more than EPOCH_TICKS
    assert store.epoch_ticker.n < 0
    with pytest.raises(Trap, match="interrupt"):
        ex["caller"](store)  # its first poll traps
    store.set_epoch_deadline(1)
    assert ex["fib"](store, 20) == 6765
    assert 0 <= store.epoch_ticker.n <= F.EPOCH_TICKS


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="meters are CPython's")
def test_meter_chains_survive_recursion_errors_in_their_refill(monkeypatch) -> None:
    """A refill that fails (here: as at the depth limit) leaves the meter usable."""
    monkeypatch.setattr(F, "METERED", True)
    store, ex = _instance("lazy")
    store.set_fuel(10**6)
    real = F.Meter.refill
    failing = [3]

    def refill(self) -> None:
        if failing[0]:
            failing[0] -= 1
            raise RecursionError("maximum recursion depth exceeded")
        real(self)

    monkeypatch.setattr(F.Meter, "refill", refill)
    for _ in range(3):
        with pytest.raises((Trap, RecursionError)):
            ex["caller"](store)
    assert ex["caller"](store) == 2
    assert store.get_fuel() == 10**6 - 3
