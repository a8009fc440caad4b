"""Property tests of canonicalization: the same groups, written again in another module
(possibly after other types, so every type index shifts), give the very same types; and
types of different structure never coincide."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.gctypes import (
    ArrayType,
    FieldType,
    RefType,
    StructType,
    SubType,
    canonicalize,
)

STORAGE = ["i8", "i16", "i32", "i64", "f32", "f64", RefType(True, "any"), RefType(False, "eq")]


@st.composite
def module(draw):
    """A list of rec groups; references point into the group or to earlier types."""
    groups = []
    count = 0
    for _ in range(draw(st.integers(1, 4))):
        size = draw(st.integers(1, 3))
        group = []
        for _ in range(size):
            def storage(limit=count + size - 1):
                if draw(st.booleans()):
                    return draw(st.sampled_from(STORAGE))
                return RefType(draw(st.booleans()), draw(st.integers(0, limit)))

            fields = tuple(FieldType(storage(), draw(st.booleans()))
                           for _ in range(draw(st.integers(0, 3))))
            comp = StructType(fields) if draw(st.booleans()) else ArrayType(
                FieldType(storage(), draw(st.booleans())))
            group.append(SubType(True, (), comp))
        groups.append(tuple(group))
        count += size
    return groups


def shift(groups, by):
    """The same groups with every type index moved by ``by`` (types placed after others)."""
    def val(t):
        return RefType(t.nullable, t.heap + by) if isinstance(t, RefType) and type(t.heap) is int \
            else t

    def comp(c):
        if isinstance(c, StructType):
            return StructType(tuple(FieldType(val(f.storage), f.mutable) for f in c.fields))
        return ArrayType(FieldType(val(c.field.storage), c.field.mutable))

    return [tuple(SubType(s.final, s.supers, comp(s.comp)) for s in g) for g in groups]


@settings(max_examples=60, deadline=None)
@given(module(), st.integers(0, 3))
def test_same_groups_same_types(groups, extra):
    a = canonicalize(groups)
    prefix = [(SubType(True, (), StructType((FieldType("v128"),) * (i + 1))),)
              for i in range(extra)]
    b = canonicalize(prefix + shift(groups, extra))
    assert all(x is y for x, y in zip(a, b[extra:]))


@settings(max_examples=60, deadline=None)
@given(module())
def test_distinct_structures_distinct_types(groups):
    a = canonicalize(groups)
    # Appending a field to the first type of the last group changes that group only.
    last = groups[-1]
    first = last[0]
    c = first.comp
    changed = StructType(c.fields + (FieldType("i64"),)) if isinstance(c, StructType) else \
        ArrayType(FieldType("v128", not c.field.mutable))
    b = canonicalize(groups[:-1] + [(SubType(True, (), changed),) + last[1:]])
    n = len(last)
    assert all(x is y for x, y in zip(a[:-n], b[:-n]))
    assert all(x is not y for x, y in zip(a[-n:], b[-n:]))
