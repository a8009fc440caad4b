"""Legacy exception handling (try / catch / catch_all / delegate / rethrow, the
``legacy_exceptions`` feature) through the public API in every compilation mode: the feature
flag, rethrow's identity, delegate past handlers and to the caller, try in loops and with
branches, exceptions crossing host calls, mixing with try_table, and the rejections of the
decoder, validator and text parser. The official scripts are the spec3-legacy suite."""

from __future__ import annotations

import importlib

import pytest

from engine import (
    Config,
    Engine,
    Func,
    FuncType,
    Instance,
    InvalidError,
    MalformedError,
    Module,
    Store,
    Tag,
    TagType,
    TextError,
    ValType,
    WasmException,
    wat2wasm,
)

#: The translator module (``engine.compile.translate`` is also the name of its function).
translate_module = importlib.import_module("engine.compile.translate")
MODES = ["eager", "lazy-translation", "lazy"]


@pytest.fixture(params=[False, True], ids=["structured", "flat"])
def flat(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Translate in the structured form, or in the flat one of very deeply nested bodies."""
    monkeypatch.setattr(translate_module, "FORCE_FLAT", request.param)
    return request.param


def setup(mode: str, legacy: bool = True) -> tuple[Engine, Store]:
    config = Config()
    config.compilation_mode = mode
    config.legacy_exceptions = legacy
    engine = Engine(config)
    return engine, Store(engine)


def exports_of(mode: str, text: str, imports: list | None = None,
               make_imports=None) -> tuple[Store, dict]:
    engine, store = setup(mode)
    if make_imports is not None:
        imports = make_imports(store)
    inst = Instance(store, Module(engine, wat2wasm(text)), imports or [])
    return store, inst.exports(store)


SIMPLE = """
(module
  (tag $e (param i32))
  (func (export "f") (param i32) (result i32)
    (try (result i32)
      (do (throw $e (local.get 0)))
      (catch $e (i32.add (i32.const 1))))))
"""


def test_feature_is_off_by_default() -> None:
    assert Config().legacy_exceptions is False
    assert Config().wasm_exceptions is True


@pytest.mark.parametrize("mode", MODES)
def test_feature_off_names_the_flag(mode: str) -> None:
    engine, store = setup(mode, legacy=False)
    with pytest.raises(MalformedError,
                       match=r"illegal opcode 06 \(try needs the legacy_exceptions feature\)"):
        # eager decodes the body in Module(); the lazy modes on the first call at the latest
        inst = Instance(store, Module(engine, wat2wasm(SIMPLE)), [])
        inst.exports(store)["f"](store, 1)


@pytest.mark.parametrize("mode", MODES)
def test_catch_takes_the_payload(mode: str, flat: bool) -> None:
    store, ex = exports_of(mode, SIMPLE)
    assert ex["f"](store, 41) == 42


RETHROW = """
(module
  (import "host" "tag" (tag $e (param i32)))
  (import "host" "raise" (func $raise (param i32)))
  (tag $other)
  (func (export "catch_rethrow") (param i32)
    (try (do (call $raise (local.get 0))) (catch $e (drop) (rethrow 0))))
  (func (export "catch_all_rethrow") (param i32)
    (try (do (call $raise (local.get 0))) (catch_all (rethrow 0))))
  ;; rethrow 1 from a nested handler re-raises the outer catch's exception, not the inner's
  (func (export "outer") (param i32)
    (try
      (do (call $raise (local.get 0)))
      (catch_all
        (try (do (throw $other)) (catch $other (rethrow 1))))))
  ;; a rethrown exception caught again, then rethrown from there: still the same object
  (func (export "twice") (param i32)
    (try
      (do (try (do (call $raise (local.get 0))) (catch_all (rethrow 0))))
      (catch $e (drop) (rethrow 0)))))
"""


def _raiser(store: Store, tag: Tag, raised: list):
    def raise_(x: int) -> None:
        exc = WasmException(tag, [x])
        raised.append(exc)
        raise exc
    return Func(store, FuncType([ValType.i32()], []), raise_)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("export", ["catch_rethrow", "catch_all_rethrow", "outer", "twice"])
def test_rethrow_keeps_the_exception_identity(mode: str, export: str, flat: bool) -> None:
    raised: list = []

    def imports(store: Store) -> list:
        tag = Tag(store, TagType(FuncType([ValType.i32()], [])))
        return [tag, _raiser(store, tag, raised)]

    store, ex = exports_of(mode, RETHROW, make_imports=imports)
    with pytest.raises(WasmException) as info:
        ex[export](store, 7)
    assert info.value is raised[-1]
    assert info.value.payload == [7]


DELEGATE = """
(module
  (tag $e (export "e") (param i32))
  (global $trace (export "trace") (mut i32) (i32.const 0))
  ;; delegate 1 names the function: the enclosing catch_all must not see the exception
  (func $skip (export "skip") (param i32)
    (try
      (do (try (do (throw $e (local.get 0))) (delegate 1)))
      (catch_all (global.set $trace (i32.const -1)))))
  (func (export "caller") (param i32) (result i32)
    (try (result i32)
      (do (call $skip (local.get 0)) (i32.const 0))
      (catch $e (i32.add (i32.const 100)))))
  ;; delegate to a block: thrown at the block's level, caught by the try around it
  (func (export "to_block") (result i32)
    (try (result i32)
      (do (block (try (do (throw $e (i32.const 5))) (delegate 0))) (i32.const 0))
      (catch $e)))
  ;; delegate to a try skips the handlers in between (a legacy try and a try_table)
  (func (export "skips_between") (result i32)
    (try $t (result i32)
      (do
        (block $h
          (try_table (catch_all $h)
            (try (do (throw $e (i32.const 3))) (catch_all (global.set $trace (i32.const -2)))
              )
            (try (do (throw $e (i32.const 9))) (delegate $t))))
        (i32.const -1))
      (catch $e (i32.mul (i32.const 2)))))
  ;; delegate to a label inside a try_table: the try_table's handler catches it
  (func (export "into_try_table") (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (block (try (do (throw $e (i32.const 11))) (delegate 0))))
      (i32.const -1))))
"""


@pytest.mark.parametrize("mode", MODES)
def test_delegate(mode: str, flat: bool) -> None:
    store, ex = exports_of(mode, DELEGATE)
    with pytest.raises(WasmException) as info:
        ex["skip"](store, 4)
    assert info.value.tag is ex["e"] and info.value.payload == [4]
    assert ex["trace"].value(store) == 0
    assert ex["caller"](store, 6) == 106
    assert ex["trace"].value(store) == 0
    assert ex["to_block"](store) == 5
    assert ex["skips_between"](store) == 18
    assert ex["trace"].value(store) == -2  # the first inner try caught its own exception
    assert ex["into_try_table"](store) == 11


LOOPS = """
(module
  (tag $odd (param i32))
  (tag $stop)
  ;; sum of the even numbers below n: odd ones throw, the handler continues the loop
  (func (export "evens") (param $n i32) (result i32) (local $i i32) (local $sum i32)
    (loop $next
      (try
        (do
          (if (i32.and (local.get $i) (i32.const 1))
            (then (throw $odd (local.get $i))))
          (local.set $sum (i32.add (local.get $sum) (local.get $i))))
        (catch $odd (drop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $sum))
  ;; branches out of a handler (to the loop, to the function) and to the try's own label
  (func (export "branches") (param $n i32) (result i32) (local $i i32)
    (block $done
      (loop $next
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (try $t
          (do
            (br_if $t (i32.lt_u (local.get $i) (i32.const 3)))
            (throw $stop))
          (catch $stop
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (br $next)))
        (br $next)))
    (local.get $i))
  ;; a try with block parameters, whose handler leaves a result
  (func (export "params") (param i32) (result i32)
    (local.get 0)
    (try (param i32) (result i32)
      (do (i32.const 2) (i32.mul) (throw $odd))
      (catch $odd (i32.const 1) (i32.add)))))
"""


@pytest.mark.parametrize("mode", MODES)
def test_try_inside_loops_and_branches(mode: str, flat: bool) -> None:
    store, ex = exports_of(mode, LOOPS)
    assert ex["evens"](store, 10) == 0 + 2 + 4 + 6 + 8
    assert ex["evens"](store, 1) == 0
    assert ex["branches"](store, 7) == 7
    assert ex["branches"](store, 1) == 3
    assert ex["params"](store, 20) == 41


CROSSING = """
(module
  (import "host" "tag" (tag $e (param i32)))
  (import "host" "call_back" (func $call_back (param i32)))
  (func (export "throw") (param i32) (throw $e (local.get 0)))
  (func (export "via_host") (param i32) (result i32)
    (try (result i32)
      (do (call $call_back (local.get 0)) (i32.const -1))
      (catch $e)))
  (func (export "delegated_via_host") (param i32) (result i32)
    (try $t (result i32)
      (do (try (do (call $call_back (local.get 0))) (delegate $t)) (i32.const -1))
      (catch_all (i32.const 99)))))
"""


@pytest.mark.parametrize("mode", MODES)
def test_exceptions_cross_host_calls(mode: str, flat: bool) -> None:
    engine, store = setup(mode)
    tag = Tag(store, TagType(FuncType([ValType.i32()], [])))
    exports: dict = {}
    seen: list = []

    def call_back(x: int) -> None:
        # wasm -> host -> wasm: the inner export throws; the host lets it pass
        if x < 0:
            raise WasmException(tag, [-x])
        try:
            exports["throw"](store, x)
        except WasmException as exc:
            seen.append(exc)
            raise

    host = Func(store, FuncType([ValType.i32()], []), call_back)
    inst = Instance(store, Module(engine, wat2wasm(CROSSING)), [tag, host])
    exports.update(inst.exports(store))
    assert exports["via_host"](store, 12) == 12
    assert seen[-1].tag is tag
    assert exports["via_host"](store, -8) == 8
    assert exports["delegated_via_host"](store, 3) == 99


TAIL = """
(module
  (tag $e)
  (func $throw (result i32) (throw $e))
  (func (export "tail_in_try") (result i32)
    (try (result i32) (do (return_call $throw)) (catch $e (i32.const 1))))
  (func (export "tail_in_handler") (result i32)
    (try (result i32)
      (do (try (result i32) (do (throw $e)) (catch_all (return_call $throw))))
      (catch $e (i32.const 2))))
  (func (export "call_in_try") (result i32)
    (try (result i32) (do (call $throw)) (catch $e (i32.const 1)))))
"""


@pytest.mark.parametrize("mode", MODES)
def test_tail_call_leaves_the_handler(mode: str, flat: bool) -> None:
    store, ex = exports_of(mode, TAIL)
    with pytest.raises(WasmException):
        ex["tail_in_try"](store)  # the callee's exception is the caller's caller's
    with pytest.raises(WasmException):
        ex["tail_in_handler"](store)  # not caught by the outer try of the same function
    assert ex["call_in_try"](store) == 1


@pytest.mark.parametrize("text,message", [
    ("(module (func (rethrow 0)))", "invalid rethrow label"),
    ("(module (func (block (rethrow 0))))", "invalid rethrow label"),
    ("(module (func (try (do (rethrow 0)) (delegate 0))))", "invalid rethrow label"),
    ("(module (func (rethrow 1)))", "unknown label"),
    ("(module (func (try (do) (delegate 1))))", "unknown label"),
    ("(module (func (try (do) (catch 0))))", "unknown tag 0"),
    ("(module (tag) (func (try (do) (catch 0 (i32.const 1)))))",
     "type mismatch: block requires [] but stack has [i32]"),
    (("(module (tag (param i64)) (func (result i32) (try (result i32) (do (i32.const 1))"
      " (catch 0))))"), "type mismatch: instruction requires [i32] but stack has [i64]"),
])
def test_invalid(text: str, message: str) -> None:
    engine, _ = setup("eager")
    with pytest.raises(InvalidError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Module(engine, wat2wasm(text))


def _module_with_body(code: bytes) -> bytes:
    """A module with one tag (type 0: [] -> []) and one function of that type."""
    body = b"\x00" + code
    return (b"\0asm\x01\0\0\0" + b"\x01\x04\x01\x60\x00\x00" + b"\x03\x02\x01\x00"
            + b"\x0d\x03\x01\x00\x00" + b"\x0a" + bytes((len(body) + 2, 1, len(body))) + body)


@pytest.mark.parametrize("code", [
    b"\x07\x00\x0b",  # catch outside a try
    b"\x02\x40\x19\x0b\x0b",  # catch_all in a block
    b"\x06\x40\x19\x07\x00\x0b\x0b",  # catch after catch_all
    b"\x06\x40\x07\x00\x18\x00\x0b",  # delegate after a catch
    b"\x18\x00\x0b",  # delegate outside a try
])
def test_misplaced_clauses_are_malformed(code: bytes) -> None:
    engine, _ = setup("eager")
    with pytest.raises(MalformedError, match="END opcode expected"):
        Module(engine, _module_with_body(code))


def test_binary_form_runs() -> None:
    # try (catch 0 / catch_all) and try-delegate in their binary encodings
    engine, store = setup("eager")
    code = (b"\x06\x40\x08\x00\x07\x00\x19\x0b"  # try throw 0 catch 0 catch_all end
            b"\x06\x40\x06\x40\x08\x00\x18\x00\x19\x0b\x0b")  # try (try throw delegate 0) ...
    inst = Instance(store, Module(engine, _module_with_body(code)), [])
    assert inst is not None


@pytest.mark.parametrize("text", [
    "(module (func (catch_all)))",
    "(module (tag $e) (func (catch $e)))",
    "(module (func (try (do) (catch_all) (catch_all))))",
    "(module (func (delegate 0)))",
    "(module (func (try (do) (catch_all) (delegate 0))))",
    "(module (func (try (do) (delegate) (delegate 0))))",
    "(module (func (try (catch_all))))",
    "(module (func try catch_all catch_all end))",
    "(module (tag $e) (func try catch $e delegate 0))",
    "(module (func (do)))",
])
def test_text_rejections(text: str) -> None:
    with pytest.raises(TextError, match="unexpected token"):
        wat2wasm(text)


@pytest.mark.parametrize("text", [
    "(module (tag $e) (func try $l catch $m $e end))",
    "(module (func try $l catch_all $m end))",
])
def test_text_repeated_labels_must_match(text: str) -> None:
    with pytest.raises(TextError, match="mismatching label"):
        wat2wasm(text)


def test_flat_text_form_matches_folded() -> None:
    flat = wat2wasm("""(module (tag $e (param i32))
      (func (result i32)
        try $l (result i32)
          try (result i32) i32.const 1 throw $e delegate $l
        catch $l $e
        catch_all $l i32.const 0
        end $l))""")
    folded = wat2wasm("""(module (tag $e (param i32))
      (func (result i32)
        (try $l (result i32)
          (do (try (result i32) (do (i32.const 1) (throw $e)) (delegate $l)))
          (catch $e)
          (catch_all (i32.const 0)))))""")
    assert flat == folded


def test_flat_form_has_one_handler_and_no_delegation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(translate_module, "FORCE_FLAT", True)
    source = _source(DELEGATE, 3)  # skips_between: a try_table and two legacy trys
    assert "pc = -1" in source
    assert source.count("except WasmException as xe:") == 1
    assert "Delegation" not in source


@pytest.mark.parametrize("mode", MODES)
def test_deep_nesting_falls_back_to_the_flat_form(mode: str) -> None:
    # 40 trys, each in the previous one's handler: beyond CPython's static block nesting,
    # so the function is translated in the flat form; the innermost rethrow unwinds them all
    depth = 40
    body = "(throw $e (i32.const 1))"
    for _ in range(depth):
        body = (f"(try (do {body}) (catch $e (global.set $n (i32.add (global.get $n) "
                f"(local.get 0))) (throw $e (i32.const 1))))")
    text = f"""(module (tag $e (param i32)) (global $n (export "n") (mut i32) (i32.const 0))
      (func (export "f") (param i32) (result i32)
        (try (result i32) (do {body} (i32.const -1)) (catch $e (drop) (global.get $n)))))"""
    store, ex = exports_of(mode, text)
    assert ex["f"](store, 3) == 3 * depth
    assert "pc = -1" in _source(text, 0)  # it is the flat form


def _source(text: str, func_index: int) -> str:
    """The Python source the translator generates for one function of a WAT module."""
    from engine.binary.instructions import decode_body
    from engine.binary.sections import decode_module
    from engine.config import features_snapshot

    flags = dict(Config().features, legacy_exceptions=True)
    module = decode_module(wat2wasm(text), features_snapshot(flags))
    return translate_module.translate_source(module, func_index, decode_body(module, func_index))
