"""Visitors of exception handling: throw, throw_ref, try_table.

A wasm exception is a Python exception, ``engine.errors.WasmException``, whose object is
also the ``exnref`` value. ``throw`` raises a new one with the tag object of the instance
(``rt.tags[x]``: identity is what a catch clause compares) and the payload's internal values;
``throw_ref`` re-raises the object. A ``try_table`` becomes a Python ``try:`` around its
body, whose ``except WasmException`` clause tests the catch clauses in order and branches to
their labels (counted from outside the try_table) with the payload (and the exnref); with no
matching clause it re-raises. Code without ``try_table`` contains no ``try`` for it, so it
pays nothing for the feature. A trap is not a WasmException and passes through handlers.
In the flat translation a try_table is a region of the one handler around the dispatch loop
(visit_legacy.py: ``flat_try_table``).
"""

from __future__ import annotations

from typing import Any

from ..binary.module import CATCH_ALL, CATCH_REF
from ..errors import Trap, WasmException
from .stack import var


def rethrow(exn: Any) -> BaseException:
    """The exception ``throw_ref`` raises: the exnref itself (its old traceback dropped, so
    repeated rethrows do not grow it), or the trap of a null reference."""
    if exn is None:
        return Trap("null exception reference")
    return exn.with_traceback(None)


HELPERS = {"WasmException": WasmException, "rethrow": rethrow}


class ExceptionVisitors:
    """Mixin of the generator: throw, throw_ref, try_table (its end: ``end_try``)."""

    def tag_ref(self, index: int) -> str:
        return self.bind(f"TAG{index}", f"rt.tags[{index}]")

    def tag_arity(self, index: int) -> int:
        return len(self.info.types[self.info.tag_type_index(index)].params)

    def h_throw(self, idx: int, op: Any, imm: int) -> None:
        ops = self.take(self.tag_arity(imm))
        self.flush_effects()
        args = "".join(f"{o.expr}, " for o in ops)
        self.emit(f"raise WasmException({self.tag_ref(imm)}, values=({args}))")
        self.live = False

    def h_throw_ref(self, idx: int, op: Any, imm: Any) -> None:
        (ref,) = self.take(1)
        self.flush_effects()
        self.emit(f"raise rethrow({ref.expr})")
        self.live = False

    def h_try_table(self, idx: int, op: Any, imm: Any) -> None:
        block_type, catches = imm
        fr = self.new_frame("try_table", idx, block_type)
        fr.catches = catches
        # The handler resumes from the state at entry: every entry below gets its slot.
        self.canon(len(self.stack))
        fr.height = len(self.stack) - fr.nparams
        fr.mark = len(self.trail)
        fr.params = self.stack[fr.height :]
        self.ctrl.append(fr)
        if self.flat:  # a region of the one handler of the flat form (visit_legacy)
            self.flat_try_table(fr)
            return
        if fr.targeted:
            fr.pyloop = True
            self.open("while True:")
            self.pyloops.append(fr)
        fr.try_mark = self.open("try:")
        self.try_depth += 1

    def end_try(self, fr: Any) -> None:
        """Close a try_table: the fallthrough keeps its results in slots (evaluated inside
        the ``try``), then the handler dispatches on the catch clauses."""
        if self.flat:
            self.flat_end_try_table(fr)
            return
        if self.live:
            self.assign_slots(fr.height, self.stack[fr.height :])
            if fr.pyloop:
                self.emit("break")
        live_after = self.live or fr.branched
        self.close(fr.try_mark)
        self.try_depth -= 1
        exc, mark = self.open_handler(fr)  # visit_legacy: also takes delegated exceptions
        caught_all = False
        for catch in fr.catches:
            self.restore(fr.height, fr.mark)
            self.live = True
            inner = None
            if catch.kind < CATCH_ALL:
                inner = self.open(f"if {exc}.tag is {self.tag_ref(catch.tag)}:")
                n = self.tag_arity(catch.tag)
                if n:
                    names = [self.temp() for _ in range(n)]
                    self.emit(f"{', '.join(names)}, = {exc}.values")
                    self.stack.extend(var(name) for name in names)
            if catch.kind == CATCH_REF or catch.kind > CATCH_ALL:
                self.stack.append(var(exc))
            self.branch(catch.label)  # the try_table frame is already off self.ctrl
            if inner is not None:
                self.close(inner)
            else:
                caught_all = True
                break
        self.restore(fr.height, fr.mark)
        if not caught_all:
            self.emit(self.reraise(fr))
        self.close(mark)
        if fr.pyloop:
            self.close_pyloop(fr)
        self.results_to_stack(fr)
        self.live = live_after


HANDLERS = {
    "throw": "h_throw",
    "throw_ref": "h_throw_ref",
    "try_table": "h_try_table",
}
