"""The shadow-stack alignment guard (engine/compile/entry_guard.py): a function whose body
starts by reading a global it also writes is translated assuming 16-byte alignment of that
value (typed views on its frame), behind an entry test that hands a misaligned call to the
same body translated without the assumption.

Random programs in clang's frame shape (prologue, accesses at ``$fp + k``, calls, epilogue)
run with the stack pointer aligned and misaligned (set by the host, and by frames whose size
is not a multiple of 16), compared with wasmtime in every mode: results, the stack pointer
after each call and a checksum of memory. Other tests check which functions get a guard,
that the fallback is made once per instance, that fuel is charged the same on both paths
and that trap frames name each wasm call once.
"""

from __future__ import annotations

import importlib
import random
import re

import pytest

from engine import Config, Engine, Func, FuncType, Instance, Module, Store, Trap
from engine.binary import decode_body, decode_module
from engine.text import wat2wasm
from tests.differential.harness import needs_tools
from tests.test_views import SUM
from tests.wasm_pairs import ours_and_wasmtime

T = importlib.import_module("engine.compile.translate")
EG = importlib.import_module("engine.compile.entry_guard")
VM = importlib.import_module("engine.compile.visit_memory")
MODES = ("eager", "lazy-translation", "lazy")
M64 = (1 << 64) - 1
#: Stack pointer values each program is run with: aligned, then 8-, 4- and 1-aligned, then
#: aligned again (the guarded path after the fallback was made).
SPS = (32768, 32776, 32772, 32769, 49152)

needs_views = pytest.mark.skipif(not VM.VIEWS, reason="typed views (and so entry guards) "
                                 "are CPython's: PyPy's JIT inlines struct access")


def _access(rng: random.Random, frame: int) -> str:
    off = rng.choice((0, 4, 8, 12, 16, 24, rng.randrange(frame + 8)))
    kind = rng.choice(("i32", "i64", "f64", "i64_32"))
    if rng.random() < 0.5:
        load = {"i32": "i32.load", "i64": "i64.load", "f64": "f64.load",
                "i64_32": "i64.load32_u"}[kind]
        x = f"({load} offset={off} (local.get $fp))"
        if kind == "f64":
            x = f"(i64.reinterpret_f64 {x})"
        elif kind == "i32":
            x = f"(i64.extend_i32_u {x})"
        return f"(local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 9)) {x}))"
    store = {"i32": "i32.store", "i64": "i64.store", "f64": "f64.store",
             "i64_32": "i64.store32"}[kind]
    v = "(local.get $acc)"
    if kind == "i32":
        v = "(i32.wrap_i64 (local.get $acc))"
    elif kind == "f64":
        v = "(f64.reinterpret_i64 (local.get $acc))"
    return f"({store} offset={off} (local.get $fp) {v})"


def _body(rng: random.Random, frame: int, calls: bool) -> str:
    out = []
    for _ in range(rng.randrange(4, 10)):
        if calls and rng.random() < 0.2:
            out.append("(local.set $acc (i64.xor (local.get $acc) "
                       "(call $leaf (local.get $acc))))")
        elif calls and rng.random() < 0.1:  # a loop that calls: the frame stays the same
            out.append("(local.set $i (i32.const 0)) (loop "
                       "(local.set $acc (i64.add (local.get $acc) (call $leaf (local.get $acc))))"
                       "(br_if 0 (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))"
                       " (i32.const 3))))")
        else:
            out.append(_access(rng, frame))
    return " ".join(out)


def _function(rng: random.Random, head: str, calls: bool) -> str:
    frame = rng.choice((16, 32, 48, 160, 8, 24, 4, 12))
    return f"""(func {head} (param $x i64) (result i64) (local $fp i32) (local $acc i64)
        (local $i i32)
        global.get $sp
        i32.const {frame}
        i32.sub
        local.tee $fp
        global.set $sp
        (local.set $acc (i64.xor (local.get $x) (i64.const 0x5bd1e995)))
        {_body(rng, frame, calls)}
        (global.set $sp (i32.add (local.get $fp) (i32.const {frame})))
        (local.get $acc))"""


def _module(seed: int) -> str:
    rng = random.Random(seed)
    return f"""(module (memory 1)
      (global $sp (mut i32) (i32.const 32768))
      {_function(rng, "$leaf", False)}
      {_function(rng, '$run (export "run")', True)}
      (func (export "set_sp") (param i32) (global.set $sp (local.get 0)))
      (func (export "get_sp") (result i32) (global.get $sp))
      {SUM})"""


def _run_all(ex, store, trap_type) -> list:
    out = []
    for k, sp in enumerate(SPS):
        ex["set_sp"](store, sp)
        try:
            out.append(ex["run"](store, 0x0123456789ABCDEF + k) & M64)
        except trap_type:
            out.append("trap")
        out += [ex["get_sp"](store), ex["sum"](store) & M64]
    return out


@needs_tools()
@pytest.mark.parametrize("seed", range(30))
def test_random_frame_programs_equal_wasmtime(seed: int) -> None:
    ours, theirs = ours_and_wasmtime(wat2wasm(_module(seed)), MODES[seed % 3], _run_all)
    assert ours == theirs


@needs_views
def test_random_frame_programs_are_guarded_and_reach_views() -> None:
    """Guard for the test above: its functions get entry guards and frame accesses through
    views; without the guard the same accesses keep ``struct``."""
    guarded = views = unguarded_views = 0
    for seed in range(30):
        wat = _module(seed)
        info = decode_module(wat2wasm(wat))
        for i in (0, 1):
            src = T.translate_source(info, i, decode_body(info, i))
            guarded += bool(re.search(rf"if G0\.value & 15: return funcs\[~{i}\]", src))
            views += len(re.findall(r"\bV0[IQd]\d\[", src))
            unguarded_views += len(re.findall(r"\bV0[IQd]\d\[", _source(wat, i, guard=False)))
    assert guarded >= 50 and views >= 200 and unguarded_views == 0, (
        guarded, views, unguarded_views)


def _source(wat: str, index: int = 0, guard: bool = True) -> str:
    info = decode_module(wat2wasm(wat))
    old = EG.ENABLED
    EG.ENABLED = guard
    try:
        return T.translate_source(info, index, decode_body(info, index))
    finally:
        EG.ENABLED = old


FRAME = """(module (memory 1) (global $sp (mut i32) (i32.const 1024)) (global $k i32 (i32.const 0))
  (func (param $v i32) (local $fp i32)
    {first}
    i32.const 32
    i32.sub
    local.tee $fp
    {write}
    (i32.store offset=4 (local.get $fp) (local.get $v))
    (global.set $sp (i32.add (local.get $fp) (i32.const 32)))))"""


@needs_views
def test_which_functions_get_a_guard() -> None:
    guarded = _source(FRAME.format(first="global.get $sp", write="global.set $sp"))
    assert "if G0.value & 15: return funcs[~0](l0)" in guarded
    assert re.search(r"V0I0\[", guarded)
    # no guard: the flag off; a frame base not read first; an immutable global
    for src in (_source(FRAME.format(first="global.get $sp", write="global.set $sp"),
                        guard=False),
                _source(FRAME.format(first="i32.const 0 drop global.get $sp",
                                     write="global.set $sp")),
                _source(FRAME.format(first="global.get $k", write="drop"))):
        assert "& 15" not in src and "V0I0[" not in src and "P32(M0" in src


@needs_views
def test_no_guard_when_no_view_rests_on_it() -> None:
    """A counter read first and written (not a stack pointer): its function's views come
    from ``i << 2``, not from the global, so it gets no guard (which would fail 15 calls
    in 16); the same function addressing through the global gets one."""
    counter = """(module (memory 1) (global $c (mut i32) (i32.const 0))
      (func (param $i i32) (local $t i32)
        global.get $c
        i32.const 1
        i32.add
        local.tee $t
        global.set $c
        (i32.store (i32.shl (local.get $i) (i32.const 2)) ({value}))))"""
    src = _source(counter.format(value="local.get $t"))
    assert "V0I0[" in src and "& 15" not in src
    src = _source(counter.format(value="i32.const 5").replace(
        "i32.const 1\n        i32.add\n        local.tee $t",
        "local.tee $t\n        i32.const 16\n        i32.add").replace(
        "(i32.shl (local.get $i) (i32.const 2))", "(local.get $t)"))
    assert "V0I0[" in src and "if G0.value & 15: return funcs[~0](l0)" in src


@needs_views
def test_a_global_read_first_but_never_written_gets_no_guard() -> None:
    src = _source(FRAME.format(first="global.get $sp", write="drop")
                  .replace("(global.set $sp (i32.add (local.get $fp) (i32.const 32)))", ""))
    assert "& 15" not in src


CALLS = """(module {imports} (memory 1) (global $sp (mut i32) (i32.const 1024))
  (func $frame (export "frame") (param $v i32) (result i32) (local $fp i32)
    global.get $sp
    i32.const 32
    i32.sub
    local.tee $fp
    global.set $sp
    (i32.store offset=4 (local.get $fp) (local.get $v))
    (if (i32.eqz (local.get $v)) (then unreachable))
    (i64.store offset=8 (local.get $fp) (i64.extend_i32_u (local.get $v)))
    (global.set $sp (i32.add (local.get $fp) (i32.const 32)))
    (i32.add (i32.load offset=4 (local.get $fp)) (i32.wrap_i64 (i64.load offset=8 (local.get $fp)))))
  (func (export "set_sp") (param i32) (global.set $sp (local.get 0)))
  (func (export "outer") (param $v i32) (result i32) (call $frame (local.get $v)))
  {extra})"""


def _calls(mode: str = "eager", fuel: bool = False):
    config = Config(compilation_mode=mode)
    config.consume_fuel = fuel
    store = Store(Engine(config))
    inst = Instance(store, Module(store.engine, wat2wasm(CALLS.format(imports="", extra=""))),
                    [])
    return store, inst, inst.exports(store)


@needs_views
@pytest.mark.parametrize("mode", MODES)
def test_the_fallback_is_made_once_per_instance_and_gives_the_same_results(mode: str) -> None:
    store, inst, ex = _calls(mode)
    funcs = inst._rt.funcs
    assert ex["frame"](store, 5) == 10 and ~0 not in funcs  # aligned: the guarded path
    ex["set_sp"](store, 1028)
    assert ex["frame"](store, 6) == 12
    fallback = funcs[~0]
    assert fallback.__code__.co_name == "f_unguarded"
    assert "& 15" not in str(fallback.__code__.co_consts)
    assert ex["frame"](store, 7) == 14 and funcs[~0] is fallback  # made once
    ex["set_sp"](store, 2048)
    assert ex["frame"](store, 8) == 16
    store2, inst2, ex2 = _calls(mode)  # another instance: its own
    ex2["set_sp"](store2, 1025)
    assert ex2["frame"](store2, 3) == 6 and inst2._rt.funcs[~0] is not fallback


@pytest.mark.parametrize("sp", (1024, 1028, 1025))
def test_fuel_is_the_same_on_both_paths(sp: int) -> None:
    store, _, ex = _calls(fuel=True)
    store.set_fuel(10**6)
    ex["set_sp"](store, sp)
    before = store.get_fuel()
    assert ex["outer"](store, 9) == 18
    aligned_store, _, aligned = _calls(fuel=True)
    aligned_store.set_fuel(10**6)
    start = aligned_store.get_fuel()
    aligned["outer"](aligned_store, 9)
    assert before - store.get_fuel() == start - aligned_store.get_fuel()


@pytest.mark.parametrize("sp", (1024, 1028))
def test_trap_frames_name_each_call_once(sp: int) -> None:
    store, _, ex = _calls()
    ex["set_sp"](store, sp)
    with pytest.raises(Trap, match="unreachable") as info:
        ex["outer"](store, 0)
    assert [f.func_index for f in info.value.frames] == [0, 2]


def test_a_misaligned_stack_through_a_host_call() -> None:
    """A host function moves the stack pointer between wasm calls: each call's guard sees
    the value at its own entry."""
    wat = CALLS.format(imports='(import "h" "nudge" (func $nudge))', extra="""
      (func (export "twice") (param $v i32) (result i32)
        (i32.add (call $frame (local.get $v))
                 (block (result i32) (call $nudge) (call $frame (local.get $v)))))""")
    store = Store(Engine())
    box: list = []

    def nudge() -> None:
        box[0]["set_sp"](store, 1028)

    inst = Instance(store, Module(store.engine, wat2wasm(wat)),
                    [Func(store, FuncType([], []), nudge)])
    box.append(inst.exports(store))
    assert box[0]["twice"](store, 4) == 16
    assert box[0]["twice"](store, 5) == 20  # starts misaligned, stays so
