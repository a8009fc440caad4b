"""Which bytes of each v128 web some instruction may observe (demand), so that lanes kept as
Python variables (simd_locals.py) that nothing reads are never computed.

clang's horizontal reductions leave half of every vector unused: matrix.O3simd sums an i32x4
accumulator by ``shuffle(a, a, [8..15, 0 ...]) + a``, then ``shuffle(s, s, [4..7, 0 ...])
+ s`` and stores lane 0; lanes 2 and 3 of the tee'd middle value are computed and never read
(measured, in-process interleaved: 7% of matrix.O3simd's time).

A byte mask (bit ``i``: byte ``i`` of the v128, little-endian) is computed per value and per
web, backward from the consumers, to the least fixpoint over the webs (loops):

- a lane-wise operation needs every byte of a lane of its operands whose result lane has a
  needed byte; a bitwise one (``and``, ``bitselect`` ...) the same bytes; a shuffle the
  bytes its needed output bytes name; ``extract_lane``/``store*_lane`` one lane;
  ``replace_lane``/``load*_lane`` all but the lane they replace; ``drop`` none;
- a ``local.set`` needs what its web needs (a ``local.tee`` also what its consumer
  needs); a web needs what its ``local.get``s need (so a tee whose web lacks a lane must
  pass that lane of its value on itself, not through the web's variable);
- anything else (stores, calls, control flow, operands crossing block boundaries, unknown
  operations) needs all 16 bytes.

The mask is semantic (what the wasm program can observe), so it holds whatever the
translator later does with the value; a byte outside it may hold anything, which is what
lets a lane outside it keep a stand-in zero. Linear per pass; the passes repeat while a
web's mask grows (at most 8, then every byte is needed: exact, only slower).
"""

from __future__ import annotations

from typing import Any

from ..types import V128
from .simd_lanes import BITWISE, LANE_OPS

ALL = 0xFFFF
_MAX_PASSES = 8
_PER_BYTE = frozenset((*BITWISE, "v128.bitselect", "i8x16.relaxed_laneselect",
                       "i16x8.relaxed_laneselect", "i32x4.relaxed_laneselect",
                       "i64x2.relaxed_laneselect"))
_LANE_OF = ("extract_lane", "extract_lane_s", "extract_lane_u")


def lane_mask(width: int, lane: int) -> int:
    """The bytes of lane ``lane`` of ``width`` bits."""
    nb = width // 8
    return ((1 << nb) - 1) << (lane * nb)


def widen(mask: int, width: int) -> int:
    """Every byte of each lane of ``width`` bits that has a byte in ``mask``."""
    nb = width // 8
    full = (1 << nb) - 1
    out = 0
    for k in range(0, 16, nb):
        if (mask >> k) & full:
            out |= full << k
    return out


def _shape_width(shape: str) -> int:
    return int(shape[1:].partition("x")[0])


def operand_need(name: str, imm: Any, pos: int, out: int) -> int:
    """The bytes of v128 operand ``pos`` (0: the first pushed) that instruction ``name``
    needs when the bytes ``out`` of its result are needed."""
    lop = LANE_OPS.get(name)
    if lop is not None:
        return widen(out, _shape_width(lop.kind))
    if name in _PER_BYTE:
        return out
    if name == "i8x16.shuffle":
        need = 0
        for i in range(16):
            if out >> i & 1 and imm[i] // 16 == pos:
                need |= 1 << (imm[i] % 16)
        return need
    if name == "drop":
        return 0
    shape, _, what = name.partition(".")
    if what in _LANE_OF:
        return lane_mask(_shape_width(shape), imm)
    if what == "replace_lane":
        return out & ~lane_mask(_shape_width(shape), imm) & ALL
    if shape == "v128" and what.endswith("_lane"):
        width = int(what[5:-5] if what.startswith("store") else what[4:-5])
        lane = lane_mask(width, imm[1])
        return lane if what.startswith("store") else out & ~lane & ALL
    return ALL


def _links(instrs: list, v128: set[int]) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """The instructions producing a v128 value (in order) and, for each, the instruction
    consuming it with the operand position, by a symbolic run of the operand stack within
    straight-line code (a value with no known consumer is missing: all of it is needed)."""
    producers: list[int] = []
    consumer: dict[int, tuple[int, int]] = {}
    stack: list[int] = []  # producing instruction, or -1 (not a v128, or not followed)

    def pop(n: int, idx: int) -> None:
        for pos in range(n - 1, -1, -1):
            p = stack.pop() if stack else -1
            if p >= 0:
                consumer[p] = (idx, pos)

    def push(idx: int, is_v128: bool) -> None:
        if is_v128:
            producers.append(idx)
            stack.append(idx)
        else:
            stack.append(-1)

    for idx, (op, imm) in enumerate(instrs):
        name = op.name
        if name == "local.get":
            push(idx, imm in v128)
        elif name in ("local.set", "local.tee", "drop"):
            pop(1, idx)
            if name == "local.tee":
                push(idx, imm in v128)
        elif name == "nop":
            continue
        elif op.params is not None and op.results is not None:
            pop(len(op.params), idx)
            for t in op.results:
                push(idx, t == V128)
        else:  # control flow, calls, globals, select ...: what is on the stack is all needed
            stack.clear()
    return producers, consumer


def web_needs(instrs: list, v128: set[int], uses: dict[int, int],
              defs: dict[int, int]) -> dict[int, int] | None:
    """The bytes of each web (``uses``/``defs``: instruction -> web) that may be observed
    (0 for a web nothing reads); None when the passes did not settle (all needed)."""
    producers, consumer = _links(instrs, v128)
    need: dict[int, int] = {}
    web: dict[int, int] = {}
    for _ in range(_MAX_PASSES):
        for p in reversed(producers):
            c = consumer.get(p)
            if c is None:
                need[p] = ALL
                continue
            ci, pos = c
            op, imm = instrs[ci]
            name = op.name
            if name in ("local.set", "local.tee"):
                w = defs.get(ci)
                n = ALL if w is None else web.get(w, 0)
                if name == "local.tee":
                    n |= need.get(ci, ALL)
                need[p] = n
            else:
                need[p] = operand_need(name, imm, pos, need.get(ci, ALL))
        new = dict.fromkeys(defs.values(), 0)
        for u, w in uses.items():
            new[w] = new.get(w, 0) | need.get(u, ALL)
        if new == web:
            return web
        web = new
    return None
