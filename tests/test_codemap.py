"""The code map: per-function byte budgets, lazy first calls on every path, failures, races."""

from __future__ import annotations

import functools
import gc
import threading
import time

import pytest

import engine.compile as compile_stage
from benchmarks.wasmgen import section, uleb
from engine import (
    Config,
    Engine,
    Func,
    FuncType,
    Instance,
    InvalidError,
    Module,
    Store,
    wat2wasm,
)
from engine.codemap import COMPILED, FAILED, UNCOMPILED, VALIDATED

try:
    import tracemalloc
except ImportError:  # PyPy has no tracemalloc: byte budgets are measured on CPython only
    tracemalloc = None  # type: ignore[assignment]


@functools.cache
def wat(text: str, check: bool = True) -> bytes:
    """Assemble WAT text with ``engine.wat2wasm`` (it never validates: ``check`` is moot)."""
    return wat2wasm(text)


# -- a tiny binary writer: wat2wasm is too slow for 100,000 functions ----------------------


def empty_functions(n: int) -> bytes:
    """A module of ``n`` functions of type [] -> [], each with the empty body."""
    types = section(1, uleb(1) + b"\x60\x00\x00")
    funcs = section(3, uleb(n) + b"\x00" * n)
    code = section(10, uleb(n) + b"\x02\x00\x0b" * n)
    return b"\x00asm\x01\x00\x00\x00" + types + funcs + code


def _retained(make: object) -> int:
    if tracemalloc is None:
        pytest.skip("tracemalloc is CPython-only: byte budgets are measured on CPython")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = make()  # type: ignore[operator]
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return after - before


#: What one Module keeps whatever its function count (ModuleInfo, feature snapshot, code
#: span, limits): 17.1 B per function in all at n = 1,000 against 13.0 at 100,000.
MODULE_FIXED = 4096


@pytest.mark.parametrize("mode", ["lazy", "lazy-translation"])
@pytest.mark.parametrize("n", [1_000, 10_000, 100_000])
def test_module_budget(mode: str, n: int) -> None:
    """Module(...) retains <= 16 bytes per function beyond the module's own bytes."""
    engine = Engine(Config(compilation_mode=mode))
    Module(engine, empty_functions(2))  # warm caches (interned types, imports)
    data = empty_functions(n)
    # The least of three runs: a collection that happens to run finalizers of earlier tests'
    # objects (xdist workers run many tests) must not count against this module.
    retained = min(_retained(lambda: Module(engine, data)) for _ in range(3))
    print(f"{mode} n={n}: {retained / n:.2f} bytes per function")
    # The budget is per function (16 B, measured 13.0 at 100,000 functions) plus the
    # module's fixed records (MODULE_FIXED), which dominate at small n.
    assert retained <= 16 * n + MODULE_FIXED, f"{retained / n:.2f} bytes per function"


@pytest.mark.parametrize("n", [1_000, 100_000])
def test_instance_budget_lazy(n: int) -> None:
    """Instance(...) in lazy mode retains <= 32 bytes per function (nothing per function)."""
    store = Store(Engine(Config(compilation_mode="lazy")))
    module = Module(store.engine, empty_functions(n))
    Instance(store, Module(store.engine, empty_functions(2)))
    retained = _retained(lambda: Instance(store, module))
    assert retained / n <= 32, f"{retained / n:.2f} bytes per function"
    assert all(module.code.state(i) == UNCOMPILED for i in range(0, n, 97))


def test_states_per_mode() -> None:
    data = empty_functions(3)
    expected = {"eager": COMPILED, "lazy-translation": VALIDATED, "lazy": UNCOMPILED}
    for mode, state in expected.items():
        module = Module(Engine(Config(compilation_mode=mode)), data)
        assert [module.code.state(i) for i in range(3)] == [state] * 3
        module.compile_all()
        assert [module.code.state(i) for i in range(3)] == [COMPILED] * 3


def test_identical_bodies_share_one_factory() -> None:
    text = """(module
      (func (export "a") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func (export "b") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func (export "c") (param i32) (result i32) local.get 0 i32.const 2 i32.add))"""
    for mode in ("eager", "lazy"):
        module = Module(Engine(Config(compilation_mode=mode)), wat(text))
        module.compile_all()
        factories = module.code.factories
        assert factories[0] is factories[1]
        assert factories[0] is not factories[2]


def test_dead_module_releases_its_factories() -> None:
    import weakref

    engine = Engine(Config(compilation_mode="eager"))
    module = Module(engine, wat('(module (func (export "f")))'))
    assert module.code.factories[0] is not None
    span = weakref.ref(module.code)
    assert engine.code_map._state[module.code.base] == COMPILED
    base = module.code.base
    del module
    gc.collect()
    assert span() is None  # and with it its list of factories
    state = engine.code_map._state
    assert len(state) <= base or state[base] == UNCOMPILED  # the slot range is given back


LAZY_PATHS = """(module
  (import "h" "cb" (func $cb (param i32) (result i32)))
  (type $v_i (func (result i32)))
  (global $started (export "started") (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $via_table)
  (func $start i32.const 1 global.set $started)                           ;; 1
  (func $via_table (result i32) i32.const 11)                             ;; 2
  (func (export "indirect") (result i32) i32.const 0 call_indirect (type $v_i)) ;; 3
  (func (export "exported") (result i32) i32.const 22)                    ;; 4
  (func (export "for_import") (result i32) i32.const 33)                  ;; 5
  (func (export "reenter") (param i32) (result i32) local.get 0 call $cb) ;; 6
  (func (export "called_back") (param i32) (result i32)                   ;; 7
    local.get 0 i32.const 1 i32.add)
  (func $rec (export "rec") (param i32) (result i32)                      ;; 8
    local.get 0 i32.eqz if (result i32) i32.const 0
    else local.get 0 i32.const 1 i32.sub call $rec i32.const 2 i32.add end)
  (func (export "never") (result i32) i32.const 99)                       ;; 9
  (start $start)
)"""

USER = """(module (import "x" "f" (func $f (result i32)))
  (func (export "g") (result i32) call $f i32.const 1 i32.add))"""


@pytest.mark.parametrize("mode", ["lazy", "lazy-translation"])
def test_lazy_first_calls_on_every_path(mode: str) -> None:
    store = Store(Engine(Config(compilation_mode=mode)))
    module = Module(store.engine, wat(LAZY_PATHS))
    holder: dict = {}
    cb = Func(store, FuncType(["i32"], ["i32"]), lambda x: holder["called_back"](store, x) * 10)
    inst = Instance(store, module, [cb])
    ex = inst.exports(store)
    holder["called_back"] = ex["called_back"]
    code = module.code

    def compiled(func_index: int) -> bool:
        return code.state(func_index - 1) == COMPILED

    assert compiled(1) and ex["started"].value(store) == 1  # start function
    assert not any(compiled(i) for i in range(2, 10))
    assert ex["exported"](store) == 22 and compiled(4)
    assert ex["indirect"](store) == 11 and compiled(2) and compiled(3)
    user = Instance(store, Module(store.engine, wat(USER)), [ex["for_import"]])
    assert not compiled(5)
    assert user.exports(store)["g"](store) == 34 and compiled(5)
    assert ex["reenter"](store, 4) == 50 and compiled(6) and compiled(7)
    assert ex["rec"](store, 30) == 60 and compiled(8)
    assert not compiled(9)


BAD_BODY = """(module
  (func (export "good") (result i32) i32.const 1)
  (func (export "bad") (result i32) i64.const 0))"""


def test_invalid_body_per_mode() -> None:
    data = wat(BAD_BODY, check=False)
    for mode in ("eager", "lazy-translation"):
        with pytest.raises(InvalidError, match="type mismatch"):
            Module(Engine(Config(compilation_mode=mode)), data)
    store = Store(Engine(Config(compilation_mode="lazy")))
    module = Module(store.engine, data)
    ex = Instance(store, module).exports(store)
    assert ex["good"](store) == 1
    for _ in range(2):  # the same error every time, and the store stays usable
        with pytest.raises(InvalidError, match="type mismatch"):
            ex["bad"](store)
        assert ex["good"](store) == 1
    assert module.code.state(1) == FAILED
    with pytest.raises(InvalidError):
        module.compile_all()


def test_thread_race_on_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads calling one uncompiled function at once all succeed; one factory is published."""
    real = compile_stage.translate
    calls: list[int] = []

    def slow_translate(info, func_index, body):  # type: ignore[no-untyped-def]
        calls.append(func_index)
        time.sleep(0.05)  # widen the race window
        return real(info, func_index, body)

    monkeypatch.setattr(compile_stage, "translate", slow_translate)
    store = Store(Engine(Config(compilation_mode="lazy")))
    module = Module(store.engine, wat('(module (func (export "f") (result i32) i32.const 5))'))
    inst = Instance(store, module)
    f = inst.exports(store)["f"]
    barrier = threading.Barrier(6)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        results.append(f(store))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [5] * 6
    assert len(calls) >= 1 and module.code.state(0) == COMPILED
    factory = module.code.factories[0]
    assert module.code.factory(0) is factory
    assert f.fn is inst._rt.funcs[0]  # one bound callable per instance, whoever won
