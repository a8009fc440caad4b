"""The symbolic operand stack of the translator.

Between control-flow merges the operand stack is symbolic: each entry is a Python expression
(an :class:`Entry`) that is folded into its consumer. An entry is *spilled* into a temporary
only when something would change what it reads (a write of a local it reads), or when a side
effect must keep program order (entries that may trap or read mutable state are flushed before
any effectful statement). At merges entries get their slot names ``s<h>``.
"""

from __future__ import annotations

MAX_DEPTH = 24  # fold at most this many operators into one expression (parser limits)


class Entry:
    """A symbolic operand-stack entry."""

    __slots__ = ("bits", "cond", "const", "depth", "eff", "expr", "raw", "reads", "wide")

    def __init__(
        self,
        expr: str,
        reads: frozenset = frozenset(),
        eff: bool = False,
        depth: int = 0,
        cond: str | None = None,
        const: bool = False,
    ) -> None:
        self.expr = expr  # Python expression of the value
        self.cond = cond  # Python bool expression, when it is a comparison
        self.reads = reads  # variables the expression reads
        self.eff = eff  # may trap / reads mutable state: keep program order
        self.depth = depth  # operator nesting (0: a name or literal)
        self.const = const  # a literal: never changes, never needs a slot
        # Integer add/sub/mul/shl chains: the same value before its final mask (the ring
        # ops commute with reduction mod 2**w, so inner masks are redundant) and a bound on
        # its bit length, to keep the unmasked ints small.
        self.raw: str | None = None
        self.bits = 0
        self.wide = False  # the raw value is likely huge (a multiplication by a big literal)


NO_READS = frozenset()


def var(name: str) -> Entry:
    return Entry(name, frozenset((name,)))


def lit(text: str) -> Entry:
    return Entry(text, const=True)



class OperandStack:
    """Mixin of the generator: the operand-stack operations (``self.stack`` is a list of
    :class:`Entry`; ``emit``/``temp`` come from the generator)."""

    stack: list[Entry]

    def spill(self, j: int) -> None:
        """Evaluate stack entry j into a temporary (earlier effectful entries first)."""
        e = self.stack[j]
        if e.depth == 0 and not e.eff and (not e.reads or e.const):
            return
        if e.eff:
            for i in range(j):
                if self.stack[i].eff:
                    self.spill(i)
        t = self.temp()
        self.emit(f"{t} = {e.expr}")
        self.stack[j] = var(t)

    def flush_effects(self) -> None:
        for i, e in enumerate(self.stack):
            if e.eff:
                self.spill(i)

    def before_write(self, var: str) -> None:
        for i, e in enumerate(self.stack):
            if var in e.reads:
                self.spill(i)

    def stmt(self, code: str, eff: bool, writes: tuple[str, ...] = ()) -> None:
        if eff:
            self.flush_effects()
        for w in writes:
            self.before_write(w)
        self.emit(code)

    def take(self, n: int, atoms: bool = False, ordered: bool = False) -> list[Entry]:
        """Pop n operands (push order). Too-deep ones are spilled first; ``atoms`` spills
        every compound; ``ordered`` spills effectful ones when more than one is effectful
        (for forms that Python evaluates out of operand order)."""
        base = len(self.stack) - n
        if ordered and sum(e.eff for e in self.stack[base:]) > 1:
            for i in range(base, len(self.stack)):
                if self.stack[i].eff:
                    self.spill(i)
        for i in range(base, len(self.stack)):
            e = self.stack[i]
            if e.depth >= MAX_DEPTH or (atoms and e.depth):
                self.spill(i)
        ops = self.stack[base:]
        del self.stack[base:]
        return ops

    def push(self, expr: str, ops: list[Entry], eff: bool = False, cond: str | None = None) -> None:
        reads = NO_READS
        depth = 0
        for o in ops:
            if o.reads:
                reads = reads | o.reads
            eff = eff or o.eff
            depth = max(depth, o.depth)
        self.stack.append(Entry(expr, reads, eff, depth + 1, cond))

    def push_cond(self, cond: str, ops: list[Entry], eff: bool = False) -> None:
        self.push(f"(1 if {cond} else 0)", ops, eff, cond)

    @staticmethod
    def cond_of(e: Entry) -> str:
        return e.cond if e.cond is not None else e.expr

    def canon(self, force_from: int) -> None:
        """Give every non-literal entry (every entry from ``force_from`` on) its slot s<h>."""
        lhs, rhs = [], []
        for h, e in enumerate(self.stack):
            name = f"s{h}"
            if e.expr == name or (e.const and h < force_from):
                continue
            lhs.append(name)
            rhs.append(e.expr)
            self.stack[h] = var(name)
        if lhs:
            self.emit(f"{', '.join(lhs)} = {', '.join(rhs)}")

    def assign_slots(self, height: int, vals: list[Entry]) -> None:
        lhs, rhs = [], []
        for i, e in enumerate(vals):
            name = f"s{height + i}"
            if e.expr != name:
                lhs.append(name)
                rhs.append(e.expr)
        if lhs:
            self.emit(f"{', '.join(lhs)} = {', '.join(rhs)}")

    # -- control -------------------------------------------------------------------------

    def flush_effects_below(self, n: int) -> None:
        for i in range(len(self.stack) - n):
            if self.stack[i].eff:
                self.spill(i)
