"""Typed function references and exception handling (Wasm 3.0, part 2) through the public
API, in every compilation mode: wasm exceptions reaching the host with their payload, host
functions raising exceptions that wasm catches, tag identity across instances, call_ref and
return_call_ref, non-nullable references, and the feature flags. Modules come from WAT via
``wasm-tools parse`` (wabt cannot read try_table)."""

from __future__ import annotations

import pytest

from engine import (
    Config,
    Engine,
    Func,
    FuncType,
    Instance,
    InvalidError,
    LinkError,
    MalformedError,
    Module,
    Store,
    Tag,
    TagType,
    Trap,
    ValType,
    WasmError,
    WasmException,
    wat2wasm,
)

MODES = ["eager", "lazy-translation", "lazy"]


def wat(text: str) -> bytes:
    """Assemble WAT with the engine's own text front end (no validation: invalid bodies are
    the point of some tests)."""
    return wat2wasm(text)


def setup(mode: str, **flags):
    config = Config()
    config.compilation_mode = mode
    for name, value in flags.items():
        setattr(config, name, value)
    engine = Engine(config)
    return engine, Store(engine)


THROWER = """
(module
  (tag $e (export "e") (param i32 i64))
  (func (export "throw") (param i32)
    (throw $e (local.get 0) (i64.const -2)))
  (func (export "div") (param i32 i32) (result i32)
    (block $h
      (try_table (catch_all $h) (return (i32.div_s (local.get 0) (local.get 1)))))
    (i32.const -1)))
"""


@pytest.mark.parametrize("mode", MODES)
def test_wasm_exception_reaches_the_host_with_its_payload(mode: str) -> None:
    engine, store = setup(mode)
    inst = Instance(store, Module(engine, wat(THROWER)), [])
    exports = inst.exports(store)
    with pytest.raises(WasmException) as info:
        exports["throw"](store, 7)
    exc = info.value
    assert exc.tag is exports["e"]
    assert exc.payload == [7, -2]
    assert isinstance(exc, WasmError) and not isinstance(exc, Trap)
    assert exports["e"].type(store) == TagType(FuncType([ValType.i32(), ValType.i64()], []))
    # A trap is not an exception: catch_all does not catch it.
    with pytest.raises(Trap, match="integer divide by zero"):
        exports["div"](store, 1, 0)


CATCHER = """
(module
  (import "host" "tag" (tag $e (param i32)))
  (import "host" "raise" (func $raise (param i32)))
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (call $raise (local.get 0)))
      (i32.const -1)))
  (func (export "catch_ref") (param i32) (result i32)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e $h)
        (call $raise (local.get 0)))
      (return (i32.const -1)))
    (drop))
  (func (export "rethrow") (param i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h)
        (call $raise (local.get 0)))
      (return))
    (throw_ref)))
"""


@pytest.mark.parametrize("mode", MODES)
def test_host_raises_a_wasm_exception_that_wasm_catches(mode: str) -> None:
    engine, store = setup(mode)
    tag = Tag(store, TagType(FuncType([ValType.i32()], [])))
    other = Tag(store, TagType(FuncType([ValType.i32()], [])))

    def raise_(x: int) -> None:
        if x >= 100:
            raise WasmException(other, [x])
        raise WasmException(tag, [x * 2])

    host = Func(store, FuncType([ValType.i32()], []), raise_)
    inst = Instance(store, Module(engine, wat(CATCHER)), [tag, host])
    exports = inst.exports(store)
    assert exports["catch"](store, 21) == 42
    assert exports["catch_ref"](store, 5) == 10
    # Tag identity: an equal-typed but different tag is not caught by `catch $e`.
    with pytest.raises(WasmException) as info:
        exports["catch"](store, 100)
    assert info.value.tag is other and info.value.payload == [100]
    # catch_all_ref + throw_ref rethrow the very exception object.
    with pytest.raises(WasmException) as info:
        exports["rethrow"](store, 4)
    assert info.value.tag is tag and info.value.payload == [8]


@pytest.mark.parametrize("mode", MODES)
def test_exceptions_cross_instances_with_their_tag(mode: str) -> None:
    engine, store = setup(mode)
    thrower = Instance(store, Module(engine, wat(THROWER)), []).exports(store)
    importer = wat("""
      (module
        (import "m" "e" (tag $e (param i32 i64)))
        (import "m" "throw" (func $throw (param i32)))
        (func (export "sum") (param i32) (result i64) (local i64)
          (block $h (result i32 i64)
            (try_table (catch $e $h) (call $throw (local.get 0)))
            (return (i64.const 0)))
          (local.set 1)
          (i64.add (i64.extend_i32_s) (local.get 1)))
        (func (export "local_tag_misses") (param i32) (result i32)
          (block $h (result i32 i64)
            (try_table (catch $mine $h) (call $throw (local.get 0)))
            (return (i32.const 0)))
          (drop) (drop) (i32.const 1))
        (tag $mine (param i32 i64)))
    """)
    exports = Instance(store, Module(engine, importer),
                       [thrower["e"], thrower["throw"]]).exports(store)
    assert exports["sum"](store, 40) == 38
    with pytest.raises(WasmException):
        exports["local_tag_misses"](store, 1)
    # A tag import needs a tag of the same type.
    wrong = Tag(store, TagType(FuncType([ValType.i32()], [])))
    with pytest.raises(LinkError, match="incompatible import type"):
        Instance(store, Module(engine, importer), [wrong, thrower["throw"]])


TYPED_REFS = """
(module
  (type $ii (func (param i32) (result i32)))
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $count (param i32 i64) (result i64)
    (if (result i64) (i32.eqz (local.get 0)) (then (local.get 1))
      (else (return_call_ref $cnt_t (i32.sub (local.get 0) (i32.const 1))
                                    (i64.add (local.get 1) (i64.const 1))
                                    (ref.func $count)))))
  (type $cnt_t (func (param i32 i64) (result i64)))
  (elem declare func $inc $count)
  (global $g (mut (ref null $ii)) (ref.null $ii))
  (func (export "apply") (param i32) (result i32)
    (call_ref $ii (local.get 0) (ref.func $inc)))
  (func (export "count") (param i32) (result i64)
    (call_ref $cnt_t (local.get 0) (i64.const 0) (ref.func $count)))
  (func (export "null_call") (result i32)
    (call_ref $ii (i32.const 0) (global.get $g)))
  (func (export "non_null") (result i32)
    (local $f (ref $ii))
    (local.set $f (ref.as_non_null (ref.func $inc)))
    (call_ref $ii (i32.const 41) (local.get $f)))
  (func (export "on_null") (param i32) (result i32)
    (block $null
      (return (call_ref $ii (local.get 0)
        (br_on_null $null (select (result (ref null $ii))
          (ref.func $inc) (global.get $g) (local.get 0))))))
    (i32.const -7)))
"""


@pytest.mark.parametrize("mode", MODES)
def test_typed_function_references(mode: str) -> None:
    engine, store = setup(mode)
    exports = Instance(store, Module(engine, wat(TYPED_REFS)), []).exports(store)
    assert exports["apply"](store, 9) == 10
    assert exports["count"](store, 100_000) == 100_000  # return_call_ref: constant stack
    assert exports["non_null"](store) == 42
    assert exports["on_null"](store, 0) == -7
    assert exports["on_null"](store, 5) == 6
    with pytest.raises(Trap, match="null function reference"):
        exports["null_call"](store)


def test_uninitialized_non_nullable_local_is_invalid() -> None:
    engine, _ = setup("eager")
    with pytest.raises(InvalidError, match="uninitialized local"):
        Module(engine, wat("""
          (module (type $t (func))
            (func (local $f (ref $t)) (drop (local.get $f))))"""))


def test_feature_flags_turn_the_proposals_off() -> None:
    engine, _ = setup("eager", wasm_exceptions=False)
    with pytest.raises(MalformedError):
        Module(engine, wat(THROWER))
    engine, _ = setup("eager", wasm_function_references=False)
    with pytest.raises(MalformedError, match="illegal opcode"):
        Module(engine, wat(TYPED_REFS))
