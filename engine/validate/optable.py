"""Per-opcode validation facts derived once from the opcode table.

Every row with a fixed signature is checked generically by the body validator; this module
turns such rows into a compact record (`GENERIC[name]`) and adds the one immediate check
the row may need (memory index and alignment, lane index, data/elem segment, ...), derived
from the immediate kind and the instruction's name. A new SIMD row with a signature
therefore needs no validator code.
"""

from __future__ import annotations

import re

from ..opcodes import ALL_OPS, Op

# Immediate checks of generic instructions (the `check` field of a GENERIC record).
CHK_NONE = 0
CHK_MEMARG = 1  # memory 0 exists, 2**align <= natural size (arg: natural size in bytes)
CHK_MEM = 2  # memory index exists
CHK_LANE = 3  # lane index < lane count (arg: lane count)
CHK_MEMARG_LANE = 4  # memarg and lane (arg: (natural size, lane count))
CHK_SHUFFLE = 5  # 16 lane indices < 32
CHK_MEMORY_INIT = 6  # data segment (needs a data count section) and memory
CHK_DATA = 7  # data segment (needs a data count section)
CHK_MEMORY_COPY = 8  # two memory indices
CHK_TABLE_INIT = 9  # elem segment, table, matching element types
CHK_ELEM = 10  # elem segment exists
CHK_TABLE_COPY = 11  # two tables with matching element types
CHK_ATOMIC = 12  # memarg whose alignment equals the natural size exactly (arg: size)

_TYPE_BYTES = {"i32": 4, "i64": 8, "f32": 4, "f64": 8, "v128": 16}
_ACCESS = re.compile(r"(?:load|store)(\d+)?(x\d+)?")
_SHAPE = re.compile(r"^[if](\d+)x(\d+)\.")


def natural_size(name: str) -> int:
    """Bytes accessed by a load/store, from its name (e.g. i64.load16_s -> 2, v128.load8x8_s -> 8)."""
    prefix, _, rest = name.partition(".")
    m = _ACCESS.match(rest)
    if m is None:
        raise ValueError(f"not a memory access: {name}")
    bits, lanes = m.groups()
    if lanes is not None:  # v128.loadNxM_*: M lanes of N bits, always 64 bits in total
        return int(bits) * int(lanes[1:]) // 8
    if bits is not None:
        return int(bits) // 8
    return _TYPE_BYTES[prefix]


_ATOMIC_WIDTH = re.compile(r"(?:rmw|load|store|wait)(\d+)")


def atomic_size(name: str) -> int:
    """Bytes accessed by an atomic instruction (i64.atomic.rmw16.add_u -> 2,
    memory.atomic.wait64 -> 8, memory.atomic.notify -> 4)."""
    prefix, _, rest = name.partition(".")
    m = _ATOMIC_WIDTH.search(rest)
    if m is not None:
        return int(m.group(1)) // 8
    return _TYPE_BYTES.get(prefix, 4)


def lane_count(name: str, imm: str) -> int:
    """Lane count bounding a lane immediate: from the shape prefix, or the access width."""
    if imm == "memarg_lane":  # v128.loadN_lane / storeN_lane
        return 16 // natural_size(name)
    m = _SHAPE.match(name)
    if m is None:
        raise ValueError(f"no lane shape in {name}")
    return int(m.group(2))


def _check_of(op: Op) -> tuple[int, object]:
    imm = op.imm
    if imm == "memarg" and op.prefix == 0xFE:
        return CHK_ATOMIC, atomic_size(op.name)
    if imm == "memarg":
        return CHK_MEMARG, natural_size(op.name)
    if imm == "mem":
        return CHK_MEM, None
    if imm == "lane":
        return CHK_LANE, lane_count(op.name, imm)
    if imm == "memarg_lane":
        return CHK_MEMARG_LANE, (natural_size(op.name), lane_count(op.name, imm))
    if imm == "shuffle":
        return CHK_SHUFFLE, None
    simple = {
        "memory_init": CHK_MEMORY_INIT,
        "data": CHK_DATA,
        "memory_copy": CHK_MEMORY_COPY,
        "table_init": CHK_TABLE_INIT,
        "elem": CHK_ELEM,
        "table_copy": CHK_TABLE_COPY,
    }
    return simple.get(imm, CHK_NONE), None


def build_generic(ops: list[Op]) -> dict[str, tuple]:
    """name -> (nparams, p0, p1, params list, results tuple, check, check arg).

    ``p0``/``p1`` are the last and second-to-last parameter (the top of the stack first),
    so the hot path compares one or two strings without slicing.
    """
    table: dict[str, tuple] = {}
    for op in ops:
        if op.params is None or op.results is None:
            continue
        params = list(op.params)
        n = len(params)
        p0 = params[-1] if n >= 1 else None
        p1 = params[-2] if n >= 2 else None
        check, arg = _check_of(op)
        table[op.name] = (n, p0, p1, params, tuple(op.results), check, arg)
    return table


GENERIC: dict[str, tuple] = build_generic(ALL_OPS)
