"""Visitors of locals, globals and parametric instructions (drop, select)."""

from __future__ import annotations

from typing import Any

from .stack import Entry, var


class VariableVisitors:
    """Mixin of the generator: local.*, global.*, drop, select."""

    def h_local_get(self, idx: int, op: Any, imm: int) -> None:
        if self.lane_get(idx, imm):  # a v128 local kept as lanes (simd_locals.py)
            return
        name = f"l{imm}"
        if name in self.slocals:
            self.signed_local_get(name)
            return
        self.stack.append(var(name))

    def h_local_set(self, idx: int, op: Any, imm: int, tee: bool = False) -> None:
        if self.lane_set(idx, imm, tee):
            return
        name = f"l{imm}"
        if name in self.slocals:
            self.signed_local_set(name, tee)
            return
        (v,) = self.take(1)
        if v.expr != name:
            self.stmt(f"{name} = {v.expr}", v.eff, (name,))
        if tee:
            self.stack.append(var(name))

    def h_local_tee(self, idx: int, op: Any, imm: int) -> None:
        self.h_local_set(idx, op, imm, tee=True)

    def global_cell(self, i: int) -> str:
        return self.bind(f"G{i}", f"rt.globals[{i}]")

    def h_global_get(self, idx: int, op: Any, imm: int) -> None:
        mutable = self.global_types[imm].mutable
        self.stack.append(Entry(f"{self.global_cell(imm)}.value", eff=mutable, depth=1))

    def h_global_set(self, idx: int, op: Any, imm: int) -> None:
        (v,) = self.take(1)
        self.stmt(f"{self.global_cell(imm)}.value = {v.expr}", True)

    def h_drop(self, idx: int, op: Any, imm: Any) -> None:
        (v,) = self.take(1)
        if v.eff:
            self.stmt(v.expr, True)

    def h_select(self, idx: int, op: Any, imm: Any) -> None:
        n = len(self.stack)
        for i in (n - 3, n - 2):
            if self.stack[i].eff:
                self.spill(i)
        a, b, c = self.take(3)
        self.push(f"({a.expr} if {self.cond_of(c)} else {b.expr})", [a, b, c])
        if a.sexpr is not None or b.sexpr is not None:  # PyPy: i64 in signed form
            self.stack[-1].sexpr = f"({self.sconv(a)} if {self.cond_of(c)} else {self.sconv(b)})"


HANDLERS = {
    "drop": "h_drop",
    "select": "h_select",
    "select_t": "h_select",
    "local.get": "h_local_get",
    "local.set": "h_local_set",
    "local.tee": "h_local_tee",
    "global.get": "h_global_get",
    "global.set": "h_global_set",
}
