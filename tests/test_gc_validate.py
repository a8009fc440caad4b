"""GC instruction typing rules (engine.validate.gc) over a toy operand stack with subtyping."""

from __future__ import annotations

import pytest

from engine.errors import InvalidError
from engine.gctypes import (
    ArrayType,
    Exact,
    FieldType,
    RefType,
    StructType,
    SubType,
    canonicalize,
    val_subtype,
)
from engine.opcodes import PREFIXED
from engine.validate.gc import GC_INSTRUCTIONS, br_on_cast_types, validate_gc


class Stack:
    """Operands with subtyping; ``None`` entries are the polymorphic bottom."""

    def __init__(self, *types):
        self.items = list(types)

    def pop(self, expected):
        if not self.items:
            raise InvalidError("type mismatch")
        t = self.items.pop()
        if t is not None and expected is not None and not val_subtype(t, expected):
            raise InvalidError("type mismatch")
        return t

    def push(self, t):
        self.items.append(t)


TYPES = canonicalize([
    (SubType(False, (), StructType((FieldType("i8", True), FieldType("i32")))),),  # 0
    (SubType(True, (0,), StructType((FieldType("i8", True), FieldType("i32"),
                                     FieldType(RefType(False, "any")))),),),         # 1
    (SubType(True, (), ArrayType(FieldType("i16", True))),),                        # 2
    (SubType(True, (), ArrayType(FieldType(RefType(True, "func")))),),              # 3 immutable
    (SubType(True, (), ArrayType(FieldType(RefType(True, "any"), True))),),         # 4
    (SubType(True, (), ArrayType(FieldType(RefType(True, "eq"), True))),),          # 5
])
S0, S1, A16, AFUNC, AANY, AEQ = TYPES


FUNCREF = RefType(True, "func")


def new(t):
    """The type of a fresh allocation: a non-null *exact* reference (custom descriptors;
    exact types are subtypes of the inexact ones, so Wasm 3.0's rules are unchanged)."""
    return RefType(False, Exact(t))


def run(name, imm, *stack, num_datas=1):
    s = Stack(*stack)
    validate_gc(name, imm, s, TYPES, [FUNCREF], num_datas)
    return s.items


def test_every_gc_row_but_br_on_cast_has_a_rule():
    names = {op.name for op in PREFIXED[0xFB].values()} | {"ref.eq"}
    assert names - GC_INSTRUCTIONS == {"br_on_cast", "br_on_cast_fail", "br_on_cast_desc_eq",
                                       "br_on_cast_desc_eq_fail"}


def test_struct_rules():
    assert run("struct.new", 0, "i32", "i32") == [new(S0)]
    with pytest.raises(InvalidError, match="type mismatch"):
        run("struct.new", 0, "i32", "i64")
    with pytest.raises(InvalidError, match="unknown type"):
        run("struct.new", 9)
    with pytest.raises(InvalidError, match="type mismatch"):
        run("struct.new", 2, "i32", "i32")  # an array type
    assert run("struct.new_default", 0) == [new(S0)]
    with pytest.raises(InvalidError, match="type mismatch"):
        run("struct.new_default", 1)  # (ref any) field has no default
    # A subtype's reference is accepted where the supertype's is expected.
    assert run("struct.get_s", (0, 0), RefType(False, S1)) == ["i32"]
    assert run("struct.get", (0, 1), RefType(True, S0)) == ["i32"]
    with pytest.raises(InvalidError):
        run("struct.get", (0, 0), RefType(True, S0))  # packed needs _s/_u
    with pytest.raises(InvalidError):
        run("struct.get_u", (0, 1), RefType(True, S0))
    with pytest.raises(InvalidError, match="unknown field"):
        run("struct.get", (0, 5), RefType(True, S0))
    assert run("struct.set", (0, 0), RefType(True, S0), "i32") == []
    with pytest.raises(InvalidError, match="immutable field"):
        run("struct.set", (0, 1), RefType(True, S0), "i32")


def test_array_rules():
    assert run("array.new", 2, "i32", "i32") == [new(A16)]
    assert run("array.new_fixed", (2, 3), "i32", "i32", "i32") == [new(A16)]
    assert run("array.new_data", (2, 0), "i32", "i32") == [new(A16)]
    with pytest.raises(InvalidError, match="not numeric"):
        run("array.new_data", (4, 0), "i32", "i32")
    with pytest.raises(InvalidError, match="unknown data segment"):
        run("array.new_data", (2, 1), "i32", "i32")
    assert run("array.new_elem", (3, 0), "i32", "i32") == [new(AFUNC)]
    with pytest.raises(InvalidError, match="type mismatch"):
        run("array.new_elem", (4, 0), "i32", "i32")  # funcref segment into anyref array
    assert run("array.get_u", 2, RefType(True, A16), "i32") == ["i32"]
    with pytest.raises(InvalidError, match="immutable array"):
        run("array.set", 3, RefType(True, AFUNC), "i32", RefType(True, "func"))
    assert run("array.len", None, RefType(False, A16)) == ["i32"]
    with pytest.raises(InvalidError, match="type mismatch"):
        run("array.len", None, RefType(False, S0))
    assert run("array.fill", 4, RefType(True, AANY), "i32", RefType(False, "i31"), "i32") == []
    assert run("array.copy", (4, 5), RefType(True, AANY), "i32", RefType(True, AEQ), "i32",
               "i32") == []
    with pytest.raises(InvalidError, match="array types do not match"):
        run("array.copy", (5, 4), RefType(True, AEQ), "i32", RefType(True, AANY), "i32", "i32")
    with pytest.raises(InvalidError, match="immutable array"):
        run("array.init_elem", (3, 0), RefType(True, AFUNC), "i32", "i32", "i32")
    assert run("array.init_data", (2, 0), RefType(True, A16), "i32", "i32", "i32") == []


def test_i31_eq_casts_conversions():
    assert run("ref.i31", None, "i32") == [RefType(False, "i31")]
    assert run("i31.get_s", None, RefType(True, "i31")) == ["i32"]
    assert run("ref.eq", None, RefType(True, S0), RefType(False, "i31")) == ["i32"]
    with pytest.raises(InvalidError, match="type mismatch"):
        run("ref.eq", None, RefType(True, "any"), RefType(True, "eq"))
    assert run("ref.test", RefType(False, 1), RefType(True, "any")) == ["i32"]
    with pytest.raises(InvalidError, match="type mismatch"):
        run("ref.test", RefType(False, 1), RefType(True, "func"))
    assert run("ref.cast_null", RefType(True, 0), RefType(True, "eq")) == [RefType(True, S0)]
    assert run("any.convert_extern", None, RefType(False, "extern")) == [RefType(False, "any")]
    assert run("extern.convert_any", None, RefType(True, "i31")) == [RefType(True, "extern")]
    assert run("extern.convert_any", None, None) == [RefType(True, "extern")]


def test_br_on_cast_types():
    _, label, fall = br_on_cast_types(TYPES, RefType(True, "any"), RefType(False, 0), False)
    assert label == RefType(False, S0) and fall == RefType(True, "any")
    _, label, fall = br_on_cast_types(TYPES, RefType(True, "any"), RefType(True, 0), True)
    assert label == RefType(False, "any") and fall == RefType(True, S0)
    with pytest.raises(InvalidError, match="type mismatch"):
        br_on_cast_types(TYPES, RefType(False, 0), RefType(True, 0), False)  # null not <: non-null
    with pytest.raises(InvalidError, match="type mismatch"):
        br_on_cast_types(TYPES, RefType(True, "func"), RefType(True, 0), False)


def test_element_segment_types_by_module_index():
    # An element segment typed (ref null 4) by module index fits an array of (ref null 4).
    s = Stack("i32", "i32")
    validate_gc("array.new_elem", (4, 0), s, TYPES, [RefType(True, 5)], 0)
    assert s.items == [new(AANY)]
