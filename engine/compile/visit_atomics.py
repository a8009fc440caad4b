"""Visitors of the threads proposal's instructions (prefix 0xFE) and of wide arithmetic.

Atomic accesses call the helpers of ``atomics.py`` (bounds, then alignment, then the access);
they are rare enough that a call per access is the simple, measured-irrelevant choice. The
wide-arithmetic instructions return two results through the helpers of ``wide.py``.
"""

from __future__ import annotations

from typing import Any

from ..validate.optable import atomic_size

_WIDE = {
    "i64.add128": "add128",
    "i64.sub128": "sub128",
    "i64.mul_wide_s": "mul_wide_s",
    "i64.mul_wide_u": "mul_wide_u",
}


class AtomicVisitors:
    """Mixin of the generator: atomic.fence, memory.atomic.*, *.atomic.* and wide arithmetic."""

    def h_atomic(self, idx: int, op: Any, imm: tuple[int, int, int]) -> None:
        name = op.name
        m = self.mem(imm[2])
        n = atomic_size(name)
        ops = self.take(len(op.params))
        ea = self.ea(ops[0], imm[1])
        rest = [o.expr for o in ops[1:]]
        if name == "memory.atomic.notify":
            expr = f"atomic_notify({m}, {ea}, {rest[0]})"
        elif name.startswith("memory.atomic.wait"):
            shared = self.mem_type(imm[2]).shared
            expr = f"atomic_wait({m}, {ea}, {n}, {rest[0]}, {rest[1]}, {shared})"
        elif ".atomic.load" in name:
            expr = f"atomic_load({m}, {ea}, {n})"
        elif ".atomic.store" in name:
            self.stmt(f"atomic_store({m}, {ea}, {n}, {rest[0]})", True)
            return
        else:  # i32.atomic.rmw16.add_u -> add
            rmw = name.rsplit(".", 1)[1].removesuffix("_u")
            if rmw == "cmpxchg":
                expr = f"atomic_cmpxchg({m}, {ea}, {n}, {rest[0]}, {rest[1]})"
            else:
                expr = f"atomic_rmw({m}, {ea}, {n}, {rmw!r}, {rest[0]})"
        self.push(expr, ops, eff=True)

    def h_atomic_fence(self, idx: int, op: Any, imm: Any) -> None:
        """One thread: every access is already sequentially consistent."""

    def h_wide(self, idx: int, op: Any, imm: Any) -> None:
        ops = self.take(len(op.params))
        self.call_expr(_WIDE[op.name], ops, 2)


def _handlers() -> dict[str, str]:
    from ..opcodes import ALL_OPS

    table = {op.name: "h_atomic" for op in ALL_OPS if op.prefix == 0xFE and op.imm == "memarg"}
    table["atomic.fence"] = "h_atomic_fence"
    table.update({name: "h_wide" for name in _WIDE})
    return table


HANDLERS = _handlers()
