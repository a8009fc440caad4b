"""Structured control flow of the translator: frames, blocks, loops, ifs, branches.

``block``/``loop``/``if`` become ``while True:`` loops (only when targeted by a branch) and
``if``/``else``; a branch out of several levels at once sets a label variable checked after
each loop. A block whose end only branches reach has its following code emitted at those
branches instead (inline exits, ``switch.py``: C switches and if/else shapes). Functions nested beyond CPython's static limits use the flat form: basic blocks
guarded by ``if pc <= <index>:`` inside one ``while True:``, where a jump is
``pc = i; continue``.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from types import MappingProxyType
from typing import Any, NamedTuple

from .ops import block_arity
from .stack import Entry, var
from .switch import COPY_BUDGET, MAX_COPY, TAIL_BARRIERS, InlineBudget, Shape, inline_exits

MAX_PY_LOOPS = 17  # CPython: 20 statically nested blocks (the try takes one)
MAX_INDENT = 80  # CPython: 100 indentation levels

#: A br_table with at most this many runs of equal labels (or one run per target) becomes a
#: bisection of ``if``s over the index; a larger one selects among its distinct targets
#: through a constant table.
BR_TABLE_RUNS = 16


class Run(NamedTuple):
    """A run of equal ``br_table`` labels starting at index ``first``."""

    first: int
    label: int


class ForLoop(NamedTuple):
    """A counted loop being translated (``Frame.for_``)."""

    var: str  # the counter's Python name
    bound: str  # Python text of the bound
    step: str  # Python text of the step
    mask: int  # the counter's width mask
    mark: int  # the generator's line count after the ``for`` header
    writes: frozenset  # locals the body writes
    prelude: list[str]  # hoisted invariants, placed before the header


class Frame:
    """A control construct being translated."""

    __slots__ = (
        "branched",
        "breaks_out",
        "catches",
        "dead",
        "defer",
        "else_",
        "end",
        "exits",
        "for_",
        "handler",
        "has_else",
        "height",
        "id",
        "kind",
        "mark",
        "nparams",
        "nresults",
        "params",
        "pyloop",
        "start",
        "tail",
        "targeted",
        "then_live",
        "try_mark",
    )

    def __init__(self, kind: str, start: int) -> None:
        self.kind = kind
        self.start = start
        self.nparams = self.nresults = self.height = 0
        self.mark = 0  # the generator's trail length at entry (see OperandStack.restore)
        self.params: list[Entry] = []
        self.targeted = self.pyloop = self.branched = self.then_live = False
        self.has_else = self.dead = self.breaks_out = False
        self.defer = False  # an if whose arms place the function's fuel charge (see pay)
        self.exits: set[int] = set()
        self.end = self.else_ = -1
        self.id = 0
        self.for_: ForLoop | None = None
        self.catches: tuple = ()  # try_table: its catch clauses
        self.try_mark = 0  # try_table: the generator's mark of its ``try:`` suite
        self.handler: Any = None  # a legacy try: its handler's state (visit_legacy.py)
        self.tail: Frame | None = None  # a loop: the block whose tail it copies (tail_of)


class BodyFacts(NamedTuple):
    """What one pass over a body finds (see :func:`scan`)."""

    ends: dict[int, int]  # block/loop/if start -> its end
    elses: dict[int, int]  # if start -> its else
    targeted: set[int]  # starts of the constructs some branch targets
    max_loops: int  # static nesting of Python loops in the structured form
    max_indent: int  # static indentation of the structured form
    costs: dict[int, int]  # loop start -> fuel of one iteration (see scan)
    entry_cost: int  # fuel charged once per invocation (see scan)
    # Legacy ``delegate``: instruction index -> the handler region its exceptions go to
    # (the start of a try / try_table whose handler catches them, -1: the caller).
    delegates: Mapping[int, int] = MappingProxyType({})
    #: Starts of the constructs holding a call, a loop or a handler (see scan).
    triggered: AbstractSet[int] = frozenset()
    last_trigger: int = -1  # index of the last call, loop, try_table or try (-1: none)
    #: Blocks whose exits are translated at their br_table (switch.py); not in ``targeted``.
    inline: AbstractSet[int] = frozenset()


class _Open(NamedTuple):
    """A construct being scanned."""

    start: int
    kind: str
    sub: list[int]  # [max Python loops, max indentation, holds a call or loop] of its body
    count: list[int] | None  # instruction counter of a loop (its fuel), else None
    # Where an exception thrown directly inside goes: the start of the innermost try (in
    # its body) / try_table around it, -1 for the caller (legacy ``delegate``'s target).
    region: list[int]


#: Instructions that may run unbounded work (a call's callee, a loop's iterations): a fuel
#: charge must come before them on every path (see ``scan`` and ``Control.place_charge``).
CALLS = frozenset(("call", "call_indirect", "call_ref",
                   "return_call", "return_call_indirect", "return_call_ref"))
_CHARGED = ("loop", "for", "try_table", "try")


def scan(instrs: list, inline: AbstractSet[int] = frozenset()) -> BodyFacts:
    """One pass over a body: match block starts with their else/end, find branch targets,
    measure the structured form's nesting, count the fuel of each loop iteration, and find
    the constructs that hold a call or a loop.

    Fuel cost model (docs/untrusted.md): an invocation costs ``entry_cost``, the number of
    the body's instructions outside loops, and each loop iteration the number of the loop's
    instructions outside nested loops (its ``end`` included); both count untaken ``if`` arms
    too (an upper bound fixed at translation, like wasmtime's per-block fuel). The entry
    charge is paid at most once per invocation, before its first call, loop, ``try_table``
    or legacy ``try`` (see ``Control.place_charge``); an invocation that returns (or traps)
    without reaching one is charged only when its path ran into code holding one that it
    then skipped (a branch over it). A free invocation ran at most its body's
    instructions once, as the callee of a charged call or from the host. Every nesting fact
    is known at a construct's ``end``, since every branch to a construct lies inside it.

    A body with exits to inline (switch.py) that looks too deep for the structured form is
    scanned a second time, with those blocks (``inline``) measured as the plain code they
    become.
    """
    ends: dict[int, int] = {}
    elses: dict[int, int] = {}
    targeted: set[int] = set()
    triggered: set[int] = set()
    last_trigger = -1
    costs: dict[int, int] = {}
    entry = [0]
    delegates: dict[int, int] = {}
    func = _Open(-1, "func", [0, 0, 0], entry, [-1])
    opened: list[_Open] = [func]
    counters = [entry]  # the counters of the enclosing loops, innermost last
    counter = entry
    shape = Shape({-1: "func"}, {}, {}, set(), {}, {})  # for switch.inline_exits
    kinds, parents, sources, inner = shape.kinds, shape.parent, shape.sources, shape.inner
    last = shape.last

    def hit(depth: int, i: int) -> None:
        if depth < len(opened):
            start = opened[-1 - depth].start
            targeted.add(start)
            sites = sources.setdefault(start, [])
            if not sites or sites[-1] != i:
                sites.append(i)

    for i, (op, imm) in enumerate(instrs):
        counter[0] += 1
        name = op.name
        if name in CALLS:
            opened[-1].sub[2] = 1
            last_trigger = i
        elif name == "try_table":  # catch labels count from outside the try_table
            for catch in imm[1]:
                if catch.label < len(opened):
                    targeted.add(opened[-1 - catch.label].start)
                    shape.blocked.add(opened[-1 - catch.label].start)
        if name in ("block", "loop", "if", "for", "try_table", "try"):
            if name in _CHARGED:
                opened[-1].sub[2] = 1
                last_trigger = i
            kinds[i] = name
            parents[i] = opened[-1].start
            last[opened[-1].start] = i
            count = [0] if name in ("loop", "for") else None
            handler = name == "try_table" or name == "try"
            region = [i] if handler else [opened[-1].region[0]]
            opened.append(_Open(i, name, [0, 0, 0], count, region))
            if count is not None:
                counters.append(count)
                counter = count
        elif name == "else":
            elses[opened[-1].start] = i
        elif name == "catch" or name == "catch_all":
            # a catch body is no longer covered by its try's handler
            opened[-1].region[0] = opened[-2].region[0]
        elif name == "end" or name == "delegate":
            fr = opened.pop()
            ends[fr.start] = i
            if not opened:
                break
            if name == "delegate" and imm < len(opened):
                delegates[i] = opened[-1 - imm].region[0]
            loop = (fr.start in targeted and fr.start not in inline) or fr.kind == "for"
            # try_table: its try: is one more static block; a legacy try's handler bodies
            # sit in an ``except ... as`` (two blocks) and an if/elif arm
            handler = 1 if fr.kind == "try_table" else 2 if fr.kind == "try" else 0
            loops = fr.sub[0] + loop + handler
            indent = fr.sub[1] + loop + (fr.kind == "if") + handler
            parent = opened[-1].sub
            parent[0] = max(parent[0], loops)
            parent[1] = max(parent[1], indent)
            if fr.sub[2]:
                triggered.add(fr.start)
                parent[2] = 1
            if fr.count is not None:
                costs[fr.start] = fr.count[0]
                counters.pop()
                counter = counters[-1]
        elif name == "br" or name == "br_if":
            hit(imm, i)
            inner[i] = opened[-1].start
        elif name in ("br_on_null", "br_on_non_null") or name in _CASTS:
            depth = imm if isinstance(imm, int) else imm[0]  # GC: imm = (label, rt1, rt2)
            if depth < len(opened):
                targeted.add(opened[-1 - depth].start)
                shape.blocked.add(opened[-1 - depth].start)
        elif name == "br_table":
            for lab in (*imm[0], imm[1]):
                hit(lab, i)
            inner[i] = opened[-1].start
    facts = BodyFacts(ends, elses, targeted, func.sub[0], func.sub[1], costs, entry[0],
                      delegates, triggered, last_trigger)
    if sources and not inline:
        found = inline_exits(instrs, shape, ends, elses, targeted)
        if found:
            # Measured again only when the form chosen may change (counting the inlined
            # blocks as loops overestimates the nesting).
            if facts.max_loops > MAX_PY_LOOPS or facts.max_indent > MAX_INDENT:
                facts = scan(instrs, found)
            return facts._replace(targeted=targeted - found, inline=found)
    return facts


#: GC branches (custom descriptors: the _desc_eq forms) with imm = (label, rt1, rt2).
_CASTS = frozenset(("br_on_cast", "br_on_cast_fail", "br_on_cast_desc_eq",
                    "br_on_cast_desc_eq_fail"))


class Control:
    """Mixin of the generator: control frames and the visitors of control instructions."""

    inline: AbstractSet[int] = frozenset()  # blocks whose exits are inlined (switch.py)
    copied = 0  # operands saved around inline exits so far (switch.COPY_BUDGET)

    def blocktype(self, bt: Any) -> tuple[int, int]:
        return block_arity(self.info, bt)

    def new_frame(self, kind: str, idx: int, bt: Any) -> Frame:
        fr = Frame(kind, idx)
        self.nframe += 1
        fr.id = self.nframe
        fr.nparams, fr.nresults = self.blocktype(bt)
        fr.targeted = idx in self.targeted
        fr.end = self.ends.get(idx, -1)
        fr.else_ = self.elses.get(idx, -1)
        return fr

    def results_to_stack(self, fr: Frame) -> None:
        self.restore(fr.height, fr.mark)
        self.stack.extend(var(f"s{fr.height + i}") for i in range(fr.nresults))

    def bb(self, idx: int) -> None:
        """Flat mode: start a basic block (a jump target at instruction ``idx``)."""
        self.ind = 4
        self.emit(f"if pc <= {idx}:")
        self.ind = 5
        self.emit("pass")

    def do_block(self, idx: int, bt: Any, kind: str) -> None:
        fr = self.new_frame(kind, idx, bt)
        if kind == "if":
            fr.defer, self.defer_if = self.defer_if, False
        cond = None
        if fr.targeted or kind == "if":
            if kind == "if":
                cond = self.take(1)[0]
                if cond.eff:
                    self.flush_effects()
            self.canon(len(self.stack) - fr.nparams if kind != "block" else len(self.stack))
        fr.height = len(self.stack) - fr.nparams
        fr.mark = len(self.trail)
        fr.params = self.stack[fr.height :]
        self.ctrl.append(fr)
        if self.flat:
            if kind == "loop" and fr.targeted:
                self.bb(idx)
            if kind == "loop":
                self.meter_loop(idx)
            elif kind == "if":
                target = fr.else_ if fr.else_ >= 0 else fr.end
                self.emit(f"if not {self.cond_of(cond)}:")
                self.emit(f"    pc = {target}")
                self.emit("    continue")
            return
        if fr.targeted:
            fr.pyloop = True
            self.open("while True:")
            self.pyloops.append(fr)
            if kind == "loop":
                fr.tail = self.tail_of(fr)
        if kind == "loop":
            self.meter_loop(idx)
        if kind == "if":
            self.if_marks.append(self.open(f"if {self.cond_of(cond)}:"))

    def returns_from(self, fr: Frame) -> bool:
        """An ``if``/``else`` whose results are the function's, right before its end: each
        arm returns directly (measured: fib 1.6x -> 1.35x, no merge slot)."""
        return (
            not self.flat
            and fr.kind == "if"
            and fr.else_ >= 0
            and not fr.targeted
            and fr.height == 0
            and fr.nresults == len(self.ftype.results) > 0
            and fr.end + 2 == len(self.instrs)
            and self.ctrl[0].kind == "func"
            and len(self.ctrl) == (2 if self.ctrl[-1] is fr else 1)
        )

    def do_else(self) -> None:
        fr = self.ctrl[-1]
        if self.live and self.returns_from(fr):
            self.do_return()
            self.live = False
        if self.live and fr.defer and self.last_trigger > fr.end:
            self.pay()
        if self.live:
            self.assign_slots(fr.height, self.stack[fr.height :])
        fr.then_live = self.live
        fr.has_else = True
        if self.flat:
            if self.live:
                self.emit(f"pc = {fr.end}")
                self.emit("continue")
            self.bb(fr.else_)
        else:
            self.close(self.if_marks.pop())
            self.if_marks.append(self.open("else:"))
        self.restore(fr.height, fr.mark)
        self.stack.extend(fr.params)
        self.live = True
        if fr.defer:  # the else arm starts as the if did: not charged yet
            self.unpaid = True

    def do_for(self, idx: int, imm: tuple[int, str, str, int, frozenset]) -> None:
        """Open a counted loop (see ``counted_loops``): ``for i in range(i, X, step)``."""
        fr = self.new_frame("for", idx, None)
        self.canon(len(self.stack))
        fr.height = len(self.stack)
        fr.mark = len(self.trail)
        fr.targeted = fr.pyloop = True
        self.ctrl.append(fr)
        counter, bound, step, mask, writes = imm
        var = f"l{counter}"
        if step == "1" or (bound.isdigit() and step.isdigit() and int(bound) + int(step) <= mask + 1):
            # No wrap-around possible: a plain range.
            rng = f"range({var}, {bound})" if step == "1" else f"range({var}, {bound}, {step})"
        else:
            rng = f"crange({var}, {bound}, {step}, {mask:#x})"
        if self.options.fuel:
            # Fuel for every iteration up front (a plain range, enough fuel), refunded on an
            # early exit (see ``refund``); otherwise charged per iteration by the iterator.
            fuel = self.bind("FUEL", "rt.fuel")
            rng = f"(R{fr.id} := fuel_range({fuel}, {self.facts.costs.get(idx, 1)}, {rng}))"
        if self.options.epoch:
            # The interrupt flag is polled between chunks of iterations (C-level iteration
            # inside a chunk), not in every iteration; see numerics.epoch_range.
            rng = f"epoch_range({self.bind('INTR', 'rt.interrupt')}, {rng})"
        mark = self.open(f"for {var} in {rng}:")
        fr.for_ = ForLoop(var, bound, step, mask, mark, writes, [])
        self.pyloops.append(fr)

    def hoist(self) -> None:
        """Move the pure integer expression on top of the stack out of the enclosing counted
        loops whose bodies write none of the locals it reads (measured: matmul's inner loop
        keeps one multiplication less, 215 -> 200 ns per iteration)."""
        top = self.stack[-1]
        if top.eff or not top.depth or self.flat:
            return
        target = -1
        for p in range(len(self.pyloops) - 1, -1, -1):
            fr = self.pyloops[p]
            if fr.kind != "for" or not all(self.invariant(r, fr.for_.writes, p) for r in top.reads):
                break
            target = p
        if target < 0:
            return
        fr = self.pyloops[target]
        header = self.lines[fr.for_.mark - 1]
        name = f"h{len(self.hoisted)}"
        self.hoisted[name] = target
        indent = header[: len(header) - len(header.lstrip())]
        fr.for_.prelude.append(f"{indent}{name} = {top.expr}")
        self.set_entry(len(self.stack) - 1, var(name))

    def invariant(self, name: str, writes: frozenset, level: int) -> bool:
        if name in self.hoisted:
            return self.hoisted[name] <= level
        return name[0] == "l" and name not in writes

    def end_for(self, fr: Frame) -> None:
        """Close a counted loop; on exhaustion the counter takes its first value >= X."""
        var, bound, step, mask, mark, _, prelude = fr.for_
        if prelude:  # hoisted invariants, evaluated on each entry to the loop
            self.lines[mark - 1] = "\n".join([*prelude, self.lines[mark - 1]])
        self.close(mark)
        nxt = f"{var} + {step}" if step == "1" else f"({var} + {step}) & {mask:#x}"
        self.emit("else:")
        self.emit(f"    if {var} < {bound}:")
        self.emit(f"        {var} = {nxt}")
        self.ind += 1
        self.close_pyloop(fr)
        self.restore(fr.height, fr.mark)
        self.live = True

    def do_end(self) -> None:
        fr = self.ctrl.pop()
        kind = fr.kind
        if kind == "for":
            self.end_for(fr)
            return
        if kind == "func":
            if self.live:
                self.do_return()
            return
        if kind == "try_table":
            self.end_try(fr)
            return
        if kind == "try":
            self.end_legacy_try(fr)
            return
        if kind == "if":
            if self.live and self.returns_from(fr):
                self.do_return()
                fr.then_live = self.live = False
            if fr.defer and self.last_trigger > fr.end:  # what follows may call: every
                if self.live:  # path that goes on has paid in its arm
                    self.pay()
                self.unpaid = False
            if self.live:
                self.assign_slots(fr.height, self.stack[fr.height :])
            live = fr.then_live or self.live or fr.branched if fr.has_else else True
            if self.flat:
                self.bb(fr.end)
            else:
                self.close(self.if_marks.pop())
                if fr.pyloop:
                    if live:
                        self.emit("break")
                    self.close_pyloop(fr)
            self.results_to_stack(fr)
            self.live = live
            return
        if not fr.targeted:  # no Python construct: the stack just flows on
            return
        if kind == "block":
            if self.live:
                self.assign_slots(fr.height, self.stack[fr.height :])
            live = self.live or fr.branched
            if self.flat:
                self.bb(fr.end)
            else:
                if self.live:
                    self.emit("break")
                self.close_pyloop(fr)
            self.results_to_stack(fr)
            self.live = live
            return
        # targeted loop
        if self.flat:
            return
        if self.live:
            self.assign_slots(fr.height, self.stack[fr.height :])
            if fr.tail is not None:
                self.copy_tail(fr)
            self.emit("break")
        # Past a loop only its fallthrough (values now in slots) or a plain break out of it
        # (breaks_out: no values) arrives; what dead code left on the stack must not be read.
        self.results_to_stack(fr)
        self.close_pyloop(fr)
        self.live = self.live or fr.breaks_out
        if fr.tail is not None and self.live:  # the tail ran at each exit: leave the block
            fr.tail.branched = True
            self.emit("break")
            self.live = False

    def close_pyloop(self, fr: Frame) -> None:
        self.ind -= 1
        self.pyloops.pop()
        if not fr.exits:
            return
        outer = self.pyloops[-1]
        mark = self.open("if lab:")
        further = fr.exits - {outer.id}
        if outer.id in fr.exits:
            if further:
                self.emit(f"if lab == {outer.id}:")
                self.ind += 1
            self.emit("lab = 0")  # the only label crossing this loop: no comparison
            self.emit("continue" if outer.kind == "loop" else "break")
            if further:
                self.ind -= 1
        if further:
            outer.exits |= further
            self.emit("break")
        self.close(mark)

    def branch(self, depth: int) -> None:
        """Jump to the label ``depth`` levels out (values are on top of the stack)."""
        target = self.ctrl[-1 - depth]
        if target.kind == "func":
            self.do_return()
            return
        if self.unpaid and target.defer and self.last_trigger > target.end:  # as at its end
            for line in self.meter(self.facts.entry_cost):
                self.emit(line)
        target.branched = True
        n = target.nparams if target.kind == "loop" else target.nresults
        vals = self.stack[len(self.stack) - n :] if n else []
        self.assign_slots(target.height, vals)
        self.refund(target)
        if self.flat:
            self.emit(f"pc = {target.start if target.kind == 'loop' else target.end}")
            self.emit("continue")
            return
        inner = self.pyloops[-1]
        if inner is target:
            self.emit("continue" if target.kind == "loop" else "break")
            return
        if inner.tail is target:  # leaving the loop skips its tail, copied at its exits
            inner.breaks_out = True
            self.emit("break")
            return
        if (
            target.kind == "block"
            and inner.kind == "loop"
            and len(self.pyloops) > 1
            and self.pyloops[-2] is target
            and inner.end + 1 == target.end
            and not target.nresults
            and not inner.nresults
        ):
            # `block { ...; loop { br_if 1 } }`: leaving the loop reaches the block's end
            # directly, so a plain break does it (no label variable on the loop exit).
            inner.breaks_out = True
            self.emit("break")
            return
        self.uses_lab = True
        self.emit(f"lab = {target.id}")
        self.emit("break")
        for p in reversed(self.pyloops):
            if p is target:
                break
            p.exits.add(target.id)

    # -- placement of the invocation's fuel charge (see scan) ------------------------------

    def place_charge(self, idx: int, name: str) -> None:
        """Before instruction ``idx``, on a path that has not paid the invocation's charge
        (``unpaid``): pay now before a call, a loop, a ``try_table`` or a legacy ``try``
        (the *triggers*).
        A block or ``if`` without triggers leaves the path unpaid, and so does one after
        which no trigger follows (``last_trigger``): its paths pay at the triggers they
        reach. Before an ``if`` with an ``else`` holding triggers, each arm pays
        (``Frame.defer``): at its first trigger, or at its end when it goes on past the
        ``if``; so does a branch to the ``if``'s end (``branch``). Otherwise (a block, an
        ``if`` without ``else``, holding triggers, followed by more) pay before it.

        Unpaid paths never run inside a loop, so they only move forward: a point after
        ``last_trigger`` needs no charge, since no trigger can follow it."""
        if name in ("block", "if"):
            if idx not in self.triggered:
                return
            end = self.ends.get(idx, -1)
            if name == "if" and (idx in self.elses or self.last_trigger < end):
                self.defer_if = True
                return
            if self.last_trigger < end:
                return
        self.pay()

    def pay(self) -> None:
        """Charge the invocation here, if this path has not yet."""
        if self.unpaid:
            for line in self.meter(self.facts.entry_cost):
                self.emit(line)
            self.unpaid = False

    def refund(self, target: Frame | None) -> None:
        """Give back the fuel charged up front for the iterations that the counted loops
        left before ``target`` (None: all, a return) will not run."""
        if not self.options.fuel:
            return
        for p in reversed(self.pyloops):
            if p is target:
                break
            if p.kind == "for":
                cost = self.facts.costs.get(p.start, 1)
                self.emit(f"fuel_refund(FUEL, {cost}, R{p.id}, {p.for_.var})")

    def do_return(self) -> None:
        n = len(self.ftype.results)
        self.flush_effects_below(n)
        vals = self.stack[len(self.stack) - n :] if n else []
        self.refund(None)
        if n == 0:
            self.emit("return")
        elif n == 1:
            self.emit(f"return {vals[0].expr}")
        else:
            self.emit(f"return ({', '.join(v.expr for v in vals)},)")

    def do_br_table(self, imm: tuple) -> None:
        idx = self.take(1)[0]
        self.flush_effects()
        if idx.depth:
            t = self.temp()
            self.emit(f"{t} = {idx.expr}")
            key = t
        else:
            key = idx.expr
        labels, default = imm
        runs: list[Run] = []  # maximal runs of equal labels, then the default
        for i, lab in enumerate(labels):
            if not runs or runs[-1].label != lab:
                runs.append(Run(i, lab))
        if not runs or runs[-1].label != default:
            runs.append(Run(len(labels), default))
        targets = list(dict.fromkeys([*labels, default]))
        inline = self.inline and any(self.ctrl[-1 - lab].start in self.inline for lab in targets)
        # Bisecting the runs directly when each target has one run (a mapping would not
        # shorten it: measured, vm.O2's dispatch of 19 cases saves the table subscript).
        if len(runs) == len(targets) or (len(runs) <= BR_TABLE_RUNS and not inline):
            paid = self.bisect(key, runs, 0, len(runs))
        else:
            # Each distinct target's branch code once (a table alternating between two
            # labels costs two branches, not one per entry; an inline exit's code must
            # appear once), selected through a constant mapping index -> target ordinal.
            ordinal = {lab: k for k, lab in enumerate(targets)}
            mapping = [ordinal[lab] for lab in labels]
            table = self.const(bytes(mapping) if len(targets) <= 256 else tuple(mapping), "BT")
            sel = self.temp()
            self.emit(f"{sel} = {table}[{key}] if {key} < {len(labels)} else {ordinal[default]}")
            paid = self.bisect(sel, [Run(k, lab) for k, lab in enumerate(targets)], 0,
                               len(targets))
        if paid:  # as if the segments followed one another: paid once one of them paid
            self.unpaid = False

    def bisect(self, key: str, runs: list[Run], lo: int, hi: int) -> bool:
        """Branch to the label of the run of ``runs[lo:hi]`` that contains ``key`` (True:
        an inline exit paid the fuel)."""
        if hi - lo == 1:
            return self.exit_to(runs[lo].label)
        mid = (lo + hi) // 2
        mark = self.open(f"if {key} < {runs[mid].first}:")
        paid = self.bisect(key, runs, lo, mid)
        self.close(mark)
        mark = self.open("else:")
        paid = self.bisect(key, runs, mid, hi) or paid
        self.close(mark)
        return paid

    def exit_to(self, depth: int) -> bool:
        """A branch to the label ``depth`` levels out: its target's code in place when the
        exit is inlined (switch.py), else a branch. True when that code paid the fuel."""
        if self.ctrl[-1 - depth].start in self.inline:
            return self.inline_exit(depth)
        self.branch(depth)
        return False

    def inline_exit(self, depth: int) -> bool:
        """Translate, here, the segment that follows the end of the block ``depth`` levels
        out (switch.py): with that block's results on the stack and the constructs
        enclosing it as the control stack, as it would run after the branch.

        The frames between are blocks without Python loops, so the Python nesting here is
        the segment's own. The segment ends unconditionally or by falling into its parent's
        end (a return, a branch to that block); afterwards the generator state
        of the br_table is reinstated for its other exits: the control stack, the operands
        above the segment's parent (saved) and those below it (the trail), the fuel flag
        (``unpaid`` is the branch's for each exit). True when the segment paid the fuel."""
        ctrl = self.ctrl
        pos = len(ctrl) - 1 - depth
        fr, parent = ctrl[pos], ctrl[pos - 1]
        floor = parent.height
        saved = self.stack[floor:]
        self.copied += len(saved)
        if self.copied > COPY_BUDGET * len(self.instrs):
            raise InlineBudget("inline exits: too many operands to save")
        mark = len(self.trail)
        unpaid = self.unpaid
        inner = ctrl[pos:]
        vals = self.stack[len(self.stack) - fr.nresults :] if fr.nresults else []
        del ctrl[pos:]
        self.restore(fr.height, mark)
        self.stack.extend(vals)
        self.live = True
        self.forget_known_memory()
        stop = self.elses.get(parent.start, -1)
        if parent.kind != "if" or stop < fr.end:
            stop = parent.end if parent.kind != "func" else len(self.instrs) - 1
        self.walk(fr.end + 1, stop)
        if self.live:
            self.fall_out(parent)
        self.forget_known_memory()
        ctrl.extend(inner)
        self.restore(floor, mark)
        self.stack.extend(saved)
        paid = unpaid and not self.unpaid
        self.unpaid = unpaid
        self.live = True  # the branch's own path (a br_if's fall-through) goes on
        return paid

    def tail_of(self, fr: Frame) -> Frame | None:
        """The block whose Python loop directly encloses loop ``fr`` when the code between
        the two ends (the *tail*) is short straight-line code without control (at most
        switch.MAX_COPY instructions) and neither has a type: a branch from the loop to
        that block then is a plain ``break`` (no label variable), the tail being copied
        at each of the loop's exits instead (``copy_tail``)."""
        if fr.nparams or fr.nresults or len(self.pyloops) < 2:
            return None
        block = self.pyloops[-2]
        if (block.kind != "block" or block.nresults or self.ctrl[-2] is not block
                or not fr.end < block.end - 1 <= fr.end + MAX_COPY):
            return None
        for op, _ in self.instrs[fr.end + 1 : block.end]:
            if op.name in TAIL_BARRIERS:
                return None
        return block

    def copy_tail(self, loop: Frame) -> None:
        """At an exit of ``loop`` (its end, or an inline segment falling into it): its
        tail's code (see tail_of), translated here with the block's stack; the generator
        state is reinstated afterwards, as around an inline exit."""
        block = loop.tail
        ctrl = self.ctrl
        pos = len(ctrl) - 1 if ctrl[-1] is loop else len(ctrl)
        inner = ctrl[pos:]
        del ctrl[pos:]
        floor = block.height
        saved = self.stack[floor:]
        mark = len(self.trail)
        self.restore(loop.height, mark)
        live, unpaid = self.live, self.unpaid
        self.forget_known_memory()
        self.walk(loop.end + 1, block.end)
        self.forget_known_memory()
        ctrl.extend(inner)
        self.restore(floor, mark)
        self.stack.extend(saved)
        self.live, self.unpaid = live, unpaid

    def forget_known_memory(self) -> None:
        """Inline segments are translated out of instruction order, copies repeat the same
        instructions: what memory forwarding (visit_memory.py, which trusts instruction
        windows) learnt in one place must not reach another, nor grouped loads
        (load_groups.py) read in one place be used in another."""
        known = getattr(self, "_known", None)
        if known:
            known.clear()
        self._into = None
        groups = getattr(self, "_groups", None)
        if groups:  # a copy reads its own groups (no group spans a branch or an end)
            groups.clear()

    def fall_out(self, parent: Frame) -> None:
        """An inline segment falls into its parent's end (switch.inline_exits): the
        function returns, the parent's own inline exit follows, or the parent's Python loop
        is left (a loop: a plain break, it has no results)."""
        if parent.kind == "func":
            self.do_return()
        else:
            self.flush_effects()  # program order, as before any branch
            if parent.start in self.inline:
                if self.exit_to(0):
                    self.unpaid = False
            elif parent.kind == "loop":
                parent.breaks_out = True
                if parent.tail is not None:
                    self.copy_tail(parent)
                self.emit("break")
            else:
                self.branch(0)
        self.live = False

    # -- the body ------------------------------------------------------------------------

    def h_nop(self, idx: int, op: Any, imm: Any) -> None:
        pass

    def h_unreachable(self, idx: int, op: Any, imm: Any) -> None:
        self.flush_effects()
        self.emit('raise Trap("unreachable")')
        self.live = False

    def h_block(self, idx: int, op: Any, imm: Any) -> None:
        self.do_block(idx, imm, op.name)

    def h_for(self, idx: int, op: Any, imm: Any) -> None:
        self.do_for(idx, imm)

    def h_else(self, idx: int, op: Any, imm: Any) -> None:
        self.do_else()

    def h_end(self, idx: int, op: Any, imm: Any) -> None:
        self.do_end()

    def h_br(self, idx: int, op: Any, imm: int) -> None:
        self.flush_effects()
        if self.exit_to(imm):
            self.unpaid = False  # as if the inline segment followed
        self.live = False

    def h_br_if(self, idx: int, op: Any, imm: int) -> None:
        (c,) = self.take(1)
        self.flush_effects()
        mark = self.open(f"if {self.cond_of(c)}:")
        self.exit_to(imm)  # the fall-through has not run an inline segment (or paid)
        self.close(mark)

    def h_br_table(self, idx: int, op: Any, imm: Any) -> None:
        self.do_br_table(imm)
        self.live = False

    def h_return(self, idx: int, op: Any, imm: Any) -> None:
        self.do_return()
        self.live = False


HANDLERS = {
    "unreachable": "h_unreachable",
    "nop": "h_nop",
    "block": "h_block",
    "loop": "h_block",
    "if": "h_block",
    "for": "h_for",
    "else": "h_else",
    "end": "h_end",
    "br": "h_br",
    "br_if": "h_br_if",
    "br_table": "h_br_table",
    "return": "h_return",
}
