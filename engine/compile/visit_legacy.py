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

Not in the flat translation of very deeply nested functions (ImplementationLimitError), as
``try_table``. A tail call inside a legacy try's body or handlers trampolines as in a
try_table (``try_depth``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ImplementationLimitError, WasmException
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
class LegacyTry:
    """The state of a legacy try being translated (``Frame.handler``)."""

    in_handler: bool = False  # past its first catch / catch_all
    except_mark: int = 0  # the generator's mark of the ``except`` suite
    arm_mark: int = -1  # the mark of the current if/elif/else arm (-1: none)
    caught_all: bool = False  # a catch_all (the chain needs no ``raise``)
    arms: int = 0  # catch clauses seen
    live_after: bool = False  # some body or handler falls through to the end


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
        """Whether a delegate hands exceptions to the caller (assemble wraps the body)."""
        return -1 in self.delegate_regions()

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
        if self.flat:
            raise ImplementationLimitError(
                "try in a function nested too deeply for structured translation",
                "max_nesting", self.facts.max_loops, 0, f"function {self.func_index}")
        fr = self.new_frame("try", idx, imm)
        fr.handler = LegacyTry()
        # The handlers resume from the state at entry: every entry below gets its slot.
        self.canon(len(self.stack))
        fr.height = len(self.stack) - fr.nparams
        fr.mark = len(self.trail)
        fr.params = self.stack[fr.height :]
        self.ctrl.append(fr)
        if fr.targeted:
            fr.pyloop = True
            self.open("while True:")
            self.pyloops.append(fr)
        fr.try_mark = self.open("try:")
        self.try_depth += 1

    def end_arm(self, fr: Any) -> None:
        """The end of the try's body or of a handler body: results into the slots."""
        if self.live:
            self.assign_slots(fr.height, self.stack[fr.height :])
            fr.handler.live_after = True
            if fr.pyloop:
                self.emit("break")

    def start_arm(self, fr: Any) -> None:
        self.restore(fr.height, fr.mark)
        self.live = True

    def h_catch(self, idx: int, op: Any, imm: Any) -> None:
        fr = self.ctrl[-1]
        st = fr.handler
        self.end_arm(fr)
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
        exc = self.enter_handler(fr)
        self.emit(f"raise Delegation({exc}, {self.facts.delegates[idx]})")
        self.finish(fr)

    def h_rethrow(self, idx: int, op: Any, imm: int) -> None:
        fr = self.ctrl[-1 - imm]  # a try in its handler (validated)
        self.flush_effects()
        self.emit(f"raise rethrow(x{fr.id})")
        self.live = False


HANDLERS = {
    "try": "h_try",
    "catch": "h_catch",
    "catch_all": "h_catch",
    "delegate": "h_delegate",
    "rethrow": "h_rethrow",
}
