"""Bounds of the counters of clang's bottom-tested loops.

clang -O2 writes ``for (i = S; i != E; i += step)`` as::

    i32.const S  local.set i  (straight-line code, blocks)  loop
      ...
      local.get i  i32.const step  i32.add  local.set i      (or local.tee i)
      local.get i  i32.const E  i32.ne  br_if 0              (or i32.lt_u)
    end

Every entry into the loop passes the ``local.set i`` of S (its last write in the
straight-line code before the loop: a ``loop`` instruction is reached only from the one
before it and by its own back edges), the
increment is the loop's only write of i, and the back edge taken after it only while ``i !=
E`` (``i < E``) is the last thing in the loop (nothing after it can branch back with i = E).
So with ``S < E``, ``(E - S) % step == 0`` (``!=``), i stays in ``S .. E`` inside the
loop, and with ``<`` at most ``max(S, E) + step``: a read of i there has that bound
(``Entry.bits``), so the increment never wraps and the reductions modulo 2**32 of the
increment and of addresses ``i + c`` are no-ops the translator leaves out (``l5 = l5 + 96``
for ``l5 = ((l5 + 96) % 4294967296)``; a reduction costs ~20 ns).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any, NamedTuple

_OPENERS = frozenset(("block", "loop", "if", "try_table", "try", "for"))
_TESTS = {"ne", "lt_u"}
BACK_WINDOW = 64  # instructions searched before a loop for its counter's start
#: Instructions without a fixed signature that only fall through (a block's start is
#: entered from the instruction before it only).
_PASSABLE = frozenset(("local.get", "local.set", "local.tee", "global.get", "global.set",
                       "drop", "select", "nop", "call", "block"))
#: Fixed-signature instructions that branch or end code (to be safe; none is expected).
_CONTROL = frozenset(("br", "br_if", "br_table", "return", "unreachable", "throw", "rethrow",
                      "throw_ref", "end", "else"))


def _structure(instrs: list[Any]) -> tuple[dict[int, int], list[int]] | None:
    """The matching ``end`` of each construct start, and the innermost construct start
    around each instruction (-1: the function body); None for a shape this pass does not
    follow (a legacy ``delegate``)."""
    ends: dict[int, int] = {}
    inner = [-1] * len(instrs)
    stack: list[int] = []
    for i, (op, _) in enumerate(instrs):
        inner[i] = stack[-1] if stack else -1
        name = op.name
        if name in _OPENERS:
            stack.append(i)
        elif name == "end":
            if stack:
                ends[stack.pop()] = i
        elif name == "delegate":
            return None
    return ends, inner


class Counter(NamedTuple):
    """Local ``local`` holds values below 2**``bits`` from the ``loop`` instruction at
    ``start`` to its ``end`` at ``stop``."""

    local: int
    start: int
    stop: int
    bits: int


def counter_bounds(instrs: list[Any]) -> dict[int, list[Counter]]:
    """The counters above, by local."""
    candidates = [k for k, (op, _) in enumerate(instrs)
                  if op.name in ("local.set", "local.tee") and k >= 3
                  and instrs[k - 1][0].name in ("i32.add", "i64.add")]
    if not candidates:
        return {}
    shape = _structure(instrs)
    if shape is None:
        return {}
    ends, inner = shape
    writes: dict[int, list[int]] = {}
    for k, (op, imm) in enumerate(instrs):
        if op.name in ("local.set", "local.tee"):
            writes.setdefault(imm, []).append(k)
    out: dict[int, list[Counter]] = {}
    for k in candidates:
        c = _counter(instrs, k, ends, inner, writes)
        if c is not None:
            out.setdefault(c.local, []).append(c)
    return out


def _counter(instrs: list[Any], k: int, ends: dict[int, int], inner: list[int],
             writes: dict[int, list[int]]) -> Counter | None:
    op, i = instrs[k]
    width = instrs[k - 1][0].name[:3]
    (g, gi), (c, step) = instrs[k - 3 : k - 1]
    if g.name != "local.get" or gi != i or c.name != f"{width}.const":
        return None
    top = 1 << (32 if width == "i32" else 64)
    if not 0 < step < top >> 1:
        return None
    j = k + 1
    if op.name == "local.set":
        if j >= len(instrs) or instrs[j][0].name != "local.get" or instrs[j][1] != i:
            return None
        j += 1
    test = instrs[j : j + 3]
    if len(test) < 3 or test[0][0].name != f"{width}.const" or test[2][0].name != "br_if" \
            or test[2][1] != 0 or test[1][0].name[4:] not in _TESTS \
            or test[1][0].name[:3] != width:
        return None
    end, br = test[0][1], j + 2
    loop = inner[br]
    if loop < 1 or instrs[loop][0].name != "loop" or ends.get(loop) != br + 1:
        return None
    ws = writes[i]
    if bisect_right(ws, ends[loop]) - bisect_left(ws, loop) != 1:
        return None  # the increment is not the loop's only write of i
    start = _start(instrs, loop, i, width)
    if start is None:
        return None
    if test[1][0].name.endswith("ne"):
        if not (start < end and (end - start) % step == 0):
            return None
        high = end
    else:
        high = max(start, end) + step
    return Counter(i, loop, ends[loop], high.bit_length()) if high < top else None


def _start(instrs: list[Any], loop: int, i: int, width: str) -> int | None:
    """The literal local i holds on every entry into ``loop``: its last write, within
    BACK_WINDOW instructions of straight-line code (no merge point, which a branch could
    reach with another i) before the loop, is ``iNN.const S; local.set i``."""
    for s in range(loop - 1, max(loop - BACK_WINDOW, 0), -1):
        op, imm = instrs[s]
        name = op.name
        if name in ("local.set", "local.tee") and imm == i:
            c, value = instrs[s - 1]
            return value if c.name == f"{width}.const" else None
        if name not in _PASSABLE and (op.params is None or name in _CONTROL):
            return None
    return None
