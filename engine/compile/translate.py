"""Translate one validated function body into Python source, then into a factory.

The generator is assembled from concerns, one file each: the symbolic operand stack
(``stack.py``), the variables with the stack entries that read them (``locals.py``), control frames and branches (``control.py``), counted loops (``loops.py``),
the instruction visitors (``visit_*.py``) and the factory assembly (``assemble.py``).

Values live in Python locals: ``l<i>`` for wasm locals, ``s<h>`` for operand-stack slot ``h``
at control-flow merges and ``t<n>`` for temporaries. Comparisons stay Python bools so
``if``/``br_if`` test them directly. Counted loops become ``for i in range(...)`` with their
pure invariant integer expressions hoisted before the ``for``. Functions nested beyond
CPython's static limits (20 loops, 100 indentation levels) use the flat form.

Only generated identifiers, numeric literals and this package's own text enter the source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..binary.module import Body, ModuleInfo
from ..config import NO_METERING, CodegenOptions
from ..errors import UNGUARDED
from . import (
    control,
    visit_atomics,
    visit_calls,
    visit_exceptions,
    visit_gc,
    visit_legacy,
    visit_memory,
    visit_numeric,
    visit_refs,
    visit_tables,
    visit_variables,
)
from . import fuel as F
from . import numerics as N
from .assemble import Factory, assemble, compile_factory
from .codeobj import renamed
from .control import CALLS, MAX_INDENT, MAX_PY_LOOPS, BodyFacts, Control, Frame, scan
from .loops import counted_loops
from .stack import OperandStack
from .visit_atomics import AtomicVisitors
from .visit_calls import CallVisitors
from .visit_exceptions import ExceptionVisitors
from .visit_gc import GcVisitors
from .visit_legacy import LegacyVisitors
from .visit_memory import MemoryVisitors
from .visit_numeric import NumericVisitors
from .visit_refs import RefVisitors
from .visit_signed64 import Signed64Visitors
from .visit_simd import SimdVisitors
from .visit_tables import TableVisitors
from .visit_variables import VariableVisitors

#: Instructions before which an unpaid path may place the invocation's fuel charge.
_PLACES = CALLS | {"block", "if", "loop", "for", "try_table", "try"}



class _Gen(
    OperandStack,
    Control,
    NumericVisitors,
    Signed64Visitors,
    VariableVisitors,
    CallVisitors,
    MemoryVisitors,
    TableVisitors,
    SimdVisitors,
    AtomicVisitors,
    RefVisitors,
    ExceptionVisitors,
    LegacyVisitors,
    GcVisitors,
):
    """Source generator for one function body."""

    handlers: dict[str, Callable[..., None]]

    def __init__(
        self,
        info: ModuleInfo,
        func_index: int,
        body: Body,
        flat: bool,
        facts: BodyFacts,
        options: CodegenOptions = NO_METERING,
        entry_guard: bool = True,
    ) -> None:
        self.info = info
        self.entry_guard = entry_guard  # may assume what an entry guard checks (entry_guard.py)
        self.facts = facts
        self.options = options
        self.prologue: list[str] = []  # statements before the body
        self.unpaid = False  # this path has not paid the invocation's fuel (Control.pay)
        self.defer_if = False  # the next if lets its arms pay (Control.place_charge)
        self.func_index = func_index
        self.body = body
        self.flat = flat
        self.ftype = info.func_type(func_index)
        self.lines: list[str] = []
        self.ind = 3
        self.init_stack()
        self.ctrl: list[Frame] = []
        self.pyloops: list[Frame] = []
        self.ntemp = 0
        self.nframe = 0
        self.live = True
        self.uses_lab = False
        self.inlining = True  # inline exits (switch.py) in the structured form
        self.try_depth = 0  # open try_table / legacy try constructs
        self.tail_in_try = False  # a tail call inside a try_table (see assemble)
        self.hoisted: dict[str, int] = {}  # hoisted invariant -> index of its loop in pyloops
        self.binds: dict[str, str] = {}  # factory-time bindings: name -> expression over rt
        self.consts: dict[str, Any] = {}  # exec globals specific to this function
        self.const_names: dict[Any, str] = {}
        self.global_types = info.all_global_types()
        # The module's canonical GC types (engine.gctypes), when it has any.
        self.gc_types = getattr(info, "gc_types", None) or []

    # -- emission ---------------------------------------------------------------------------

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.ind + line)

    def open(self, header: str) -> int:
        self.emit(header)
        self.ind += 1
        return len(self.lines)

    def close(self, mark: int) -> None:
        if len(self.lines) == mark:
            self.emit("pass")
        self.ind -= 1

    def temp(self) -> str:
        self.ntemp += 1
        return f"t{self.ntemp}"

    def bind(self, name: str, expr: str) -> str:
        self.binds.setdefault(name, expr)
        return name

    def const(self, value: Any, prefix: str = "K") -> str:
        key = (prefix, type(value).__name__, repr(value), N.f64_to_bits(value)
               if isinstance(value, float) else 0)
        name = self.const_names.get(key)
        if name is None:
            name = f"{prefix}{len(self.const_names)}"
            self.const_names[key] = name
            self.consts[name] = value
        return name

    # -- fuel and interruption ---------------------------------------------------------------

    def meter(self, cost: int, loop: bool = False) -> list[str]:
        """Statements charging ``cost`` fuel / polling the interrupt flag (none when off).

        With meters (CPython, see fuel.py) a charge is one step of a C iterator
        (``FC17 = rt.meters[17]``), which also stops at an epoch interrupt.
        Otherwise the counters are lists of the store bound in the factory (``FUEL =
        rt.fuel``): a subscript is the cheapest shared mutable cell Python code can read."""
        out = []
        cost = max(cost, 1)
        metered = self.options.fuel and F.METERED
        if self.options.epoch and not metered:  # first: an interrupted charge is not taken
            if F.COUNTED_POLLS and not loop:  # PyPy: let other threads run (fuel.py)
                ticker = self.bind("EP", "rt.store.epoch_ticker")
                out.append(f"{ticker}.n -= 1")
                out.append(f"if {ticker}.n < 0: {ticker}.tick()")
            else:
                flag = self.bind("INTR", "rt.interrupt")
                out.append(f'if {flag}: raise Trap("interrupt")')
        if metered:
            out.append(f"for _ in {self.bind(f'FC{cost}', f'rt.meters[{cost}]')}: break")
        elif self.options.fuel:
            cell = self.bind("FUEL", "rt.fuel")
            # One subscript load and one store (measured: 20-30% cheaper than `-=` then a
            # test); ``refuel`` refills the chunk from the reserve or traps (fuel.py).
            out.append(f"if (fuel := {cell}[0] - {cost}) < 0: fuel = refuel({cell}, {cost})")
            out.append(f"{cell}[0] = fuel")
        return out

    def meter_loop(self, start: int) -> None:
        """Charge one iteration of the loop starting at instruction ``start``."""
        for line in self.meter(self.facts.costs.get(start, 1), loop=True):
            self.emit(line)

    # -- the symbolic stack --------------------------------------------------------------

    def run(self) -> None:
        body = self.body
        facts = self.facts
        instrs = body.instrs
        if not self.flat:
            instrs = counted_loops(instrs, facts.ends)
            if instrs is not body.instrs:  # rewritten: the branches to the loops are gone
                facts = scan(instrs)._replace(costs=facts.costs, entry_cost=facts.entry_cost)
        self.instrs = instrs
        self.slocals = self.signed_locals(instrs)  # PyPy: i64 locals in signed form
        self.ends, self.elses, self.targeted = facts.ends, facts.elses, facts.targeted
        self.inline = facts.inline  # exits emitted at their br_table (switch.py)
        if self.flat or not self.inlining:  # the flat form jumps to every target
            self.targeted, self.inline = facts.targeted | facts.inline, frozenset()
        self.triggered, self.last_trigger = facts.triggered, facts.last_trigger
        self.if_marks: list[int] = []
        self.unpaid = self.options.fuel or self.options.epoch
        fr = Frame("func", -1)
        fr.nresults = len(self.ftype.results)
        self.ctrl.append(fr)
        if self.flat:
            self.bb(-1)
        self.walk(0, len(instrs))
        self.add_entry_guard()

    def walk(self, lo: int, hi: int) -> None:
        """Translate instructions ``lo`` to ``hi`` (exclusive), skipping dead code."""
        handlers = self.handlers
        instrs = self.instrs
        for idx in range(lo, hi):
            op, imm = instrs[idx]
            name = op.name
            if not self.live:
                if name in ("block", "loop", "if", "for", "try_table", "try"):
                    dead = Frame(name, idx)
                    dead.dead = True
                    self.ctrl.append(dead)
                    continue
                if name == "end" or name == "delegate":
                    if self.ctrl[-1].dead:
                        self.ctrl.pop()
                        continue
                elif name == "else" or name == "catch" or name == "catch_all":
                    if self.ctrl[-1].dead:
                        continue
                else:
                    continue
            if self.unpaid and name in _PLACES:
                self.place_charge(idx, name)
            h = handlers.get(name)
            if h is not None:
                h(self, idx, op, imm)
            elif op.prefix == 0xFD:
                self.simd(idx, op, imm)
            else:
                self.numeric(name)
            if not self.ctrl:
                break


def _handlers() -> dict[str, Callable[..., None]]:
    table: dict[str, Callable[..., None]] = {}
    for mod in (control, visit_numeric, visit_variables, visit_calls, visit_memory, visit_tables,
                visit_atomics, visit_refs, visit_exceptions, visit_legacy, visit_gc):
        table.update({name: getattr(_Gen, meth) for name, meth in mod.HANDLERS.items()})
    return table


_Gen.handlers = _handlers()


def _generate(
    info: ModuleInfo,
    func_index: int,
    body: Body,
    flat: bool,
    facts: BodyFacts,
    options: CodegenOptions,
    inlining: bool = True,
    entry_guard: bool = True,
) -> _Gen:
    gen = _Gen(info, func_index, body, flat, facts, options, entry_guard)
    gen.inlining = inlining
    gen.run()
    return gen


#: Tests set this to translate every function in the flat form.
FORCE_FLAT = False


def _choose_flat(facts: BodyFacts) -> bool:
    if FORCE_FLAT:
        return True
    return facts.max_loops > MAX_PY_LOOPS or facts.max_indent > MAX_INDENT


def translate_source(
    info: ModuleInfo,
    func_index: int,
    body: Body,
    flat: bool | None = None,
    options: CodegenOptions = NO_METERING,
) -> str:
    """The Python source generated for one function (for debugging and tests)."""
    facts = scan(body.instrs)
    if flat is None:
        flat = _choose_flat(facts)
    return assemble(_generate(info, func_index, body, flat, facts, options))


def translate(
    info: ModuleInfo, func_index: int, body: Body, options: CodegenOptions = NO_METERING,
    entry_guard: bool = True,
) -> Factory:
    """Translate one validated body into a factory ``factory(rt) -> callable``.

    ``entry_guard=False``: the translation a failed entry guard runs (entry_guard.py),
    which assumes nothing of the global the guard checks.

    One pass over the body (``scan``) finds the facts every later step needs; a second one
    only when counted loops were rewritten or exits are inlined. Then one generating pass,
    and CPython's compile. A structured body beyond CPython's limits (inline exits nest
    their code deeper) is translated again without inline exits, then in the flat form.
    """
    facts = scan(body.instrs)
    flat = _choose_flat(facts)
    try:
        return _compile(info, func_index, body, flat, facts, options, True, entry_guard)
    except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError):
        if flat:
            raise
    if facts.inline:
        try:
            return _compile(info, func_index, body, False, facts, options, False, entry_guard)
        except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError):
            pass
    return _compile(info, func_index, body, True, facts, options, True, entry_guard)


def _compile(
    info: ModuleInfo,
    func_index: int,
    body: Body,
    flat: bool,
    facts: BodyFacts,
    options: CodegenOptions,
    inlining: bool = True,
    entry_guard: bool = True,
) -> Factory:
    gen = _generate(info, func_index, body, flat, facts, options, inlining, entry_guard)
    factory = compile_factory(gen, func_index)
    if not entry_guard:  # its frames stand for the guarded function's (errors.frame_sources)
        renamed(factory, UNGUARDED)
    return factory
