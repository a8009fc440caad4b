"""The custom descriptors proposal (a GC extension; feature ``wasm_custom_descriptors``)
through the public API in every compilation mode: exact reference types and their casts,
descriptor / describes clauses, struct.new_desc, ref.get_desc, ref.cast_desc_eq and
br_on_cast_desc_eq(_fail), their traps, the feature flag and the rejections of decoder,
validator and linker. The official scripts are the spec3-custom-descriptors suite."""

from __future__ import annotations

import pytest

from engine import (
    Config,
    Engine,
    Instance,
    InvalidError,
    LinkError,
    MalformedError,
    Module,
    Store,
    Trap,
    wat2wasm,
)
from engine.gcobjects import StructRef

MODES = ["eager", "lazy-translation", "lazy"]


def setup(mode: str, descriptors: bool = True) -> tuple[Engine, Store]:
    config = Config()
    config.compilation_mode = mode
    config.wasm_custom_descriptors = descriptors
    engine = Engine(config)
    return engine, Store(engine)


def exports_of(mode: str, text: str) -> tuple[Store, dict]:
    engine, store = setup(mode)
    inst = Instance(store, Module(engine, wat2wasm(text)), [])
    return store, inst.exports(store)


def compile_error(text: str) -> Exception:
    engine, _ = setup("eager")
    with pytest.raises((InvalidError, MalformedError)) as info:
        Module(engine, wat2wasm(text))
    return info.value


# -- exact reference types ------------------------------------------------------------------

EXACT = """
(module
  (type $super (sub (struct (field i32))))
  (type $sub (sub $super (struct (field i32) (field i64))))
  (type $fsuper (sub (func)))
  (type $fsub (sub $fsuper (func)))
  (elem declare func $fs $fsub)
  (func $fs (type $fsuper))
  (func $fsub (type $fsub))
  (func $obj (param i32) (result anyref)
    (if (result anyref) (local.get 0)
      (then (struct.new $sub (i32.const 1) (i64.const 2)))
      (else (struct.new $super (i32.const 1)))))
  (func (export "test-exact") (param i32) (result i32)
    (ref.test (ref (exact $super)) (call $obj (local.get 0))))
  (func (export "test-inexact") (param i32) (result i32)
    (ref.test (ref $super) (call $obj (local.get 0))))
  (func (export "cast-exact") (param i32) (result i32)
    (struct.get $super 0 (ref.cast (ref (exact $super)) (call $obj (local.get 0)))))
  (func (export "test-null-exact") (result i32)
    (ref.test (ref null (exact $super)) (ref.null none)))
  (func (export "func-exact") (param i32) (result i32)
    (ref.test (ref (exact $fsuper))
      (select (result funcref) (ref.func $fsub) (ref.func $fs) (local.get 0))))
  (func (export "new") (result (ref (exact $sub)))
    (struct.new $sub (i32.const 7) (i64.const 8)))
)
"""


@pytest.mark.parametrize("mode", MODES)
def test_exact_casts_exclude_subtypes(mode: str) -> None:
    store, ex = exports_of(mode, EXACT)
    assert ex["test-exact"](store, 0) == 1  # a $super is an exact $super
    assert ex["test-exact"](store, 1) == 0  # a $sub is not
    assert ex["test-inexact"](store, 1) == 1  # but it is a $super
    assert ex["cast-exact"](store, 0) == 1
    with pytest.raises(Trap, match="cast failure"):
        ex["cast-exact"](store, 1)
    assert ex["test-null-exact"](store) == 1
    assert ex["func-exact"](store, 0) == 1  # $fs has type $fsuper exactly
    assert ex["func-exact"](store, 1) == 0  # $fsub is only a subtype


@pytest.mark.parametrize("mode", MODES)
def test_exact_result_reaches_the_host_as_a_struct(mode: str) -> None:
    store, ex = exports_of(mode, EXACT)
    assert isinstance(ex["new"](store), StructRef)


def test_exact_subtyping_in_validation() -> None:
    # (exact $sub) <: $super, but $sub </: (exact $super) and (exact $sub) </: (exact $super).
    ok = """(module (type $super (sub (struct))) (type $sub (sub $super (struct)))
      (func (param (ref (exact $sub))) (result (ref $super)) (local.get 0)))"""
    Module(setup("eager")[0], wat2wasm(ok))
    for param in ("(ref $sub)", "(ref (exact $sub))", "(ref null (exact $super))"):
        bad = f"""(module (type $super (sub (struct))) (type $sub (sub $super (struct)))
          (func (param {param}) (result (ref (exact $super))) (local.get 0)))"""
        assert "type mismatch" in str(compile_error(bad))


def test_exact_function_import_links_only_the_exact_type() -> None:
    engine, store = setup("eager")
    provider = Instance(store, Module(engine, wat2wasm("""(module
      (type $super (sub (func))) (type $sub (sub $super (func)))
      (func (export "f") (type $sub)))""")), [])
    f = provider.exports(store)["f"]
    importer = """(module (type $super (sub (func))) (type $sub (sub $super (func)))
      (import "m" "f" (func (exact (type {t})))))"""
    Instance(store, Module(engine, wat2wasm(importer.format(t="$sub"))), [f])
    with pytest.raises(LinkError, match="incompatible import type"):
        Instance(store, Module(engine, wat2wasm(importer.format(t="$super"))), [f])
    # An inexact import of the supertype still links.
    Instance(store, Module(engine, wat2wasm(importer.replace("(exact (type {t}))", "(type {t})")
                                            .format(t="$super"))), [f])


# -- descriptors ------------------------------------------------------------------------------

DESC = """
(module
  (rec
    (type $a (sub (descriptor $a.d) (struct (field i32))))
    (type $a.d (sub (describes $a) (struct (field i32))))
    (type $b (sub $a (descriptor $b.d) (struct (field i32) (field i64))))
    (type $b.d (sub $a.d (describes $b) (struct (field i32))))
  )
  (global $d1 (ref (exact $a.d)) (struct.new $a.d (i32.const 10)))
  (global $d2 (ref (exact $a.d)) (struct.new $a.d (i32.const 20)))
  (global $bd (ref (exact $b.d)) (struct.new $b.d (i32.const 30)))
  (global $a1 (ref $a) (struct.new_desc $a (i32.const 1) (global.get $d1)))
  (global $b1 (ref $a) (struct.new_desc $b (i32.const 2) (i64.const 3) (global.get $bd)))

  (func $pick (param i32) (result (ref null $a))
    (if (result (ref null $a)) (i32.eqz (local.get 0))
      (then (global.get $a1))
      (else (if (result (ref null $a)) (i32.eq (local.get 0) (i32.const 1))
        (then (global.get $b1)) (else (ref.null none))))))
  (func $desc (param i32) (result (ref null $a.d))
    (if (result (ref null $a.d)) (i32.eqz (local.get 0))
      (then (global.get $d1))
      (else (if (result (ref null $a.d)) (i32.eq (local.get 0) (i32.const 1))
        (then (global.get $d2)) (else (ref.null none))))))

  (func (export "desc-field") (param i32) (result i32)
    ;; ref.get_desc of the supertype reads the subtype's descriptor too (its last slot).
    (struct.get $a.d 0 (ref.get_desc $a (call $pick (local.get 0)))))
  (func (export "desc-is-d1") (result i32)
    (ref.eq (ref.get_desc $a (global.get $a1)) (global.get $d1)))
  (func (export "new-default") (result i32)
    (struct.get $a.d 0 (ref.get_desc $a (struct.new_default_desc $a (global.get $d2)))))
  (func (export "new-null-desc") (result i32)
    (drop (struct.new_desc $a (i32.const 0) (ref.null (exact $a.d))))
    (i32.const 0))
  (func (export "cast") (param i32 i32) (result i32)
    (struct.get $a 0
      (ref.cast_desc_eq (ref $a) (call $pick (local.get 0)) (call $desc (local.get 1)))))
  (func (export "cast-null") (param i32 i32) (result i32)
    (ref.is_null
      (ref.cast_desc_eq (ref null $a) (call $pick (local.get 0)) (call $desc (local.get 1)))))
  (func (export "br-on") (param i32 i32) (result i32)
    (drop (block $l (result (ref null $a))
      (br_on_cast_desc_eq $l anyref (ref null $a) (call $pick (local.get 0))
                                                  (call $desc (local.get 1)))
      (return (i32.const 0))))
    (i32.const 1))
  (func (export "br-on-fail") (param i32 i32) (result i32)
    (drop (block $l (result anyref)
      (br_on_cast_desc_eq_fail $l anyref (ref $a) (call $pick (local.get 0))
                                                  (call $desc (local.get 1)))
      (return (i32.const 1))))
    (i32.const 0))
)
"""


@pytest.mark.parametrize("mode", MODES)
def test_ref_get_desc(mode: str) -> None:
    store, ex = exports_of(mode, DESC)
    assert ex["desc-field"](store, 0) == 10
    assert ex["desc-field"](store, 1) == 30  # a $b (one more field) with its $b.d
    assert ex["desc-is-d1"](store) == 1
    assert ex["new-default"](store) == 20
    with pytest.raises(Trap, match="null reference"):
        ex["desc-field"](store, 2)


@pytest.mark.parametrize("mode", MODES)
def test_struct_new_desc_traps_on_a_null_descriptor(mode: str) -> None:
    store, ex = exports_of(mode, DESC)
    with pytest.raises(Trap, match="null descriptor reference"):
        ex["new-null-desc"](store)


@pytest.mark.parametrize("mode", MODES)
def test_ref_cast_desc_eq(mode: str) -> None:
    store, ex = exports_of(mode, DESC)
    assert ex["cast"](store, 0, 0) == 1  # $a1 has descriptor $d1
    with pytest.raises(Trap, match="descriptor cast failure"):
        ex["cast"](store, 0, 1)  # another descriptor of the same type
    with pytest.raises(Trap, match="descriptor cast failure"):
        ex["cast"](store, 1, 0)  # $b1's descriptor is $bd
    with pytest.raises(Trap, match="null descriptor reference"):
        ex["cast"](store, 0, 2)
    with pytest.raises(Trap, match="descriptor cast failure"):
        ex["cast"](store, 2, 0)  # null into a non-nullable target
    assert ex["cast-null"](store, 2, 0) == 1  # null into a nullable one
    with pytest.raises(Trap, match="null descriptor reference"):
        ex["cast-null"](store, 2, 2)  # the descriptor is checked first


@pytest.mark.parametrize("mode", MODES)
def test_br_on_cast_desc_eq(mode: str) -> None:
    store, ex = exports_of(mode, DESC)
    assert ex["br-on"](store, 0, 0) == 1
    assert ex["br-on"](store, 0, 1) == 0
    assert ex["br-on"](store, 2, 0) == 1  # null matches the nullable target
    assert ex["br-on-fail"](store, 0, 0) == 1  # the cast succeeds: falls through
    assert ex["br-on-fail"](store, 1, 0) == 0  # it fails: branches
    with pytest.raises(Trap, match="null descriptor reference"):
        ex["br-on"](store, 0, 2)
    with pytest.raises(Trap, match="null descriptor reference"):
        ex["br-on-fail"](store, 0, 2)


@pytest.mark.parametrize(("types", "message"), [
    ("(type (descriptor 1) (struct))", "descriptor type is outside rec group"),
    ("(rec (type (descriptor 1) (struct)) (type (struct)))",
     "type is not described by its descriptor"),
    ("(rec (type (describes 1) (struct)) (type (descriptor 0) (struct)))",
     "forward use of described type"),
    ("(rec (type (descriptor 1) (array i8)) (type (describes 0) (struct)))",
     "descriptor type must be a struct"),
    ("""(rec (type $A (sub (descriptor $A.d) (struct))) (type $A.d (sub (describes $A) (struct)))
        (type $B (sub $A (struct))))""", "sub type 2 does not match super type 0"),
    ("""(rec (type $A (sub (descriptor $A.d) (struct))) (type $A.d (sub (describes $A) (struct)))
        (type $B (sub $A (descriptor $B.d) (struct))) (type $B.d (sub (describes $B) (struct))))""",
     "descriptor type 3 does not match"),
])
def test_descriptor_clause_rules(types: str, message: str) -> None:
    assert message in str(compile_error(f"(module {types})"))


@pytest.mark.parametrize(("body", "message"), [
    ("(drop (struct.new $a (i32.const 0)))", "type with descriptor requires descriptor allocation"),
    ("(drop (struct.new_desc $plain (struct.new $a.d)))",
     "type without descriptor requires non-descriptor allocation"),
    ("(drop (ref.get_desc $a.d (ref.null none)))", "type without descriptor"),
    ("(drop (struct.new_desc $a (i32.const 0) (ref.null $a.d)))", "type mismatch"),
    ("(drop (ref.cast_desc_eq (ref $plain) (ref.null none) (ref.null none)))",
     "type 0 does not have a descriptor"),
])
def test_descriptor_instruction_rules(body: str, message: str) -> None:
    text = f"""(module (type $plain (struct))
      (rec (type $a (descriptor $a.d) (struct (field i32))) (type $a.d (describes $a) (struct)))
      (func {body}))"""
    assert message in str(compile_error(text))


def test_feature_flag_off() -> None:
    engine, _ = setup("eager", descriptors=False)
    with pytest.raises(MalformedError):
        Module(engine, wat2wasm("(module (rec (type (descriptor 1) (struct)) "
                                "(type (describes 0) (struct))))"))
    with pytest.raises(MalformedError, match="illegal opcode"):
        Module(engine, wat2wasm("(module (type $t (struct)) (func (param (ref $t)) "
                                "(drop (ref.get_desc $t (local.get 0)))))"))
    # Wasm 3.0's br_on_cast rule: the target must be a subtype of the source.
    br = """(module (type $t (struct)) (func (param (ref any)) (result (ref null $t))
      (block (result (ref any)) (br_on_cast 1 (ref any) (ref null $t) (local.get 0)))
      (unreachable)))"""
    with pytest.raises(InvalidError, match="type mismatch"):
        Module(engine, wat2wasm(br))
    Module(setup("eager")[0], wat2wasm(br))  # valid with the feature on


def test_text_clause_order_is_checked() -> None:
    from engine import TextError

    with pytest.raises(TextError, match="unexpected token"):
        wat2wasm("(module (rec (type $a (descriptor $b) (struct)) "
                 "(type $b (descriptor $c) (describes $a) (struct)) "
                 "(type $c (describes $b) (struct))))")
