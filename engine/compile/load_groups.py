"""Grouped loads: neighbouring loads through one base local read by one ``struct`` call.

Measured on matrix.O2, whose inner statements load 12 neighbouring f64s through one pointer
(0.65x of its time), and on matrix.O3simd, whose vectorised inner loop builds each i32x4
from a splat and three lane loads (48 loads of one row per iteration, one call instead of
48). Loads at places ``L + c + offset`` of one local L (``c`` a small signed literal) with
nothing between them that traps (but another load), writes memory, a global or L, calls or
branches (:data:`GROUP_BETWEEN`) are read by one call at the first of them into named
temporaries. Exact because they all run and nothing observable happens between (a trap of
any is the trap of the first in program order: one message for every out-of-bounds load);
where some ``L + c`` would wrap around 2**32 (a guard on L) each is loaded on its own, in
program order, instead (``numerics.group_load``).

A load's address is found by :func:`address_places`, a symbolic run of the operand stack
over straight-line code: it sees through addresses computed long before their load (clang
pushes the four addresses of a splat and its three lane loads first).

The members' struct codes: scalar loads have theirs; a v128 member (``v128.load``, a 32- or
64-bit splat or lane load) takes the lane kind of the first shaped SIMD instruction after
it (:func:`simd_kind_after`), as the lane translation will (simd_lanes.py). A member whose
translation wants another kind after all loads on its own: its bytes were read by the group
without effect.
"""

from __future__ import annotations

import struct
from collections.abc import Container
from typing import Any, NamedTuple

from ..opcodes import PREFIXED
from . import numerics as N
from .ops import LOADS
from .simd_lanes import KINDS, Kind
from .visit_variables import STRAIGHT

#: The struct code (one lane or scalar) and size of each groupable load; None: the code is
#: the lane kind's (simd_kind_after).
SCALAR_CODES = {"i32.load": ("I", 4), "i64.load": ("Q", 8), "f64.load": ("d", 8)}
V128_MEMBERS = {"v128.load": 16, "v128.load32_splat": 4, "v128.load32_lane": 4,
                "v128.load64_splat": 8, "v128.load64_lane": 8}
GROUP_MIN = 3  # distinct places per group (one call for n saves ~(n - 1) * 50 ns)
GROUP_SPAN = 256  # bytes one grouped load may cover
GROUP_CONST = 1 << 16  # the largest |c| of an address ``local + c`` (c signed)
GROUP_LOOKAHEAD = 256  # instructions from a group's first load to its last
_SHAPES = ("i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2")
_SIMD_LOOKAHEAD = 24  # instructions searched for the shape that consumes a v128 load

_SIMD = list(PREFIXED[0xFD].values())
#: SIMD instructions that neither trap nor touch memory, and the v128 loads.
SIMD_PURE = frozenset(op.name for op in _SIMD if op.imm not in ("memarg", "memarg_lane"))
V128_LOADS = frozenset(op.name for op in _SIMD
                       if op.imm in ("memarg", "memarg_lane") and op.results)
#: What may lie between the loads of a group: nothing that traps but a load (whose trap is
#: the grouped load's), writes memory or a global, calls or branches.
GROUP_BETWEEN = (STRAIGHT | set(LOADS) | V128_LOADS | SIMD_PURE
                 | {"local.tee", "drop", "global.get", "select"})
_STRUCTS: dict[str, Any] = {}


def unpacker(fmt: str) -> Any:
    """``struct.Struct(fmt).unpack_from``, one per format and process."""
    u = _STRUCTS.get(fmt)
    if u is None:
        u = _STRUCTS[fmt] = struct.Struct(fmt).unpack_from
    return u


class Place(NamedTuple):
    """An address ``local + c`` (``c`` signed: -6 for 2**32 - 6)."""

    local: int
    c: int


def address_places(instrs: list) -> dict[int, Place]:
    """The address of every load whose address is ``local.get L`` or ``local.get L;
    i32.const c; i32.add`` (either order, possibly computed well before the load), by
    instruction index. A symbolic operand stack over straight-line code: an instruction
    without a fixed signature other than the few handled here (control, calls) forgets
    everything, and a write of L forgets the places of L (a later load of one would read
    the old value of L, the group the new one)."""
    places: dict[int, Place] = {}
    stack: list[Any] = []  # None: unknown; ("l", L); ("c", value); a Place

    def pop() -> Any:
        return stack.pop() if stack else None

    for idx, (op, imm) in enumerate(instrs):
        name = op.name
        if name == "local.get":
            stack.append(("l", imm))
        elif name == "i32.const":
            stack.append(("c", imm))
        elif name == "i32.add":
            stack.append(_add_place(pop(), pop()))
        elif name in ("local.set", "local.tee"):
            pop()
            stack[:] = [None if _reads(e, imm) else e for e in stack]
            if name == "local.tee":
                stack.append(None)
        elif name in ("drop", "global.set"):
            pop()
        elif name == "global.get":
            stack.append(None)
        elif name == "select":
            del stack[-3:]
            stack.append(None)
        elif op.params is not None and op.results is not None:
            args = [pop() for _ in op.params][::-1]
            if op.imm in ("memarg", "memarg_lane") and op.results and args:
                a = args[0]
                if isinstance(a, Place):
                    places[idx] = a
                elif a is not None and a[0] == "l":
                    places[idx] = Place(a[1], 0)
            stack.extend([None] * len(op.results))
        else:
            stack.clear()  # control flow, calls ...: below here nothing is known
    return places


def _add_place(y: Any, x: Any) -> Any:
    """``x + y`` as a Place when one is a local and the other a small literal."""
    if x is None or y is None or isinstance(x, Place) or isinstance(y, Place):
        return None
    if x[0] == "c":
        x, y = y, x
    if x[0] != "l" or y[0] != "c":
        return None
    c = y[1] - (1 << 32) if y[1] >> 31 else y[1]  # a small negative literal: ``p[-6]``
    return Place(x[1], c) if -GROUP_CONST < c < GROUP_CONST else None


def _reads(e: Any, local: int) -> bool:
    if isinstance(e, Place):
        return e.local == local
    return e is not None and e[0] == "l" and e[1] == local


def simd_kind_after(instrs: list, idx: int) -> Kind | None:
    """The lane kind of the first shaped SIMD instruction (``f64x2.mul`` ...) after
    ``idx``, or None (none near, or a shape not translated on lanes)."""
    for j in range(idx + 1, min(idx + _SIMD_LOOKAHEAD, len(instrs))):
        shape = instrs[j][0].name[:5]
        if shape in _SHAPES:
            return KINDS.get(shape)
    return None


class Member(NamedTuple):
    """One load of a group: ``code`` its struct code(s) (``"d"``, ``"4I"`` ...), ``count``
    the values they unpack, at ``c + off`` from the base local."""

    idx: int
    c: int
    off: int
    code: str
    size: int
    count: int
    kind: Kind | None = None  # a v128 member's lanes (a splat's: the lane repeated)


class LoadGroup(NamedTuple):
    """Loads through local ``local`` read by one struct call; ``slots`` are the distinct
    members (by ``c + off``) in ascending order, the order of the call's values."""

    local: int
    members: tuple[Member, ...]
    slots: tuple[Member, ...]


def member_of(instrs: list, idx: int, place: Place) -> Member | None:
    """The load at ``idx`` as a group member, or None when it cannot be one."""
    op, imm = instrs[idx]
    name = op.name
    memarg = imm[0] if op.imm == "memarg_lane" else imm
    if name in SCALAR_CODES:
        code, size = SCALAR_CODES[name]
        return Member(idx, place.c, memarg[1], code, size, 1)
    size = V128_MEMBERS.get(name)
    if size is None:
        return None
    kind = simd_kind_after(instrs, idx)
    if size == 16:
        if kind is None:
            return None
        return Member(idx, place.c, memarg[1], f"{kind.n}{kind.fmt}", 16, kind.n, kind)
    kind = KINDS["i32x4" if size == 4 else "f64x2" if kind is not None and kind.is_float
                 else "i64x2"]
    return Member(idx, place.c, memarg[1], kind.fmt, size, 1, kind)


def find_group(instrs: list, places: dict[int, Place], idx: int, mem: int,
               skip: Container[int] = ()) -> LoadGroup | None:
    """The group the load at ``idx`` (of memory ``mem``) starts: members of GROUP_MIN or
    more places through its base local, not overlapping, within GROUP_SPAN bytes, with only
    GROUP_BETWEEN instructions between them (so all run, in this order, and nothing
    observable happens between). A load that would overlap or widen the span too much is
    left out (it loads on its own), as are the loads in ``skip`` (forward.py reads their
    values from variables: they load nothing)."""
    place = places.get(idx)
    if place is None:
        return None
    first = member_of(instrs, idx, place)
    if first is None:
        return None
    local = place.local
    members = [first]
    at = {first.c + first.off: first}
    lo, hi = first.c + first.off, first.c + first.off + first.size
    for j in range(idx + 1, min(idx + GROUP_LOOKAHEAD, len(instrs))):
        op, imm = instrs[j]
        n = op.name
        p = places.get(j)
        if p is not None and p.local == local and _memory(op, imm) == mem and j not in skip:
            m = member_of(instrs, j, p)
            if m is not None and _fits(m, at, lo, hi):
                members.append(m)
                at[m.c + m.off] = m
                lo, hi = min(lo, m.c + m.off), max(hi, m.c + m.off + m.size)
                continue
        if n not in GROUP_BETWEEN or (n in ("local.set", "local.tee") and imm == local):
            break
    if len(at) < GROUP_MIN:
        return None
    return LoadGroup(local, tuple(members), tuple(at[r] for r in sorted(at)))


def _memory(op: Any, imm: Any) -> int:
    return (imm[0] if op.imm == "memarg_lane" else imm)[2]


def _fits(m: Member, at: dict[int, Member], lo: int, hi: int) -> bool:
    """Whether ``m`` joins a group over ``at`` (spanning ``lo..hi``): the same bytes read
    the same way as a member, or bytes of no member within the span."""
    r = m.c + m.off
    same = at.get(r)
    if same is not None:
        return same.code == m.code
    if max(hi, r + m.size) - min(lo, r) > GROUP_SPAN:
        return False
    return all(r + m.size <= s or s + o.size <= r for s, o in at.items())


def group_format(slots: tuple[Member, ...]) -> str:
    """The struct format reading ``slots`` from the first one's address."""
    fmt, pos = "<", slots[0].c + slots[0].off
    for s in slots:
        r = s.c + s.off
        fmt += "x" * (r - pos) + s.code
        pos = r + s.size
    return fmt


class GroupedLoads:
    """Mixin of the generator: grouped loads (used by visit_memory.py and visit_simd.py)."""

    def grouped(self, idx: int, mem: int, code: str | None = None
                ) -> tuple[Member, list[str]] | None:
        """The load at ``idx`` as a group member and the names holding its value(s) when it
        belongs to a group (the first member emits the grouped read), or None: it loads on
        its own. ``code``: the struct code the caller's translation needs (a lane load's),
        None: the member's."""
        groups = getattr(self, "_groups", None)
        if groups is None:
            groups = self._groups = {}
            self._places = None
        hit = groups.get(idx)
        if hit is None:
            if idx in groups:
                return None
            groups[idx] = None
            hit = self._new_group(idx, mem)
            if hit is None:
                return None
        if code is not None and code != hit[0].code:
            return None
        return hit

    def _new_group(self, idx: int, mem: int) -> tuple[Member, list[str]] | None:
        mtype = self.mem_type(mem)
        if mtype.is_64 or mtype.shared:
            return None
        if self._places is None:
            self._places = address_places(self.instrs)
        g = find_group(self.instrs, self._places, idx, mem, self.fwd_plan().reads)
        if g is None or f"l{g.local}" in (self._pending or ()):
            return None
        t = self.temp()
        names: dict[int, list[str]] = {}
        k = 0
        for s in g.slots:
            names[s.c + s.off] = [f"{t}_{k + i}" for i in range(s.count)]
            k += s.count
        m = self.mem(mem)
        self.stmt(f"{', '.join(n for v in names.values() for n in v)}, = "
                  f"{self._group_read(g, m)}", True)
        for member in g.members:
            self._groups[member.idx] = (member, names[member.c + member.off])
        return self._groups[idx]

    def _group_read(self, g: LoadGroup, m: str) -> str:
        """The call reading ``g`` (with its wrap-around guard)."""
        read = self.const(unpacker(group_format(g.slots)), "LDG")
        base = f"l{g.local}"
        r = g.slots[0].c + g.slots[0].off
        first = f"{read}({m}, {base}{f' + {r}' if r > 0 else f' - {-r}' if r else ''})"
        cmin = min(s.c for s in g.members)
        cmax = max(s.c for s in g.members)
        guard = f"{-cmin} <= {base}" if cmin < 0 else ""
        # A base known below 2**bits (a loop's counter, counters.py): no L + c passes 2**32.
        bits = self.local_bits(g.local, g.members[0].idx)
        if cmax > 0 and not (0 < bits < 32 and (1 << bits) + cmax <= 1 << 32):
            guard += f"{' and ' if guard else ''}{base} < {(1 << 32) - cmax}"
        if not guard:
            return first
        # Below -cmin or past 2**32 - cmax some ``L + c`` wrap around: each load on its
        # own, in program order, there.
        slow = self.const(N.group_load, "LDGSLOW")
        places = self.const(tuple(
            (s.c & 0xFFFFFFFF, s.off, s.c + s.off, s.size, unpacker("<" + s.code))
            for s in g.members), "LDGP")
        return f"({first} if {guard} else {slow}({m}, {base}, {places}))"
