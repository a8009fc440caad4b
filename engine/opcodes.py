"""The instruction set as data: one table used by the decoder, validator and translator.

Each row names an opcode, its binary encoding, the kind of its immediates and, for
instructions with a fixed type, its stack signature. Instructions whose typing depends on
context (control, variables, calls, references, tables, select) have ``params``/``results``
set to None and are typed by name in the validator.

Immediate kinds (``Op.imm``) and the Python value the decoder yields for them:

    ""              no immediate                          None
    "block"         block type                            None (empty) | valtype str | type index int
    "label"         label index                           int
    "br_table"      label vector + default                (tuple[int, ...], int)
    "func"          function index                        int
    "call_indirect" type index, table index               (int, int)
    "local"         local index                           int
    "global"        global index                          int
    "table"         table index                           int
    "memarg"        alignment exponent, offset, memory    (int, int, int)
                    (multi-memory: flag bit 6 announces a memory index; memory64: u64 offset)
    "mem"           memory index (a 0x00 byte without multi-memory) int
    "i32" / "i64"   signed LEB constant                   int, as the *unsigned* bit pattern
    "f32" / "f64"   IEEE bits                             int (the raw bits)
    "select_t"      value type vector                     tuple[str, ...]
    "reftype"       heap type of ref.null                 RefType (nullable)
    "type"          type index (call_ref)                 int
    "tag"           tag index                             int
    "try_table"     block type, catch clauses             (block, tuple[Catch, ...])
    "v128"          16 bytes                              int (little-endian 128-bit)
    "lane"          lane index byte                       int
    "shuffle"       16 lane index bytes                   tuple[int, ...]
    "memarg_lane"   memarg then lane index                ((int, int), int)
    "table_init"    element index, table index            (int, int)
    "table_copy"    destination table, source table       (int, int)
    "memory_init"   data index, memory index              (int, int)
    "data"          data index                            int
    "elem"          element index                         int
    "memory_copy"   destination memory, source memory     (int, int)
    "reserved_zero" one reserved 0x00 byte (atomic.fence)  None

GC (prefix 0xFB, Wasm 3.0; decoded by ``engine.binary.gc_immediates``). A heap type is an
abstract name (``"any"``, ``"eq"``, ``"i31"``, ``"struct"``, ``"array"``, ``"none"``,
``"func"``, ``"nofunc"``, ``"extern"``, ``"noextern"``, ``"exn"``, ``"noexn"``) or a type
index ``int``; a reference type is ``engine.gctypes.RefType(nullable, heap)``:

    "type"          type index                            int
    "type_field"    type index, field index               (int, int)
    "type_count"    type index, operand count (new_fixed) (int, int)
    "type_data"     type index, data index                (int, int)
    "type_elem"     type index, element index             (int, int)
    "type_type"     destination type, source type (copy)  (int, int)
    "ref_nonnull"   heap type of ``(ref ht)``              RefType(False, heap)
    "ref_null"      heap type of ``(ref null ht)``         RefType(True, heap)
    "br_on_cast"    flags byte (bit 0: source nullable, bit 1: target nullable), label,
                    source heap type, target heap type    (int, RefType, RefType)

``ref.test`` / ``ref.cast`` have two encodings each, by the nullability of the target: the
rows are named ``ref.test`` / ``ref.cast`` (``(ref ht)``) and ``ref.test_null`` /
``ref.cast_null`` (``(ref null ht)``); a text parser picks the row from the written type.

Rows of a proposal carry its feature flag (``Op.feature``, a name of ``engine.config
.FEATURES``); the decoder treats them as illegal opcodes while the flag is off.
Atomic memory accesses (prefix 0xFE) use "memarg" like plain loads and stores; their
alignment must equal the natural one exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from .compat import SLOTS


@dataclass(frozen=True, **SLOTS)  # SLOTS: dataclass(slots=True) needs Python 3.10
class Op:
    """One opcode: encoding, name, immediate kind and (if fixed) its stack signature."""

    prefix: int  # 0 for single-byte opcodes, 0xFB..0xFE for prefixed ones
    code: int  # the byte, or the LEB-encoded sub-opcode after a prefix
    name: str
    imm: str
    params: tuple[str, ...] | None
    results: tuple[str, ...] | None
    feature: str = ""  # the Config feature flag the instruction needs ("" for Wasm 2.0)


# code  name  imm  signature ("-" = typed by name in the validator)
_TABLE = """
00 unreachable - -
01 nop - ->
02 block block -
03 loop block -
04 if block -
05 else - -
0B end - -
0C br label -
0D br_if label -
0E br_table br_table -
0F return - -
10 call func -
11 call_indirect call_indirect -
1A drop - -
1B select - -
1C select_t select_t -
20 local.get local -
21 local.set local -
22 local.tee local -
23 global.get global -
24 global.set global -
25 table.get table -
26 table.set table -
28 i32.load memarg i32 -> i32
29 i64.load memarg i32 -> i64
2A f32.load memarg i32 -> f32
2B f64.load memarg i32 -> f64
2C i32.load8_s memarg i32 -> i32
2D i32.load8_u memarg i32 -> i32
2E i32.load16_s memarg i32 -> i32
2F i32.load16_u memarg i32 -> i32
30 i64.load8_s memarg i32 -> i64
31 i64.load8_u memarg i32 -> i64
32 i64.load16_s memarg i32 -> i64
33 i64.load16_u memarg i32 -> i64
34 i64.load32_s memarg i32 -> i64
35 i64.load32_u memarg i32 -> i64
36 i32.store memarg i32 i32 ->
37 i64.store memarg i32 i64 ->
38 f32.store memarg i32 f32 ->
39 f64.store memarg i32 f64 ->
3A i32.store8 memarg i32 i32 ->
3B i32.store16 memarg i32 i32 ->
3C i64.store8 memarg i32 i64 ->
3D i64.store16 memarg i32 i64 ->
3E i64.store32 memarg i32 i64 ->
3F memory.size mem -
40 memory.grow mem -
41 i32.const i32 -> i32
42 i64.const i64 -> i64
43 f32.const f32 -> f32
44 f64.const f64 -> f64
45 i32.eqz - i32 -> i32
46 i32.eq - i32 i32 -> i32
47 i32.ne - i32 i32 -> i32
48 i32.lt_s - i32 i32 -> i32
49 i32.lt_u - i32 i32 -> i32
4A i32.gt_s - i32 i32 -> i32
4B i32.gt_u - i32 i32 -> i32
4C i32.le_s - i32 i32 -> i32
4D i32.le_u - i32 i32 -> i32
4E i32.ge_s - i32 i32 -> i32
4F i32.ge_u - i32 i32 -> i32
50 i64.eqz - i64 -> i32
51 i64.eq - i64 i64 -> i32
52 i64.ne - i64 i64 -> i32
53 i64.lt_s - i64 i64 -> i32
54 i64.lt_u - i64 i64 -> i32
55 i64.gt_s - i64 i64 -> i32
56 i64.gt_u - i64 i64 -> i32
57 i64.le_s - i64 i64 -> i32
58 i64.le_u - i64 i64 -> i32
59 i64.ge_s - i64 i64 -> i32
5A i64.ge_u - i64 i64 -> i32
5B f32.eq - f32 f32 -> i32
5C f32.ne - f32 f32 -> i32
5D f32.lt - f32 f32 -> i32
5E f32.gt - f32 f32 -> i32
5F f32.le - f32 f32 -> i32
60 f32.ge - f32 f32 -> i32
61 f64.eq - f64 f64 -> i32
62 f64.ne - f64 f64 -> i32
63 f64.lt - f64 f64 -> i32
64 f64.gt - f64 f64 -> i32
65 f64.le - f64 f64 -> i32
66 f64.ge - f64 f64 -> i32
67 i32.clz - i32 -> i32
68 i32.ctz - i32 -> i32
69 i32.popcnt - i32 -> i32
6A i32.add - i32 i32 -> i32
6B i32.sub - i32 i32 -> i32
6C i32.mul - i32 i32 -> i32
6D i32.div_s - i32 i32 -> i32
6E i32.div_u - i32 i32 -> i32
6F i32.rem_s - i32 i32 -> i32
70 i32.rem_u - i32 i32 -> i32
71 i32.and - i32 i32 -> i32
72 i32.or - i32 i32 -> i32
73 i32.xor - i32 i32 -> i32
74 i32.shl - i32 i32 -> i32
75 i32.shr_s - i32 i32 -> i32
76 i32.shr_u - i32 i32 -> i32
77 i32.rotl - i32 i32 -> i32
78 i32.rotr - i32 i32 -> i32
79 i64.clz - i64 -> i64
7A i64.ctz - i64 -> i64
7B i64.popcnt - i64 -> i64
7C i64.add - i64 i64 -> i64
7D i64.sub - i64 i64 -> i64
7E i64.mul - i64 i64 -> i64
7F i64.div_s - i64 i64 -> i64
80 i64.div_u - i64 i64 -> i64
81 i64.rem_s - i64 i64 -> i64
82 i64.rem_u - i64 i64 -> i64
83 i64.and - i64 i64 -> i64
84 i64.or - i64 i64 -> i64
85 i64.xor - i64 i64 -> i64
86 i64.shl - i64 i64 -> i64
87 i64.shr_s - i64 i64 -> i64
88 i64.shr_u - i64 i64 -> i64
89 i64.rotl - i64 i64 -> i64
8A i64.rotr - i64 i64 -> i64
8B f32.abs - f32 -> f32
8C f32.neg - f32 -> f32
8D f32.ceil - f32 -> f32
8E f32.floor - f32 -> f32
8F f32.trunc - f32 -> f32
90 f32.nearest - f32 -> f32
91 f32.sqrt - f32 -> f32
92 f32.add - f32 f32 -> f32
93 f32.sub - f32 f32 -> f32
94 f32.mul - f32 f32 -> f32
95 f32.div - f32 f32 -> f32
96 f32.min - f32 f32 -> f32
97 f32.max - f32 f32 -> f32
98 f32.copysign - f32 f32 -> f32
99 f64.abs - f64 -> f64
9A f64.neg - f64 -> f64
9B f64.ceil - f64 -> f64
9C f64.floor - f64 -> f64
9D f64.trunc - f64 -> f64
9E f64.nearest - f64 -> f64
9F f64.sqrt - f64 -> f64
A0 f64.add - f64 f64 -> f64
A1 f64.sub - f64 f64 -> f64
A2 f64.mul - f64 f64 -> f64
A3 f64.div - f64 f64 -> f64
A4 f64.min - f64 f64 -> f64
A5 f64.max - f64 f64 -> f64
A6 f64.copysign - f64 f64 -> f64
A7 i32.wrap_i64 - i64 -> i32
A8 i32.trunc_f32_s - f32 -> i32
A9 i32.trunc_f32_u - f32 -> i32
AA i32.trunc_f64_s - f64 -> i32
AB i32.trunc_f64_u - f64 -> i32
AC i64.extend_i32_s - i32 -> i64
AD i64.extend_i32_u - i32 -> i64
AE i64.trunc_f32_s - f32 -> i64
AF i64.trunc_f32_u - f32 -> i64
B0 i64.trunc_f64_s - f64 -> i64
B1 i64.trunc_f64_u - f64 -> i64
B2 f32.convert_i32_s - i32 -> f32
B3 f32.convert_i32_u - i32 -> f32
B4 f32.convert_i64_s - i64 -> f32
B5 f32.convert_i64_u - i64 -> f32
B6 f32.demote_f64 - f64 -> f32
B7 f64.convert_i32_s - i32 -> f64
B8 f64.convert_i32_u - i32 -> f64
B9 f64.convert_i64_s - i64 -> f64
BA f64.convert_i64_u - i64 -> f64
BB f64.promote_f32 - f32 -> f64
BC i32.reinterpret_f32 - f32 -> i32
BD i64.reinterpret_f64 - f64 -> i64
BE f32.reinterpret_i32 - i32 -> f32
BF f64.reinterpret_i64 - i64 -> f64
C0 i32.extend8_s - i32 -> i32
C1 i32.extend16_s - i32 -> i32
C2 i64.extend8_s - i64 -> i64
C3 i64.extend16_s - i64 -> i64
C4 i64.extend32_s - i64 -> i64
D0 ref.null reftype -
D1 ref.is_null - -
D2 ref.func func -
FC:0 i32.trunc_sat_f32_s - f32 -> i32
FC:1 i32.trunc_sat_f32_u - f32 -> i32
FC:2 i32.trunc_sat_f64_s - f64 -> i32
FC:3 i32.trunc_sat_f64_u - f64 -> i32
FC:4 i64.trunc_sat_f32_s - f32 -> i64
FC:5 i64.trunc_sat_f32_u - f32 -> i64
FC:6 i64.trunc_sat_f64_s - f64 -> i64
FC:7 i64.trunc_sat_f64_u - f64 -> i64
FC:8 memory.init memory_init -
FC:9 data.drop data ->
FC:10 memory.copy memory_copy -
FC:11 memory.fill mem -
FC:12 table.init table_init -
FC:13 elem.drop elem ->
FC:14 table.copy table_copy -
FC:15 table.grow table -
FC:16 table.size table -
FC:17 table.fill table -
"""

# Proposals merged into Wasm 3.0 (and the threads / wide-arithmetic proposals), one table
# per feature flag. Addresses are written i32; the validator uses the memory's index type.
_TAIL_CALL_TABLE = """
12 return_call func -
13 return_call_indirect call_indirect -
"""

# Typed function references.
_FUNCTION_REFERENCES_TABLE = """
14 call_ref type -
15 return_call_ref type -
D4 ref.as_non_null - -
D5 br_on_null label -
D6 br_on_non_null label -
"""

# Exception handling (try_table's immediate: block type and a vector of catch clauses).
_EXCEPTIONS_TABLE = """
08 throw tag -
0A throw_ref - -
1F try_table try_table -
"""

# Legacy exception handling (phase 3, never standardised): ``try`` opens a block whose
# ``catch x`` / ``catch_all`` start handler bodies (like ``else``); ``delegate l`` ends a try
# instead of ``end`` and hands its exceptions to label ``l``; ``rethrow l`` re-raises what
# the catch of label ``l`` caught. ``catch`` and ``delegate`` read their u32 outside the
# decoder's inline index path (they change the block structure).
_LEGACY_EXCEPTIONS_TABLE = """
06 try block -
07 catch tag -
09 rethrow label -
18 delegate label -
19 catch_all - -
"""

_WIDE_ARITHMETIC_TABLE = """
FC:19 i64.add128 - i64 i64 i64 i64 -> i64 i64
FC:20 i64.sub128 - i64 i64 i64 i64 -> i64 i64
FC:21 i64.mul_wide_s - i64 i64 -> i64 i64
FC:22 i64.mul_wide_u - i64 i64 -> i64 i64
"""

# Threads: atomic accesses, wait/notify and fence (prefix 0xFE, sub-opcodes in hex).
_ATOMIC_TABLE = """
FE:00 memory.atomic.notify memarg i32 i32 -> i32
FE:01 memory.atomic.wait32 memarg i32 i32 i64 -> i32
FE:02 memory.atomic.wait64 memarg i32 i64 i64 -> i32
FE:03 atomic.fence reserved_zero ->
FE:10 i32.atomic.load memarg i32 -> i32
FE:11 i64.atomic.load memarg i32 -> i64
FE:12 i32.atomic.load8_u memarg i32 -> i32
FE:13 i32.atomic.load16_u memarg i32 -> i32
FE:14 i64.atomic.load8_u memarg i32 -> i64
FE:15 i64.atomic.load16_u memarg i32 -> i64
FE:16 i64.atomic.load32_u memarg i32 -> i64
FE:17 i32.atomic.store memarg i32 i32 ->
FE:18 i64.atomic.store memarg i32 i64 ->
FE:19 i32.atomic.store8 memarg i32 i32 ->
FE:1A i32.atomic.store16 memarg i32 i32 ->
FE:1B i64.atomic.store8 memarg i32 i64 ->
FE:1C i64.atomic.store16 memarg i32 i64 ->
FE:1D i64.atomic.store32 memarg i32 i64 ->
"""


def _atomic_rmw_rows() -> str:
    """The read-modify-write rows, 0xFE 0x1E..0x4E: seven widths per operation."""
    widths = [("i32", "rmw", "", "i32"), ("i64", "rmw", "", "i64"), ("i32", "rmw8", "_u", "i32"),
              ("i32", "rmw16", "_u", "i32"), ("i64", "rmw8", "_u", "i64"),
              ("i64", "rmw16", "_u", "i64"), ("i64", "rmw32", "_u", "i64")]
    rows = []
    code = 0x1E
    for op in ("add", "sub", "and", "or", "xor", "xchg", "cmpxchg"):
        for t, rmw, suffix, vt in widths:
            vals = f"{vt} {vt}" if op == "cmpxchg" else vt
            rows.append(f"FE:{code:X} {t}.atomic.{rmw}.{op}{suffix} memarg i32 {vals} -> {vt}")
            code += 1
    return "\n".join(rows)


# GC (prefix 0xFB, sub-opcodes in decimal), plus ref.eq (0xD3). Typed by name in the
# validator (their types involve reference types).
_GC_TABLE = """
D3 ref.eq - -
FB:0 struct.new type -
FB:1 struct.new_default type -
FB:2 struct.get type_field -
FB:3 struct.get_s type_field -
FB:4 struct.get_u type_field -
FB:5 struct.set type_field -
FB:6 array.new type -
FB:7 array.new_default type -
FB:8 array.new_fixed type_count -
FB:9 array.new_data type_data -
FB:10 array.new_elem type_elem -
FB:11 array.get type -
FB:12 array.get_s type -
FB:13 array.get_u type -
FB:14 array.set type -
FB:15 array.len - -
FB:16 array.fill type -
FB:17 array.copy type_type -
FB:18 array.init_data type_data -
FB:19 array.init_elem type_elem -
FB:20 ref.test ref_nonnull -
FB:21 ref.test_null ref_null -
FB:22 ref.cast ref_nonnull -
FB:23 ref.cast_null ref_null -
FB:24 br_on_cast br_on_cast -
FB:25 br_on_cast_fail br_on_cast -
FB:26 any.convert_extern - -
FB:27 extern.convert_any - -
FB:28 ref.i31 - -
FB:29 i31.get_s - -
FB:30 i31.get_u - -
"""

# Custom descriptors (a GC extension proposal; prefix 0xFB). ``ref.cast_desc_eq`` has two
# encodings by the target's nullability, like ``ref.cast``.
_CUSTOM_DESCRIPTORS_TABLE = """
FB:32 struct.new_desc type -
FB:33 struct.new_default_desc type -
FB:34 ref.get_desc type -
FB:35 ref.cast_desc_eq ref_nonnull -
FB:36 ref.cast_desc_eq_null ref_null -
FB:37 br_on_cast_desc_eq br_on_cast -
FB:38 br_on_cast_desc_eq_fail br_on_cast -
"""


# SIMD (prefix 0xFD, Wasm 2.0 and relaxed SIMD). Same format, the "FD:" prefix omitted: the
# code column is the sub-opcode in hex (relaxed SIMD from 100 = 256). Every SIMD op has a
# fixed signature. Checked against wabt's encoding of the testsuite's simd_*.wast.
_SIMD_TABLE = """
00 v128.load memarg i32 -> v128
01 v128.load8x8_s memarg i32 -> v128
02 v128.load8x8_u memarg i32 -> v128
03 v128.load16x4_s memarg i32 -> v128
04 v128.load16x4_u memarg i32 -> v128
05 v128.load32x2_s memarg i32 -> v128
06 v128.load32x2_u memarg i32 -> v128
07 v128.load8_splat memarg i32 -> v128
08 v128.load16_splat memarg i32 -> v128
09 v128.load32_splat memarg i32 -> v128
0A v128.load64_splat memarg i32 -> v128
0B v128.store memarg i32 v128 ->
0C v128.const v128 -> v128
0D i8x16.shuffle shuffle v128 v128 -> v128
0E i8x16.swizzle - v128 v128 -> v128
0F i8x16.splat - i32 -> v128
10 i16x8.splat - i32 -> v128
11 i32x4.splat - i32 -> v128
12 i64x2.splat - i64 -> v128
13 f32x4.splat - f32 -> v128
14 f64x2.splat - f64 -> v128
15 i8x16.extract_lane_s lane v128 -> i32
16 i8x16.extract_lane_u lane v128 -> i32
17 i8x16.replace_lane lane v128 i32 -> v128
18 i16x8.extract_lane_s lane v128 -> i32
19 i16x8.extract_lane_u lane v128 -> i32
1A i16x8.replace_lane lane v128 i32 -> v128
1B i32x4.extract_lane lane v128 -> i32
1C i32x4.replace_lane lane v128 i32 -> v128
1D i64x2.extract_lane lane v128 -> i64
1E i64x2.replace_lane lane v128 i64 -> v128
1F f32x4.extract_lane lane v128 -> f32
20 f32x4.replace_lane lane v128 f32 -> v128
21 f64x2.extract_lane lane v128 -> f64
22 f64x2.replace_lane lane v128 f64 -> v128
23 i8x16.eq - v128 v128 -> v128
24 i8x16.ne - v128 v128 -> v128
25 i8x16.lt_s - v128 v128 -> v128
26 i8x16.lt_u - v128 v128 -> v128
27 i8x16.gt_s - v128 v128 -> v128
28 i8x16.gt_u - v128 v128 -> v128
29 i8x16.le_s - v128 v128 -> v128
2A i8x16.le_u - v128 v128 -> v128
2B i8x16.ge_s - v128 v128 -> v128
2C i8x16.ge_u - v128 v128 -> v128
2D i16x8.eq - v128 v128 -> v128
2E i16x8.ne - v128 v128 -> v128
2F i16x8.lt_s - v128 v128 -> v128
30 i16x8.lt_u - v128 v128 -> v128
31 i16x8.gt_s - v128 v128 -> v128
32 i16x8.gt_u - v128 v128 -> v128
33 i16x8.le_s - v128 v128 -> v128
34 i16x8.le_u - v128 v128 -> v128
35 i16x8.ge_s - v128 v128 -> v128
36 i16x8.ge_u - v128 v128 -> v128
37 i32x4.eq - v128 v128 -> v128
38 i32x4.ne - v128 v128 -> v128
39 i32x4.lt_s - v128 v128 -> v128
3A i32x4.lt_u - v128 v128 -> v128
3B i32x4.gt_s - v128 v128 -> v128
3C i32x4.gt_u - v128 v128 -> v128
3D i32x4.le_s - v128 v128 -> v128
3E i32x4.le_u - v128 v128 -> v128
3F i32x4.ge_s - v128 v128 -> v128
40 i32x4.ge_u - v128 v128 -> v128
41 f32x4.eq - v128 v128 -> v128
42 f32x4.ne - v128 v128 -> v128
43 f32x4.lt - v128 v128 -> v128
44 f32x4.gt - v128 v128 -> v128
45 f32x4.le - v128 v128 -> v128
46 f32x4.ge - v128 v128 -> v128
47 f64x2.eq - v128 v128 -> v128
48 f64x2.ne - v128 v128 -> v128
49 f64x2.lt - v128 v128 -> v128
4A f64x2.gt - v128 v128 -> v128
4B f64x2.le - v128 v128 -> v128
4C f64x2.ge - v128 v128 -> v128
4D v128.not - v128 -> v128
4E v128.and - v128 v128 -> v128
4F v128.andnot - v128 v128 -> v128
50 v128.or - v128 v128 -> v128
51 v128.xor - v128 v128 -> v128
52 v128.bitselect - v128 v128 v128 -> v128
53 v128.any_true - v128 -> i32
54 v128.load8_lane memarg_lane i32 v128 -> v128
55 v128.load16_lane memarg_lane i32 v128 -> v128
56 v128.load32_lane memarg_lane i32 v128 -> v128
57 v128.load64_lane memarg_lane i32 v128 -> v128
58 v128.store8_lane memarg_lane i32 v128 ->
59 v128.store16_lane memarg_lane i32 v128 ->
5A v128.store32_lane memarg_lane i32 v128 ->
5B v128.store64_lane memarg_lane i32 v128 ->
5C v128.load32_zero memarg i32 -> v128
5D v128.load64_zero memarg i32 -> v128
5E f32x4.demote_f64x2_zero - v128 -> v128
5F f64x2.promote_low_f32x4 - v128 -> v128
60 i8x16.abs - v128 -> v128
61 i8x16.neg - v128 -> v128
62 i8x16.popcnt - v128 -> v128
63 i8x16.all_true - v128 -> i32
64 i8x16.bitmask - v128 -> i32
65 i8x16.narrow_i16x8_s - v128 v128 -> v128
66 i8x16.narrow_i16x8_u - v128 v128 -> v128
67 f32x4.ceil - v128 -> v128
68 f32x4.floor - v128 -> v128
69 f32x4.trunc - v128 -> v128
6A f32x4.nearest - v128 -> v128
6B i8x16.shl - v128 i32 -> v128
6C i8x16.shr_s - v128 i32 -> v128
6D i8x16.shr_u - v128 i32 -> v128
6E i8x16.add - v128 v128 -> v128
6F i8x16.add_sat_s - v128 v128 -> v128
70 i8x16.add_sat_u - v128 v128 -> v128
71 i8x16.sub - v128 v128 -> v128
72 i8x16.sub_sat_s - v128 v128 -> v128
73 i8x16.sub_sat_u - v128 v128 -> v128
74 f64x2.ceil - v128 -> v128
75 f64x2.floor - v128 -> v128
76 i8x16.min_s - v128 v128 -> v128
77 i8x16.min_u - v128 v128 -> v128
78 i8x16.max_s - v128 v128 -> v128
79 i8x16.max_u - v128 v128 -> v128
7A f64x2.trunc - v128 -> v128
7B i8x16.avgr_u - v128 v128 -> v128
7C i16x8.extadd_pairwise_i8x16_s - v128 -> v128
7D i16x8.extadd_pairwise_i8x16_u - v128 -> v128
7E i32x4.extadd_pairwise_i16x8_s - v128 -> v128
7F i32x4.extadd_pairwise_i16x8_u - v128 -> v128
80 i16x8.abs - v128 -> v128
81 i16x8.neg - v128 -> v128
82 i16x8.q15mulr_sat_s - v128 v128 -> v128
83 i16x8.all_true - v128 -> i32
84 i16x8.bitmask - v128 -> i32
85 i16x8.narrow_i32x4_s - v128 v128 -> v128
86 i16x8.narrow_i32x4_u - v128 v128 -> v128
87 i16x8.extend_low_i8x16_s - v128 -> v128
88 i16x8.extend_high_i8x16_s - v128 -> v128
89 i16x8.extend_low_i8x16_u - v128 -> v128
8A i16x8.extend_high_i8x16_u - v128 -> v128
8B i16x8.shl - v128 i32 -> v128
8C i16x8.shr_s - v128 i32 -> v128
8D i16x8.shr_u - v128 i32 -> v128
8E i16x8.add - v128 v128 -> v128
8F i16x8.add_sat_s - v128 v128 -> v128
90 i16x8.add_sat_u - v128 v128 -> v128
91 i16x8.sub - v128 v128 -> v128
92 i16x8.sub_sat_s - v128 v128 -> v128
93 i16x8.sub_sat_u - v128 v128 -> v128
94 f64x2.nearest - v128 -> v128
95 i16x8.mul - v128 v128 -> v128
96 i16x8.min_s - v128 v128 -> v128
97 i16x8.min_u - v128 v128 -> v128
98 i16x8.max_s - v128 v128 -> v128
99 i16x8.max_u - v128 v128 -> v128
9B i16x8.avgr_u - v128 v128 -> v128
9C i16x8.extmul_low_i8x16_s - v128 v128 -> v128
9D i16x8.extmul_high_i8x16_s - v128 v128 -> v128
9E i16x8.extmul_low_i8x16_u - v128 v128 -> v128
9F i16x8.extmul_high_i8x16_u - v128 v128 -> v128
A0 i32x4.abs - v128 -> v128
A1 i32x4.neg - v128 -> v128
A3 i32x4.all_true - v128 -> i32
A4 i32x4.bitmask - v128 -> i32
A7 i32x4.extend_low_i16x8_s - v128 -> v128
A8 i32x4.extend_high_i16x8_s - v128 -> v128
A9 i32x4.extend_low_i16x8_u - v128 -> v128
AA i32x4.extend_high_i16x8_u - v128 -> v128
AB i32x4.shl - v128 i32 -> v128
AC i32x4.shr_s - v128 i32 -> v128
AD i32x4.shr_u - v128 i32 -> v128
AE i32x4.add - v128 v128 -> v128
B1 i32x4.sub - v128 v128 -> v128
B5 i32x4.mul - v128 v128 -> v128
B6 i32x4.min_s - v128 v128 -> v128
B7 i32x4.min_u - v128 v128 -> v128
B8 i32x4.max_s - v128 v128 -> v128
B9 i32x4.max_u - v128 v128 -> v128
BA i32x4.dot_i16x8_s - v128 v128 -> v128
BC i32x4.extmul_low_i16x8_s - v128 v128 -> v128
BD i32x4.extmul_high_i16x8_s - v128 v128 -> v128
BE i32x4.extmul_low_i16x8_u - v128 v128 -> v128
BF i32x4.extmul_high_i16x8_u - v128 v128 -> v128
C0 i64x2.abs - v128 -> v128
C1 i64x2.neg - v128 -> v128
C3 i64x2.all_true - v128 -> i32
C4 i64x2.bitmask - v128 -> i32
C7 i64x2.extend_low_i32x4_s - v128 -> v128
C8 i64x2.extend_high_i32x4_s - v128 -> v128
C9 i64x2.extend_low_i32x4_u - v128 -> v128
CA i64x2.extend_high_i32x4_u - v128 -> v128
CB i64x2.shl - v128 i32 -> v128
CC i64x2.shr_s - v128 i32 -> v128
CD i64x2.shr_u - v128 i32 -> v128
CE i64x2.add - v128 v128 -> v128
D1 i64x2.sub - v128 v128 -> v128
D5 i64x2.mul - v128 v128 -> v128
D6 i64x2.eq - v128 v128 -> v128
D7 i64x2.ne - v128 v128 -> v128
D8 i64x2.lt_s - v128 v128 -> v128
D9 i64x2.gt_s - v128 v128 -> v128
DA i64x2.le_s - v128 v128 -> v128
DB i64x2.ge_s - v128 v128 -> v128
DC i64x2.extmul_low_i32x4_s - v128 v128 -> v128
DD i64x2.extmul_high_i32x4_s - v128 v128 -> v128
DE i64x2.extmul_low_i32x4_u - v128 v128 -> v128
DF i64x2.extmul_high_i32x4_u - v128 v128 -> v128
E0 f32x4.abs - v128 -> v128
E1 f32x4.neg - v128 -> v128
E3 f32x4.sqrt - v128 -> v128
E4 f32x4.add - v128 v128 -> v128
E5 f32x4.sub - v128 v128 -> v128
E6 f32x4.mul - v128 v128 -> v128
E7 f32x4.div - v128 v128 -> v128
E8 f32x4.min - v128 v128 -> v128
E9 f32x4.max - v128 v128 -> v128
EA f32x4.pmin - v128 v128 -> v128
EB f32x4.pmax - v128 v128 -> v128
EC f64x2.abs - v128 -> v128
ED f64x2.neg - v128 -> v128
EF f64x2.sqrt - v128 -> v128
F0 f64x2.add - v128 v128 -> v128
F1 f64x2.sub - v128 v128 -> v128
F2 f64x2.mul - v128 v128 -> v128
F3 f64x2.div - v128 v128 -> v128
F4 f64x2.min - v128 v128 -> v128
F5 f64x2.max - v128 v128 -> v128
F6 f64x2.pmin - v128 v128 -> v128
F7 f64x2.pmax - v128 v128 -> v128
F8 i32x4.trunc_sat_f32x4_s - v128 -> v128
F9 i32x4.trunc_sat_f32x4_u - v128 -> v128
FA f32x4.convert_i32x4_s - v128 -> v128
FB f32x4.convert_i32x4_u - v128 -> v128
FC i32x4.trunc_sat_f64x2_s_zero - v128 -> v128
FD i32x4.trunc_sat_f64x2_u_zero - v128 -> v128
FE f64x2.convert_low_i32x4_s - v128 -> v128
FF f64x2.convert_low_i32x4_u - v128 -> v128
100 i8x16.relaxed_swizzle - v128 v128 -> v128
101 i32x4.relaxed_trunc_f32x4_s - v128 -> v128
102 i32x4.relaxed_trunc_f32x4_u - v128 -> v128
103 i32x4.relaxed_trunc_f64x2_s_zero - v128 -> v128
104 i32x4.relaxed_trunc_f64x2_u_zero - v128 -> v128
105 f32x4.relaxed_madd - v128 v128 v128 -> v128
106 f32x4.relaxed_nmadd - v128 v128 v128 -> v128
107 f64x2.relaxed_madd - v128 v128 v128 -> v128
108 f64x2.relaxed_nmadd - v128 v128 v128 -> v128
109 i8x16.relaxed_laneselect - v128 v128 v128 -> v128
10A i16x8.relaxed_laneselect - v128 v128 v128 -> v128
10B i32x4.relaxed_laneselect - v128 v128 v128 -> v128
10C i64x2.relaxed_laneselect - v128 v128 v128 -> v128
10D f32x4.relaxed_min - v128 v128 -> v128
10E f32x4.relaxed_max - v128 v128 -> v128
10F f64x2.relaxed_min - v128 v128 -> v128
110 f64x2.relaxed_max - v128 v128 -> v128
111 i16x8.relaxed_q15mulr_s - v128 v128 -> v128
112 i16x8.relaxed_dot_i8x16_i7x16_s - v128 v128 -> v128
113 i32x4.relaxed_dot_i8x16_i7x16_add_s - v128 v128 v128 -> v128
"""


def _parse(table: str, feature: str = "", hex_sub: bool = False) -> list[Op]:
    ops = []
    for line in table.strip().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        code_text, name, imm, *sig = line.split()
        if ":" in code_text:
            prefix_text, sub = code_text.split(":")
            prefix, code = int(prefix_text, 16), int(sub, 16 if hex_sub else 10)
        else:
            prefix, code = 0, int(code_text, 16)
        if sig == ["-"]:
            params = results = None
        else:
            arrow = sig.index("->")
            params, results = tuple(sig[:arrow]), tuple(sig[arrow + 1 :])
        ops.append(Op(prefix, code, name, "" if imm == "-" else imm, params, results, feature))
    return ops


def _parse_simd(table: str) -> list[Op]:
    return [Op(0xFD, op.code, op.name, op.imm, op.params, op.results) for op in _parse(table)]


#: Every opcode, in table order.
ALL_OPS: list[Op] = (
    _parse(_TABLE)
    + _parse_simd(_SIMD_TABLE)
    + _parse(_TAIL_CALL_TABLE, "wasm_tail_call")
    + _parse(_FUNCTION_REFERENCES_TABLE, "wasm_function_references")
    + _parse(_EXCEPTIONS_TABLE, "wasm_exceptions")
    + _parse(_LEGACY_EXCEPTIONS_TABLE, "legacy_exceptions")
    + _parse(_WIDE_ARITHMETIC_TABLE, "wasm_wide_arithmetic")
    + _parse(_ATOMIC_TABLE + _atomic_rmw_rows(), "wasm_threads", hex_sub=True)
    + _parse(_GC_TABLE, "wasm_gc")
    + _parse(_CUSTOM_DESCRIPTORS_TABLE, "wasm_custom_descriptors")
)

#: Single-byte opcodes, indexed by byte (None where the byte is not an opcode).
SINGLE: list[Op | None] = [None] * 256
#: Prefixed opcodes: PREFIXED[prefix][sub-opcode] -> Op.
PREFIXED: dict[int, dict[int, Op]] = {0xFB: {}, 0xFC: {}, 0xFD: {}, 0xFE: {}}
#: Opcodes by name.
BY_NAME: dict[str, Op] = {}

for _op in ALL_OPS:
    if _op.prefix:
        PREFIXED[_op.prefix][_op.code] = _op
    else:
        SINGLE[_op.code] = _op
    BY_NAME[_op.name] = _op
del _op
