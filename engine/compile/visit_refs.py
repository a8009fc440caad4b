"""Visitors of typed function references: call_ref, return_call_ref, ref.as_non_null,
br_on_null, br_on_non_null.

A reference is a ``Func`` or None (see docs/architecture.md); each instruction reads its
reference operand twice (the null test, then its use), so the operand is made an atom first.
"""

from __future__ import annotations

from typing import Any

from ..errors import Trap
from .stack import Entry


def null_func() -> Any:
    """call_ref / return_call_ref of a null reference."""
    raise Trap("null function reference")


def null_ref() -> Any:
    """ref.as_non_null of a null reference."""
    raise Trap("null reference")


HELPERS = {"null_func": null_func, "null_ref": null_ref}


class RefVisitors:
    """Mixin of the generator: the typed function reference instructions."""

    def ref_atom(self) -> Entry:
        """Pop the reference on top of the stack as an atom (a name or literal)."""
        top = self.stack[-1]
        if top.depth or top.eff:
            self.spill(len(self.stack) - 1)
        return self.take(1)[0]

    def ref_callee(self, type_index: int) -> tuple[str, list[Entry]]:
        """The callee expression of call_ref and its argument operands."""
        n = len(self.info.types[type_index].params)
        base = len(self.stack) - n - 1
        if any(e.eff for e in self.stack[base:]):
            # Python evaluates the callee (the reference) before the arguments.
            for i in range(base, base + n):
                if self.stack[i].eff:
                    self.spill(i)
        ref = self.ref_atom()
        ops = self.take(n)
        return f"({ref.expr}.fn if {ref.expr} is not None else null_func())", ops

    def h_call_ref(self, idx: int, op: Any, imm: int) -> None:
        ft = self.info.types[imm]
        callee, ops = self.ref_callee(imm)
        self.call_expr(callee, ops, len(ft.results))

    def h_return_call_ref(self, idx: int, op: Any, imm: int) -> None:
        self.flush_effects()
        callee, ops = self.ref_callee(imm)
        self.tail_call(f"tail_of({callee})", ops)

    def h_ref_as_non_null(self, idx: int, op: Any, imm: Any) -> None:
        ref = self.ref_atom()
        self.push(f"({ref.expr} if {ref.expr} is not None else null_ref())", [ref], eff=True)

    def h_br_on_null(self, idx: int, op: Any, imm: int) -> None:
        ref = self.ref_atom()
        self.flush_effects()
        mark = self.open(f"if {ref.expr} is None:")
        self.branch(imm)
        self.close(mark)
        self.stack.append(ref)

    def h_br_on_non_null(self, idx: int, op: Any, imm: int) -> None:
        ref = self.ref_atom()
        self.flush_effects()
        mark = self.open(f"if {ref.expr} is not None:")
        self.stack.append(ref)
        self.branch(imm)
        self.take(1)
        self.close(mark)


HANDLERS = {
    "call_ref": "h_call_ref",
    "return_call_ref": "h_return_call_ref",
    "ref.as_non_null": "h_ref_as_non_null",
    "br_on_null": "h_br_on_null",
    "br_on_non_null": "h_br_on_non_null",
}
