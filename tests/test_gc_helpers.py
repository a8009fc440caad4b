"""GC runtime objects and the helpers translated code calls: packing, sign extension, every
trap with the testsuite's text, casts over canonical types, host boundary, collectability."""

from __future__ import annotations

import gc
import struct
import weakref

import pytest

from engine.compile import gc_helpers as h
from engine.compile.numerics import f32_to_bits
from engine.errors import Trap
from engine.gcobjects import I31, ExternAny, GcArray, HostAny, StructRef, from_host, to_host
from engine.gctypes import (
    ArrayType,
    FieldType,
    RefType,
    StructType,
    SubType,
    canonicalize,
)


def types():
    """$pt: struct {i8 mut, i16 mut, i32}; $sub <: $base structs; arrays of i8, i16 mut,
    i32 mut, i64, f32, f64, anyref (mut)."""
    fields = (FieldType("i8", True), FieldType("i16", True), FieldType("i32"))
    groups = [
        (SubType(True, (), StructType(fields)),),
        (SubType(False, (), StructType((FieldType("i32"),))),),
        (SubType(True, (1,), StructType((FieldType("i32"), FieldType("f64")))),),
    ] + [(SubType(True, (), ArrayType(FieldType(st, True))),)
         for st in ("i8", "i16", "i32", "i64", "f32", "f64", RefType(True, "any"))]
    return canonicalize(groups)


T = types()
PT, BASE, SUB, A8, A16, A32, A64, AF32, AF64, AANY = T


def traps(message, fn, *args):
    with pytest.raises(Trap) as info:
        fn(*args)
    assert info.value.message == message


def test_struct_packing_and_sign_extension():
    s = h.struct_new(PT, 0x1FF, 0x18000, 7)
    assert s == [PT, 0xFF, 0x8000, 7]
    assert h.struct_get(s, 0) == 0xFF and h.struct_get_s(s, 0) == 0xFFFF_FFFF
    assert h.struct_get_s(s, 1) == 0xFFFF_8000 and h.struct_get(s, 1) == 0x8000
    h.struct_set(s, 0, 0x17F)
    assert h.struct_get_s(s, 0) == 0x7F
    d = h.struct_new_default(PT)
    assert d == [PT, 0, 0, 0] and d is not h.struct_new_default(PT)
    assert h.struct_new_default(SUB)[2] == 0.0


def test_struct_null_traps():
    traps("null structure reference", h.struct_get, None, 0)
    traps("null structure reference", h.struct_get_s, None, 0)
    traps("null structure reference", h.struct_set, None, 0, 1)


def test_array_storage_per_element_type():
    assert type(h.array_new(A8, 0x1AB, 3).data) is bytearray
    a16 = h.array_new(A16, 0xFFFF8001, 2)
    assert list(a16.data) == [0x8001, 0x8001] and h.array_get_s(a16, 1) == 0xFFFF_8001
    assert h.array_get_s(h.array_new(A8, 0x80, 1), 0) == 0xFFFF_FF80
    assert h.array_get(h.array_new(A32, 0xFFFF_FFFF, 1), 0) == 0xFFFF_FFFF
    assert h.array_get(h.array_new_default(A64, 4), 3) == 0
    assert h.array_new_default(AF64, 2).data == [0.0, 0.0]
    assert h.array_new_default(AANY, 2).data == [None, None]
    fixed = h.array_new_fixed(A8, 1, 0x102, 3)
    assert bytes(fixed.data) == b"\x01\x02\x03" and h.array_len(fixed) == 3


def test_array_get_set_bounds_and_null():
    a = h.array_new(A32, 5, 3)
    h.array_set(a, 2, 9)
    assert h.array_get(a, 2) == 9
    traps("out of bounds array access", h.array_get, a, 3)
    traps("out of bounds array access", h.array_set, a, 3, 0)
    traps("out of bounds array access", h.array_get_s, h.array_new(A8, 0, 1), 1)
    traps("null array reference", h.array_get, None, 0)
    traps("null array reference", h.array_set, None, 0, 0)
    traps("null array reference", h.array_len, None)


def test_array_fill_and_copy():
    a = h.array_new_fixed(A8, *b"abcdefghijkl")
    h.array_fill(a, 2, ord("x"), 3)
    assert bytes(a.data) == b"abxxxfghijkl"
    traps("out of bounds array access", h.array_fill, a, 12, 0, 1)
    h.array_fill(a, 12, 0, 0)  # at the end with n = 0: no trap
    h.array_copy(a, 1, a, 0, 5)  # overlapping, forward
    assert bytes(a.data) == b"aabxxxghijkl"
    h.array_copy(a, 0, a, 1, 5)  # overlapping, backward
    assert bytes(a.data) == b"abxxxxghijkl"
    traps("out of bounds array access", h.array_copy, a, 10, a, 0, 3)
    traps("out of bounds array access", h.array_copy, a, 0, a, 10, 3)
    traps("null array reference", h.array_copy, None, 0, a, 0, 0)
    traps("null array reference", h.array_copy, a, 0, None, 0, 0)
    traps("null array reference", h.array_fill, None, 0, 0, 0)


def test_array_from_data_segments():
    seg = bytes(range(16))
    assert bytes(h.array_new_data(A8, seg, 2, 3).data) == b"\x02\x03\x04"
    assert list(h.array_new_data(A16, seg, 0, 2).data) == [0x0100, 0x0302]
    assert list(h.array_new_data(A64, seg, 8, 1).data) == [0x0F0E0D0C0B0A0908]
    f = h.array_new_data(AF64, struct.pack("<d", 1.5), 0, 1)
    assert f.data == [1.5]
    nan = h.array_new_data(AF32, struct.pack("<I", 0x7FA0_0001), 0, 1)
    assert f32_to_bits(nan.data[0]) == 0x7FA0_0001  # signalling payload kept
    traps("out of bounds memory access", h.array_new_data, A16, seg, 15, 1)
    traps("out of bounds memory access", h.array_new_data, A8, seg, 17, 0)
    a = h.array_new_default(A16, 4)
    h.array_init_data(a, 1, seg, 4, 2)
    assert list(a.data) == [0, 0x0504, 0x0706, 0]
    traps("out of bounds array access", h.array_init_data, a, 3, seg, 0, 2)
    traps("out of bounds memory access", h.array_init_data, a, 0, seg, 14, 2)
    traps("null array reference", h.array_init_data, None, 0, seg, 0, 0)


def test_array_from_element_segments():
    seg = [None, "f1", "f2"]
    assert h.array_new_elem(AANY, seg, 1, 2).data == ["f1", "f2"]
    traps("out of bounds table access", h.array_new_elem, AANY, seg, 2, 2)
    a = h.array_new_default(AANY, 3)
    h.array_init_elem(a, 1, seg, 1, 2)
    assert a.data == [None, "f1", "f2"]
    traps("out of bounds array access", h.array_init_elem, a, 2, seg, 0, 2)
    traps("out of bounds table access", h.array_init_elem, a, 0, seg, 2, 2)
    traps("null array reference", h.array_init_elem, None, 0, seg, 0, 0)


def test_allocation_too_large_is_a_trap():
    traps("allocation too large", h.array_new_default, AANY, 0xFFFF_FFFF)


def test_i31():
    assert h.ref_i31(0xFFFF_FFFF) == 0x7FFF_FFFF
    assert h.i31_get_s(h.ref_i31(0xFFFF_FFFF)) == 0xFFFF_FFFF
    assert h.i31_get_u(h.ref_i31(0xFFFF_FFFF)) == 0x7FFF_FFFF
    assert h.i31_get_s(h.ref_i31(0x4000_0000)) == 0xC000_0000
    assert h.i31_get_s(h.ref_i31(0x3FFF_FFFF)) == 0x3FFF_FFFF
    traps("null i31 reference", h.i31_get_s, None)
    traps("null i31 reference", h.i31_get_u, None)


def test_ref_eq():
    s1, s2 = h.struct_new(BASE, 1), h.struct_new(BASE, 1)
    assert h.ref_eq(s1, s1) == 1 and h.ref_eq(s1, s2) == 0
    assert h.ref_eq(None, None) == 1 and h.ref_eq(None, s1) == 0
    assert h.ref_eq(h.ref_i31(1 << 20), h.ref_i31(1 << 20)) == 1
    assert h.ref_eq(h.ref_i31(1), h.ref_i31(2)) == 0


def test_casts_over_canonical_types():
    sub, base = h.struct_new(SUB, 1, 2.0), h.struct_new(BASE, 1)
    arr, i31 = h.array_new(A8, 0, 1), h.ref_i31(5)
    host = from_host(object())
    assert h.make_test(BASE, False)(sub) and h.make_test(SUB, False)(sub)
    assert not h.make_test(SUB, False)(base) and not h.make_test(BASE, False)(None)
    assert h.make_test(BASE, True)(None)
    assert h.make_test("struct", False)(sub) and not h.make_test("struct", False)(arr)
    assert h.make_test("array", False)(arr) and h.make_test(A8, False)(arr)
    assert not h.make_test(A16, False)(arr)
    assert h.make_test("i31", False)(i31) and h.make_test("eq", False)(i31)
    assert not h.make_test("eq", False)(host) and h.make_test("any", False)(host)
    assert h.make_test("none", True)(None) and not h.make_test("none", False)(None)
    assert h.make_cast(BASE, False)(sub) is sub
    traps("cast failure", h.make_cast(SUB, False), base)
    traps("cast failure", h.make_cast("i31", False), None)
    # Types defined again by another module are the same canonical types.
    again = types()
    assert h.make_test(again[1], False)(sub)


def test_extern_round_trips():
    s = h.struct_new(BASE, 1)
    ext = h.extern_convert_any(s)
    assert type(ext) is ExternAny and h.any_convert_extern(ext) is s
    assert h.any_convert_extern(StructRef(s)) is s  # a box the host got from an anyref
    assert h.extern_convert_any(h.ref_i31(3)) == ExternAny(3)
    assert h.any_convert_extern(h.extern_convert_any(h.ref_i31(3))) == 3
    host = object()
    inner = h.any_convert_extern(host)
    assert type(inner) is HostAny and h.extern_convert_any(inner) is host
    assert h.any_convert_extern(None) is None and h.extern_convert_any(None) is None
    arr = h.array_new(A8, 0, 1)
    assert to_host(arr) is arr and from_host(arr) is arr


def test_cycles_through_host_objects_are_collected():
    class Host:
        pass

    gc.collect()
    host = Host()
    s = h.struct_new_default(PT)
    arr = h.array_new(AANY, None, 1)
    arr.data[0] = from_host(host)  # wasm array -> host object
    host.back = to_host(arr)  # host object -> wasm array
    host.struct = to_host(s)
    ref = weakref.ref(host)
    del host, arr, s
    gc.collect()
    assert ref() is None


def test_gc_helpers_names():
    assert all(name.startswith("gc_") for name in h.GC_HELPERS)
    assert h.GC_HELPERS["gc_array_copy"] is h.array_copy
    assert isinstance(h.array_new(A8, 0, 0), GcArray)


def test_gc_benchmark_twins_and_kernels_exist():
    from benchmarks import gc_bench

    assert gc_bench.py_binary_trees(6) == 4 * (2**7 - 1)
    assert gc_bench.py_array_sum(1000) == sum(i * 3 for i in range(1000))
    for kernel in gc_bench.PY:
        assert (gc_bench.GC_DIR / f"{kernel}.wasm").read_bytes()[:4] == b"\0asm"


def test_constant_expression_evaluation():
    stack = [0x1FF, 2, 3]
    h.eval_gc_const("struct.new", 0, stack, T)
    assert stack == [[PT, 0xFF, 2, 3]]
    stack = [7, 2]
    h.eval_gc_const("array.new", 5, stack, T)  # A32: two 7s
    assert list(stack[0].data) == [7, 7]
    stack = [1, 2, 3]
    h.eval_gc_const("array.new_fixed", (3, 2), stack, T)  # A8 of the top two
    assert stack[0] == 1 and bytes(stack[1].data) == b"\x02\x03"
    stack = [0xFFFF_FFFF]
    h.eval_gc_const("ref.i31", None, stack, T)
    h.eval_gc_const("extern.convert_any", None, stack, T)
    assert stack == [ExternAny(0x7FFF_FFFF)]
    h.eval_gc_const("any.convert_extern", None, stack, T)
    assert stack == [0x7FFF_FFFF]
    stack = [4]
    h.eval_gc_const("array.new_default", 9, stack, T)
    assert stack[0].data == [None] * 4
    h.eval_gc_const("struct.new_default", 2, stack, T)
    assert stack[1] == [SUB, 0, 0.0]
    with pytest.raises(ValueError):
        h.eval_gc_const("array.new_data", (2, 0), stack, T)


def test_host_boundary_of_any_references():
    from engine.runtime.gc import ref_from_python, ref_to_python

    s = h.struct_new(SUB, 1, 2.0)
    out = ref_to_python(RefType(True, "any"), s)
    assert type(out) is StructRef
    assert ref_from_python(RefType(False, BASE), out) is s  # a subtype fits
    with pytest.raises(TypeError):
        ref_from_python(RefType(False, PT), out)
    assert ref_to_python(RefType(True, "i31"), 7) == I31(7)
    assert ref_from_python(RefType(True, "eq"), I31(7)) == 7
    host = object()
    inner = ref_from_python(RefType(True, "any"), host)
    assert type(inner) is HostAny and ref_to_python(RefType(True, "any"), inner) is host
    with pytest.raises(TypeError):
        ref_from_python(RefType(True, "eq"), host)  # a host value is not an eqref
    with pytest.raises(TypeError):
        ref_from_python(RefType(False, "any"), None)
    assert ref_from_python(RefType(True, "struct"), None) is None
    assert ref_from_python("externref", host) is host and ref_to_python("funcref", None) is None
