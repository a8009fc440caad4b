"""Visitors of the legacy exception handling: try / catch / catch_all / delegate / rethrow.

Legacy exception handling (the ``legacy_exceptions`` feature) is the phase-3 proposal that
Wasm 3.0 replaced by ``try_table``; browsers still run it. It translates with the machinery
of ``try_table`` (visit_exceptions.py): the entries below the block get their slots at entry,
the body runs in a Python ``try:``, and the handler resumes from the state at entry.

``try bt ... catch x ... catch_all ... end``::

    try:                                  # (inside ``while True:`` when a branch targets it)
        <body>; s<h>.. = results
    except WasmException as x<id>:
        if x<id>.tag is TAG<x>:           # the catch clauses in order: an if/elif chain
            t1, t2, = x<id>.values        # the tag's payload starts the handler body
            <catch body>; s<h>.. = results
        else:
            <catch_all body>              # or ``raise`` without catch_all

``rethrow l`` re-raises ``x<id>`` of the try named by label ``l`` (its traceback dropped,
its identity kept, as ``throw_ref``): the handler bodies are inside the ``except`` clause,
where the name is bound.

``try bt ... delegate l`` hands an exception of its body to the handler of label ``l``, which
must not be seen by the handlers in between: the ``except`` clause raises a ``Delegation``
(not a WasmException, so no wasm handler catches it) naming the *handler region* the label
lies in: the innermost try body or try_table around the label (block, loop, if and handler
bodies catch nothing, so a label of theirs is the same as that region), or -1 for the caller.
The try / try_table of that region also catches ``Delegation`` and takes out the exception
when it is its own (else passes the Delegation on); for -1, the function's body is wrapped in
``except Delegation`` (``assemble``). ``scan`` finds the regions (``BodyFacts.delegates``).

The flat translation (very deeply nested functions: basic blocks in one ``while True:``,
see control.py) has no Python ``try`` per construct. There a try's body is a *region*: the
instruction interval from the try to its first clause (or end / delegate), entered with
``pc = <try index>``; every point where ``pc`` is set (jump targets, region boundaries) lies
in the same region as the code that runs until the next one. One handler around the
dispatch loop (``with_flat_handlers``) finds the innermost region holding ``pc`` and walks
outward: a try's catch clauses (tag identity, in order) bind ``x<id>`` (for rethrow) and
``xv`` (the payload, unpacked by the handler body's first line) and jump to the handler
body's basic block; a try without a match passes to its parent region, a try-delegate to its
delegate's region; no region left: re-raised. No Delegation is raised in this form.
``try_table`` is not supported there (ImplementationLimitError).

A tail call inside a legacy try's body or handlers trampolines as in a try_table
(``try_depth``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..binary.module import CATCH_ALL, CATCH_REF
from ..errors import WasmException
from .stack import var


class Delegation(Exception):
    """A wasm exception on its way from a ``delegate`` to the handler region ``target``
    (a try / try_table start, -1 for the caller) past the handlers in between."""

    __slots__ = ("exc", "target")

    def __init__(self, exc: WasmException, target: int) -> None:
        super().__init__()
        self.exc = exc
        self.target = target


def delegated(caught: Any, region: int) -> WasmException:
    """What the handler of ``region`` caught: a wasm exception, or a Delegation, which is
    its own when it names ``region`` (else it passes on, raised again)."""
    if caught.__class__ is Delegation:
        if caught.target != region:
            raise caught
        return caught.exc.with_traceback(None)
    return caught


HELPERS = {"Delegation": Delegation, "delegated": delegated}


@dataclass
class FlatRegion:
    """The body of a legacy try in the flat translation: instructions [start, stop)."""

    start: int
    parent: int  # the enclosing region's start, -1: the caller
    exc: str  # the local that holds the caught exception (for rethrow)
    stop: int = -1
    #: (tag index or None for catch_all, the statements run on a match: they end in a jump)
    clauses: list = field(default_factory=list)
    delegate: int | None = None  # try-delegate: the region its exceptions go to


@dataclass
class LegacyTry:
    """The state of a legacy try being translated (``Frame.handler``)."""

    in_handler: bool = False  # past its first catch / catch_all
    except_mark: int = 0  # the generator's mark of the ``except`` suite
    arm_mark: int = -1  # the mark of the current if/elif/else arm (-1: none)
    caught_all: bool = False  # a catch_all (the chain needs no ``raise``)
    arms: int = 0  # catch clauses seen
    live_after: bool = False  # some body or handler falls through to the end
    region: FlatRegion | None = None  # the flat translation's region of the try's body


class LegacyVisitors:
    """Mixin of the generator: legacy try (its end: ``end_legacy_try``), catch, catch_all,
    delegate, rethrow; and the handler clause of a region targeted by delegates."""

    def delegate_regions(self) -> frozenset:
        """The handler regions some ``delegate`` of the body targets (see the docstring)."""
        found = getattr(self, "_delegate_regions", None)
        if found is None:
            found = self._delegate_regions = frozenset(self.facts.delegates.values())
        return found

    def delegates_to_caller(self) -> bool:
        """Whether a delegate hands exceptions to the caller (assemble wraps the body); the
        flat form raises no Delegation."""
        return not self.flat and -1 in self.delegate_regions()

    def open_handler(self, fr: Any) -> tuple[str, int]:
        """Open the ``except`` of a try / try_table ``fr`` (after its body's ``try:``
        suite is closed): the name bound to the caught wasm exception, and the mark."""
        exc = f"x{fr.id}"
        if fr.start in self.delegate_regions():
            mark = self.open(f"except (WasmException, Delegation) as {exc}:")
            self.emit(f"{exc} = delegated({exc}, {fr.start})")
        else:
            mark = self.open(f"except WasmException as {exc}:")
        return exc, mark

    def reraise(self, fr: Any) -> str:
        """The statement passing on what no clause of ``fr``'s handler caught."""
        return f"raise rethrow(x{fr.id})" if fr.start in self.delegate_regions() else "raise"

    def h_try(self, idx: int, op: Any, imm: Any) -> None:
        fr = self.new_frame("try", idx, imm)
        fr.handler = LegacyTry()
        # The handlers resume from the state at entry: every entry below gets its slot.
        self.canon(len(self.stack))
        fr.height = len(self.stack) - fr.nparams
        fr.mark = len(self.trail)
        fr.params = self.stack[fr.height :]
        self.ctrl.append(fr)
        self.try_depth += 1
        if self.flat:
            fr.handler.region = self.open_region(fr)
            return
        if fr.targeted:
            fr.pyloop = True
            self.open("while True:")
            self.pyloops.append(fr)
        fr.try_mark = self.open("try:")

    def end_arm(self, fr: Any) -> None:
        """The end of the try's body or of a handler body: results into the slots."""
        if self.live:
            self.assign_slots(fr.height, self.stack[fr.height :])
            fr.handler.live_after = True
            if self.flat:
                self.emit(f"pc = {fr.end}")
                self.emit("continue")
            elif fr.pyloop:
                self.emit("break")

    def start_arm(self, fr: Any) -> None:
        self.restore(fr.height, fr.mark)
        self.live = True

    def h_catch(self, idx: int, op: Any, imm: Any) -> None:
        fr = self.ctrl[-1]
        st = fr.handler
        self.end_arm(fr)
        if self.flat:
            self.flat_clause(fr, idx, None if op.name == "catch_all" else imm)
            return
        exc = self.enter_handler(fr)
        if op.name == "catch_all":
            if st.arms:
                st.arm_mark = self.open("else:")
            st.caught_all = True
            self.start_arm(fr)
            return
        word = "elif" if st.arms else "if"
        st.arms += 1
        st.arm_mark = self.open(f"{word} {exc}.tag is {self.tag_ref(imm)}:")
        self.start_arm(fr)
        n = self.tag_arity(imm)
        if n:
            names = [self.temp() for _ in range(n)]
            self.emit(f"{', '.join(names)}, = {exc}.values")
            self.stack.extend(var(name) for name in names)

    def flat_clause(self, fr: Any, idx: int, tag: int | None) -> None:
        """Flat form: a handler body is a basic block the region's dispatch jumps to."""
        st = fr.handler
        self.leave_region(fr, idx)
        exc = st.region.exc
        on_match = [f"{exc} = xe", f"pc = {idx}", "break"]
        if tag is not None:
            on_match[1:1] = ["xv = xe.values"]
        st.region.clauses.append((tag, on_match))
        self.bb(idx)
        self.start_arm(fr)
        if tag is None:
            st.caught_all = True
            return
        self.tag_ref(tag)  # bound for the dispatch (with_flat_handlers)
        n = self.tag_arity(tag)
        if n:
            names = [self.temp() for _ in range(n)]
            self.emit(f"{', '.join(names)}, = xv")
            self.stack.extend(var(name) for name in names)

    def open_region(self, fr: Any) -> FlatRegion:
        """Flat form: enter the region of a try's / try_table's body."""
        self.emit(f"pc = {fr.start}")
        opened = self.__dict__.setdefault("flat_open", [])
        region = FlatRegion(fr.start, opened[-1].start if opened else -1, f"x{fr.id}")
        self.__dict__.setdefault("flat_regions", []).append(region)
        opened.append(region)
        return region

    def flat_catch(self, target: Any, catch: Any) -> list[str]:
        """Flat form: the statements of a try_table's catch clause, branching to the frame
        ``target`` with the payload (and the exnref for the _ref forms)."""
        values = []
        if catch.kind < CATCH_ALL:
            values = [f"xe.values[{i}]" for i in range(self.tag_arity(catch.tag))]
        if catch.kind == CATCH_REF or catch.kind > CATCH_ALL:
            values.append("xe")
        if target.kind == "func":
            if not values:
                return ["return"]
            return [f"return {values[0]}" if len(values) == 1 else f"return ({', '.join(values)},)"]
        target.branched = True
        out = [f"s{target.height + i} = {v}" for i, v in enumerate(values)]
        return [*out, f"pc = {target.start if target.kind == 'loop' else target.end}", "break"]

    def flat_try_table(self, fr: Any) -> None:
        """Flat form: a try_table is a region whose clauses branch to their labels."""
        region = self.open_region(fr)
        for catch in fr.catches:  # labels count from outside the try_table
            target = self.ctrl[-2 - catch.label]
            tag = None if catch.kind >= CATCH_ALL else catch.tag
            if tag is not None:
                self.tag_ref(tag)  # bound for the dispatch
            region.clauses.append((tag, self.flat_catch(target, catch)))
        self.try_depth += 1

    def flat_end_try_table(self, fr: Any) -> None:
        """Flat form: the end of a try_table (``fr`` is off ``self.ctrl``)."""
        if self.live:
            self.assign_slots(fr.height, self.stack[fr.height :])
            self.emit(f"pc = {fr.end}")
            self.emit("continue")
        live = self.live or fr.branched
        region = self.flat_open.pop()
        region.stop = fr.end
        self.bb(fr.end)
        self.try_depth -= 1
        self.results_to_stack(fr)
        self.live = live

    def leave_region(self, fr: Any, idx: int) -> None:
        """Flat form: the try's body region ends at instruction ``idx`` (its first clause,
        end or delegate)."""
        st = fr.handler
        if not st.in_handler:
            st.in_handler = True
            st.region.stop = idx
            self.flat_open.pop()

    def flat_end(self, fr: Any, idx: int) -> None:
        """Flat form: the end / delegate of a try (its last arm is already closed)."""
        self.leave_region(fr, idx)
        self.bb(idx)
        self.try_depth -= 1
        self.results_to_stack(fr)
        self.live = fr.handler.live_after or fr.branched

    def with_flat_handlers(self, body: list[str]) -> list[str]:
        """Flat form: wrap the dispatch loop (``body``, its ``while True:`` at 12 spaces)
        in the handler of the legacy try regions (see the module docstring)."""
        regions = self.__dict__.get("flat_regions")
        if not regions:
            return body
        out = ["            while True:", "                try:"]
        out.extend("        " + line for line in body)
        out.append("                except WasmException as xe:")
        pad = " " * 20
        # the innermost region holding pc: intervals nest, so the largest start wins
        first = True
        out.append(pad + "r = -1")
        for region in sorted(regions, key=lambda r: -r.start):
            word = "if" if first else "elif"
            first = False
            out.append(f"{pad}{word} {region.start} <= pc < {region.stop}:")
            out.append(f"{pad}    r = {region.start}")
        out.append(pad + "while True:")
        first = True
        for region in regions:
            out.append(f"{pad}    {'if' if first else 'elif'} r == {region.start}:")
            first = False
            out.extend(pad + "        " + line for line in _dispatch(region))
        out.append(pad + "    else:")
        out.append(pad + "        raise")
        return out

    def enter_handler(self, fr: Any) -> str:
        """Leave the try's body (first clause) or the previous arm; the exception's name."""
        st = fr.handler
        if not st.in_handler:
            st.in_handler = True
            self.close(fr.try_mark)
            exc, st.except_mark = self.open_handler(fr)
            return exc
        if st.arm_mark >= 0:
            self.close(st.arm_mark)
            st.arm_mark = -1
        return f"x{fr.id}"

    def end_legacy_try(self, fr: Any) -> None:
        """``end`` of a legacy try (``fr`` is already off ``self.ctrl``)."""
        st = fr.handler
        self.end_arm(fr)
        if self.flat:
            self.flat_end(fr, fr.end)
            return
        self.enter_handler(fr)  # a try without clauses gets a handler that re-raises
        if not st.caught_all:
            if st.arms:
                mark = self.open("else:")
                self.emit(self.reraise(fr))
                self.close(mark)
            else:
                self.emit(self.reraise(fr))
        self.finish(fr)

    def finish(self, fr: Any) -> None:
        self.close(fr.handler.except_mark)
        self.try_depth -= 1
        if fr.pyloop:
            self.close_pyloop(fr)
        self.results_to_stack(fr)
        self.live = fr.handler.live_after or fr.branched

    def h_delegate(self, idx: int, op: Any, imm: int) -> None:
        fr = self.ctrl.pop()
        self.end_arm(fr)
        if self.flat:
            fr.handler.region.delegate = self.facts.delegates[idx]
            self.flat_end(fr, idx)
            return
        exc = self.enter_handler(fr)
        self.emit(f"raise Delegation({exc}, {self.facts.delegates[idx]})")
        self.finish(fr)

    def h_rethrow(self, idx: int, op: Any, imm: int) -> None:
        fr = self.ctrl[-1 - imm]  # a try in its handler (validated)
        self.flush_effects()
        self.emit(f"raise rethrow(x{fr.id})")
        self.live = False


def _dispatch(region: FlatRegion) -> list[str]:
    """Flat form: what the handler does for an exception in ``region`` (``xe``): jump to
    the first matching clause's body, else go on with the next region (``r``)."""
    out = []
    for tag, on_match in region.clauses:
        if tag is None:  # catch_all: nothing after it is reached
            return out + on_match
        out.append(f"if xe.tag is TAG{tag}:")
        out.extend("    " + line for line in on_match)
    out.append(f"r = {region.delegate if region.delegate is not None else region.parent}")
    return out


HANDLERS = {
    "try": "h_try",
    "catch": "h_catch",
    "catch_all": "h_catch",
    "delegate": "h_delegate",
    "rethrow": "h_rethrow",
}
