"""Wasm 3.0 (part 1) features through the public API, in every compilation mode.

memory64 / table64, multi-memory, tail calls, extended constants, wide arithmetic, custom
page sizes, threads/atomics with single-threaded semantics, and the feature flags that turn
each off. Modules come from WAT via wabt's wat2wasm (found beside the interpreter).
"""

from __future__ import annotations

import pytest

from engine import (
    Config,
    Engine,
    EngineError,
    Func,
    FuncType,
    Instance,
    InvalidError,
    Limits,
    LinkError,
    MalformedError,
    Memory,
    MemoryType,
    Module,
    Store,
    Trap,
    wat2wasm,
)

MODES = ["eager", "lazy-translation", "lazy"]
# Tail calls, memory64, multi-memory and extended constants are on in wabt 1.0.42 already.
def wat(text: str) -> bytes:
    """Assemble WAT with the engine's own text front end (no validation: invalid bodies are
    the point of some tests)."""
    return wat2wasm(text)


def instance(text: str, mode: str = "eager", imports=(), **flags):
    config = Config()
    config.compilation_mode = mode
    for name, value in flags.items():
        setattr(config, name, value)
    engine = Engine(config)
    store = Store(engine)
    module = Module(engine, wat(text))
    module.compile_all()
    inst = Instance(store, module, list(imports) if not callable(imports) else imports(store))
    return store, inst.exports(store)


# --- tail calls ----------------------------------------------------------------------------

EVEN_ODD = """
(module
  (type $t (func (param i64) (result i32)))
  (table funcref (elem $even $odd))
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (export "odd") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call_indirect (type $t) (i64.sub (local.get 0) (i64.const 1))
                                  (i32.const 0)))))
  (func (export "plain") (param i64) (result i32) (call $even (local.get 0))))
"""


@pytest.mark.parametrize("mode", MODES)
def test_mutual_tail_calls_run_in_constant_depth(mode: str) -> None:
    config = Config()
    config.compilation_mode = mode
    config.max_call_depth = 50  # far below the 1,000,000 calls: only constant depth passes
    engine = Engine(config)
    store = Store(engine)
    ex = Instance(store, Module(engine, wat(EVEN_ODD)), []).exports(store)
    assert ex["even"](store, 1_000_000) == 1
    assert ex["odd"](store, 1_000_001) == 1
    assert ex["plain"](store, 7) == 0  # an ordinary call into a tail-calling function


@pytest.mark.parametrize("mode", MODES)
def test_tail_calls_to_host_self_and_multi_value(mode: str) -> None:
    text = """
    (module
      (import "h" "add" (func $add (param i32 i32) (result i32)))
      (func $pair (param i32) (result i32 i32) (local.get 0) (i32.const 7))
      (func (export "host") (param i32) (result i32)
        (return_call $add (local.get 0) (i32.const 100)))
      (func (export "multi") (param i32) (result i32 i32) (return_call $pair (local.get 0)))
      (func $count (export "count") (param i32 i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (local.get 1))
          (else (return_call $count (i32.sub (local.get 0) (i32.const 1))
                                    (i32.add (local.get 1) (i32.const 2)))))))
    """

    def imports(store):
        return [Func(store, FuncType(["i32", "i32"], ["i32"]), lambda a, b: a + b)]

    store, ex = instance(text, mode, imports)
    assert ex["host"](store, 5) == 105
    assert ex["multi"](store, 3) == [3, 7]
    assert ex["count"](store, 300_000, 1) == 600_001


def test_tail_call_result_mismatch_invalid() -> None:
    text = """(module (func $f (result i64) (i64.const 0))
                      (func (result i32) (return_call $f)))"""
    with pytest.raises(InvalidError, match="type mismatch"):
        instance(text)


# --- memory64, multi-memory, custom page sizes ---------------------------------------------

MEM64 = """
(module
  (memory $a i64 1 4)
  (memory $b 1)
  (func (export "load") (param i64) (result i32) (i32.load $a (local.get 0)))
  (func (export "load_far") (param i64) (result i32)
    (i32.load $a offset=0xFFFFFFFFFFFFFFF0 (local.get 0)))
  (func (export "store") (param i64 i32) (i32.store $a (local.get 0) (local.get 1)))
  (func (export "size") (result i64) (memory.size $a))
  (func (export "grow") (param i64) (result i64) (memory.grow $a (local.get 0)))
  (func (export "copy_to_b") (param i32 i64 i32)
    (memory.copy $b $a (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load_b") (param i32) (result i32) (i32.load $b (local.get 0)))
  (func (export "size_b") (result i32) (memory.size $b)))
"""


@pytest.mark.parametrize("mode", MODES)
def test_memory64_addresses_bounds_and_growth(mode: str) -> None:
    store, ex = instance(MEM64, mode)
    ex["store"](store, 65532, 0x11223344)
    assert ex["load"](store, 65532) == 0x11223344
    for address in (65533, 1 << 32, (1 << 64) - 1):
        with pytest.raises(Trap, match="out of bounds memory access"):
            ex["load"](store, address)
    # address + offset is computed without wrap-around: past 2**64 is out of bounds.
    with pytest.raises(Trap, match="out of bounds memory access"):
        ex["load_far"](store, 0x20)
    assert ex["size"](store) == 1
    assert ex["grow"](store, 2) == 1
    assert ex["size"](store) == 3
    assert ex["grow"](store, 2) == -1  # i64 -1: beyond the maximum of 4 pages
    assert ex["grow"](store, 1 << 62) == -1


@pytest.mark.parametrize("mode", MODES)
def test_multi_memory_copy_between_index_types(mode: str) -> None:
    store, ex = instance(MEM64, mode)
    ex["store"](store, 40, 0x1AFEBABE)
    ex["copy_to_b"](store, 8, 40, 4)  # i32 destination, i64 source, i32 length (min rule)
    assert ex["load_b"](store, 8) == 0x1AFEBABE
    assert ex["load"](store, 8) == 0  # memory $a itself is untouched
    assert ex["size_b"](store) == 1


@pytest.mark.parametrize("mode", MODES)
def test_custom_page_size_one(mode: str) -> None:
    text = """
    (module
      (memory 3 10 (pagesize 1))
      (func (export "size") (result i32) (memory.size))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0))))
    """
    store, ex = instance(text, mode)
    assert ex["size"](store) == 3
    assert ex["load8"](store, 2) == 0
    with pytest.raises(Trap):
        ex["load8"](store, 3)
    assert ex["grow"](store, 5) == 3
    assert ex["size"](store) == 8
    assert ex["grow"](store, 3) == -1  # beyond the maximum of 10 one-byte pages
    assert ex["size"](store) == 8


def test_memory_import_matching_checks_index_type_sharing_and_page_size() -> None:
    engine = Engine()
    store = Store(engine)
    importer = Module(engine, wat('(module (import "m" "mem" (memory i64 1)))'))
    Instance(store, importer, [Memory(store, MemoryType(Limits(1), is_64=True))])
    for other in (MemoryType(Limits(1)), MemoryType(Limits(1, 2), is_64=True, shared=True),
                  MemoryType(Limits(65536), is_64=True, page_size_log2=0)):
        with pytest.raises(LinkError, match="incompatible import type"):
            Instance(store, importer, [Memory(store, other)])


# --- extended constants, wide arithmetic, atomics ------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_extended_constant_expressions(mode: str) -> None:
    text = """
    (module
      (global $a i32 (i32.const 10))
      (global $b i32 (i32.mul (i32.add (global.get $a) (i32.const 4)) (i32.const 3)))
      (global $c i64 (i64.sub (i64.const 0) (i64.const 1)))
      (memory 1)
      (data (i32.sub (global.get $b) (i32.const 2)) "\\2a")
      (func (export "b") (result i32) (global.get $b))
      (func (export "c") (result i64) (global.get $c))
      (func (export "byte") (result i32) (i32.load8_u (i32.const 40))))
    """
    store, ex = instance(text, mode)
    assert ex["b"](store) == 42
    assert ex["c"](store) == -1
    assert ex["byte"](store) == 42


@pytest.mark.parametrize("mode", MODES)
def test_wide_arithmetic(mode: str) -> None:
    text = """
    (module
      (func (export "add128") (param i64 i64 i64 i64) (result i64 i64)
        (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
      (func (export "sub128") (param i64 i64 i64 i64) (result i64 i64)
        (i64.sub128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
      (func (export "mul_s") (param i64 i64) (result i64 i64)
        (i64.mul_wide_s (local.get 0) (local.get 1)))
      (func (export "mul_u") (param i64 i64) (result i64 i64)
        (i64.mul_wide_u (local.get 0) (local.get 1))))
    """
    store, ex = instance(text, mode)
    assert ex["add128"](store, -1, 0, 1, 0) == [0, 1]  # carry into the high half
    assert ex["sub128"](store, 0, 0, 1, 0) == [-1, -1]
    assert ex["mul_s"](store, -2, 3) == [-6, -1]
    assert ex["mul_u"](store, -1, 2) == [-2, 1]


ATOMICS = """
(module
  (memory 1 1 shared)
  (memory $plain 1)
  (func (export "add") (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "cmpxchg8") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "store64") (param i32 i64) (i64.atomic.store (local.get 0) (local.get 1)))
  (func (export "wait32") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "wait_plain") (param i32) (result i32)
    (memory.atomic.wait32 $plain (local.get 0) (i32.const 0) (i64.const 0)))
  (func (export "notify") (param i32) (result i32)
    (atomic.fence) (memory.atomic.notify (local.get 0) (i32.const 5))))
"""


@pytest.mark.parametrize("mode", MODES)
def test_atomics_single_threaded(mode: str) -> None:
    store, ex = instance(ATOMICS, mode)
    assert ex["add"](store, 8, 5) == 0
    assert ex["add"](store, 8, 7) == 5
    assert ex["load"](store, 8) == 12
    assert ex["cmpxchg8"](store, 8, 0x10C, 99) == 12  # expected wraps to 8 bits: 0x0C
    assert ex["load"](store, 8) == 99
    assert ex["cmpxchg8"](store, 8, 1, 5) == 99  # no exchange
    ex["store64"](store, 16, -1)
    assert ex["load"](store, 20) == -1
    with pytest.raises(Trap, match="unaligned atomic"):
        ex["load"](store, 2)
    with pytest.raises(Trap, match="out of bounds memory access"):
        ex["load"](store, 65536)
    assert ex["wait32"](store, 8, 1, -1) == 1  # not-equal
    assert ex["wait32"](store, 0, 0, -1) == 2  # timed-out at once: nobody can notify
    assert ex["notify"](store, 0) == 0
    with pytest.raises(Trap):
        ex["wait_plain"](store, 0)  # waiting on an unshared memory traps


def test_atomic_alignment_must_be_natural() -> None:
    with pytest.raises(InvalidError):
        instance("(module (memory 1 1 shared) (func (drop (i32.atomic.load align=2 (i32.const 0)))))")
    with pytest.raises(InvalidError, match="shared memory must have maximum"):
        Module(Engine(), b"\0asm\x01\0\0\0\x05\x03\x01\x02\x00")


# --- feature flags -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flag, text, error",
    [
        ("wasm_tail_call", "(module (func $f (return_call $f)))", MalformedError),
        ("wasm_threads", "(module (memory 1) (func (atomic.fence)))", MalformedError),
        ("wasm_memory64", "(module (memory i64 1))", MalformedError),
        ("wasm_multi_memory", "(module (memory 1) (memory 1))", InvalidError),
        ("wasm_extended_const", "(module (global i32 (i32.add (i32.const 1) (i32.const 2))))",
         InvalidError),
        ("wasm_wide_arithmetic",
         "(module (func (drop (drop (i64.mul_wide_u (i64.const 1) (i64.const 2))))))",
         MalformedError),
        ("wasm_custom_page_sizes", "(module (memory 1 (pagesize 1)))", MalformedError),
    ],
)
def test_feature_flag_off_rejects_the_feature(flag: str, text: str, error: type) -> None:
    data = wat(text)
    Module(Engine(), data).compile_all()  # on by default
    config = Config()
    setattr(config, flag, False)
    with pytest.raises(error):
        Module(Engine(config), data).compile_all()


@pytest.mark.parametrize("mode", MODES)
def test_table64_grow_size_and_call_indirect(mode: str) -> None:
    text = """
    (module
      (type $r (func (result i32)))
      (table $t i64 2 3 funcref)
      (elem (table $t) (i64.const 1) func $seven)
      (func $seven (result i32) (i32.const 7))
      (func (export "call") (param i64) (result i32) (call_indirect $t (type $r) (local.get 0)))
      (func (export "grow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0)))
      (func (export "size") (result i64) (table.size $t)))
    """
    store, ex = instance(text, mode)
    assert ex["call"](store, 1) == 7
    with pytest.raises(Trap, match="undefined element"):
        ex["call"](store, 1 << 40)
    assert ex["grow"](store, 1) == 2
    assert ex["grow"](store, 1) == -1  # an i64 -1, not a 32-bit mask of it
    assert ex["size"](store) == 3


def test_store_memory_limit_counts_custom_pages_in_bytes() -> None:
    store = Store(Engine())
    store.set_limits(memory_size=1000)
    mem = Memory(store, MemoryType(Limits(100, 2000), page_size_log2=0))  # 100 bytes fit
    assert mem.grow(store, 800) == 100
    assert mem.size(store) == 900 and mem.data_len(store) == 900
    with pytest.raises(EngineError, match="failed to grow memory"):
        mem.grow(store, 200)  # 1,100 bytes: past the store's limit


@pytest.mark.parametrize("mode", MODES)
def test_tail_calling_function_keeps_full_depth_for_ordinary_recursion(mode: str) -> None:
    # $down recurses with an ordinary call and also makes a tail call: each ordinary level
    # must cost one Python frame, as for any function (150 levels under a limit of 200).
    text = """
    (module
      (func $leaf (param i32) (result i32) (local.get 0))
      (func $down (export "down") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (return_call $leaf (i32.const 7)))
          (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1))))))))
    """
    config = Config()
    config.compilation_mode = mode
    config.max_call_depth = 200
    engine = Engine(config)
    store = Store(engine)
    ex = Instance(store, Module(engine, wat(text)), []).exports(store)
    assert ex["down"](store, 150) == 157
