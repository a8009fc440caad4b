"""Instruction decoding: immediates, the instruction loop, function bodies.

Instructions come out as ``(Op, immediate)`` tuples with the immediate values documented in
``engine.opcodes``. Block structure is tracked only far enough to find the ``end`` that
closes the expression and to reject misplaced ``else`` (the binary grammar only has ``else``
inside ``if``); label and type checks are the validator's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..config import FEATURES
from ..errors import ImplementationLimitError
from ..opcodes import ALL_OPS, PREFIXED, SINGLE, Op
from ..types import SHORTHAND_CODES, VALTYPE_CODES, RefType
from .gc_immediates import GC_READERS
from .module import Body, Catch, Expr, Instr, ModuleInfo
from .reader import (
    EOS,
    fail,
    read_heaptype,
    read_len,
    read_s32,
    read_s64,
    read_sleb,
    read_u32,
    read_uleb,
    read_valtype,
    read_valtypes,
)

#: Declared locals allowed per function (the limit common engines apply; the spec's own
#: bound is 2**32-1, which is checked too).
MAX_LOCALS = 50_000

_END = 0x0B
_TRY_TABLE = 0x1F
_ELSE = 0x05
# Legacy exception handling: try opens a block, catch / catch_all / delegate continue or end it.
_TRY, _CATCH, _DELEGATE, _CATCH_ALL = 0x06, 0x07, 0x18, 0x19
_CLAUSES = frozenset((_CATCH, _DELEGATE, _CATCH_ALL))
# What an open block may still take (``read_instrs``' block stack): nothing but ``end``; an
# ``else`` (an if before its else); catch / catch_all / delegate (a try before any clause);
# catch / catch_all (a try after a catch).
_PLAIN, _IF_OPEN, _TRY_OPEN, _TRY_CAUGHT = 0, 1, 2, 3

# --- immediate readers: (data, pos) -> (value, pos) ------------------------------------


def _imm_block(data: bytes, pos: int) -> tuple[Any, int]:
    b = data[pos]
    if b == 0x40:
        return None, pos + 1
    t = VALTYPE_CODES.get(b)
    if t is not None:
        return t, pos + 1
    if b in SHORTHAND_CODES or b == 0x63 or b == 0x64:
        return read_valtype(data, pos)
    # A type index, encoded as a positive s33 so it cannot collide with a type byte.
    idx, pos = read_sleb(data, pos, 33)
    if idx < 0:
        raise fail("malformed block type")
    return idx, pos


def _imm_br_table(data: bytes, pos: int) -> tuple[Any, int]:
    n, pos = read_len(data, pos)
    labels = []
    append = labels.append
    for _ in range(n):
        v = data[pos]
        if v < 0x80:
            pos += 1
        else:
            v, pos = read_uleb(data, pos, 32)
        append(v)
    default, pos = read_u32(data, pos)
    return (tuple(labels), default), pos


def _imm_u32_pair(data: bytes, pos: int) -> tuple[Any, int]:
    a, pos = read_u32(data, pos)
    b, pos = read_u32(data, pos)
    return (a, b), pos


def _memarg_reader(multi_memory: bool, memory64: bool) -> Any:
    """The memarg reader of a feature set: ``(align, offset, memory)``.

    With multi-memory, flag bit 6 announces a memory index after the flags (flags of 128 and
    more are malformed); without it (Wasm 2.0) flags of 32 and more are malformed. memory64
    widens the offset to u64 (validation bounds it by the memory's index type).
    """
    offset_bits = 64 if memory64 else 32

    def read(data: bytes, pos: int) -> tuple[Any, int]:
        align = data[pos]
        if align < 32:  # the common case: one-byte alignment and offset
            offset = data[pos + 1]
            if offset < 0x80:
                return (align, offset, 0), pos + 2
        align, pos = read_u32(data, pos)
        mem = 0
        if multi_memory:
            if align >= 128:
                raise fail("malformed memop flags")
            if align >= 64:
                mem, pos = read_u32(data, pos)
                align -= 64
        elif align >= 32:
            raise fail("malformed memop flags")
        offset, pos = read_uleb(data, pos, offset_bits)
        return (align, offset, mem), pos

    return read


def _imm_zero(data: bytes, pos: int) -> tuple[Any, int]:
    # A reserved memory index: a single 0x00 byte in 2.0 (not a LEB: 0x80 0x00 is malformed).
    if data[pos] != 0:
        raise fail("zero byte expected")
    return 0, pos + 1


def _imm_reserved(data: bytes, pos: int) -> tuple[Any, int]:
    _, pos = _imm_zero(data, pos)
    return None, pos


def _mem_pair_readers(read_mem: Any) -> tuple[Any, Any]:
    """memory.init (data index, memory) and memory.copy (two memories) readers."""

    def memory_init(data: bytes, pos: int) -> tuple[Any, int]:
        idx, pos = read_u32(data, pos)
        mem, pos = read_mem(data, pos)
        return (idx, mem), pos

    def memory_copy(data: bytes, pos: int) -> tuple[Any, int]:
        dst, pos = read_mem(data, pos)
        src, pos = read_mem(data, pos)
        return (dst, src), pos

    return memory_init, memory_copy


def _fixed_int(data: bytes, pos: int, n: int) -> tuple[int, int]:
    end = pos + n
    if end > len(data):
        raise fail(EOS)
    return int.from_bytes(data[pos:end], "little"), end


def _imm_f32(data: bytes, pos: int) -> tuple[Any, int]:
    return _fixed_int(data, pos, 4)


def _imm_f64(data: bytes, pos: int) -> tuple[Any, int]:
    return _fixed_int(data, pos, 8)


def _imm_v128(data: bytes, pos: int) -> tuple[Any, int]:
    return _fixed_int(data, pos, 16)


def _imm_lane(data: bytes, pos: int) -> tuple[Any, int]:
    return data[pos], pos + 1


def _imm_shuffle(data: bytes, pos: int) -> tuple[Any, int]:
    end = pos + 16
    if end > len(data):
        raise fail(EOS)
    return tuple(data[pos:end]), end


def _memarg_lane_reader(read_memarg: Any) -> Any:
    def read(data: bytes, pos: int) -> tuple[Any, int]:
        memarg, pos = read_memarg(data, pos)
        return (memarg, data[pos]), pos + 1

    return read


def _imm_select_t(data: bytes, pos: int) -> tuple[Any, int]:
    return read_valtypes(data, pos)


def _imm_ref_null(data: bytes, pos: int) -> tuple[Any, int]:
    """``ref.null ht``: the nullable reference type of the heap type."""
    heap, pos = read_heaptype(data, pos)
    return RefType(True, heap), pos


def _imm_try_table(data: bytes, pos: int) -> tuple[Any, int]:
    """``try_table bt vec(catch)``: a catch is a kind byte, a tag (kinds 0, 1), a label."""
    bt, pos = _imm_block(data, pos)
    n, pos = read_len(data, pos)
    catches = []
    for _ in range(n):
        kind = data[pos]
        if kind > 3:
            raise fail("malformed catch clause")
        pos += 1
        tag = None
        if kind < 2:
            tag, pos = read_u32(data, pos)
        label, pos = read_u32(data, pos)
        catches.append(Catch(kind, tag, label))
    return (bt, tuple(catches)), pos


#: Marker: the immediate is one u32 index, read inline in the loop.
_U32 = object()

_READERS: dict[str, Any] = {
    "": None,
    "block": _imm_block,
    "label": _U32,
    "br_table": _imm_br_table,
    "func": _U32,
    "call_indirect": _imm_u32_pair,
    "local": _U32,
    "global": _U32,
    "table": _U32,
    "i32": read_s32,
    "i64": read_s64,
    "f32": _imm_f32,
    "f64": _imm_f64,
    "select_t": _imm_select_t,
    "reftype": _imm_ref_null,
    "type": _U32,
    "tag": _U32,
    "try_table": _imm_try_table,
    "v128": _imm_v128,
    "lane": _imm_lane,
    "shuffle": _imm_shuffle,
    "table_init": _imm_u32_pair,
    "table_copy": _imm_u32_pair,
    "data": _U32,
    "elem": _U32,
    "reserved_zero": _imm_reserved,
}
# GC immediates ("type": one u32, read inline).
_READERS.update({k: _U32 if v is None else v for k, v in GC_READERS.items()})

#: The flags that change how instructions decode (beyond enabling their rows).
_DECODE_FLAGS = ("wasm_multi_memory", "wasm_memory64")


def _readers(multi_memory: bool, memory64: bool) -> dict[str, Any]:
    readers = dict(_READERS)
    memarg = _memarg_reader(multi_memory, memory64)
    read_mem = read_u32 if multi_memory else _imm_zero
    readers["memarg"] = memarg
    readers["memarg_lane"] = _memarg_lane_reader(memarg)
    readers["mem"] = read_mem
    readers["memory_init"], readers["memory_copy"] = _mem_pair_readers(read_mem)
    return readers


class _Tables(NamedTuple):
    """Decoding tables of one feature set."""

    single: list[Any]  # byte -> (Op, reader, shared tuple) | None
    prefixed: dict[int, dict[int, Any]]  # prefix -> sub-opcode -> entry


def _no_immediate(data: bytes, pos: int) -> tuple[Any, int]:
    return None, pos


def _entry(op: Op, readers: dict[str, Any]) -> tuple[Op, Any, Any]:
    """(op, reader, shared instruction tuple for immediate-less ops)."""
    if op.imm not in readers:
        raise KeyError(f"decoder has no reader for immediate kind {op.imm!r} of {op.name}")
    reader = readers[op.imm]
    if not op.prefix and op.code in _CLAUSES:
        # Legacy catch / catch_all / delegate change the block structure: a real reader
        # sends them down the loop's general path, where structure is checked.
        reader = read_u32 if reader is _U32 else _no_immediate
    return op, reader, (op, None) if reader is None else None


_TABLES: dict[tuple[bool, ...], _Tables] = {}
#: id(features dict) -> (that dict, its tables): one lookup per body for the dict a module
#: keeps (``ModuleInfo.features`` is a private copy that nothing mutates).
_BY_ID: dict[int, tuple[Any, _Tables]] = {}


def tables_for(features: Mapping[str, bool] | None) -> _Tables:
    """The decoding tables for a feature set (None, or a flag it lacks: the defaults of
    ``engine.config.FEATURES``, every standard feature on); built once per set."""
    if features is None:
        features = FEATURES
    hit = _BY_ID.get(id(features))
    if hit is not None and hit[0] is features:
        return hit[1]
    tables = _build_tables(features)
    if len(_BY_ID) > 64:  # modules come and go: keep the cache small
        _BY_ID.clear()
    _BY_ID[id(features)] = (features, tables)
    return tables


def _build_tables(features: Mapping[str, bool]) -> _Tables:
    key = tuple(bool(features.get(name, FEATURES[name])) for name in FEATURES)
    tables = _TABLES.get(key)
    if tables is None:
        on = dict(zip(FEATURES, key))
        readers = _readers(*(on[name] for name in _DECODE_FLAGS))
        single: list[Any] = [None] * 256
        prefixed: dict[int, dict[int, Any]] = {p: {} for p in PREFIXED}
        for op in ALL_OPS:
            if op.feature and not on[op.feature]:
                continue
            if op.prefix:
                prefixed[op.prefix][op.code] = _entry(op, readers)
            else:
                single[op.code] = _entry(op, readers)
        tables = _TABLES.setdefault(key, _Tables(single, prefixed))
    return tables


#: Prefixed sub-opcodes that need the data count section (memory.init, data.drop).
_NEEDS_DATA_COUNT = frozenset(
    {(0xFC, op.code) for op in PREFIXED[0xFC].values() if op.name in ("memory.init", "data.drop")}
)


def _prefixed(data: bytes, pos: int, prefix: int, need_dc: bool,
              prefixed: dict[int, dict[int, Any]]) -> tuple[Any, int]:
    sub, pos = read_u32(data, pos)
    entry = prefixed[prefix].get(sub)
    if entry is None:
        raise fail(f"illegal opcode {prefix:02x} {sub}")
    if need_dc and (prefix, sub) in _NEEDS_DATA_COUNT:
        raise fail("data count section required")
    return entry, pos


def read_instrs(data: bytes, pos: int, need_data_count: bool = False,
                features: Mapping[str, bool] | None = None) -> tuple[list[Instr], int]:
    """Decode instructions from ``pos`` through the ``end`` closing the expression.

    Returns the instructions (the final ``end`` included) and the position after it.
    ``need_data_count``: reject memory.init / data.drop (module has no data count section).
    ``features``: the Config feature flags (None: all on).
    """
    instrs: list[Instr] = []
    append = instrs.append
    single, prefixed = tables_for(features)
    u32 = _U32
    # One entry per open block: what it may still take besides `end` (_PLAIN, _IF_OPEN, ...).
    blocks: list[int] = []
    while True:
        b = data[pos]
        pos += 1
        entry = single[b]
        if entry is None:
            if b >= 0xFB and b in prefixed:
                entry, pos = _prefixed(data, pos, b, need_data_count, prefixed)
            else:
                raise _illegal(b)
        op, reader, shared = entry
        if shared is not None:
            append(shared)
            if b == _END:
                if not blocks:
                    return instrs, pos
                blocks.pop()
            elif b == _ELSE:
                if not blocks or blocks[-1] != _IF_OPEN:
                    raise fail("END opcode expected")
                blocks[-1] = _PLAIN
        elif reader is u32:
            v = data[pos]
            if v < 0x80:
                pos += 1
            else:
                v, pos = read_uleb(data, pos, 32)
            append((op, v))
        else:
            imm, pos = reader(data, pos)
            append((op, imm))
            if b < 0x20:  # control (one test for the rest; prefixed ops have b >= 0xFB)
                # block 0x02, loop 0x03, if 0x04, try 0x06, try_table 0x1F open a block
                if b < 7 or b == _TRY_TABLE:
                    blocks.append(_IF_OPEN if b == 4 else _TRY_OPEN if b == _TRY else _PLAIN)
                elif b in _CLAUSES:
                    _clause(blocks, b)


def _illegal(b: int) -> Exception:
    """The error for an opcode byte the feature set lacks: a row of a feature that is off
    says which flag would enable it."""
    op = SINGLE[b]
    if op is not None and op.feature:
        return fail(f"illegal opcode {b:02x} ({op.name} needs the {op.feature} feature)")
    return fail(f"illegal opcode {b:02x}")


def _clause(blocks: list[int], b: int) -> None:
    """A legacy catch / catch_all / delegate: only inside a try, catch_all at most once and
    last, delegate only before any catch (it ends the try)."""
    state = blocks[-1] if blocks else _PLAIN
    if state < _TRY_OPEN or (b == _DELEGATE and state != _TRY_OPEN):
        raise fail("END opcode expected")
    if b == _DELEGATE:
        blocks.pop()
    else:
        blocks[-1] = _TRY_CAUGHT if b == _CATCH else _PLAIN


def read_const_expr(data: bytes, pos: int,
                    features: Mapping[str, bool] | None = None) -> tuple[Expr, int]:
    """A constant expression (global init, segment offset, element item), without its end."""
    instrs, pos = read_instrs(data, pos, False, features)
    instrs.pop()
    return instrs, pos


def read_locals(
    data: bytes, pos: int, max_locals: int = MAX_LOCALS, where: str = "a function"
) -> tuple[list[tuple[int, str]], int]:
    """The run-length local declarations of a body.

    More than 2**32-1 in all is malformed (the spec's bound); more than ``max_locals`` is an
    ImplementationLimitError (``Config.limits.max_locals``)."""
    n, pos = read_len(data, pos)
    out = []
    total = 0
    for _ in range(n):
        count, pos = read_u32(data, pos)
        t, pos = read_valtype(data, pos)
        total += count
        if total > 0xFFFF_FFFF:
            raise fail("too many locals")
        if count:
            out.append((count, t))
    if total > max_locals:
        raise ImplementationLimitError("too many locals", "max_locals", total, max_locals, where)
    return out, pos


def decode_body(info: ModuleInfo, func_index: int) -> Body:
    """Decode the body of function ``func_index`` (function index space, imports first)."""
    i = func_index - info.num_imported_funcs
    if not 0 <= i < len(info.code_offsets):
        raise ValueError(f"function {func_index} has no body in this module")
    data = info.data
    start = info.code_offsets[i]
    end = start + info.code_lengths[i]
    # Without a data count section, memory.init / data.drop are malformed (spec 5.5.16).
    # When the module has no data segments at all, the validator's "unknown data segment"
    # rejects them anyway; leaving them to it matches the testsuite, whose text modules
    # wabt encodes without a data count section.
    need_data_count = info.data_count is None and bool(info.datas)
    limits = info.limits
    max_locals = limits.max_locals if limits is not None else MAX_LOCALS
    try:
        local_decls, pos = read_locals(data, start, max_locals, f"function {func_index}")
        instrs, pos = read_instrs(data, pos, need_data_count, info.features)
    except IndexError:
        raise fail(EOS) from None
    # Like the reference interpreter, decoding may run past the declared size (into the
    # following bytes); the size check then reports the mismatch.
    if pos != end:
        raise fail("section size mismatch")
    return Body(local_decls, instrs)
