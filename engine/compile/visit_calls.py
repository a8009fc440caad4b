"""Visitors of calls: direct calls and call_indirect."""

from __future__ import annotations

from typing import Any

from .stack import Entry, var
from .tail import SELF_TAIL, TAIL_CALLS, TAILCALL


class CallVisitors:
    """Mixin of the generator: call, call_indirect."""

    def call_expr(
        self, callee: str, ops: list[Entry], nresults: int, extra: list[Entry] | None = None
    ) -> None:
        expr = f"{callee}({', '.join(o.expr for o in ops)})"
        if nresults == 1:
            self.push(expr, ops + (extra or []), eff=True)
            return
        if nresults == 0:
            self.stmt(expr, True)
            return
        names = [self.temp() for _ in range(nresults)]
        self.stmt(f"{', '.join(names)} = {expr}", True)
        self.stack.extend(var(n) for n in names)

    def has_tail_calls(self) -> bool:
        """Whether this body makes tail calls (then it is assembled in two variants)."""
        found = getattr(self, "_has_tail", None)
        if found is None:
            found = self._has_tail = any(op.name in TAIL_CALLS for op, _ in self.body.instrs)
        return found

    def h_call(self, idx: int, op: Any, imm: int) -> None:
        ft = self.info.func_type(imm)
        ops = self.take(len(ft.params))
        if imm == self.func_index:
            callee = "f"  # the entry variant when the function tail-calls
        else:
            callee = f"funcs[{imm}]"
            self.bind("funcs", "rt.funcs")
        self.call_expr(callee, ops, len(ft.results))

    def tail_call(self, target: str, ops: list[Entry]) -> None:
        """End the body with a tail call: return the marker to the trampoline."""
        args = "".join(f"{o.expr}, " for o in ops)
        if self.try_depth:
            self.tail_in_try = True  # see assemble: the entry trampolines the tail variant
        self.emit(f"return {TAILCALL}{target}, ({args}))")
        self.live = False

    def h_return_call(self, idx: int, op: Any, imm: int) -> None:
        ft = self.info.func_type(imm)
        # Operands below the arguments are discarded, but their traps still happen first.
        self.flush_effects()
        ops = self.take(len(ft.params))
        if imm == self.func_index:
            target = SELF_TAIL
        else:
            target = f"tail_of({self.bind('funcs', 'rt.funcs')}[{imm}])"
        self.tail_call(target, ops)

    def h_return_call_indirect(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        self.flush_effects()
        callee, ops = self.indirect_callee(imm)
        self.tail_call(f"tail_of({callee})", ops[:-1])

    def indirect_callee(self, imm: tuple[int, int]) -> tuple[str, list[Entry]]:
        """The callee expression of call_indirect and its operands (arguments, index)."""
        type_index, table = imm
        ft = self.info.types[type_index]
        n = len(ft.params)
        base = len(self.stack) - n - 1
        if any(e.eff for e in self.stack[base:]):
            # Python evaluates the callee (the index) before the arguments.
            for i in range(base, base + n):
                if self.stack[i].eff:
                    self.spill(i)
        top = self.stack[-1]
        if top.depth or top.eff:
            self.spill(len(self.stack) - 1)  # the index is read twice below
        ops = self.take(n + 1)
        # The instance's canonical type (rt.types): equal types are one object.
        ftname = self.bind(f"FT{type_index}", f"rt.types[{type_index}]")
        elems = self.bind(f"E{table}", f"rt.tables[{table}].elements")
        k, ref = ops[-1].expr, self.temp()
        # The common case inline (an in-bounds, non-null entry of the interned type); the
        # helper raises the right trap otherwise (measured: dispatch 1.83x -> 1.6x).
        if self.gc_types:
            # Canonical GC types: identity of the function's DefType, else declared
            # subtyping or (host functions) the signature, in the helper.
            dt = self.bind(f"DT{type_index}", f"rt.gc_types[{type_index}]")
            callee = (
                f"({ref}.fn if ({ref} := {elems}[{k}] if {k} < len({elems}) else None)"
                f" is not None and {ref}.deftype is {dt}"
                f" else indirect_gc({elems}, {k}, {ftname}, {dt}))"
            )
            return callee, ops
        callee = (
            f"({ref}.fn if ({ref} := {elems}[{k}] if {k} < len({elems}) else None) is not None"
            f" and {ref}.ftype is {ftname} else indirect({elems}, {k}, {ftname}))"
        )
        return callee, ops

    def h_call_indirect(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        ft = self.info.types[imm[0]]
        callee, ops = self.indirect_callee(imm)
        self.call_expr(callee, ops[:-1], len(ft.results), ops[-1:])



HANDLERS = {
    "call": "h_call",
    "call_indirect": "h_call_indirect",
    "return_call": "h_return_call",
    "return_call_indirect": "h_return_call_indirect",
}
