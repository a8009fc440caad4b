"""Untrusted code (issue 12): fuel, epoch interruption, lazy failures that are not permanent,
nothing leaking, and the hostile corpus compiling."""

from __future__ import annotations

import gc
import importlib
import threading
import time
import tracemalloc

import pytest

from engine import Config, Engine, Instance, Module, Store, Trap
from engine.codemap import COMPILED, FAILED, UNCOMPILED
from tests.hostile import corpus
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
  (func (export "search") (param i32) (result i32) (local i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
      (if (i32.eq (local.get 1) (i32.const 5)) (then (return (local.get 1))))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br 0)))
    (i32.const -1))
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
    plenty = 5 * 2**30 + 7  # beyond one chunk: charged the same, the reserve refills it
    store.set_fuel(plenty)
    ex["count"](store, 1000)
    assert plenty - store.get_fuel() == big
    assert store.fuel[0] < 2**30  # the chunk stays a one-digit int
    store.set_fuel(10**9)
    assert ex["fib"](store, 15) == 610
    calls = 10**9 - store.get_fuel()
    assert calls >= 1973  # fib(15) makes 1973 calls, each charged at entry


@pytest.mark.parametrize("mode", MODES)
def test_fuel_of_a_counted_loop_left_early_is_refunded(mode: str) -> None:
    """A counted loop is charged for all its iterations up front and refunded on an early
    exit: a search that returns at the 6th of 10**9 iterations costs what 6 cost."""
    store, ex = _instance(mode, consume_fuel=True)
    store.set_fuel(10_000)
    assert ex["search"](store, 10**9) == 5
    used = 10_000 - store.get_fuel()
    assert 0 < used < 500
    store.set_fuel(10**6)
    assert ex["search"](store, 3) == -1  # runs to its end: charged exactly
    short = 10**6 - store.get_fuel()
    store.set_fuel(10**6)
    ex["search"](store, 4)
    assert 10**6 - store.get_fuel() > short  # one more iteration costs more
    store.set_fuel(30)  # not enough for 10**9 iterations nor for 5: trapped one by one
    with pytest.raises(Trap, match="all fuel consumed"):
        ex["search"](store, 10**9)


def test_counted_loops_are_charged_up_front() -> None:
    from engine.binary import decode_body, decode_module
    from engine.compile.translate import translate_source
    from engine.config import CodegenOptions

    info = decode_module(wat(SPIN))
    source = translate_source(info, 2, decode_body(info, 2), options=CodegenOptions(fuel=True))
    assert "fuel_range(" in source and "fuel_refund(" in source


def test_refuel_moves_the_reserve_into_the_chunk() -> None:
    from engine.compile.numerics import FUEL_CHUNK, refuel

    cell = [5, 3 * FUEL_CHUNK]
    assert refuel(cell, 10) == FUEL_CHUNK and cell[1] == 2 * FUEL_CHUNK - 5
    cell = [5, 4]
    with pytest.raises(Trap, match="all fuel consumed"):
        refuel(cell, 10)
    assert cell == [0, 0]


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
    from engine.compile import fuel

    metered = translate_source(info, 0, body, options=CodegenOptions(fuel=True))
    assert ("rt.meters[" in metered) == fuel.METERED and ("FUEL" in metered) != fuel.METERED


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
    # A counted loop (a Python `for`, polled every EPOCH_CHUNK iterations) stops too.
    store.set_epoch_deadline(1)
    timer = threading.Thread(target=tick)
    timer.start()
    with pytest.raises(Trap, match="interrupt"):
        ex["count"](store, 0x7FFFFFFF)
    timer.join()


def test_default_epoch_deadline_traps_at_once() -> None:
    store, ex = _instance("lazy", epoch_interruption=True)
    with pytest.raises(Trap, match="interrupt"):
        ex["count"](store, 5)


# -- failures that pass are not permanent -----------------------------------------------------


@pytest.mark.usefixtures("pause_gc")
def test_lazy_recursion_error_in_validation_is_not_permanent(monkeypatch) -> None:
    """A RecursionError while validating a valid body on its first call (lazy mode) must not
    mark the function invalid: once the stack is available again the call succeeds."""
    from engine import codemap

    real = codemap.validate_body
    failing = [True]

    def validate(*args):  # type: ignore[no-untyped-def]
        if failing[0]:
            raise RecursionError("maximum recursion depth exceeded")
        return real(*args)

    monkeypatch.setattr(codemap, "validate_body", validate)
    store, ex = _instance("lazy")
    with pytest.raises(Trap, match="call stack exhausted"):
        ex["count"](store, 3)  # fails on the caller's stack and on a fresh one
    span = ex["count"]._rt.code
    assert span.state(1) == UNCOMPILED  # not FAILED
    failing[0] = False
    assert ex["count"](store, 3) == 3


def test_lazy_recursion_error_retried_on_a_fresh_stack(monkeypatch) -> None:
    """A RecursionError on the caller's stack (even with the compile headroom) is retried
    on a fresh thread."""
    from engine import codemap

    real = codemap.validate_body
    threads: list[str] = []

    def validate(*args):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        if len(threads) <= 2:  # in place, then in place with the headroom
            raise RecursionError("maximum recursion depth exceeded")
        return real(*args)

    monkeypatch.setattr(codemap, "validate_body", validate)
    store, ex = _instance("lazy")
    assert ex["count"](store, 7) == 7
    assert threads[2] != threading.get_ident()  # on a fresh thread
    assert ex["count"]._rt.code.state(1) == COMPILED


@pytest.mark.parametrize("error", [MemoryError, RecursionError])
def test_translation_failures_that_pass_leave_the_slot_uncompiled(monkeypatch, error) -> None:
    """MemoryError / RecursionError while translating (lazy-translation: validated up front)
    are not recorded: the next call translates again and succeeds."""
    import engine.compile as compile_stage

    real = compile_stage.translate
    failing = [True]

    def translate(*args):  # type: ignore[no-untyped-def]
        if failing[0]:
            raise error()
        return real(*args)

    monkeypatch.setattr(compile_stage, "translate", translate)
    store, ex = _instance("lazy-translation")
    with pytest.raises((MemoryError, Trap)):
        ex["count"](store, 3)
    assert ex["count"]._rt.code.state(1) != FAILED
    failing[0] = False
    assert ex["count"](store, 3) == 3


def _chain(n: int) -> bytes:
    """Functions f0..f{n-1}: each counts itself in global "c" and calls the next; the last
    recurses into itself, so the depth of "call stack exhausted" shows in "c"."""
    funcs = []
    for i in range(n):
        nxt = min(i + 1, n - 1)
        funcs.append(f"(func $f{i} (global.set $c (i32.add (global.get $c) (i32.const 1))) "
                     f"(call $f{nxt}))")
    return wat("(module (global $c (export \"c\") (mut i32) (i32.const 0))\n"
               + "\n".join(funcs) + '\n(func (export "run") (call $f0)))')


@pytest.mark.usefixtures("pause_gc")
def test_exhaustion_depth_is_the_same_in_every_mode() -> None:
    """Each f_i is first called at depth i, where lazy modes compile it: compiling must not
    take from the wasm call budget, so the trap comes at the same count in every mode."""
    wasm = _chain(2000)
    counts = {}
    for mode in MODES:
        store = Store(Engine(Config(compilation_mode=mode, max_call_depth=1500)))
        ex = Instance(store, Module(store.engine, wasm)).exports(store)
        with pytest.raises(Trap, match="call stack exhausted"):
            ex["run"](store)
        counts[mode] = ex["c"].value(store)
    assert len(set(counts.values())) == 1, counts
    assert abs(counts["eager"] - 1500) <= 30  # max_call_depth, give or take the margin


# -- implementation limits --------------------------------------------------------------------


def _limited(**limits: int) -> Engine:
    config = Config()
    for name, value in limits.items():
        setattr(config.limits, name, value)
    return Engine(config)


@pytest.mark.parametrize(
    "case,n,limit,message",
    [
        ("huge_locals", 45_000, "max_locals", "too many locals: 45001 in function 0"),
        ("deep_nesting", 300, "max_nesting", "blocks nested too deeply: 201 in function 0"),
        ("br_table_alt", 300, "max_br_table_targets", "too many br_table targets: 300"),
        ("many_imports", 300, "max_imports", "too many imports: 300 in the import section"),
        ("many_functions", 300, "max_functions", "too many functions: 300 in the module"),
        ("straight_line", 3000, "max_function_size", "function body too large"),
    ],
)
def test_limits_are_clear_compile_errors(case: str, n: int, limit: str, message: str) -> None:
    from engine import CompileError, ImplementationLimitError

    gen = getattr(corpus, case)
    maximum = 40_000 if limit == "max_locals" else 200
    engine = _limited(**{limit: maximum})
    with pytest.raises(ImplementationLimitError, match=message) as info:
        Module(engine, gen(n)).compile_all()
    assert isinstance(info.value, CompileError)
    assert info.value.limit == limit and info.value.maximum == maximum
    assert f"{limit} = {maximum}" in str(info.value)
    Module(Engine(), gen(n)).compile_all()  # within the defaults


def test_spec_local_count_overflow_stays_malformed() -> None:
    from engine import MalformedError
    from engine.binary.instructions import read_locals

    with pytest.raises(MalformedError, match="too many locals"):
        read_locals(b"\x02\xff\xff\xff\xff\x0f\x7f\x02\x7e", 0)


# -- nothing leaks ----------------------------------------------------------------------------


def _unique_module(i: int) -> bytes:
    """A module whose one function has a signature of its own (5 params from i's digits)."""
    from benchmarks.wasmgen import code_entry, functype, section, uleb, vec

    codes = [0x7F, 0x7E, 0x7D, 0x7C]
    params = [codes[(i >> (2 * k)) & 3] for k in range(5)]
    body = code_entry([], bytes([0x20, 0, 0x0B]))  # local.get 0
    return b"".join([b"\x00asm\x01\x00\x00\x00", section(1, vec([functype(params, [params[0]])])),
                     section(3, vec([uleb(0)])),
                     section(7, vec([b"\x01f\x00\x00"])), section(10, vec([body]))])


@pytest.mark.parametrize("mode", MODES)
def test_dropped_modules_release_everything(mode: str) -> None:
    """Load, instantiate, call and drop 1,000 modules of distinct signatures: the code map's
    slots, the compiled code and the interned types return (tracemalloc: what the second
    thousand leaves behind; the first one sizes bounded pools such as the slot free list)."""
    from engine import types as T

    engine = Engine(Config(compilation_mode=mode))

    def cycle(i: int) -> None:
        store = Store(engine)
        inst = Instance(store, Module(engine, _unique_module(i)))
        f = inst.exports(store)["f"]
        assert f(store, *([1] * 5)) == 1

    tracemalloc.start()
    try:
        for i in range(1000):  # warm-up: interpreter caches, the slot free list, dict tables
            cycle(i)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        types_before = len(T._FUNC_TYPES)
        for i in range(1000):
            cycle(i)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    code_map = engine.code_map
    free = sum(count * len(bases) for count, bases in code_map._free.items())
    assert free == len(code_map._state) < 100  # every slot given back, and reused
    assert not engine.code_map._errors  # factories die with their modules' spans
    assert len(T._FUNC_TYPES) <= types_before + 5
    # A module with its compiled function costs several KiB: 1,000 leaked ones would be MiBs.
    # What remains is noise of bounded pools (measured: +-50 KiB, not growing over rounds).
    assert grown < 100 * 1024, f"{grown} bytes retained by 1,000 dropped modules"


# -- the hostile corpus -----------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(corpus.CASES))
def test_hostile_corpus_compiles(case: str) -> None:
    """Every corpus shape is a valid module that compiles within the default limits, in the
    structured and the lazy path alike (figures: tests/hostile/corpus.py, benchmarks)."""
    gen, base = corpus.CASES[case]
    wasm = gen(max(4, base // 20))
    corpus.compile_case(wasm, "eager")
    store = Store(Engine(Config(compilation_mode="lazy")))
    module = Module(store.engine, wasm)
    module.compile_all()
