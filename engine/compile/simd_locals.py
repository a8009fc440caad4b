"""v128 values as lanes across instructions: conversions of stack entries to lanes, and v128
locals kept unpacked for a whole function.

A v128 local that the function mostly produces and consumes with the lane-wise ops of one
kind (say f64x2) lives as one Python local per lane (``l5_0``, ``l5_1``) instead of the
``int`` ``l5``: ``local.get`` pushes those names as a :class:`LaneEntry`, ``local.set``
assigns them. The choice is per function, made by one scan of the body that pairs each
``local.get``/``local.set`` with its consumer/producer within straight-line code
(:func:`lane_locals`); it only decides speed, never correctness, since every consumer of a
:class:`LaneEntry` may still use its packed int form. Measured on matrix.O3simd (f64x2 and
i32x4 accumulators in the matmul loops) and nbody.O3simd (f64x2 position and velocity
vectors): without it each lane op result stored in a local costs a pack and each read an
unpack, about as much as the old helpers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..types import V128
from .simd_lanes import KINDS, LANE_HELPERS, LANE_OPS, Kind, LaneEntry, MemEntry, literal_lanes
from .stack import Entry


def _vote_kind(name: str, consumer: bool) -> str | None:
    """The lane kind instruction ``name`` wants its v128 operands (``consumer``) or gives
    its result in, if it has a lane translation."""
    lop = LANE_OPS.get(name)
    if lop is not None:
        return lop.kind if consumer else (lop.out or lop.kind)
    shape, _, what = name.partition(".")
    if shape in KINDS and what in ("splat", "replace_lane", "extract_lane", "extract_lane_s",
                                   "extract_lane_u"):
        return shape
    if name.startswith(("v128.load", "v128.store")) and name.endswith("_lane"):
        width = int(name.split("_")[0][9 if name[5] == "l" else 10:])
        return f"i{width}x{128 // width}"
    return None


def lane_locals(instrs: list, v128: set[int]) -> dict[int, Kind]:
    """The v128 locals worth keeping as lanes, with their kind (see the module docstring).

    A symbolic stack of producers is kept within straight-line code (anything without a
    fixed signature resets it): each ``local.get`` of a v128 local votes for the kind of
    the instruction consuming it, each ``local.set``/``tee`` for the kind of the instruction
    producing its value; copies between v128 locals join their votes."""
    parent = {i: i for i in v128}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    votes: dict[int, Counter] = {}

    def vote(local: int, kind: str | None) -> None:
        if kind is not None:
            votes.setdefault(local, Counter())[kind] += 1

    stack: list[Any] = []
    for op, imm in instrs:
        name = op.name
        if name == "local.get":
            stack.append(("get", imm) if imm in v128 else None)
            continue
        if name in ("local.set", "local.tee"):
            v = stack.pop() if stack else None
            if imm in v128 and v is not None:
                if v[0] == "get":
                    parent[root(v[1])] = root(imm)
                else:
                    vote(imm, v[1])
            if name == "local.tee":
                stack.append(("get", imm) if imm in v128 else None)
            continue
        if op.params is None or op.results is None:
            stack.clear()
            continue
        want = _vote_kind(name, True)
        for _ in op.params:
            v = stack.pop() if stack else None
            if v is not None and v[0] == "get":
                vote(v[1], want)
        if op.results:
            stack.append(("op", _vote_kind(name, False)))
            stack.extend([None] * (len(op.results) - 1))
    totals: dict[int, Counter] = {}
    for local, c in votes.items():
        totals.setdefault(root(local), Counter()).update(c)
    out = {}
    for i in v128:
        c = totals.get(root(i))
        if c:
            out[i] = KINDS[c.most_common(1)[0][0]]
    return out


class LaneVisitors:
    """Mixin of the generator: lane conversions and lane-kept v128 locals."""

    lane_kinds: dict[int, Kind] | None = None  # per function, on first local access

    def _lane_locals(self) -> dict[int, Kind]:
        kinds = self.lane_kinds
        if kinds is None:
            params = self.ftype.params
            types = self.body.local_types(params)
            v128 = {i for i, t in enumerate(types) if t == V128}
            kinds = self.lane_kinds = lane_locals(self.instrs, v128) if v128 else {}
            if kinds:
                self.consts.update(LANE_HELPERS)  # shared globals (simd.SIMD_HELPERS)
            for i, kind in sorted(kinds.items()):
                names = ", ".join(self._lane_names(i, kind))
                if i < len(params):
                    self.prologue.append(f"{names} = v_uk_{kind.name}(l{i})")
                else:
                    self.prologue.append(f"{names.replace(',', ' =')} = {kind.zero}")
        return kinds

    @staticmethod
    def _lane_names(i: int, kind: Kind) -> list[str]:
        return [f"l{i}_{j}" for j in range(kind.n)]

    def lane_get(self, imm: int) -> bool:
        """``local.get`` of a lane-kept local: push its lanes."""
        kind = self._lane_locals().get(imm)
        if kind is None:
            return False
        names = self._lane_names(imm, kind)
        self.stack.append(LaneEntry(kind, names, frozenset(names)))
        return True

    def lane_set(self, imm: int, tee: bool) -> bool:
        """``local.set``/``tee`` of a lane-kept local: assign every lane at once."""
        kind = self._lane_locals().get(imm)
        if kind is None:
            return False
        (v,) = self.take(1)
        names = self._lane_names(imm, kind)
        if not (isinstance(v, LaneEntry) and v.kind is kind and v.lanes == names):
            self.stmt(f"{', '.join(names)} = {self._lanes_rhs(v, kind)}", v.eff, tuple(names))
        if tee:
            self.stack.append(LaneEntry(kind, names, frozenset(names)))
        return True

    # -- conversions ---------------------------------------------------------------------

    def _lane_loader(self, kind: Kind) -> str:
        """The global unpacking one lane of ``kind`` from memory (returns a 1-tuple)."""
        return "v_ldf64" if kind.is_float else f"v_ld{kind.width}"

    def _lanes_rhs(self, e: Entry, kind: Kind) -> str:
        """A Python expression list (or tuple expression) of the lanes of ``e``."""
        if isinstance(e, LaneEntry) and e.kind is kind:
            return ", ".join(e.lanes)
        if e.const:
            return ", ".join(self._lane_literal(kind, v)
                             for v in literal_lanes(kind, int(e.expr)))
        if isinstance(e, MemEntry):
            self.uses_try = True
            if e.source == "full":
                return f"v_ld_{kind.name}({e.mem}, {e.ea})"
            width = int(e.source)
            if width == kind.width:
                return f"{self._lane_loader(kind)}({e.mem}, {e.ea}) * {kind.n}"
        return f"v_uk_{kind.name}({e.expr})"

    def _lane_literal(self, kind: Kind, v: Any) -> str:
        return self.float_lit(v).expr if kind.is_float else str(v)

    def as_lanes(self, pos: int, kind: Kind, atomic: bool = False) -> None:
        """Make stack entry ``pos`` a :class:`LaneEntry` of ``kind`` (with name or literal
        lanes when ``atomic``), evaluating it by a statement at its program point when it
        is not one already."""
        from .simd_lanes import is_atom

        e = self.stack[pos]
        if isinstance(e, LaneEntry) and e.kind is kind:
            if atomic and not all(is_atom(x) for x in e.lanes):
                self.spill(pos)
            return
        if e.const:
            lanes = [self._lane_literal(kind, v) for v in literal_lanes(kind, int(e.expr))]
            if all(is_atom(x) for x in lanes) or not atomic:
                self.set_entry(pos, LaneEntry(kind, lanes))
                return
        if e.eff:
            self.flush_effects_to(pos)
        t = self.temp()
        names = [f"{t}_{j}" for j in range(kind.n)]
        rhs = self._lanes_rhs(e, kind)
        self.emit(f"{', '.join(names)} = {rhs}")
        self.set_entry(pos, LaneEntry(kind, names, frozenset(names)))
