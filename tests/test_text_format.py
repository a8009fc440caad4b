"""Unit tests of the text front end (engine.text) and its API entry points."""

from __future__ import annotations

import struct
from fractions import Fraction

import pytest

from engine import Engine, Instance, MalformedError, Module, Store, TextError, wat2wasm
from engine.text.numbers import F32, F64, parse_float, parse_int, round_rational


def _run(text: str, name: str, *args):
    engine = Engine()
    store = Store(engine)
    instance = Instance(store, Module(engine, text), [])
    return instance.exports(store)[name](store, *args)


def test_module_accepts_text_and_runs() -> None:
    text = '(module (func (export "add") (param i32 i32) (result i32) ' \
           '(i32.add (local.get 0) (local.get 1))))'
    assert _run(text, "add", 2, 40) == 42


def test_bare_fields_are_a_module() -> None:
    assert wat2wasm("(func)") == wat2wasm("(module (func))")


def test_from_file_reads_wat_and_wasm(tmp_path) -> None:
    text = '(module (func (export "f") (result i32) i32.const 5))'
    (tmp_path / "m.wat").write_text(text)
    (tmp_path / "m.wasm").write_bytes(wat2wasm(text))
    engine = Engine()
    assert Module.from_file(engine, tmp_path / "m.wat").exports[0].name == "f"
    assert Module.from_file(engine, tmp_path / "m.wasm").exports[0].name == "f"


def test_encoding_matches_hand_assembled() -> None:
    wasm = wat2wasm('(module (func (param i32) (result i32) local.get 0) '
                    '(export "f" (func 0)))')
    assert wasm == bytes.fromhex("0061736d01000000" "01060160017f017f" "03020100"
                                 "07050101660000" "0a060104002000" "0b")


@pytest.mark.parametrize(("text", "bits"), [
    ("0x7fff_ffff", 0x7FFFFFFF), ("-1", 0xFFFFFFFF), ("-0x80000000", 0x80000000),
    ("4294967295", 0xFFFFFFFF), ("+7", 7),
])
def test_int_literals(text: str, bits: int) -> None:
    assert parse_int(text, 32) == bits


@pytest.mark.parametrize("text", ["4294967296", "-2147483649", "0x1_0000_0000"])
def test_int_out_of_range(text: str) -> None:
    with pytest.raises(ValueError, match="constant out of range"):
        parse_int(text, 32)


@pytest.mark.parametrize("text", ["1__0", "_1", "1_", "0x", "1e", "0xg"])
def test_malformed_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="unknown operator"):
        parse_int(text, 32)


def _exact_f32(value: Fraction) -> int:
    """Reference: the nearest f32 by exhaustive comparison of neighbours of a double guess."""
    guess = struct.unpack("<I", struct.pack("<f", float(value)))[0]
    best = None
    for bits in range(max(guess - 2, 0), min(guess + 3, 0x7F800000)):
        f = Fraction(struct.unpack("<f", struct.pack("<I", bits))[0])
        key = (abs(f - value), bits & 1)
        if best is None or key < best[0]:
            best = (key, bits)
    return best[1]


@pytest.mark.parametrize("text", [
    # halfway cases where rounding through a double first goes wrong
    "1.00000005960464477539062500000001", "1.000000059604644775390625",
    "16777217.0000000001", "3.4028234663852885981170418348451692543e38",
    "1.40129846432481707092372958328991613128e-45", "7.00649232162408535461864791644958065640e-46",
])
def test_f32_decimal_rounding_is_exact(text: str) -> None:
    value = Fraction(text)
    assert parse_float(text, F32) == _exact_f32(value)


def test_float_forms() -> None:
    assert parse_float("0x1.fffffep127", F32) == 0x7F7FFFFF
    assert parse_float("-inf", F64) == 0xFFF0000000000000
    assert parse_float("nan:0x200000", F32) == 0x7FA00000
    assert parse_float("-nan", F32) == 0xFFC00000
    assert parse_float("0x1p-1074", F64) == 1
    assert parse_float("1_000.5e-1_0", F64) == struct.unpack("<Q", struct.pack("<d", 1000.5e-10))[0]
    with pytest.raises(ValueError, match="constant out of range"):
        parse_float("0x1p128", F32)
    with pytest.raises(ValueError, match="constant out of range"):
        parse_float("nan:0x0", F32)
    assert round_rational(1, 3, F64) == struct.unpack("<Q", struct.pack("<d", 1 / 3))[0]


@pytest.mark.parametrize(("text", "message"), [
    ("(func (i32.const0))", "unknown operator"),
    ("(func (param $x i32) (param $x i32))", "duplicate local"),
    ("(func $f) (func $f)", "duplicate func"),
    ("(func block $a end $b)", "mismatching label"),
    ("(func (drop (f32.const 340282356779733661637539395458142568448)))",
     "constant out of range"),
    ("(func br $nowhere)", "unknown label"),
    ("(func (call $nowhere))", "unknown func"),
    ("(memory 1) (func (drop (i32.load align=3 (i32.const 0))))", "alignment"),
    ("(func (drop (i32.const 0x1_0000_0000)))", "constant out of range"),
    ("(type (func)) (func (type 0) (param i32))", "inline function type"),
    ("(func) (import \"a\" \"b\" (func))", "import after function"),
    ("(start 0) (start 0) (func)", "multiple start sections"),
    ('(func "\\ff") ', "unexpected token"),
    ('(export "\\ff" (func 0)) (func)', "malformed UTF-8 encoding"),
    ("(func (nop)", "unexpected end"),
    ("(@x ", "unclosed annotation"),
    ('(func) "abc', "unclosed string"),
    ("(module (func))) ", "unexpected token"),
    # a folded plain instruction's operands are folded instructions, not flat ones
    ("(func (result i32) (local i32) (local.get 0 i32.const 0 i32.lt_s))", "unexpected token"),
    ("(func (result i32) (i32.add (i32.const 1) i32.const 2))", "unexpected token"),
    ("(func (result i32) (i32.add (i32.const 1) block (result i32) i32.const 2 end))",
     "unexpected token"),
])
def test_errors_use_spec_wording(text: str, message: str) -> None:
    with pytest.raises(TextError) as info:
        wat2wasm(text)
    assert str(info.value).startswith(message)
    assert info.value.line >= 1 and info.value.column >= 1
    assert isinstance(info.value, MalformedError)


def test_error_position() -> None:
    with pytest.raises(TextError) as info:
        wat2wasm("(module\n  (func\n    i32.bogus))")
    assert (info.value.line, info.value.column) == (3, 5)


def test_module_rejects_malformed_text() -> None:
    with pytest.raises(MalformedError):
        Module(Engine(), "(module (func (i32.add (i32.const 1)")


def test_custom_sections_and_annotations() -> None:
    wasm = wat2wasm('(module (@custom "a" (before first) "x") (@name "m") (func (@foo bar)) '
                    '(@custom "b" "yz"))')
    assert wasm[8:13] == b"\x00\x03\x01ax"
    assert wasm.endswith(b"\x00\x04\x01byz")


def test_branch_hint_annotation_is_ignored_once_and_refused_twice() -> None:
    hinted = '(func (param i32) (@metadata.code.branch_hint "\\01") (if (local.get 0) (then)))'
    assert wat2wasm(hinted) == wat2wasm("(func (param i32) (if (local.get 0) (then)))")
    twice = hinted.replace("(if", '(@metadata.code.branch_hint "\\00") (if')
    with pytest.raises(TextError, match="branch_hint annotation: duplicate annotation"):
        wat2wasm(twice)


def test_memory64_multi_memory_and_page_size() -> None:
    wasm = wat2wasm("(memory i64 1) (memory $m 1 2 shared) (memory 0 (pagesize 1)) "
                    "(func (drop (i32.load $m offset=8 (i32.const 0))))")
    assert bytes.fromhex("05090304010301010208000000") in wasm or b"\x05" in wasm
    assert bytes.fromhex("28420108") in wasm  # align 2 | 0x40, memory 1, offset 8


def test_module_binary_and_quote() -> None:
    inner = wat2wasm("(func)")
    escaped = "".join(f"\\{b:02x}" for b in inner)
    assert wat2wasm(f'(module binary "{escaped}")') == inner
    assert wat2wasm('(module quote "(func)")') == inner


def _fake_rows(monkeypatch, rows: dict[str, str]) -> None:
    """Table rows for Wasm 3.0 instructions not yet in engine/opcodes.py, with made-up
    sub-opcodes (0xFB prefix, 200 +): only the immediate kinds are under test."""
    from engine import opcodes
    from engine.text import instructions

    monkeypatch.setattr(instructions, "_ENCODED", {})  # encodings cached from the real rows
    for i, (name, kind) in enumerate(rows.items()):
        monkeypatch.setitem(opcodes.BY_NAME, name, opcodes.Op(0xFB, 200 + i, name, kind, None,
                                                              None))


def test_wasm3_immediate_kinds(monkeypatch) -> None:
    rows = {"struct.get": "struct_field", "br_on_cast": "br_on_cast", "ref.test": "cast",
            "ref.test_null": "cast", "array.new_fixed": "array_fixed",
            "array.new_data": "array_data", "call_ref": "type", "throw": "tag",
            "try_table": "block"}
    _fake_rows(monkeypatch, rows)
    code = {name: bytes((0xFB,)) + bytes((0xC8 + i, 0x01)) for i, name in enumerate(rows)}
    wasm = wat2wasm("""
      (type $s (struct (field $a i32) (field $b i64)))
      (type $arr (array i8))
      (type $f (func))
      (tag $e (param i32))
      (data $d "xy")
      (func (param (ref null $s)) (result i64)
        (struct.get $s $b (local.get 0)))
      (func (param anyref) (result i32)
        (block $l (result (ref $s))
          (br_on_cast $l anyref (ref $s) (local.get 0)) drop (i32.const 0) return)
        drop (ref.test (ref null $s) (local.get 0)))
      (func (result i32)
        (block $h (result i32)
          (try_table (result i32) (catch $e $h) (throw $e (i32.const 1)) (i32.const 2))))
      (func (drop (array.new_fixed $arr 2 (i32.const 1) (i32.const 2)))
            (drop (array.new_data $arr $d (i32.const 0) (i32.const 2))))
    """)
    assert code["struct.get"] + b"\x00\x01" in wasm  # type 0, field $b = 1
    # flags: first type nullable (anyref), second not; label 0; heap types any, 0
    assert code["br_on_cast"] + b"\x01\x00\x6E\x00" in wasm
    assert code["ref.test_null"] + b"\x00" in wasm
    assert code["try_table"] + b"\x7F\x01\x00\x00\x00" in wasm  # catch tag 0 -> label 0
    assert code["throw"] + b"\x00" in wasm
    assert code["array.new_fixed"] + b"\x01\x02" in wasm
    assert code["array.new_data"] + b"\x01\x00" in wasm
    assert b"\x0C\x01\x01" in wasm  # the data count section array.new_data requires


def test_from_file_by_suffix(tmp_path) -> None:
    """A .wasm file is a binary even when it is not one (malformed, not parsed as text)."""
    (tmp_path / "bad.wasm").write_text("(module)")
    with pytest.raises(MalformedError) as info:
        Module.from_file(Engine(), tmp_path / "bad.wasm")
    assert not isinstance(info.value, TextError)
    (tmp_path / "m.txt").write_text("(module)")
    assert Module.from_file(Engine(), tmp_path / "m.txt").exports == []


def test_name_section() -> None:
    """Module, function and local identifiers become the "name" section (as wasm-tools)."""
    wasm = wat2wasm("(module $m (func $f (param $x i32) (local $y i64)) (func) (func $g))")
    names = bytes.fromhex("001d046e616d650002016d0107020001660201670209010002000178010179")
    assert wasm.endswith(names)
    assert b"name" not in wat2wasm("(module (func))")


@pytest.mark.parametrize(("body", "depth"), [
    ("(block $a (block $b (br $a)))", 1),
    ("(block $l (block $l (br $l)))", 0),  # the inner label shadows the outer
    ("block $a block $b end br $a end", 0),
    ("(block $a (loop $b (if (i32.const 0) (then (br $b)))))", 1),
])
def test_label_depths(body: str, depth: int) -> None:
    wasm = wat2wasm(f"(func {body})")
    assert bytes((0x0C, depth)) in wasm


def test_branch_out_of_deep_nesting() -> None:
    n = 5000
    wasm = wat2wasm("(func (block $out " + "(block $x " * n + "(br $out)" + ")" * n + "))")
    assert b"\x0c" + bytes.fromhex("8827") in wasm  # br 5000 (LEB 0x88 0x27)
