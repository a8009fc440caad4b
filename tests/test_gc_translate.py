"""Translation of GC instructions (engine.compile.visit_gc) into Python, run directly.

Until GC type sections reach ModuleInfo, the bodies are decoded from hand-encoded
instructions and attached to a module whose only function is ``(param i32 i32) (result
i32)``; its ``gc_types`` are canonicalized here and the instance record is a namespace.
Each body runs in the structured and the flat translation.
"""

from __future__ import annotations

import types as pytypes

import pytest

from engine import wat2wasm
from engine.binary.instructions import read_instrs
from engine.binary.module import Body
from engine.binary.sections import decode_module
from engine.compile.control import scan
from engine.compile.translate import NO_METERING, _compile
from engine.errors import Trap
from engine.gctypes import ArrayType, FieldType, RefType, StructType, SubType, canonicalize

WAT = '(module (func (param i32 i32) (result i32) (local.get 0)))'
GC_TYPES = canonicalize([
    (SubType(False, (), StructType((FieldType("i8", True), FieldType("i16", True),
                                    FieldType("i32")))),),                           # 0
    (SubType(True, (0,), StructType((FieldType("i8", True), FieldType("i16", True),
                                     FieldType("i32"), FieldType("f64")))),),       # 1
    (SubType(True, (), ArrayType(FieldType("i8", True))),),                         # 2
    (SubType(True, (), ArrayType(FieldType(RefType(True, "any"), True))),),         # 3
    (SubType(True, (), ArrayType(FieldType("i32", True))),),                        # 4
])


def leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def i32c(v: int) -> bytes:
    return b"\x41" + leb(v if v < 0x8000_0000 else v - (1 << 32))


def fb(sub: int, *imms: int) -> bytes:
    return bytes([0xFB, sub]) + b"".join(leb(i) for i in imms)


@pytest.fixture(scope="module")
def info():
    wasm = wat2wasm(WAT)
    m = decode_module(wasm)
    m.gc_types = GC_TYPES
    return m


def run(info, code: bytes, local_types: list, *args: int, flat: bool = False):
    instrs, _ = read_instrs(code + b"\x0b", 0)
    body = Body([(1, t) for t in local_types], instrs)
    factory = _compile(info, 0, body, flat, scan(body.instrs), NO_METERING)
    rt = pytypes.SimpleNamespace(gc_types=GC_TYPES, datas=[bytes(range(16))],
                                 elems=[[None, "e1", "e2"]])
    return factory(rt)(*args)


@pytest.fixture(params=[False, True], ids=["structured", "flat"])
def flat(request):
    return request.param


S0 = RefType(True, 0)


def test_struct_new_get_set(info, flat):
    # l2 = struct.new 0 (l0, l1, 7); struct.set 0 0 (l2, 0x17F)
    # return struct.get_s 0 0 (l2) + struct.get_s 0 1 (l2) + struct.get 0 2 (l2)
    code = (b"\x20\x00\x20\x01" + i32c(7) + fb(0, 0) + b"\x21\x02"
            + b"\x20\x02" + i32c(0x17F) + fb(5, 0, 0)
            + b"\x20\x02" + fb(3, 0, 0) + b"\x20\x02" + fb(3, 0, 1) + b"\x6a"
            + b"\x20\x02" + fb(2, 0, 2) + b"\x6a")
    assert run(info, code, [S0], 0x1FF, 0x18000, flat=flat) == (0x7F - 0x8000 + 7) & 0xFFFF_FFFF


def test_struct_null_and_default(info, flat):
    code = b"\x20\x02" + fb(4, 0, 1)  # struct.get_u of a null local
    with pytest.raises(Trap, match="null structure reference"):
        run(info, code, [S0], 0, 0, flat=flat)
    code = fb(1, 1) + b"\x21\x02" + b"\x20\x02" + fb(4, 0, 1)
    assert run(info, code, [S0], 0, 0, flat=flat) == 0


def test_arrays(info, flat):
    # l2 = array.new_data 2 0 (4, l0); array.set 2 (l2, 1, 0xFF); array.fill (l2, 2, l1, 1)
    # return array.get_s(l2, 1) + array.get_u(l2, 0) + array.len(l2) + array.get_u(l2, 2)
    code = (i32c(4) + b"\x20\x00" + fb(9, 2, 0) + b"\x21\x02"
            + b"\x20\x02" + i32c(1) + i32c(0x1FF) + fb(14, 2)
            + b"\x20\x02" + i32c(2) + b"\x20\x01" + i32c(1) + fb(16, 2)
            + b"\x20\x02" + i32c(1) + fb(12, 2)
            + b"\x20\x02" + i32c(0) + fb(13, 2) + b"\x6a"
            + b"\x20\x02" + fb(15) + b"\x6a"
            + b"\x20\x02" + i32c(2) + fb(13, 2) + b"\x6a")
    assert run(info, code, [RefType(True, 2)], 3, 0x105, flat=flat) == (-1 + 4 + 3 + 5) & 0xFFFF_FFFF
    with pytest.raises(Trap, match="out of bounds memory access"):
        run(info, code, [RefType(True, 2)], 13, 0, flat=flat)
    with pytest.raises(Trap, match="out of bounds array access"):
        run(info, i32c(0) + i32c(2) + fb(6, 4) + i32c(2) + fb(11, 4), [], 0, 0, flat=flat)


def test_array_of_refs_copy_and_elem(info, flat):
    # l2 = array.new_elem 3 0 (1, 2); array.copy 3 3 (l2, 0, l2, 1, 1)
    # return ref.eq(array.get(l2, 0), array.get(l2, 1)) + array.len(l2)
    code = (i32c(1) + i32c(2) + fb(10, 3, 0) + b"\x21\x02"
            + b"\x20\x02" + i32c(0) + b"\x20\x02" + i32c(1) + i32c(1) + fb(17, 3, 3)
            + b"\x20\x02" + i32c(0) + fb(11, 3) + b"\x20\x02" + i32c(1) + fb(11, 3) + b"\xd3"
            + b"\x20\x02" + fb(15) + b"\x6a")
    assert run(info, code, [RefType(True, 3)], 0, 0, flat=flat) == 1 + 2


def test_i31_and_casts(info, flat):
    # l2 = ref.i31(l0); return i31.get_s(ref.cast i31 l2) + ref.test (ref 0) (l2)
    #                           + ref.test (ref null 0) (l3, a null local)
    code = (b"\x20\x00" + fb(28) + b"\x21\x02"
            + b"\x20\x02" + fb(22) + b"\x6c" + fb(29)
            + b"\x20\x02" + fb(20, 0) + b"\x6a"
            + b"\x20\x03" + fb(21, 0) + b"\x6a")
    anyref = RefType(True, "any")
    assert run(info, code, [anyref, anyref], 0x7FFF_FFFF, 0, flat=flat) == (-1 + 0 + 1) & 0xFFFF_FFFF
    cast_struct = b"\x20\x00" + fb(28) + fb(22, 0) + fb(2, 0, 2)
    with pytest.raises(Trap, match="cast failure"):
        run(info, cast_struct, [], 1, 0, flat=flat)


def test_subtype_cast_and_br_on_cast(info, flat):
    # Block types with GC reference types need the typed-reference decoder: the blocks use
    # externref (0x6F) as a stand-in; the translator does not look at types.
    # l2: anyref = struct.new_default 1; block (result (ref null 0))
    #   l2; br_on_cast 0 anyref (ref 0); drop; l3 (null); end; struct.get 0 2 + ref.test...
    anyref = RefType(True, "any")
    code = (fb(1, 1) + b"\x21\x02"
            + b"\x02\x6f" + b"\x20\x02" + fb(24, 1, 0) + b"\x6e\x00" + b"\x1a"
            + b"\x20\x03" + b"\x0b" + fb(2, 0, 2)
            + b"\x20\x02" + fb(20, 1) + b"\x6a")
    assert run(info, code, [anyref, anyref], 0, 0, flat=flat) == 1
    # br_on_cast_fail: an i31 is not a struct, so it branches with the i31.
    code = (b"\x20\x00" + fb(28) + b"\x21\x02"
            + b"\x02\x6f" + b"\x20\x02" + fb(25, 1, 0) + b"\x6e\x00" + b"\x1a"
            + b"\x20\x03" + b"\x0b" + fb(20) + b"\x6c")
    assert run(info, code, [anyref, anyref], 5, 0, flat=flat) == 1
    # br_on_cast that does not branch: the null falls through.
    code = (b"\x02\x6f" + b"\x20\x03" + fb(24, 1, 0) + b"\x6e\x00" + b"\x0b" + fb(20) + b"\x6c")
    assert run(info, code, [anyref, anyref], 5, 0, flat=flat) == 0


def test_extern_conversions(info, flat):
    # ref.eq(any.convert_extern(extern.convert_any(s)), s) with s = struct.new_default 0
    code = (fb(1, 0) + b"\x21\x02" + b"\x20\x02" + fb(27) + fb(26) + b"\x20\x02" + b"\xd3")
    assert run(info, code, [S0], 0, 0, flat=flat) == 1


def test_inline_array_access_traps(info, flat):
    a8 = RefType(True, 2)
    new = i32c(0) + i32c(3) + fb(6, 2) + b"\x21\x02"  # l2 = array.new 2 (0, 3)
    get = b"\x20\x02" + b"\x20\x00" + fb(13, 2)          # array.get_u l2[l0]
    assert run(info, new + get, [a8], 2, 0, flat=flat) == 0
    with pytest.raises(Trap, match="out of bounds array access"):
        run(info, new + get, [a8], 3, 0, flat=flat)
    with pytest.raises(Trap, match="null array reference"):
        run(info, get, [a8], 0, 0, flat=flat)
    put = b"\x20\x02" + b"\x20\x00" + b"\x20\x01" + fb(14, 2) + i32c(0)  # l2[l0] = l1
    assert run(info, new + put + b"\x1a" + get, [a8], 1, 0x1FE, flat=flat) == 0xFE
    with pytest.raises(Trap, match="out of bounds array access"):
        run(info, new + put, [a8], 3, 0, flat=flat)
    with pytest.raises(Trap, match="null array reference"):
        run(info, put, [a8], 0, 0, flat=flat)
    with pytest.raises(Trap, match="null array reference"):
        run(info, b"\x20\x02" + fb(15), [a8], 0, 0, flat=flat)


def test_inline_i31(info, flat):
    anyref = RefType(True, "any")
    new = b"\x20\x00" + fb(28) + b"\x21\x02"  # l2 = ref.i31 l0
    assert run(info, new + b"\x20\x02" + fb(29), [anyref], 0x4000_0000, 0,
               flat=flat) == 0xC000_0000
    assert run(info, new + b"\x20\x02" + fb(30), [anyref], 0xC000_0001, 0,
               flat=flat) == 0x4000_0001
    for sub in (29, 30):
        with pytest.raises(Trap, match="null i31 reference"):
            run(info, b"\x20\x02" + fb(sub), [anyref], 0, 0, flat=flat)
