"""Unit tests of GC type canonicalization and subtyping on hand-built type groups
(the semantics of type-canon / type-equivalence / type-rec / type-subtyping.wast)."""

from __future__ import annotations

import gc

import pytest

from engine.errors import InvalidError
from engine.gctypes import (
    ArrayType,
    DefType,
    FieldType,
    FuncComp,
    RefType,
    StructType,
    SubType,
    canonicalize,
    comp_subtype,
    heap_subtype,
    interned_group_count,
    val_subtype,
)


def struct(*fields, final=True, supers=()):
    return SubType(final, tuple(supers), StructType(tuple(
        f if isinstance(f, FieldType) else FieldType(f) for f in fields)))


def array(storage, mutable=False, final=True, supers=()):
    return SubType(final, tuple(supers), ArrayType(FieldType(storage, mutable)))


def func(params=(), results=(), final=True, supers=()):
    return SubType(final, tuple(supers), FuncComp(tuple(params), tuple(results)))


def ref(h, null=False):
    return RefType(null, h)


def test_identical_groups_in_one_module_are_one_type():
    t = canonicalize([(struct("i32"),), (struct("i32"),), (struct("i64"),)])
    assert t[0] is t[1]
    assert t[0] is not t[2]


def test_recursive_groups_across_modules_are_equal():
    # (rec (type $a (struct (field (ref null $b)))) (type $b (struct (field (ref null $a)))))
    group = (struct(ref(1, True)), struct(ref(0, True)))
    m1 = canonicalize([group])
    m2 = canonicalize([(func(),), (struct(ref(2, True)), struct(ref(1, True)))])
    assert m1[0] is m2[1] and m1[1] is m2[2]
    # Members of one group are distinct types even with the same shape (type-rec.wast).
    g = canonicalize([(struct("i32"), struct("i32"))])
    assert g[0] is not g[1]
    # Position within the group matters: swapping members gives different types.
    swapped = canonicalize([(struct(ref(1, True), "i32"), struct(ref(0, True)))])
    assert swapped[1] is not m1[0]


def test_group_references_resolve_to_canonical_types():
    t = canonicalize([(struct(ref(0, True)),)])
    assert t[0].comp.fields[0].storage == RefType(True, t[0])


def test_outer_references_are_canonical_identity():
    a = canonicalize([(struct("i32"),), (struct(ref(0)),)])
    b = canonicalize([(struct("i64"),), (struct("i32"),), (struct(ref(1)),)])
    assert a[1] is b[2]
    c = canonicalize([(struct("i64"),), (struct(ref(0)),)])
    assert c[1] is not a[1]


def test_supertype_and_finality_are_part_of_identity():
    a = canonicalize([(struct(final=False),), (struct(final=False, supers=[0]),)])
    b = canonicalize([(struct(final=False),), (struct(final=False),)])
    assert a[1] is not b[1]
    c = canonicalize([(struct(final=True),)])
    assert c[0] is not b[0]


def test_unknown_type_forward_reference_outside_group():
    with pytest.raises(InvalidError, match="unknown type"):
        canonicalize([(func([ref(1)]),), (func(),)])


def test_declared_subtyping_chain_is_constant_time():
    t = canonicalize([(struct(final=False),),
                      (struct("i32", final=False, supers=[0]),),
                      (struct("i32", "i64", final=False, supers=[1]),),
                      (struct("f32", final=False, supers=[0]),)])
    assert t[2].ancestors == (t[0], t[1], t[2]) and t[2].depth == 2
    assert t[2].is_subtype_of(t[0]) and t[2].is_subtype_of(t[1])
    assert not t[1].is_subtype_of(t[2])
    assert not t[2].is_subtype_of(t[3]) and not t[3].is_subtype_of(t[1])


@pytest.mark.parametrize("group", [
    [(func(),), (func(supers=[0]),)],                                        # final super
    [(struct(),), (struct(supers=[0]),)],
    [(array("i32", final=False),), (struct(supers=[0]),)],                   # kind
    [(func(["i32"], ["i32"], final=False),), (struct(supers=[0]),)],
    [(struct("i32", final=False),), (struct("i64", supers=[0]),)],           # field type
    [(struct("i32", "i32", final=False),), (struct("i32", supers=[0]),)],    # width
    [(array("i32", True, final=False),), (array("i32", False, supers=[0]),)],  # mutability
    [(array(ref("any", True), True, final=False),),
     (array(ref("eq", True), True, supers=[0]),)],                          # mutable: invariant
    [(func(["i32"], final=False),), (func(["i64"], supers=[0]),)],
    [(func(final=False),), (func(supers=[0], final=True),), (func(supers=[1]),)],
    [(array("i8", final=False),), (array("i32", supers=[0]),)],              # packed
])
def test_invalid_subtype_declarations(group):
    with pytest.raises(InvalidError, match="sub type"):
        canonicalize(group)


def test_valid_subtype_declarations_of_type_subtyping_wast():
    # The first modules of type-subtyping.wast.
    canonicalize([(array("i32", final=False),), (array("i32", final=False, supers=[0]),),
                  (array(ref("any", True), final=False),),
                  (array(ref(0, True), final=False),), (array(ref(1), final=False),),
                  (array("i32", True, final=False),),
                  (array("i32", True, final=False, supers=[5]),)])
    s = canonicalize([(struct(final=False),), (struct(final=False, supers=[0]),)])
    f = canonicalize([(struct(final=False),), (struct(final=False, supers=[0]),),
                      (func([ref(1)], [ref("any", True)], final=False),),
                      (func([ref(0)], [ref("any")], final=False, supers=[2]),),
                      (func([ref(0, True)], [ref(0)], final=False, supers=[3]),),
                      (func([ref("struct", True)], [ref(1)], final=False, supers=[4]),)])
    assert f[0] is s[0] and f[5].is_subtype_of(f[2])
    # A recursive type as subtype of an outer one; a recursive pair under one super.
    canonicalize([(struct(ref("any", True), final=False),),
                  (struct(ref(1), final=False, supers=[0]),),
                  (struct(ref(1), "i32", final=False, supers=[1]),)])
    canonicalize([(struct("i32", ref(0), final=False),),
                  (struct("i32", ref(2), final=False, supers=[0]),
                   struct("i32", ref(1), final=False, supers=[0]))])


def test_subtype_within_group_needs_earlier_member():
    with pytest.raises(InvalidError, match="sub type"):
        canonicalize([(struct(final=False, supers=[1]), struct(final=False))])
    t = canonicalize([(struct(final=False), struct("i32", final=False, supers=[0]))])
    assert t[1].supertype is t[0]


def test_abstract_heap_lattice():
    for h in ("eq", "i31", "struct", "array", "none"):
        assert heap_subtype(h, "any")
    assert heap_subtype("i31", "eq") and heap_subtype("none", "i31")
    assert not heap_subtype("i31", "struct") and not heap_subtype("any", "eq")
    assert heap_subtype("nofunc", "func") and not heap_subtype("nofunc", "any")
    assert heap_subtype("noextern", "extern") and not heap_subtype("extern", "any")
    assert heap_subtype("noexn", "exn") and not heap_subtype("none", "func")


def test_defined_types_in_the_lattice():
    s, a, f = canonicalize([(struct(),), (array("i8"),), (func(),)])
    assert heap_subtype(s, "struct") and heap_subtype(s, "eq") and heap_subtype(s, "any")
    assert not heap_subtype(s, "array") and heap_subtype(a, "array")
    assert heap_subtype(f, "func") and not heap_subtype(f, "any")
    assert heap_subtype("none", s) and heap_subtype("nofunc", f)
    assert not heap_subtype("none", f) and not heap_subtype("struct", s)


def test_value_subtyping():
    s0, s1 = canonicalize([(struct(final=False),), (struct(supers=[0]),)])
    assert val_subtype(ref(s1), ref(s0, True))
    assert not val_subtype(ref(s1, True), ref(s0))
    assert val_subtype(ref("nofunc"), "funcref")
    assert val_subtype("i32", "i32") and not val_subtype("i32", "i64")
    assert not val_subtype("i32", ref("any", True))


def test_func_comp_variance():
    s0, s1 = canonicalize([(struct(final=False),), (struct(supers=[0]),)])
    wide = FuncComp((ref(s0),), (ref(s1),))
    narrow = FuncComp((ref(s1),), (ref(s0),))
    assert comp_subtype(wide, narrow) and not comp_subtype(narrow, wide)


def test_groups_are_released_when_unused():
    gc.collect()
    before = interned_group_count()
    t = canonicalize([(struct("f64", ref(0, True), "i8"),), (array(ref(0, True)),)])
    assert interned_group_count() == before + 2
    assert isinstance(t[0], DefType)
    del t
    gc.collect()
    assert interned_group_count() == before


def test_outer_types_stay_alive_through_inner_groups():
    gc.collect()
    before = interned_group_count()
    inner = canonicalize([(struct("f32", "f32"),), (struct(ref(0)),)])[1]
    gc.collect()
    assert interned_group_count() == before + 2  # the field's type is kept by the key
    again = canonicalize([(struct("f32", "f32"),)])[0]
    assert inner.comp.fields[0].storage.heap is again
