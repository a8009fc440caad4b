"""Visitors of locals, globals and parametric instructions (drop, select).

Single-use locals fold (measured on the -O0 macro builds, where clang keeps every
intermediate value in a local of its own: ``l5 = 12; l7 = l5; l8 = (1 if l6 < l7 else 0)``;
with forwarded loads, -O0 programs 0.64x to 0.83x of the time before): a local written by
exactly one ``local.set`` and read by exactly one ``local.get`` after it needs no Python
variable when the instructions between them cannot change what the value computes: only
straight-line pure ones (:data:`STRAIGHT`) for an effectful value (a load that may trap, a
trapping division), any but control flow (:data:`WIDE`) for a pure one. The set keeps the
value's stack entry aside (``pending``) and the get pushes that entry back, so the
expression folds into its one consumer. The aside entry is written out (``l<i> = ...``,
*materialised*) when something would change what it reads: a write of a local it reads, or,
for an effectful entry, any other effectful value or statement that must stay after it in
program order.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..compat import PYPY
from ..opcodes import BY_NAME
from .counters import counter_bounds
from .ops import CMP, LOADS, STORES, TRAPS, VAL
from .stack import Entry, var

#: Instructions that may lie between a folded local's set and its get: they evaluate no
#: effectful operation of their own (no trap, no memory/global access, no control flow), so
#: the only statements they emit are local writes (handled by ``h_local_set``).
STRAIGHT = frozenset(
    {"local.get", "local.set", "nop", "i32.const", "i64.const", "f32.const", "f64.const"}
    | {name for name in (*VAL, *CMP) if name not in TRAPS}
)


#: Instructions that may lie between the set and the get of a local folded with a *pure*
#: value (reading locals and literals only, no trap): only a write of a local it reads can
#: change what it computes, and ``h_local_set`` sees those. Control flow stays excluded
#: (merges rewrite stack slots behind the visitors' backs).
WIDE = STRAIGHT | set(VAL) | set(CMP) | set(LOADS) | set(STORES) | {
    "local.tee", "drop", "select", "select_t", "call", "call_indirect", "global.get",
    "global.set", "memory.size", "memory.grow"}


#: The bound (value < 2**b) of what each of these ops leaves, whatever its operands.
_PRODUCER_BITS = {"i32.load8_u": 8, "i64.load8_u": 8, "i32.load16_u": 16, "i64.load16_u": 16,
                  "i64.load32_u": 32, "i64.extend_i32_u": 32, "i32.clz": 6, "i32.ctz": 6,
                  "i32.popcnt": 6, "i64.clz": 7, "i64.ctz": 7, "i64.popcnt": 7}
_BOOLS = frozenset(CMP)
_INT_CONSTS = ("i32.const", "i64.const")


def _written_bits(instrs: list[Any], idx: int) -> int | str:
    """The bound of the value ``local.set``/``tee`` at ``idx`` writes, from the instruction
    producing it (and a literal operand of that one); ``"l<j>"`` for a copy of local j; 64
    when unknown."""
    if idx < 1:
        return 64
    op, imm = instrs[idx - 1]
    name = op.name
    if name in _PRODUCER_BITS:
        return _PRODUCER_BITS[name]
    if name in _INT_CONSTS:
        return imm.bit_length()
    if name in _BOOLS:
        return 1
    if name == "local.get":
        return f"l{imm}"
    if idx >= 2 and instrs[idx - 2][0].name in _INT_CONSTS:
        c = instrs[idx - 2][1]
        width = 32 if name[1:3] == "32" else 64
        if name in ("i32.and", "i64.and"):
            return c.bit_length()
        if name in ("i32.shr_u", "i64.shr_u"):
            return width - (c & (width - 1))
        if name in ("i32.rem_u", "i64.rem_u") and c:
            return (c - 1).bit_length()
    return 64


def local_bounds(instrs: list[Any], types: list[str], nparams: int) -> dict[int, int]:
    """The i32/i64 locals (not parameters, which callers set) whose every write is below
    2**b, with that b: {index: b}. A local starts at 0, changes only by ``local.set``/
    ``local.tee`` (and a counted loop's ``for``, which makes what it writes unbounded), so
    the largest bound of its writes bounds every read (copies between locals solved to a
    fixpoint; bounds only grow, to at most 64, so it is reached in few rounds). Lets a read
    such as a loaded byte kept in a local skip reductions (``(l8 * 65536) % 2**32``)."""
    bound: dict[int, int] = {}
    copies: dict[int, set[int]] = {}
    for idx, (op, imm) in enumerate(instrs):
        name = op.name
        if name in ("local.set", "local.tee"):
            if imm < nparams or types[imm] not in ("i32", "i64"):
                continue
            b = _written_bits(instrs, idx)
            if isinstance(b, str):
                j = int(b[1:])
                if j < nparams:
                    bound[imm] = 64
                else:
                    copies.setdefault(imm, set()).add(j)
                    bound.setdefault(imm, 0)
            else:
                bound[imm] = max(bound.get(imm, 0), b)
        elif name == "for":
            for w in imm.writes:
                bound[int(w[1:])] = 64
        elif op is not BY_NAME.get(name):
            return {}  # a pseudo-instruction this analysis does not know: no bounds
    changed = True
    while changed:
        changed = False
        for dst, srcs in copies.items():
            b = max(bound[dst], *(bound.get(j, 0) for j in srcs))
            if b > bound[dst]:
                bound[dst] = b
                changed = True
    return {i: max(b, 1) for i, b in bound.items() if b < (32 if types[i] == "i32" else 64)}


def large_after(instrs: list[Any], idx: int, imm: int, now: int | None) -> int | None:
    """What the ``local.set``/``tee`` of local ``imm`` at ``idx`` leaves of its large start
    (``now``: the smallest literal >= 2**31 but -1 it was set to since its last other write,
    or None): a new such literal, an increment ``L + c`` keeping it, any other write
    clearing it. Clang's counters that run up from a negative value to zero (``for (i =
    -384; i; i++) p[i + 1872]``) have such starts, and their sums with a small positive
    literal, such as an address ``i + 1872``, usually pass 2**32 (``large_sum``). A hint
    in program order only (what a loop's back edge brings is not merged in): exactness does
    not depend on it."""
    if idx < 1:
        return None
    op, c = instrs[idx - 1]
    if op.name == "i32.const":
        c &= 0xFFFFFFFF
        # -1 is rather a sentinel (``not found``) than a start.
        return min(c, now or c) if c >> 31 and c != 0xFFFFFFFF else None
    if now is None or idx < 3 or op.name != "i32.add":
        return None
    (x, xi), (y, yi) = instrs[idx - 3 : idx - 1]
    if x.name == "i32.const":
        (x, xi), (y, yi) = (y, yi), (x, xi)
    if x.name == "local.get" and xi == imm and y.name == "i32.const" and 0 < yi < 1 << 16:
        return now
    return None


class SingleUse(NamedTuple):
    """Locals foldable whatever their value (``any``) and those foldable with a pure one."""

    any: frozenset[int]
    pure: frozenset[int]


def single_use_locals(instrs: list[Any]) -> SingleUse:
    """The locals with one ``local.set``, no ``local.tee`` (nor a counted loop naming them)
    and one ``local.get`` after the set, with only :data:`STRAIGHT` (:data:`WIDE`)
    instructions between them (linear in the body: a prefix count of the other
    instructions answers each interval in O(1))."""
    sets: dict[int, list[int]] = {}
    gets: dict[int, list[int]] = {}
    teed: set[int] = set()
    barriers = [0]  # barriers[i]: instructions before i that are not STRAIGHT
    walls = [0]  # walls[i]: instructions before i that are not WIDE
    for idx, (op, imm) in enumerate(instrs):
        name = op.name
        if name == "local.set":
            sets.setdefault(imm, []).append(idx)
        elif name == "local.get":
            gets.setdefault(imm, []).append(idx)
        elif name == "local.tee":
            teed.add(imm)
        elif name == "for":  # a counted loop (loops.py) reads and writes locals by name
            teed.update(int(t[1:]) for t in (f"l{imm.counter}", imm.bound, imm.step)
                        if t[0] == "l")
        barriers.append(barriers[-1] + (name not in STRAIGHT))
        walls.append(walls[-1] + (name not in WIDE))
    out, pure = set(), set()
    for x, s in sets.items():
        g = gets.get(x)
        if len(s) != 1 or x in teed or g is None or len(g) != 1 or g[0] < s[0]:
            continue
        if barriers[g[0]] == barriers[s[0] + 1]:
            out.add(x)
        if walls[g[0]] == walls[s[0] + 1]:
            pure.add(x)
    return SingleUse(frozenset(out), frozenset(pure))


class VariableVisitors:
    """Mixin of the generator: local.*, global.*, drop, select."""

    _fold: SingleUse | None = None
    _pending: dict[str, Entry] | None = None  # folded local -> its value, not yet written
    _bounds: dict[int, int] | None = None  # local -> bound of its values (local_bounds)
    _counters: dict | None = None  # local -> the loops where it counts (counters.py)
    _large: dict[int, int] | None = None  # local -> its large start now (large_after)

    def foldable(self, imm: int, v: Entry) -> bool:
        """Whether the set of local ``imm`` to ``v`` may be kept aside."""
        fold = self._fold
        if fold is None:
            # The flat form too: its basic blocks start at merges only, never inside a
            # window (which holds no control instruction).
            fold = self._fold = single_use_locals(self.instrs)
            self._pending = {}
        return imm in fold.any or (not v.eff and imm in fold.pure)

    def materialise(self, name: str) -> None:
        """Write the aside value of folded local ``name`` into its variable."""
        e = self._pending.pop(name)
        self.stmt(f"{name} = {e.expr}", e.eff)

    def materialise_if(self, reads: str | None = None, eff: bool = False) -> None:
        """Materialise the aside values that read ``reads`` (about to be written) and, with
        ``eff``, the effectful ones (something effectful is about to happen), in set order."""
        pending = self._pending
        if pending:
            for name in [n for n, e in pending.items() if (eff and e.eff) or reads in e.reads]:
                self.materialise(name)

    def h_local_get(self, idx: int, op: Any, imm: int) -> None:
        if self.lane_get(idx, imm):  # a v128 local kept as lanes (simd_locals.py)
            return
        name = f"l{imm}"
        pending = self._pending
        if pending and name in pending:
            self.stack.append(pending.pop(name))
            return
        if name in self.slocals:
            self.signed_local_get(name)
            return
        self.stack.append(self.local_entry(imm, idx))

    def local_entry(self, imm: int, idx: int = -1) -> Entry:
        """The entry reading local ``imm`` (at instruction ``idx``), with the bound of its
        values (``local_bits``)."""
        e = var(f"l{imm}")
        e.bits = self.local_bits(imm, idx)
        return e

    def local_bits(self, imm: int, idx: int = -1) -> int:
        """A bound b (0 <= value < 2**b; 0: none known) of local ``imm`` at instruction
        ``idx``: local_bounds, and inside a loop it counts, the counter's (counters.py)."""
        bounds = self._bounds
        if bounds is None:
            nparams = len(self.ftype.params)
            bounds = self._bounds = local_bounds(
                self.instrs, self.body.local_types(self.ftype.params), nparams)
            self._counters = counter_bounds(self.instrs) if not PYPY else {}
        b = bounds.get(imm)
        for c in self._counters.get(imm, ()):
            if c.start < idx < c.stop:
                b = c.bits if b is None else min(b, c.bits)
        return b or 0

    def large_start(self, expr: str) -> int | None:
        """The large start (``large_after``) of the local read by ``expr`` (a name)."""
        large = self._large
        if not large or expr[:1] != "l" or not expr[1:].isdigit():
            return None
        return large.get(int(expr[1:]))

    def h_local_set(self, idx: int, op: Any, imm: int, tee: bool = False) -> None:
        name = f"l{imm}"
        if self._pending:
            # Folded values that read what this set overwrites (the local, or the lane
            # variables of a v128 kept as lanes) are written out first.
            eff = self.stack[-1].eff
            for target in self.lane_targets(idx) or (name,):
                self.materialise_if(target, eff)
        if self.lane_set(idx, imm, tee):
            return
        large = self._large
        start = large_after(self.instrs, idx, imm, large.get(imm) if large else None)
        if start is not None:
            if large is None:
                large = self._large = {}
            large[imm] = start
        elif large:
            large.pop(imm, None)
        self.forget_var(name)
        if name in self.slocals:  # PyPy: an i64 local in signed form (never folded)
            self.loaded_into(-1)
            self.signed_local_set(name, tee)
            return
        (v,) = self.take(1)
        if not tee and self.foldable(imm, v):
            if v.eff:  # older effectful entries keep their place before this value
                self.flush_effects()
            self._pending[name] = v
            self.loaded_into(-1)
            return
        if v.expr != name:
            self.stmt(f"{name} = {v.expr}", v.eff, (name,))
        self.loaded_into(imm)
        if tee:
            self.stack.append(self.local_entry(imm, idx))

    def h_local_tee(self, idx: int, op: Any, imm: int) -> None:
        self.h_local_set(idx, op, imm, tee=True)

    def global_cell(self, i: int) -> str:
        return self.bind(f"G{i}", f"rt.globals[{i}]")

    def h_global_get(self, idx: int, op: Any, imm: int) -> None:
        mutable = self.global_types[imm].mutable
        self.stack.append(Entry(f"{self.global_cell(imm)}.value", eff=mutable, depth=1))

    def h_global_set(self, idx: int, op: Any, imm: int) -> None:
        (v,) = self.take(1)
        self.stmt(f"{self.global_cell(imm)}.value = {v.expr}", True)

    def h_drop(self, idx: int, op: Any, imm: Any) -> None:
        (v,) = self.take(1)
        if v.eff:
            self.stmt(v.expr, True)

    def h_select(self, idx: int, op: Any, imm: Any) -> None:
        n = len(self.stack)
        for i in (n - 3, n - 2):
            if self.stack[i].eff:
                self.spill(i)
        a, b, c = self.take(3)
        self.push(f"({a.expr} if {self.cond_of(c)} else {b.expr})", [a, b, c])
        if a.sexpr is not None or b.sexpr is not None:  # PyPy: i64 in signed form
            self.stack[-1].sexpr = f"({self.sconv(a)} if {self.cond_of(c)} else {self.sconv(b)})"


HANDLERS = {
    "drop": "h_drop",
    "select": "h_select",
    "select_t": "h_select",
    "local.get": "h_local_get",
    "local.set": "h_local_set",
    "local.tee": "h_local_tee",
    "global.get": "h_global_get",
    "global.set": "h_global_set",
}
