"""The binary decoder (engine.binary): unit tests and the testsuite's binary modules.

The testsuite part converts each top-level script of the official testsuite with wast2json
at test time (nothing from the suite is committed) and checks that every binary
``assert_malformed`` module is rejected with the expected message, and that every other
binary module (modules, and those rejected later by validation, linking or instantiation)
decodes, bodies included.
"""

from __future__ import annotations

import random
import time

import pytest
import suite

from benchmarks.wasmgen import section, sleb, uleb, vec
from engine.binary import decode_body, decode_module
from engine.binary.reader import read_s32, read_s64, read_sleb, read_u32, read_uleb
from engine.config import wasm_2_0_features
from engine.errors import MalformedError
from engine.opcodes import BY_NAME

HEADER = b"\x00asm\x01\x00\x00\x00"


# --- helpers ----------------------------------------------------------------------------


def func_module(
    body: bytes, locals_: bytes = b"\x00", extra: bytes = b"", after: bytes = b""
) -> bytes:
    """A module with one `[] -> []` function whose expression is ``body`` (end included),
    a memory, ``extra`` sections before the code section and ``after`` sections after it."""
    code = locals_ + body
    return (
        HEADER
        + section(1, vec([b"\x60\x00\x00"]))
        + section(3, vec([b"\x00"]))
        + section(5, vec([b"\x00\x01"]))
        + extra
        + section(10, vec([uleb(len(code)) + code]))
        + after
    )


def decode_all(data: bytes, features=None):
    info = decode_module(data, features)
    n = info.num_imported_funcs
    bodies = [decode_body(info, n + i) for i in range(len(info.code_offsets))]
    return info, bodies


def body_of(expr: bytes, **kw):
    _, bodies = decode_all(func_module(expr, **kw))
    return bodies[0]


def malformed(data: bytes, text: str, features=None) -> None:
    with pytest.raises(MalformedError) as exc:
        decode_all(data, features)
    assert text in str(exc.value)


# --- LEB128 -------------------------------------------------------------------------------


@pytest.mark.parametrize("v", [0, 1, 63, 64, 127, 128, 300, 2**14, 2**21 + 5, 2**28, 2**32 - 1])
def test_u32_roundtrip(v):
    assert read_u32(uleb(v) + b"\xff", 0) == (v, len(uleb(v)))


def test_u32_non_minimal_encodings_are_allowed():
    assert read_u32(b"\x80\x80\x80\x80\x00", 0) == (0, 5)
    assert read_u32(b"\x81\x00", 0) == (1, 2)


@pytest.mark.parametrize(
    "data,text",
    [
        (b"\x80\x80\x80\x80\x80\x00", "integer representation too long"),
        (b"\xff\xff\xff\xff\x1f", "integer too large"),
        (b"\x80\x80\x80\x80\x10", "integer too large"),
        (b"\xff\xff\xff\xff\x8f\x00", "integer representation too long"),
    ],
)
def test_u32_limits(data, text):
    with pytest.raises(MalformedError, match=text):
        read_u32(data, 0)


@pytest.mark.parametrize("v", [0, 1, -1, 63, 64, -64, -65, 8191, -8192, 8192, 2**31 - 1, -(2**31)])
def test_s32_roundtrip_as_bit_pattern(v):
    assert read_s32(sleb(v), 0) == (v & 0xFFFF_FFFF, len(sleb(v)))


@pytest.mark.parametrize("v", [0, -1, 2**63 - 1, -(2**63), 2**40, -(2**40) - 3])
def test_s64_roundtrip_as_bit_pattern(v):
    assert read_s64(sleb(v), 0) == (v & 0xFFFF_FFFF_FFFF_FFFF, len(sleb(v)))


@pytest.mark.parametrize(
    "data,bits,text",
    [
        (b"\xff\xff\xff\xff\x7f", 32, None),  # -1, sign-extended through the 5th byte
        (b"\xff\xff\xff\xff\x0f", 32, "integer too large"),  # 2**32-1 is not an s32
        (b"\xff\xff\xff\xff\x4f", 32, "integer too large"),
        (b"\x80\x80\x80\x80\x70", 32, "integer too large"),
        (b"\x80\x80\x80\x80\x80\x00", 32, "integer representation too long"),
        (b"\xff" * 9 + b"\x7f", 64, None),
        (b"\xff" * 9 + b"\x01", 64, "integer too large"),
        (b"\x80" * 10 + b"\x00", 64, "integer representation too long"),
        (b"\xe0\x7f", 7, "integer representation too long"),
    ],
)
def test_sleb_limits(data, bits, text):
    if text is None:
        assert read_sleb(data, 0, bits) == (-1, len(data))
    else:
        with pytest.raises(MalformedError, match=text):
            read_sleb(data, 0, bits)


def test_leb_past_end_is_index_error_turned_into_malformed():
    with pytest.raises(IndexError):
        read_uleb(b"\x80", 0, 32)
    malformed(HEADER + b"\x01\x80", "unexpected end")


# --- module structure ---------------------------------------------------------------------


def test_empty_module():
    info = decode_module(HEADER)
    assert info.types == [] and len(info.funcs) == 0 and info.start is None


@pytest.mark.parametrize(
    "data,text",
    [
        (b"", "unexpected end"),
        (b"\x00as", "unexpected end"),
        (b"\x00asm\x01\x00", "unexpected end"),
        (b"\x00ASM\x01\x00\x00\x00", "magic header not detected"),
        (b"\x00asm\x02\x00\x00\x00", "unknown binary version"),
        (HEADER + b"\x0e\x00", "malformed section id"),
        (HEADER + section(1, b"\x00") + section(1, b"\x00"), "unexpected content after last section"),
        (HEADER + section(10, b"\x00") + section(12, b"\x00"), "unexpected content after last section"),
        (HEADER + b"\x01\x05\x00", "length out of bounds"),
        (HEADER + section(1, b"\x00\x00"), "section size mismatch"),
        (HEADER + section(3, vec([b"\x00"])), "function and code section have inconsistent lengths"),
        (HEADER + section(12, b"\x01"), "data count and data section have inconsistent lengths"),
        (HEADER + section(1, vec([b"\x61\x00\x00"])), "malformed function type"),
        (HEADER + section(1, vec([b"\x60\x01\x7a\x00"])), "malformed value type"),
        (HEADER + section(2, vec([b"\x01m\x01n\x05\x00"])), "malformed import kind"),
        (HEADER + section(2, vec([b"\x01m\x01n\x03\x7f\x02"])), "malformed mutability"),
        (HEADER + section(5, vec([b"\x10\x00"])), "malformed limits flags"),
        (HEADER + section(5, vec([b"\x81\x00\x00"])), "malformed limits flags"),
        (HEADER + section(4, vec([b"\x70\x02\x00"])), "malformed limits flags"),
        (HEADER + section(4, vec([b"\x7f\x00\x00"])), "malformed reference type"),
        (HEADER + section(7, vec([b"\x01e\x05\x00"])), "malformed export kind"),
        (HEADER + section(0, b"\x02\xc0\x80"), "malformed UTF-8 encoding"),
        (HEADER + section(0, b""), "unexpected end"),
        (HEADER + section(0, b"\x05ab"), "unexpected end"),
        (HEADER + section(11, vec([b"\x03"])), "malformed data segment kind"),
        (HEADER + section(9, vec([b"\x08"])), "malformed elements segment kind"),
        (HEADER + section(9, vec([b"\x01\x01\x00"])), "malformed element kind"),
    ],
)
def test_malformed_modules(data, text):
    malformed(data, text)


@pytest.mark.parametrize(
    "data, text",
    [
        # Wasm 2.0 reads the limits flag as a 1-bit LEB; 3.0 gives the bits meanings.
        (HEADER + section(5, vec([b"\x02\x00"])), "integer too large"),
        (HEADER + section(5, vec([b"\x81\x00\x00"])), "integer representation too long"),
        (HEADER + section(5, vec([b"\x04\x00"])), "integer too large"),
    ],
)
def test_malformed_modules_wasm_2_0(data, text):
    malformed(data, text, wasm_2_0_features())


def test_const_expr_ends_at_its_section():
    # A global's init expression without `end`: 3.0 stops at the section's end, 2.0 reads
    # the next section's id as an opcode.
    data = (HEADER + section(1, vec([b"\x60\x00\x00"])) + section(3, vec([b"\x00"]))
            + section(6, vec([b"\x7f\x00\x41\x00"])) + section(10, vec([b"\x02\x00\x0b"])))
    malformed(data, "unexpected end of section or function")
    malformed(data, "illegal opcode", wasm_2_0_features())


def test_hostile_vector_length_fails_fast():
    for sid in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11):
        start = time.perf_counter()
        malformed(HEADER + section(sid, uleb(2**32 - 1)), "length out of bounds")
        assert time.perf_counter() - start < 0.1


def test_sections_decode():
    imports = vec(
        [
            b"\x03env\x01f\x00\x00",
            b"\x03env\x01t\x01\x70\x01\x01\x02",
            b"\x03env\x01m\x02\x00\x01",
            b"\x03env\x01g\x03\x7e\x01",
        ]
    )
    data = (
        HEADER
        + section(0, b"\x04namepayload")
        + section(1, vec([b"\x60\x01\x7f\x01\x7e", b"\x60\x00\x00"]))
        + section(2, imports)
        + section(3, vec([b"\x01", b"\x00"]))
        + section(4, vec([b"\x6f\x00\x05"]))
        + section(5, vec([b"\x01\x01\x02"]))
        + section(6, vec([b"\x7f\x00\x41\x05\x0b", b"\x7d\x01\x43\x00\x00\x80\x3f\x0b"]))
        + section(7, vec([b"\x03run\x00\x01", b"\x03\xe2\x82\xac\x03\x00"]))
        + section(8, b"\x01")
        + section(12, b"\x00")
        + section(10, vec([b"\x02\x00\x0b", b"\x04\x01\x03\x7c\x0b"]))
        + section(0, b"\x01x")
    )
    info = decode_module(data)
    assert [str(t) for t in info.types] == ["[i32] -> [i64]", "[] -> []"]
    assert [(i.module, i.name, i.kind) for i in info.imports] == [
        ("env", "f", "func"),
        ("env", "t", "table"),
        ("env", "m", "memory"),
        ("env", "g", "global"),
    ]
    assert info.imports[1].desc.limits.max == 2 and info.imports[1].desc.elem == "funcref"
    assert info.imports[3].desc.mutable and info.imports[3].desc.content == "i64"
    assert list(info.funcs) == [1, 0]
    assert info.tables[0].elem == "externref" and info.tables[0].limits.min == 5
    assert info.mems[0].limits.min == 1 and info.mems[0].limits.max == 2
    g0, g1 = info.globals
    assert g0.init == [(BY_NAME["i32.const"], 5)] and not g0.type.mutable
    assert g1.init == [(BY_NAME["f32.const"], 0x3F800000)] and g1.type.mutable
    assert [(e.name, e.kind, e.index) for e in info.exports] == [
        ("run", "func", 1),
        ("\u20ac", "global", 0),
    ]
    assert info.start == 1 and info.data_count == 0
    assert [name for name, _, _ in info.customs] == ["name", "x"]
    _, off, length = info.customs[0]
    assert data[off : off + length] == b"payload"
    assert info.num_imported_funcs == 1
    body = decode_body(info, 2)
    assert body.locals == [(3, "f64")]
    assert body.instrs == [(BY_NAME["end"], None)]


def test_columns_are_exactly_preallocated():
    n = 1000
    data = (
        HEADER
        + section(1, vec([b"\x60\x00\x00"]))
        + section(3, vec([b"\x00"] * n))
        + section(10, vec([b"\x02\x00\x0b"] * n))
    )
    info = decode_module(data)
    for column in (info.funcs, info.code_offsets, info.code_lengths):
        assert column.buffer_info()[1] == n and column.itemsize == 4
    assert info.code_offsets[1] - info.code_offsets[0] == 3
    assert set(info.code_lengths) == {2}


def test_element_segment_forms():
    ref_func, ref_null = BY_NAME["ref.func"], BY_NAME["ref.null"]
    i32_const = BY_NAME["i32.const"]
    segs = vec(
        [
            b"\x00\x41\x01\x0b" + vec([b"\x00"]),  # 0: active table 0, func indices
            b"\x01\x00" + vec([b"\x00"]),  # 1: passive, elemkind
            b"\x02\x01\x41\x02\x0b\x00" + vec([b"\x00"]),  # 2: active table 1
            b"\x03\x00" + vec([b"\x00"]),  # 3: declarative
            b"\x04\x41\x03\x0b" + vec([b"\xd2\x00\x0b"]),  # 4: active, exprs
            b"\x05\x6f" + vec([b"\xd0\x6f\x0b"]),  # 5: passive, externref exprs
            b"\x06\x01\x41\x04\x0b\x70" + vec([b"\xd0\x70\x0b"]),  # 6: active table 1
            b"\x07\x70" + vec([b"\xd2\x00\x0b"]),  # 7: declarative, exprs
        ]
    )
    info = decode_module(HEADER + section(9, segs))
    modes = [(e.mode, e.elem_type, e.table) for e in info.elems]
    # Function-index forms (0-3) have element type (ref func) since Wasm 3.0.
    assert modes == [
        ("active", "(ref func)", 0),
        ("passive", "(ref func)", 0),
        ("active", "(ref func)", 1),
        ("declarative", "(ref func)", 0),
        ("active", "funcref", 0),
        ("passive", "externref", 0),
        ("active", "funcref", 1),
        ("declarative", "funcref", 0),
    ]
    assert info.elems[0].offset == [(i32_const, 1)]
    assert info.elems[0].init == [[(ref_func, 0)]]
    assert info.elems[0].init.func_indices.tolist() == [0]
    assert info.elems[1].offset is None
    assert info.elems[5].init == [[(ref_null, "externref")]]
    assert info.elems[6].offset == [(i32_const, 4)]


def test_function_index_items_are_compact():
    n = 10_000
    seg = b"\x01\x00" + vec([uleb(i) for i in range(n)])
    items = decode_module(HEADER + section(9, vec([seg]))).elems[0].init
    assert len(items) == n and items.func_indices.buffer_info()[1] == n
    assert items[n - 1] == [(BY_NAME["ref.func"], n - 1)]
    assert list(items)[:2] == [[(BY_NAME["ref.func"], 0)], [(BY_NAME["ref.func"], 1)]]


def test_data_segment_forms():
    segs = vec([b"\x00\x41\x01\x0b\x02ab", b"\x01\x01c", b"\x02\x00\x41\x07\x0b\x00"])
    info = decode_module(HEADER + section(5, vec([b"\x00\x01"])) + section(11, segs))
    d0, d1, d2 = info.datas
    assert (d0.mode, d0.init, d0.offset) == ("active", b"ab", [(BY_NAME["i32.const"], 1)])
    assert (d1.mode, d1.init, d1.offset) == ("passive", b"c", None)
    assert (d2.mode, d2.init, d2.memory) == ("active", b"", 0)


# --- function bodies ----------------------------------------------------------------------


def test_body_immediates():
    expr = (
        b"\x02\x40"  # block (empty)
        b"\x03\x7f"  # loop (result i32)
        b"\x04\x05"  # if (type 5)
        b"\x0c\x01"  # br 1
        b"\x0e\x02\x00\x01\x02"  # br_table 0 1 default 2
        b"\x05"  # else
        b"\x10\x81\x01"  # call 129
        b"\x11\x02\x00"  # call_indirect type 2 table 0
        b"\x0b\x0b\x0b"  # end end end
        b"\x1c\x01\x7e"  # select (result i64)
        b"\x20\x03\x23\x01\x25\x00"  # local.get 3, global.get 1, table.get 0
        b"\x28\x02\x10"  # i32.load align=2 offset=16
        b"\x3f\x00\x40\x00"  # memory.size, memory.grow
        b"\x41\x7f\x42\x80\x01"  # i32.const -1, i64.const 128
        b"\x43\x00\x00\xc0\x7f"  # f32.const nan
        b"\x44\x00\x00\x00\x00\x00\x00\xf0\x3f"  # f64.const 1.0
        b"\xd0\x70\xd2\x00"  # ref.null func, ref.func 0
        b"\xfc\x00"  # i32.trunc_sat_f32_s
        b"\xfc\x08\x01\x00\xfc\x09\x01"  # memory.init 1, data.drop 1
        b"\xfc\x0a\x00\x00\xfc\x0b\x00"  # memory.copy, memory.fill
        b"\xfc\x0c\x02\x01\xfc\x0d\x02"  # table.init 2 1, elem.drop 2
        b"\xfc\x0e\x00\x01\xfc\x0f\x00\xfc\x10\x01\xfc\x11\x00"  # table.copy/grow/size/fill
        b"\x0b"
    )
    passive = section(11, vec([b"\x01\x00", b"\x01\x00"]))
    body = body_of(expr, extra=section(12, b"\x02"), after=passive)
    got = [(op.name, imm) for op, imm in body.instrs]
    assert got == [
        ("block", None),
        ("loop", "i32"),
        ("if", 5),
        ("br", 1),
        ("br_table", ((0, 1), 2)),
        ("else", None),
        ("call", 129),
        ("call_indirect", (2, 0)),
        ("end", None),
        ("end", None),
        ("end", None),
        ("select_t", ("i64",)),
        ("local.get", 3),
        ("global.get", 1),
        ("table.get", 0),
        ("i32.load", (2, 16, 0)),
        ("memory.size", 0),
        ("memory.grow", 0),
        ("i32.const", 0xFFFF_FFFF),
        ("i64.const", 128),
        ("f32.const", 0x7FC00000),
        ("f64.const", 0x3FF0000000000000),
        ("ref.null", "funcref"),
        ("ref.func", 0),
        ("i32.trunc_sat_f32_s", None),
        ("memory.init", (1, 0)),
        ("data.drop", 1),
        ("memory.copy", (0, 0)),
        ("memory.fill", 0),
        ("table.init", (2, 1)),
        ("elem.drop", 2),
        ("table.copy", (0, 1)),
        ("table.grow", 0),
        ("table.size", 1),
        ("table.fill", 0),
        ("end", None),
    ]


@pytest.mark.skipif("v128.const" not in BY_NAME, reason="SIMD rows not in the opcode table")
def test_simd_immediates():
    v = bytes(range(16))
    expr = (
        b"\xfd\x0c" + v  # v128.const
        + b"\xfd\x0d" + bytes(range(16, 32))  # i8x16.shuffle
        + b"\xfd\x15\x03"  # i8x16.extract_lane_s 3
        + b"\xfd\x54\x00\x08\x01"  # v128.load8_lane align=0 offset=8 lane 1
        + b"\xfd\x00\x04\x00"  # v128.load align=4
        + b"\x0b"
    )
    got = [(op.name, imm) for op, imm in body_of(expr).instrs]
    assert got == [
        ("v128.const", int.from_bytes(v, "little")),
        ("i8x16.shuffle", tuple(range(16, 32))),
        ("i8x16.extract_lane_s", 3),
        ("v128.load8_lane", ((0, 8, 0), 1)),
        ("v128.load", (4, 0, 0)),
        ("end", None),
    ]


def test_locals_run_length():
    body = body_of(b"\x0b", locals_=b"\x03\x02\x7f\x00\x7e\x01\x7b")
    assert body.locals == [(2, "i32"), (1, "v128")]
    assert body.local_types(("f32",)) == ["f32", "i32", "i32", "v128"]


@pytest.mark.parametrize(
    "expr,locals_,text",
    [
        (b"\x0b", b"\x02\xff\xff\xff\xff\x0f\x7f\x02\x7e", "too many locals"),
        (b"\x0b", b"\x01\x80\x80\x80\x80\x10\x7f", "integer too large"),
        (b"\x06\x0b", b"\x00", "illegal opcode"),
        (b"\xfc\x12\x0b", b"\x00", "illegal opcode"),
        (b"\xff\x0b", b"\x00", "illegal opcode"),
        (b"\x05\x0b", b"\x00", "END opcode expected"),
        (b"\x02\x40\x05\x0b\x0b", b"\x00", "END opcode expected"),
        (b"\x04\x40\x05\x05\x0b\x0b", b"\x00", "END opcode expected"),
        (b"\x0b\x01", b"\x00", "section size mismatch"),
        (b"\x02\x40\x0b", b"\x00", "unexpected end"),
        (b"\x3f\x01\x0b", b"\x00", "zero byte expected"),
        (b"\x40\x80\x00\x0b", b"\x00", "zero byte expected"),
        (b"\x28\x20\x00\x0b", b"\x00", "malformed memop flags"),
        (b"\xd0\x7f\x0b", b"\x00", "malformed reference type"),
        (b"\x02\x60\x0b\x0b", b"\x00", "malformed block type"),
        (b"\x43\x00\x00", b"\x00", "unexpected end"),
    ],
)
def test_malformed_bodies(expr, locals_, text):
    # Wasm 2.0 rules: a zero byte for the memory index, no memop flags above 31.
    malformed(func_module(expr, locals_=locals_), text, wasm_2_0_features())


@pytest.mark.parametrize(
    "expr, imm",
    [
        (b"\x41\x00\x28\x42\x01\x04\x1a\x0b", (2, 4, 1)),  # bit 6: memory index 1
        (b"\x41\x00\x28\x02\x80\x80\x80\x80\x10\x1a\x0b", (2, 1 << 32, 0)),  # u64 offset
    ],
)
def test_memarg_multi_memory_and_memory64(expr, imm):
    body = body_of(expr)
    assert body.instrs[1][1] == imm


def test_memop_flags_beyond_memory_index_bit_malformed():
    malformed(func_module(b"\x41\x00\x28\x80\x01\x00\x1a\x0b"), "malformed memop flags")


def test_data_count_required_when_data_segments_exist():
    data_sec = section(11, vec([b"\x01\x00"]))
    code = b"\x00\xfc\x09\x00\x0b"
    base = HEADER + section(1, vec([b"\x60\x00\x00"])) + section(3, vec([b"\x00"]))
    no_count = base + section(10, vec([uleb(len(code)) + code])) + data_sec
    malformed(no_count, "data count section required")
    with_count = base + section(12, b"\x01") + section(10, vec([uleb(len(code)) + code])) + data_sec
    decode_all(with_count)


def test_body_error_reported_before_later_framing_error():
    # The body overruns into bytes that would be a malformed section id: like the reference
    # interpreter, the earlier error (inside the body) is the one reported.
    data = func_module(b"\x28\x02\x82\x80\x80\x80\x80") + b"\x80\x00\x0b"
    malformed(data, "integer representation too long", wasm_2_0_features())


def test_truncated_and_flipped_modules_raise_only_malformed():
    rng = random.Random(1234)
    expr = b"\x02\x40\x41\x05\x04\x7f\x42\x01\x1a\x41\x01\x05\x41\x02\x0b\x1a\x0b\x0b"
    seeds = [
        func_module(expr, extra=section(6, vec([b"\x7f\x01\x41\x00\x0b"]))),
        HEADER + section(9, vec([b"\x05\x70\x01\xd2\x00\x0b"])) + section(0, b"\x01n"),
    ]
    for seed in seeds:
        variants = [seed[:k] for k in range(len(seed))]
        for _ in range(300):
            b = bytearray(seed)
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            variants.append(bytes(b))
        for data in variants:
            try:
                decode_all(data)
            except MalformedError:
                pass


# --- the official testsuite ---------------------------------------------------------------


SCRIPTS = [p.name for p in suite.scripts()]

#: Commands whose module must decode (they are rejected, if at all, after decoding).
_DECODES = {"module", "assert_invalid", "assert_unlinkable", "assert_uninstantiable",
            "assert_trap", "assert_exhaustion", "assert_return"}


@suite.needs_suite
@pytest.mark.parametrize("script", SCRIPTS)
def test_testsuite_binary_modules(script):
    # WASM_TESTSUITE is the Wasm 2.0 pin: decode with the 2.0 feature set.
    commands, folder = suite.commands(suite.ROOT / script)
    problems = []
    for cmd in commands:
        filename = cmd.get("filename", "")
        if not filename.endswith(".wasm") or cmd.get("module_type", "binary") != "binary":
            continue
        data = (folder / filename).read_bytes()
        where = f"{script}:{cmd['line']} {cmd['type']}"
        if cmd["type"] == "assert_malformed":
            try:
                decode_all(data, wasm_2_0_features())
            except MalformedError as exc:
                text = cmd["text"]
                if text not in str(exc):
                    problems.append(f"{where}: expected {text!r}, got {str(exc)!r}")
            else:
                problems.append(f"{where}: decoded, expected {cmd['text']!r}")
        elif cmd["type"] in _DECODES:
            try:
                decode_all(data, wasm_2_0_features())
            except MalformedError as exc:
                problems.append(f"{where}: {exc}")
    assert not problems, "\n".join(problems)
