"""Fuel and epoch interruption at run time: what metered translated code calls.

A store's fuel lives in its *cell*, the list ``[chunk, reserve, meters]`` that translated
code binds as ``FUEL = rt.fuel``. Two shapes of charge read it (chosen per interpreter by
:data:`METERED`; the cost model, ``control.scan``, is the same):

- **Cell charges** (PyPy, whose JIT turns them into a few machine instructions):
  ``if (fuel := FUEL[0] - c) < 0: fuel = refuel(FUEL, c)`` then ``FUEL[0] = fuel``.
- **Meters** (CPython): ``for _ in FC17: break``, one step of a C iterator
  (``FC17 = rt.meters[17]``, a ``chain``; ``FOR_ITER`` calls its ``tp_iternext`` without
  any call overhead). Each charge size of a store has a :class:`Meter`, whose ticks come
  from a chunk of fuel taken from the cell in advance (each tick stands for ``c`` units);
  the chunk's C iterator counts them, and its end calls back into Python
  (:meth:`Meter.refill`), which takes the next chunk or traps. The chunk's length is
  readable and settable (``__length_hint__``, ``__setstate__``), so ``get_fuel`` and
  ``set_fuel`` stay exact. Measured on a Python twin of fib (CPython 3.11, a charge on
  every call that makes calls; min of 15): 1.35-1.40x of no metering with cell charges,
  1.20-1.27x calling the chain's ``__next__``, 1.12-1.18x with ``for``.

Counted loops (``for``) charge all their iterations at once through the cell
(:func:`fuel_range`), and get the rest back on an early exit (:func:`fuel_refund`).

Epoch interruption: ``Engine.increment_epoch`` raises the store's flag ``rt.interrupt``, a
list that is empty until then; translated code without meters polls it (``if INTR: raise
Trap("interrupt")``: measured 1.07-1.09x of no polling on the fib twin, against 1.10-1.16x
for a one-element list's ``INTR[0]``). On PyPy the polls at function entry count down
the store's :class:`EpochTicker` instead, whose end lets threads waiting for the GIL run
(a JIT-compiled recursion without loops would never release it). With fuel
and meters both on, the flag costs nothing in translated code: the epoch thread also ends
the meters' chunks (:meth:`Meters.stop`), so the next charge of any meter refills, and
:meth:`Meter.refill` traps. Only a race with the end of a chunk can let a meter run on to
the end of its next chunk (METER_UNITS) before the refill sees the flag.
"""

from __future__ import annotations

import sys
import threading
from functools import partial
from itertools import chain
from operator import methodcaller
from time import monotonic as _monotonic
from typing import Any

from ..compat import PYPY
from ..errors import Trap

# -- the cell ------------------------------------------------------------------------------
#
# ``chunk`` is what cell charges subtract from, kept below 2**30 so that its arithmetic stays
# on CPython's one-digit ints (measured: fib with fuel 1.78x -> 1.56x of no fuel); ``refuel``
# moves fuel from the reserve when the chunk runs out. ``meters`` (None on a store without
# any) holds the fuel the meters took in advance.

FUEL_CHUNK = (1 << 30) - 1

#: Charge with meters (C-level ticks) rather than cell arithmetic: on CPython, where a step
#: of a C iterator is cheaper than a subscript, a subtraction, a test and a store; PyPy's
#: JIT prefers the cell, and meters need CPython's ``chain`` and sequence iterators, which
#: stay alive after an exception (PyPy's end). Tests switch it to cover both shapes.
METERED = sys.implementation.name == "cpython"


def new_cell() -> list:
    """A cell without fuel (``[chunk, reserve, meters]``)."""
    return [0, 0, None]


def refuel(fuel: list, cost: int) -> int:
    """The chunk left after charging ``cost`` when the chunk alone is short: refill it from
    the reserve and from what the meters hold (the caller stores the result in ``fuel[0]``),
    or trap when all is spent (leaving no fuel anywhere)."""
    total = fuel[0] + fuel[1] - cost
    if total < 0:
        meters = fuel[2] if len(fuel) > 2 else None
        if meters is not None:
            total += meters.reclaim()
        if total < 0:
            fuel[0] = fuel[1] = 0
            raise Trap("all fuel consumed")
    chunk = min(total, FUEL_CHUNK)
    fuel[1] = total - chunk
    return chunk


def fuel_left(fuel: list) -> int:
    """All the fuel of a cell: its chunk, its reserve and what its meters hold."""
    meters = fuel[2] if len(fuel) > 2 else None
    return max(fuel[0], 0) + fuel[1] + (meters.held() if meters is not None else 0)


def set_fuel_left(fuel: list, amount: int) -> None:
    """Make ``amount`` the cell's fuel: the meters' chunks are dropped, the rest split into
    chunk and reserve."""
    meters = fuel[2] if len(fuel) > 2 else None
    if meters is not None:
        meters.reclaim()
    chunk = min(amount, FUEL_CHUNK)
    fuel[0], fuel[1] = chunk, amount - chunk


# -- meters (CPython) ------------------------------------------------------------------------

#: The ticks a chunk is cut from: a chunk of ``n`` ticks is an iterator over this buffer set
#: ``n`` bytes before its end (bytes iterators yield cached small ints: no allocation).
_TICKS = bytes(1 << 16)
_END = len(_TICKS)

#: Fuel a meter takes from the cell at once (fewer ticks for bigger charges): the Python
#: refill runs once per this much fuel, and an epoch interrupt the epoch thread missed (see
#: Meters.stop) waits at most this long.
METER_UNITS = 1 << 16

_CALL = methodcaller("__call__")


def _drain(it: Any) -> int:
    """The ticks left in chunk iterator ``it``, leaving it exhausted, in one C-level step:
    both calls run inside one ``map`` unpacking, without bytecode in between, so no other
    thread (the wasm thread taking ticks) runs between reading and ending."""
    left, _ = map(_CALL, (it.__length_hint__, partial(it.__setstate__, _END)))
    return left


def _empty() -> Any:
    it = iter(_TICKS)
    it.__setstate__(_END)
    return it


class _Refill:
    """The chain's hook after each chunk: a *sequence* (no ``__iter__``), so the chain wraps
    it in a C sequence iterator. An exception from ``__getitem__`` (a trap, a
    RecursionError at the depth limit, KeyboardInterrupt) leaves that iterator, and so the
    chain, alive: the next charge calls it again. (An exception from the chain's source
    would end the chain for good, hence this shape.)"""

    __slots__ = ("meter",)

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def __getitem__(self, index: int) -> Any:
        try:
            self.meter.refill()
        except (IndexError, StopIteration) as e:  # would end the chain: charges not counted
            raise RuntimeError("fuel meter failed") from e
        raise IndexError  # this sequence ends; the chain goes on with the chunk just queued


class Meter:
    """The charges of one size ``cost`` in one store: ``tick`` (a chain, never exhausted)
    is what translated code takes one item of per charge.

    The chain reads its sub-iterators from ``queue`` (``[chunk, _Refill]``) through a list
    iterator: the chunk's ticks, then the refill hook, which queues the next chunk and
    rewinds the list iterator before it can end."""

    __slots__ = ("active", "cost", "meters", "parked", "queue", "source", "tick")

    def __init__(self, meters: Meters, cost: int) -> None:
        self.meters = meters
        self.cost = cost
        self.active = _empty()  # the current chunk (its ticks not yet taken)
        self.parked = 0  # ticks of a chunk the epoch thread ended (Meters.stop), not yet spent
        self.queue = [self.active, _Refill(self)]
        self.source = iter(self.queue)
        self.tick = chain.from_iterable(self.source)

    def refill(self) -> None:
        """Queue the next chunk, taken from the cell; trap with "interrupt" past the epoch
        deadline, with "all fuel consumed" when less than one charge is left."""
        meters = self.meters
        cell = meters.cell
        with meters.lock:
            if self.parked:
                cell[1] += self.parked * self.cost
                self.parked = 0
            if meters.interrupt:
                raise Trap("interrupt")
            if not self.active.__length_hint__():  # (else: a retry after an interruption)
                self.active = self._take(cell)
            self.queue[0] = self.active
            self.source.__setstate__(0)

    def _take(self, cell: list) -> Any:
        """A chunk of ticks taken from the cell (half of what is left when that is short,
        so that meters running in turn near the end do not reclaim at every tick)."""
        cost = self.cost
        have = cell[0] + cell[1]
        if have < cost:
            have += self.meters.reclaim_locked()
            if have < cost:
                cell[0] = cell[1] = 0
                raise Trap("all fuel consumed")
        most = max(1, min(_END, METER_UNITS // cost))
        ticks = most if have >= 2 * most * cost else max(1, have // (2 * cost))
        it = iter(_TICKS)  # before the fuel is taken: nothing can fail after that
        it.__setstate__(_END - ticks)
        cell[0] = refuel(cell, ticks * cost) if cell[0] < ticks * cost else cell[0] - ticks * cost
        return it

    def held(self) -> int:
        """Fuel this meter took and has not spent."""
        return (self.active.__length_hint__() + self.parked) * self.cost


class Meters(dict):
    """A store's meters by charge size: ``rt.meters[17]`` is the tick iterator of the meter
    of 17 (made on first use), which translated code binds as ``FC17``."""

    def __init__(self, cell: list, interrupt: list) -> None:
        super().__init__()
        self.cell = cell
        self.interrupt = interrupt
        self.lock = threading.RLock()
        self.all: list[Meter] = []

    def __missing__(self, cost: int) -> Any:
        meter = Meter(self, cost)
        self.all.append(meter)
        self[cost] = meter.tick
        return meter.tick

    def held(self) -> int:
        with self.lock:
            return sum(m.held() for m in self.all)

    def reclaim(self) -> int:
        """Move all the meters hold back into the cell's reserve; return how much."""
        with self.lock:
            return self.reclaim_locked()

    def reclaim_locked(self) -> int:
        total = 0
        for m in self.all:
            total += (_drain(m.active) + m.parked) * m.cost
            m.parked = 0
        self.cell[1] += total
        return total

    def stop(self) -> None:
        """From the epoch thread, the interrupt flag just raised: end every meter's chunk, so
        that wasm's next charge refills and traps. The ticks left are parked, to be returned
        to the cell by the wasm thread (which alone writes the cell)."""
        with self.lock:
            for m in self.all:
                left = _drain(m.active)
                if left:
                    m.parked += left


# -- counted loops ---------------------------------------------------------------------------


def fuel_range(fuel: list, cost: int, rng: Any) -> Any:
    """The iterations of a counted loop, charged ``cost`` fuel each: all at once when ``rng``
    is a range and the fuel suffices (the loop then runs at full speed; an early exit gets
    the rest back through ``fuel_refund``), else one by one, trapping when fuel runs out."""
    if type(rng) is range:
        total = cost * len(rng)
        if fuel[0] >= total:
            fuel[0] -= total
            return rng
        if fuel_left(fuel) >= total:
            fuel[0] = refuel(fuel, total)
            return rng
    return _metered(fuel, cost, rng)


def _metered(fuel: list, cost: int, values: Any) -> Any:
    for v in values:
        left = fuel[0] - cost
        fuel[0] = left if left >= 0 else refuel(fuel, cost)
        yield v


def fuel_refund(fuel: list, cost: int, rng: Any, current: int) -> None:
    """An early exit from a counted loop at counter value ``current``: give back the fuel of
    the iterations after it, when ``fuel_range`` charged them up front."""
    if type(rng) is range:
        fuel[0] = refuel(fuel, -cost * (len(rng) - rng.index(current) - 1))


# -- epoch polls at function entry on PyPy: a countdown that lets other threads run ----------
#
# PyPy's JIT releases the GIL only from its periodic action, which runs when the tick counter
# runs out; JIT-compiled code decrements that counter only at loop back-edges
# (``pypy/module/pypyjit/interp_jit.py``, ``jump_absolute``). A recursion without loops
# (wasm's ``fib``) therefore never lets another thread run once it is compiled, and the thread
# that would call ``Engine.increment_epoch`` waits for the GIL for as long as the recursion
# runs (measured, PyPy 7.3.11: fib(60) hung for minutes with the timer thread still in its
# ``time.sleep``, while a loop was interrupted within 1 ms). Loop polls stay ``if INTR:``
# (their back-edge counts); the polls of a function's entry count down a store-wide ticker
# instead, and every EPOCH_TICKS entries ``EpochTicker.tick`` checks the flag and, at most once
# per switch interval, has PyPy run its periodic action.

#: Entry polls in the counted shape (PyPy: see above). Tests switch it to cover both shapes.
COUNTED_POLLS = PYPY

#: Function entries between two calls of ``EpochTicker.tick``: an interrupt is seen at once
#: (``Store._interrupt`` ends the count), or, if that store raced with the count's own update,
#: within this many entries; the GIL is offered at the first ``tick`` of each switch interval.
#: The count's cost on PyPy is the JIT's trace layout more than its length (fib kernel, fib(32)
#: after warm-ups at 20/28/30/32: 1.5-2.4x of flag polls for 8K-64K entries, 1.2-3.4x for
#: 512-4K, chaotically); macro programs are within noise of flag polls (see docs/untrusted.md).
EPOCH_TICKS = 1 << 14

_ONCE = (None,)
_set_check = getattr(sys, "setcheckinterval", None) if PYPY else None  # PyPy 3.9 has them
_get_check = getattr(sys, "getcheckinterval", None) if PYPY else None


def _run_periodic_actions() -> None:
    """Have PyPy run its periodic actions now, which hand the GIL to a thread waiting for it:
    ``sys.setcheckinterval`` resets PyPy's tick counter to -1 (PyPy 7.3.11's
    ``AbstractActionFlag.setcheckinterval``; the interval itself is left as it was), and the
    loop's back-edge below checks the counter. Where setting the interval does not reset the
    counter (older PyPys), the back-edge only counts it down (by at most 100 of the 1,000,000
    units of the default interval), so a waiting thread then gets the GIL later, through that
    count or during a call that releases it (``time.monotonic`` in ``tick``: measured 10-97 ms
    with this function disabled, 0.6-8 ms with it, on PyPy 7.3.11)."""
    if _set_check is not None and _get_check is not None:
        _set_check(_get_check())
    for _ in _ONCE:
        pass


class EpochTicker:
    """A store's countdown of function entries (``rt.store.epoch_ticker``, bound as ``EP``):
    translated code runs ``EP.n -= 1`` then ``if EP.n < 0: EP.tick()`` at each entry poll.
    ``flag`` is the store's interrupt flag (``rt.interrupt``); ``due`` the time
    (``time.monotonic``) of the next yield of the GIL."""

    __slots__ = ("due", "flag", "n")

    def __init__(self, flag: list) -> None:
        self.flag = flag
        self.n = EPOCH_TICKS
        self.due = 0.0

    def stop(self) -> None:
        """From the epoch thread (the flag just raised): the next entry poll calls ``tick``."""
        self.n = -1

    def tick(self) -> None:
        """The count ran out: trap with "interrupt" past the deadline (and keep the count
        negative, so every poll traps until a new deadline), else count again, and let
        waiting threads run once per switch interval."""
        self.n = EPOCH_TICKS  # first: a ``stop`` from now on is seen below or at the next poll
        if self.flag:
            self.n = -1
            raise Trap("interrupt")
        now = _monotonic()
        if now >= self.due:
            self.due = now + sys.getswitchinterval()
            _run_periodic_actions()


# -- interruption of counted loops (Config.epoch_interruption) -----------------------------

#: Iterations of a counted loop between two polls of the interrupt flag. A counted loop's
#: body has no loop of its own that is not polled itself, so this bounds the latency.
EPOCH_CHUNK = 1024


def epoch_range(flag: list, values: Any) -> Any:
    """``values``, polling the store's interrupt flag every EPOCH_CHUNK iterations (a range
    is iterated in C between polls: measured cheaper than a test in every iteration)."""
    if type(values) is range:
        return chain.from_iterable(_range_chunks(flag, values))
    return _polled(flag, values)


def _range_chunks(flag: list, rng: range) -> Any:
    for k in range(0, len(rng), EPOCH_CHUNK):
        if flag:
            raise Trap("interrupt")
        yield rng[k : k + EPOCH_CHUNK]


def _polled(flag: list, values: Any) -> Any:
    for v in values:
        if flag:
            raise Trap("interrupt")
        yield v
