"""The symbolic operand stack of the translator.

Between control-flow merges the operand stack is symbolic: each entry is a Python expression
(an :class:`Entry`) that is folded into its consumer. An entry is *spilled* into a temporary
only when something would change what it reads (a write of a local it reads), or when a side
effect must keep program order (entries that may trap or read mutable state are flushed before
any effectful statement). At merges entries get their slot names ``s<h>``.

Cost model (linear in the body): every operation costs O(its operands) plus O(1) per entry it
spills, because the stack keeps three indexes instead of rescanning itself:

* ``readers`` (``locals.py``): variable name -> the stack positions (with their entries)
  that read it, so a write spills exactly the entries that read the variable;
* ``effects``: the positions of effectful entries in push order (which is also stack order),
  consumed from the front, so flushing costs what is flushed;
* ``canonical``: the height below which every entry already is its slot ``s<h>`` or a literal,
  so entering a block canonicalises only what was pushed since the last merge.

Entries are registered in the indexes lazily (``sync``), the first time an index is read, so
visitors may still ``self.stack.append(entry)`` directly. Pops go through :meth:`take`;
replacing an entry in place goes through :meth:`set_entry`.

Control frames restore the entries below their height when their body is conditional (else
arm, loop exit): rather than copying the stack at each block entry (quadratic over a deep
stack), ``set_entry`` logs what it overwrites below the innermost frame (the ``trail``) and
:meth:`restore` undoes the log back to the frame's mark.
"""

from __future__ import annotations

from .locals import Placed, Readers

MAX_DEPTH = 24  # fold at most this many operators into one expression (parser limits)


class Entry:
    """A symbolic operand-stack entry."""

    __slots__ = ("bits", "cond", "const", "depth", "eff", "expr", "lin", "raw", "reads", "sexpr",
                 "sign", "wide")

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
        # An i32 chain of add/sub/mul/shl with literals over one value: ``(x, s, k)``, the
        # value is ``x * s + k`` mod 2**32 (``x`` a Python expression; visit_numeric.linear).
        self.lin: tuple[str, int, int] | None = None
        self.sexpr: str | None = None  # PyPy: the i64 value's signed form (signed64.py)
        # Python conditions "negative" and "non-negative" (as a signed i32/i64) cheaper than
        # a test of the value itself: a shift's operand's bit (visit_numeric.bit_test).
        self.sign: tuple[str, str] | None = None

    def spilled(self, t: str) -> tuple[str, Entry]:
        """The statement evaluating this entry into temporary ``t`` and the entry reading it
        (a v128 held as lanes spills lane by lane, see simd_lanes.py)."""
        return f"{t} = {self.expr}", var(t)


NO_READS = frozenset()


def var(name: str) -> Entry:
    return Entry(name, frozenset((name,)))


def lit(text: str) -> Entry:
    return Entry(text, const=True)


class OperandStack:
    """Mixin of the generator: the operand-stack operations (``self.stack`` is a list of
    :class:`Entry`; ``emit``/``temp`` come from the generator, ``ctrl`` from Control)."""

    stack: list[Entry]

    def init_stack(self) -> None:
        self.stack = []
        self.readers = Readers()  # variable -> entries reading it (locals.py)
        self.effects: list[Placed] = []  # effectful entries, stack order
        self.effects_head = 0  # effects[:effects_head] are consumed
        self.indexed = 0  # stack[:indexed] is registered in readers/effects
        self.canonical = 0  # stack[:canonical] are slots s<h> or literals
        self.trail: list[Placed] = []  # entries overwritten below the innermost frame

    # -- the indexes ----------------------------------------------------------------------

    def register(self, pos: int, e: Entry) -> None:
        rec = Placed(pos, e)
        if e.reads:
            self.readers.add(rec)
        if e.eff:
            self.effects.append(rec)

    def sync(self) -> None:
        """Register the entries pushed since the last sync."""
        stack = self.stack
        n = len(stack)
        for pos in range(min(self.indexed, n), n):
            self.register(pos, stack[pos])
        self.indexed = n

    def set_entry(self, j: int, e: Entry) -> None:
        """Replace stack entry j (logged for :meth:`restore` when below the innermost frame)."""
        stack = self.stack
        ctrl = self.ctrl
        if ctrl and j < ctrl[-1].height:
            self.trail.append(Placed(j, stack[j]))
        stack[j] = e
        self.canonical = min(self.canonical, j)
        if j < self.indexed:
            self.register(j, e)

    def restore(self, height: int, mark: int) -> None:
        """Truncate the stack to ``height`` and undo the entry replacements below it logged
        since ``mark`` (a conditional body's spills do not happen on the other paths)."""
        stack = self.stack
        del stack[height:]
        trail = self.trail
        low = height
        restored_eff = False
        while len(trail) > mark:
            pos, e = trail.pop()
            if pos < height:
                stack[pos] = e
                low = min(low, pos)
                restored_eff = restored_eff or e.eff
                if pos < self.indexed:
                    self.register(pos, e)
        self.indexed = min(self.indexed, height)
        self.canonical = min(self.canonical, low)
        if restored_eff:  # keep `effects` in stack order (rare: below-frame entries are slots)
            self.effects = [Placed(p, e) for p, e in enumerate(stack[: self.indexed]) if e.eff]
            self.effects_head = 0

    def is_live(self, rec: Placed) -> bool:
        stack = self.stack
        return rec.pos < len(stack) and stack[rec.pos] is rec.entry

    # -- spilling ---------------------------------------------------------------------------

    def spill_one(self, j: int) -> None:
        e = self.stack[j]
        if e.depth == 0 and not e.eff and (not e.reads or e.const):
            return
        t = self.temp()
        if e.sexpr is not None:  # PyPy: keep an i64's signed form (visit_signed64.py)
            self.emit(f"{t} = {e.sexpr}")
            ne = Entry(t if e.sexpr == e.expr else f"u64({t})", frozenset((t,)), depth=1)
            ne.sexpr = t
            self.set_entry(j, ne)
            return
        code, new = e.spilled(t)
        self.emit(code)
        self.set_entry(j, new)

    def spill(self, j: int) -> None:
        """Evaluate stack entry j into a temporary (earlier effectful entries first)."""
        if self.stack[j].eff:
            self.flush_effects_to(j)
        self.spill_one(j)

    def flush_effects_to(self, limit: int) -> None:
        """Spill the effectful entries below position ``limit``, in stack order."""
        self.sync()
        effects = self.effects
        h = self.effects_head
        while h < len(effects):
            rec = effects[h]
            if self.is_live(rec):
                if rec.pos >= limit:
                    break
                self.spill_one(rec.pos)
            h += 1
        if h == len(effects):
            effects.clear()
            h = 0
        self.effects_head = h

    def flush_effects(self) -> None:
        self.flush_effects_to(len(self.stack))

    def flush_effects_below(self, n: int) -> None:
        """Flush the effectful entries except the top ``n``."""
        self.flush_effects_to(len(self.stack) - n)

    def before_write(self, var: str) -> None:
        """Spill every entry that reads ``var`` (about to be overwritten)."""
        self.sync()
        for rec in self.readers.take(var):
            if self.is_live(rec):
                self.spill(rec.pos)

    def stmt(self, code: str, eff: bool, writes: tuple[str, ...] = ()) -> None:
        if eff:
            self.flush_effects()
        for w in writes:
            self.before_write(w)
        self.emit(code)

    # -- push and pop -----------------------------------------------------------------------

    def take(self, n: int, atoms: bool = False, ordered: bool = False) -> list[Entry]:
        """Pop n operands (push order). Too-deep ones are spilled first; ``atoms`` spills
        every compound; ``ordered`` spills effectful ones when more than one is effectful
        (for forms that Python evaluates out of operand order)."""
        stack = self.stack
        base = len(stack) - n
        if ordered and sum(e.eff for e in stack[base:]) > 1:
            for i in range(base, len(stack)):
                if stack[i].eff:
                    self.spill(i)
        for i in range(base, len(stack)):
            e = stack[i]
            if e.depth >= MAX_DEPTH or (atoms and e.depth):
                self.spill(i)
        ops = stack[base:]
        del stack[base:]
        self.indexed = min(self.indexed, base)
        self.canonical = min(self.canonical, base)
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

    # -- merges -----------------------------------------------------------------------------

    def canon(self, force_from: int) -> None:
        """Give every non-literal entry (every entry from ``force_from`` on) its slot s<h>.

        Only the part above the canonical prefix is visited (see the module docstring)."""
        stack = self.stack
        lhs, rhs = [], []
        for h in range(min(self.canonical, force_from, len(stack)), len(stack)):
            e = stack[h]
            name = f"s{h}"
            if e.expr == name or (e.const and h < force_from):
                continue
            lhs.append(name)
            rhs.append(e.expr)
            self.set_entry(h, var(name))
        if lhs:
            self.emit(f"{', '.join(lhs)} = {', '.join(rhs)}")
        self.canonical = len(stack)

    def assign_slots(self, height: int, vals: list[Entry]) -> None:
        lhs, rhs = [], []
        for i, e in enumerate(vals):
            name = f"s{height + i}"
            if e.expr != name:
                lhs.append(name)
                rhs.append(e.expr)
        if lhs:
            self.emit(f"{', '.join(lhs)} = {', '.join(rhs)}")
