"""Decoding of GC binary forms: the 0xFB opcode rows and their immediates, heap and
reference types, and the rec / sub / struct / array type-section forms."""

from __future__ import annotations

import pytest

from engine.binary.gc_immediates import read_gc_valtype, read_heaptype, read_rec_group
from engine.binary.instructions import read_instrs
from engine.errors import MalformedError
from engine.gctypes import (
    ArrayType,
    FieldType,
    FuncComp,
    RefType,
    StructType,
    SubType,
    canonicalize,
)
from engine.opcodes import BY_NAME, PREFIXED


def decode(code: bytes, features=None):
    instrs, _ = read_instrs(code + b"\x0b", 0, False, features)
    return [(op.name, imm) for op, imm in instrs[:-1]]


def test_gc_rows_are_one_contiguous_block_of_31_sub_opcodes():
    gc = sorted(code for code, op in PREFIXED[0xFB].items() if op.feature == "wasm_gc")
    assert gc == list(range(31))
    assert BY_NAME["ref.eq"].prefix == 0 and BY_NAME["ref.eq"].code == 0xD3
    # The custom descriptors proposal's rows follow (32..38), behind their own flag.
    rest = {code: op.feature for code, op in PREFIXED[0xFB].items() if code not in gc}
    assert rest == dict.fromkeys(range(32, 39), "wasm_custom_descriptors")


def test_struct_and_array_immediates():
    code = bytes([
        0xFB, 0, 3,            # struct.new 3
        0xFB, 2, 3, 1,         # struct.get 3 1
        0xFB, 8, 2, 5,         # array.new_fixed 2 5
        0xFB, 9, 2, 0,         # array.new_data 2 0
        0xFB, 17, 2, 4,        # array.copy 2 4
        0xFB, 19, 2, 1,        # array.init_elem 2 1
        0xFB, 15,              # array.len
        0xD3,                  # ref.eq
    ])
    assert decode(code) == [
        ("struct.new", 3), ("struct.get", (3, 1)), ("array.new_fixed", (2, 5)),
        ("array.new_data", (2, 0)), ("array.copy", (2, 4)), ("array.init_elem", (2, 1)),
        ("array.len", None), ("ref.eq", None),
    ]


def test_cast_immediates():
    code = bytes([
        0xFB, 20, 0x6C,              # ref.test (ref i31)
        0xFB, 21, 0x07,              # ref.test (ref null 7)
        0xFB, 23, 0x71,              # ref.cast (ref null none)
        0xFB, 24, 0x03, 1, 0x6E, 4,  # br_on_cast 1 anyref (ref null 4)
        0xFB, 25, 0x01, 0, 0x6D, 0x6B,  # br_on_cast_fail 0 eqref (ref struct)
    ])
    assert decode(code) == [
        ("ref.test", RefType(False, "i31")), ("ref.test_null", RefType(True, 7)),
        ("ref.cast_null", RefType(True, "none")),
        ("br_on_cast", (1, RefType(True, "any"), RefType(True, 4))),
        ("br_on_cast_fail", (0, RefType(True, "eq"), RefType(False, "struct"))),
    ]
    with pytest.raises(MalformedError, match="br_on_cast flags"):
        decode(bytes([0xFB, 24, 0x04, 0, 0x6E, 0x6E]))


def test_gc_opcodes_are_illegal_without_the_feature():
    with pytest.raises(MalformedError, match="illegal opcode"):
        decode(bytes([0xFB, 15]), {"wasm_gc": False})


def test_heap_and_value_types():
    assert read_heaptype(b"\x6e", 0) == ("any", 1)
    assert read_heaptype(b"\x80\x01", 0) == (128, 2)
    with pytest.raises(MalformedError):
        read_heaptype(b"\x40", 0)
    assert read_gc_valtype(b"\x64\x6c", 0) == (RefType(False, "i31"), 2)
    assert read_gc_valtype(b"\x63\x02", 0) == (RefType(True, 2), 2)
    assert read_gc_valtype(b"\x70", 0) == (RefType(True, "func"), 1)
    assert read_gc_valtype(b"\x7f", 0) == ("i32", 1)


def test_type_section_forms_canonicalize_across_encodings():
    # (rec (type (sub (struct (field (mut i8)) (field (ref null 1)))))
    #      (type (sub final 0 (array i64))))  -- then the same struct written alone.
    rec = bytes([0x4E, 2, 0x50, 0, 0x5F, 2, 0x78, 1, 0x63, 1, 0,
                 0x4F, 1, 0, 0x5E, 0x7E, 0])
    group, pos = read_rec_group(rec, 0)
    assert pos == len(rec)
    assert group == (
        SubType(False, (), StructType((FieldType("i8", True), FieldType(RefType(True, 1))))),
        SubType(True, (0,), ArrayType(FieldType("i64"))),
    )
    with pytest.raises(MalformedError, match="mutability"):
        read_rec_group(bytes([0x5E, 0x7F, 2]), 0)
    plain, _ = read_rec_group(bytes([0x60, 1, 0x7F, 0]), 0)
    assert plain == (SubType(True, (), FuncComp(("i32",), ())),)
    # An array subtype of a struct is rejected when canonicalized ("sub type").
    from engine.errors import InvalidError
    with pytest.raises(InvalidError, match="sub type"):
        canonicalize([group])
    ok = bytes([0x4E, 2, 0x50, 0, 0x5F, 0, 0x4F, 1, 0, 0x5F, 1, 0x7F, 0])
    a = canonicalize([read_rec_group(ok, 0)[0]])
    b = canonicalize([read_rec_group(ok, 0)[0]])
    assert a[0] is b[0] and a[1] is b[1] and a[1].is_subtype_of(a[0])
