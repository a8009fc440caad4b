"""Host functions: their exceptions keep their own type across wasm frames (issue 12 item 5),
raw results are range-checked, and wasm's own traps are unchanged, in every mode."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest
from test_api import MODES, instantiate

from engine import (
    Config,
    Engine,
    ExhaustionError,
    Func,
    FuncType,
    Store,
    Trap,
    TrapCode,
    ValType,
)

I32 = ValType.i32()

#: One import ``h.f: [] -> [i32]``, called directly, after a memory load (so the translated
#: function has its exception handler), and from a second level of wasm.
CALLER = """(module
  (import "h" "f" (func $f (result i32)))
  (memory 1)
  (func (export "direct") (result i32) call $f)
  (func (export "with_load") (result i32) i32.const 0 i32.load call $f i32.add)
  (func $mid (result i32) i32.const 4 i32.load call $f i32.add)
  (func (export "nested") (result i32) call $mid)
)"""

ENTRIES = ["direct", "with_load", "nested"]


@pytest.fixture(params=MODES)
def store(request: pytest.FixtureRequest) -> Store:
    return Store(Engine(Config(compilation_mode=request.param)))


def _run(store: Store, host: Func, entry: str) -> Any:
    return instantiate(store, CALLER, [host]).exports(store)[entry](store)


def _recurse(n: int) -> int:
    return _recurse(n + 1) + 1


def _raise(exc: BaseException) -> Callable[[], int]:
    def host() -> int:
        raise exc

    return host


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("exc", [RecursionError("host's own"), IndexError("host index"),
                                 ZeroDivisionError("host div"), struct.error("host struct"),
                                 KeyError("k"), ValueError("v")],
                         ids=lambda e: type(e).__name__)
def test_host_exception_keeps_its_type(store: Store, entry: str, exc: Exception) -> None:
    host = Func(store, FuncType([], [I32]), _raise(exc))
    with pytest.raises(type(exc)) as info:
        _run(store, host, entry)
    assert info.value is exc and not isinstance(info.value, Trap)


@pytest.mark.parametrize("entry", ENTRIES)
def test_host_deep_recursion_is_a_recursion_error(store: Store, entry: str) -> None:
    """Recursing without end in the host is the host's RecursionError, not wasm exhaustion,
    and the store (and interpreter) stay usable."""
    host = Func(store, FuncType([], [I32]), lambda: _recurse(0))
    with pytest.raises(RecursionError):
        _run(store, host, entry)
    ok = Func(store, FuncType([], [I32]), lambda: 5)
    assert _run(store, ok, entry) == 5


@pytest.mark.parametrize("entry", ENTRIES)
def test_raw_host_c_function_index_error_is_not_a_memory_trap(store: Store, entry: str) -> None:
    """``[].pop`` raises IndexError from C: no Python frame of its own under the translated
    frame, which is exactly what the translator's handler reads as its own memory access."""
    host = Func.from_raw(store, FuncType([], [I32]), [].pop)
    with pytest.raises(IndexError, match="pop from empty list") as info:
        _run(store, host, entry)
    assert not isinstance(info.value, Trap)


def test_host_trap_stays_a_trap(store: Store) -> None:
    host = Func(store, FuncType([], [I32]), _raise(Trap("custom host trap")))
    with pytest.raises(Trap, match="custom host trap"):
        _run(store, host, "nested")


def test_wasm_exhaustion_through_a_host_is_still_exhaustion(store: Store) -> None:
    text = """(module (import "h" "cb" (func $cb))
      (func (export "enter") call $cb)
      (func $forever (export "forever") call $forever))"""
    holder: dict = {}
    cb = Func(store, FuncType([], []), lambda: holder["forever"](store))
    ex = instantiate(store, text, [cb]).exports(store)
    holder["forever"] = ex["forever"]
    with pytest.raises(ExhaustionError) as info:
        ex["enter"](store)
    assert info.value.trap_code is TrapCode.STACK_OVERFLOW


def _helper(x: int) -> int:
    return x


def test_wasm_recursion_calling_hosts_is_exhaustion(store: Store) -> None:
    """Deep wasm recursion that calls a host (which calls a Python helper) at every level
    runs out inside the host at some point: still wasm's exhaustion, not a host error."""
    text = """(module (import "h" "f" (func $f (param i32) (result i32)))
      (func $r (export "r") (param i32) (result i32)
        local.get 0 call $f i32.const 1 i32.add call $r))"""
    host = Func(store, FuncType([I32], [I32]), lambda x: _helper(x))
    raw = Func.from_raw(store, FuncType([I32], [I32]), lambda x: _helper(x))
    for f in (host, raw):
        r = instantiate(store, text, [f]).exports(store)["r"]
        with pytest.raises(ExhaustionError):
            r(store, 0)


def test_carrier_rule_near_the_depth_limit() -> None:
    """The rule behind the two tests above: a RecursionError met within a few frames of the
    recursion limit is wasm's exhaustion (left as is), further away it is the host's."""
    import sys

    from engine.runtime.calls import HostError
    from engine.runtime.func import _HOST_ROOM, _carry

    def depth() -> int:
        n, frame = 0, sys._getframe(1)
        while frame is not None:
            n, frame = n + 1, frame.f_back
        return n

    def at(target: int) -> BaseException:
        return at(target) if depth() < target else _carry(RecursionError("x"))

    limit = sys.getrecursionlimit()
    assert isinstance(_carry(RecursionError("x")), HostError)
    assert isinstance(_carry(ValueError("x")), HostError)
    near = at(limit - _HOST_ROOM // 2)
    assert isinstance(near, RecursionError) and not isinstance(near, HostError)
    assert isinstance(at(limit - 3 * _HOST_ROOM), HostError)


def test_reentrant_host_sees_the_inner_host_exception(store: Store) -> None:
    """outer wasm -> host A -> wasm -> host B raises: A receives B's exception itself, can
    handle it, and the outer call completes."""
    text = """(module (import "h" "a" (func $a (result i32))) (import "h" "b" (func $b (result i32)))
      (func (export "outer") (result i32) call $a i32.const 1 i32.add)
      (func (export "inner") (result i32) call $b))"""
    holder: dict = {}

    def a() -> int:
        try:
            holder["inner"](store)
        except LookupError as exc:
            return len(str(exc))
        return -1

    b = Func(store, FuncType([], [I32]), _raise(LookupError("abc")))
    ex = instantiate(store, text, [Func(store, FuncType([], [I32]), a), b]).exports(store)
    holder["inner"] = ex["inner"]
    assert ex["outer"](store) == len(str(LookupError("abc"))) + 1


def test_direct_host_call_raises_its_own_exception(store: Store) -> None:
    host = Func(store, FuncType([], [I32]), _raise(RecursionError("direct")))
    with pytest.raises(RecursionError, match="direct"):
        host(store)


# -- result checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(("rtype", "value", "want"), [
    ("i32", 1 << 32, r"result 0 \(i32\) must be an int in \[0, 2\*\*32\), got 4294967296"),
    ("i32", -1, r"must be an int in \[0, 2\*\*32\), got -1"),
    ("i32", True, "got True"),
    ("i32", 1.0, "got 1.0"),
    ("i64", 1 << 64, r"\[0, 2\*\*64\)"),
    ("f32", 1, "must be a float, got 1"),
    ("f64", "x", "must be a float"),
    ("v128", -1, r"\[0, 2\*\*128\)"),
    ("funcref", "not a func", "must be a Func or None"),
])
def test_raw_results_are_range_checked(store: Store, rtype: str, value: Any, want: str) -> None:
    def my_raw_host() -> Any:
        return value

    host = Func.from_raw(store, FuncType([], [rtype]), my_raw_host)
    text = f'(module (import "h" "f" (func $f (result {rtype}))) (func (export "go") call $f drop))'
    go = instantiate(store, text, [host]).exports(store)["go"]
    with pytest.raises(TypeError, match=want) as info:
        go(store)
    assert "my_raw_host" in str(info.value)  # names the function
    with pytest.raises(TypeError, match=want):
        host(store)


def test_raw_multi_results_checked(store: Store) -> None:
    host = Func.from_raw(store, FuncType([], [I32, I32]), lambda: (1,))
    with pytest.raises(TypeError, match="must return a tuple of 2 values"):
        host(store)
    host = Func.from_raw(store, FuncType([], [I32, I32]), lambda: (1, 1 << 32))
    with pytest.raises(TypeError, match=r"result 1 \(i32\)"):
        host(store)
    good = Func.from_raw(store, FuncType([], [I32, ValType.f64()]), lambda: (7, 2.5))
    assert good(store) == [7, 2.5]


def test_python_host_bad_result_names_the_function(store: Store) -> None:
    def too_big() -> int:
        return 1 << 40

    host = Func(store, FuncType([], [I32]), too_big)
    with pytest.raises(TypeError, match="too_big") as info:
        _run(store, host, "nested")
    assert "out of range for i32" in str(info.value)
