"""Values a loop leaves behind: an operation repeated after the loop on the same operands is
the value the loop's last iteration computed.

clang's vectorised reductions keep both operands of each accumulator's update in locals of
their own, only to add them again after the loop (matrix.O3simd's f64 matmul)::

    loop                                     ;; every iteration
      ... f64x2.mul  local.tee 21            ;; A
      local.get 20   local.tee 22            ;; B
      f64x2.add      local.set 20            ;; X = A + B
      ... br_if 0
    end
    local.get 21  local.get 22  f64x2.add    ;; after the loop: A + B, which is X

Reading X there instead leaves A and B without readers, so their copies per iteration go
(simd_demand.py finds them dead; measured: 3% of matrix.O3simd's time).

The rewrite is exact when, in the loop (a ``loop``, whose body runs at least once; not a
counted ``for``, which may run none), the ``local.tee A``, the ``local.tee B`` right before
the pure operation and the ``local.set X`` right after it are all at the top level of the
body (so the last iteration, which ends by falling through the loop's ``end``, runs them in
order), the body writes none of A, B and X after those (earlier writes are overwritten
by them), and the code from the ``end`` to the
repeated ``local.get A; local.get B; <op>`` is straight-line and writes none of them.
Linear: one scan of each loop's top level and of the straight-line code after it.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, NamedTuple

from ..opcodes import BY_NAME
from .simd_lanes import BITWISE, LANE_OPS

#: Pure binary operations on two v128 values (same operands: same result, bit for bit).
PURE2 = frozenset([name for name, lop in LANE_OPS.items() if lop.nargs == 2
                   and "{k}" not in lop.tpl] + [name for name, (_, n) in BITWISE.items()
                                                if n == 2])
_OPENERS = frozenset(("block", "loop", "if", "for", "try_table", "try"))
_STOPS = _OPENERS | {"end", "else", "catch", "catch_all", "delegate", "br", "br_if",
                     "br_table", "br_on_null", "br_on_non_null", "br_on_cast",
                     "br_on_cast_fail", "return", "unreachable", "throw", "throw_ref",
                     "rethrow", "return_call", "return_call_indirect", "return_call_ref"}
_GET = BY_NAME["local.get"]
_NOP = BY_NAME["nop"]


class Reuse(NamedTuple):
    """After a loop, ``local.get`` at ``at`` (and the get and operation after it) is the
    value the ``local.set`` at ``source`` wrote in the loop, of local ``local``."""

    at: int
    source: int
    local: int


class _Update(NamedTuple):
    second: int  # local B
    op: str
    target: int  # local X
    source: int  # index of the local.set X


def exit_reuses(instrs: list, ends: dict[int, int], v128: set[int]) -> list[Reuse]:
    """Every repeated operation after a loop that can read what the loop wrote (see the
    module docstring), in program order."""
    writes: dict[int, list[int]] = {}
    for i, (op, imm) in enumerate(instrs):
        if op.name in ("local.set", "local.tee") and imm in v128:
            writes.setdefault(imm, []).append(i)
    out: list[Reuse] = []
    for start, (op, _) in enumerate(instrs):
        if op.name != "loop":
            continue
        end = ends.get(start)
        if end is None:
            continue
        updates = _updates(instrs, ends, start, end, v128, writes)
        if updates:
            _after(instrs, end, updates, out)
    return out


def _last(writes: dict[int, list[int]], local: int, hi: int, at: int) -> bool:
    """Whether the last write of ``local`` before ``hi`` is the one at ``at``."""
    w = writes.get(local, [])
    i = bisect_left(w, hi)
    return i > 0 and w[i - 1] == at


def _updates(instrs: list, ends: dict[int, int], start: int, end: int, v128: set[int],
             writes: dict[int, list[int]]) -> dict[int, _Update]:
    """The updates ``X = op(tee A, tee B)`` at the top level of the loop body, by A."""
    found: dict[int, _Update] = {}
    stack: list[Any] = []  # per operand: (local, tee index) of a local.tee, or None
    k = start + 1
    while k < end:
        op, imm = instrs[k]
        name = op.name
        if name in _OPENERS:
            k = ends.get(k, end) + 1
            stack.clear()
            continue
        if name == "local.get":
            stack.append(None)
        elif name == "local.tee":
            if stack:
                stack.pop()
            stack.append((imm, k) if imm in v128 else None)
        elif name in PURE2 and len(stack) >= 2 and instrs[k + 1][0].name == "local.set":
            b, a = stack.pop(), stack.pop()
            x, s = instrs[k + 1][1], k + 1
            if (a is not None and b is not None and b[1] == k - 1 and x in v128
                    and len({a[0], b[0], x}) == 3
                    and all(_last(writes, loc, end, at)
                            for loc, at in ((a[0], a[1]), (b[0], b[1]), (x, s)))):
                found[a[0]] = _Update(b[0], name, x, s)
            stack.append(None)
        elif op.params is not None and op.results is not None:
            for _ in op.params:
                if stack:
                    stack.pop()
            stack.extend([None] * len(op.results))
        elif name in ("local.set", "drop"):
            if stack:
                stack.pop()
        else:
            stack.clear()
        k += 1
    return found


def _after(instrs: list, end: int, updates: dict[int, _Update], out: list[Reuse]) -> None:
    """Match the repeated operations in the straight-line code after the loop's ``end``."""
    k = end + 1
    n = len(instrs)
    while k < n and updates:
        op, imm = instrs[k]
        name = op.name
        if name in _STOPS:
            return
        if name in ("local.set", "local.tee"):
            for a, u in list(updates.items()):
                if imm in (a, u.second, u.target):
                    del updates[a]
        elif name == "local.get" and imm in updates and k + 2 < n:
            u = updates[imm]
            (op1, imm1), (op2, _) = instrs[k + 1], instrs[k + 2]
            if op1.name == "local.get" and imm1 == u.second and op2.name == u.op:
                out.append(Reuse(k, u.source, u.target))
                k += 3
                continue
        k += 1


def rewritten(instrs: list, reuses: list[Reuse]) -> list:
    """``instrs`` as the analyses of the lane plan see it with the reuses applied: a
    ``local.get X`` and two ``nop``s in place of each repeated operation."""
    out = list(instrs)
    for r in reuses:
        out[r.at] = (_GET, r.local)
        out[r.at + 1] = out[r.at + 2] = (_NOP, None)
    return out
