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

import re
from collections import Counter
from typing import Any, NamedTuple

from ..types import V128
from .simd_demand import lane_mask, web_needs
from .simd_exits import exit_reuses, rewritten
from .simd_lanes import (
    KINDS,
    LANE_HELPERS,
    LANE_OPS,
    Kind,
    LaneEntry,
    MemEntry,
    assign,
    is_atom,
    lane_loader,
    literal_lanes,
)
from .simd_webs import Webs, webs
from .stack import Entry, lit

_TRANSPARENT = frozenset(("v128.and", "v128.or", "v128.xor", "v128.andnot", "v128.not",
                          "v128.bitselect", "i8x16.shuffle"))


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


class LanePlan(NamedTuple):
    """Per instruction index of a ``local.get`` / ``local.set``/``tee`` of a v128 local kept
    as lanes: its kind and lane variables; ``init``: prologue statements; ``skip``: the
    instructions a reuse of a loop's value replaces (simd_exits.py), which emit nothing;
    ``live``: per ``local.set``/``tee``, the lanes it assigns when not all (simd_demand.py;
    nothing reads the others: a ``local.get`` pushes a zero in their place)."""

    uses: dict[int, tuple[Kind, list[str]]]
    defs: dict[int, tuple[Kind, list[str]]]
    init: list[str]
    skip: frozenset[int]
    live: dict[int, tuple[bool, ...]]
    consts: dict[int, str]  # a local.get of a web that only ever holds one v128.const
    const_defs: frozenset[int]  # the local.set/tee of such webs (they store nothing)
    windows: dict[int, tuple[int, frozenset[int]]]  # see _windows
    use_webs: dict[int, int]  # the local.gets of the webs in ``windows``: their web


#: Reuse what a loop computed instead of its repetition after the loop (simd_exits.py).
EXIT_REUSE = True
#: Assign only the lanes of a v128 local that something may read (simd_demand.py).
DEMAND = True
#: Read the literal where a v128 local only ever holds one v128.const (_const_webs).
CONST_WEBS = True
#: Read a v128 load's 64-bit lanes through its view inside the lane expressions
#: (MemEntry.inline_lanes; measured in-process: nbody.O3simd's read-modify-write of a
#: velocity pair, 0.975x of its time).
INLINE_LOADS = True
#: Read the names a v128 local was set to where they still hold its value (_windows).
ALIASES = True
#: The longest straight-line window (instructions) from a set to the gets it aliases.
_WINDOW = 64


def _one_web_per_local(instrs: list, v128: set[int]) -> Webs:
    """The fallback of :func:`simd_webs.webs`: every access of a local in one web."""
    uses, defs = {}, {}
    for i, (op, imm) in enumerate(instrs):
        if op.name == "local.get" and imm in v128:
            uses[i] = imm
        elif op.name in ("local.set", "local.tee") and imm in v128:
            defs[i] = imm
    return Webs(uses, defs, {loc: loc for loc in v128})


def _votes(instrs: list, w: Webs) -> dict[int, Counter]:
    """Lane-kind votes per web (see the module docstring); a copy between two webs joins
    their votes (so a copy stays a lane-by-lane assignment)."""
    group: dict[int, int] = {}

    def root(x: int) -> int:
        group.setdefault(x, x)
        while group[x] != x:
            group[x] = group[group[x]]
            x = group[x]
        return x

    votes: dict[int, Counter] = {}

    def vote(web: int, kind: str | None) -> None:
        if kind is not None:
            votes.setdefault(web, Counter())[kind] += 1

    stack: list[Any] = []
    affinity: list[tuple[int, int]] = []  # webs meeting as operands of a _TRANSPARENT op
    for i, (op, _imm) in enumerate(instrs):
        name = op.name
        if name == "local.get":
            web = w.uses.get(i)
            stack.append(None if web is None else ("get", web))
            continue
        if name in ("local.set", "local.tee"):
            v = stack.pop() if stack else None
            web = w.defs.get(i)
            if web is not None and v is not None:
                if v[0] == "get":
                    group[root(v[1])] = root(web)
                else:
                    vote(web, v[1])
            if name == "local.tee":
                stack.append(None if web is None else ("get", web))
            continue
        if op.params is None or op.results is None:
            stack.clear()
            continue
        want = _vote_kind(name, True)
        ins = [stack.pop() if stack else None for _ in op.params]
        out = _vote_kind(name, False)
        if name in _TRANSPARENT:
            # bitwise ops and shuffles work on any lanes: an operand takes the kind of the
            # others (a producer's now, a web's once the direct votes are counted)
            known = [v[1] for v in ins if v is not None and v[0] == "op" and v[1]]
            out = known[0] if known else None
            for v in ins:
                if v is not None and v[0] == "get":
                    for k in known:
                        vote(v[1], k)
                    affinity.extend((v[1], u[1]) for u in ins
                                    if u is not None and u[0] == "get" and u is not v)
        for v in ins:
            if v is not None and v[0] == "get":
                vote(v[1], want)
        if op.results:
            stack.append(("op", out))
            stack.extend([None] * (len(op.results) - 1))
    totals: dict[int, Counter] = {}
    for web, c in votes.items():
        totals.setdefault(root(web), Counter()).update(c)
    for web, other in affinity:  # measured: crc_b64's v128.const masks of i32x4 lanes
        if root(web) not in totals and root(other) in totals:
            kind = totals[root(other)].most_common(1)[0][0]
            totals[root(web)] = Counter({kind: 1})
    return {web: totals[root(web)] for web in set(group) | set(votes) if root(web) in totals}


def lane_plan(instrs: list, types: list[str], nparams: int, ends: dict[int, int]) -> LanePlan:
    """Which v128 webs live as lanes, of which kind (see the module docstring)."""
    v128 = {i for i, t in enumerate(types) if t == V128}
    if not v128:
        return LanePlan({}, {}, [], frozenset(), {}, {}, frozenset(), {}, {})
    reuses = exit_reuses(instrs, ends, v128) if EXIT_REUSE else []
    while True:
        seen = rewritten(instrs, reuses) if reuses else instrs
        w = webs(seen, v128, ends) or _one_web_per_local(seen, v128)
        votes = _votes(seen, w)
        kinds = {web: KINDS[c.most_common(1)[0][0]] for web, c in votes.items() if c}
        kept = [r for r in reuses if w.uses.get(r.at) in kinds]
        if len(kept) == len(reuses):  # a reuse pushes the lanes of the value it reads
            break
        reuses = kept
    web_local = {web: seen[i][1] for i, web in (*w.uses.items(), *w.defs.items())}

    def names(web: int, kind: Kind) -> list[str]:
        return [f"l{web_local.get(web, 0)}_{web}_{j}" for j in range(kind.n)]

    def plan(acc: dict[int, int]) -> dict[int, tuple[Kind, list[str]]]:
        return {i: (kinds[web], names(web, kinds[web])) for i, web in acc.items()
                if web in kinds}

    const = _const_webs(seen, w, nparams) if CONST_WEBS else {}
    init = []
    for loc, web in sorted(w.entry.items()):
        kind = kinds.get(web)
        if kind is not None and web not in const:
            web_local[web] = loc
            lanes = names(web, kind)
            if loc < nparams:
                init.append(f"{', '.join(lanes)} = v_uk_{kind.name}(l{loc})")
            else:
                init.append(f"{' = '.join(lanes)} = {kind.zero}")
    dead = _live_lanes(seen, v128, w, kinds) if DEMAND else {}
    uses = plan(w.uses)
    for i, web in w.uses.items():  # a lane no one reads: a zero in its place (any value is)
        if web in dead:
            kind, lanes = uses[i]
            uses[i] = (kind, [n if on else kind.zero for n, on in zip(lanes, dead[web])])
    skip = frozenset(i for r in reuses for i in (r.at + 1, r.at + 2))
    live = {i: dead[web] for i, web in w.defs.items() if web in dead}
    consts = {i: str(const[web]) for i, web in w.uses.items() if web in const}
    const_defs = frozenset(i for i, web in w.defs.items() if web in const)
    windows = _windows(seen, w) if ALIASES else {}
    aliased = {web for web, _ in windows.values()}
    use_webs = {i: web for i, web in w.uses.items() if web in aliased}
    return LanePlan(uses, plan(w.defs), init, skip, live, consts, const_defs, windows,
                    use_webs)


#: Instructions a window may hold: no control flow (a call cannot write this frame's locals).
_STRAIGHT = frozenset(("local.get", "local.set", "local.tee", "global.get", "global.set",
                       "drop", "nop", "call", "call_indirect", "select"))


def _windows(instrs: list, w: Webs) -> dict[int, tuple[int, frozenset[int]]]:
    """Per ``local.set``/``tee`` that is the one definition of its web, when every use of
    the web follows it within :data:`_WINDOW` instructions of straight-line code: the web
    and the locals written between the set and the last use. If the value set is names
    that none of those writes touches (a splat of a local: nbody.O3simd's ``f64x2.splat``
    of the force factor, read twice), the uses may read the names themselves and the set
    store nothing (LaneVisitors.lane_set)."""
    defs: dict[int, list[int]] = {}
    for d, web in w.defs.items():
        defs.setdefault(web, []).append(d)
    uses: dict[int, list[int]] = {}
    for u, web in w.uses.items():
        uses.setdefault(web, []).append(u)
    entry = set(w.entry.values())
    out = {}
    for web, ds in defs.items():
        us = uses.get(web)
        if len(ds) != 1 or web in entry or not us:
            continue
        d = ds[0]
        last = max(us)
        if min(us) < d or last - d > _WINDOW:
            continue
        between = instrs[d + 1:last]
        if all(op.name in _STRAIGHT or (op.params is not None and op.results is not None)
               for op, _ in between):
            out[d] = (web, frozenset(imm for op, imm in between
                                     if op.name in ("local.set", "local.tee")))
    return out


def _const_webs(instrs: list, w: Webs, nparams: int) -> dict[int, int]:
    """The webs whose every definition stores a ``v128.const`` (the instruction before
    it) of one value, with that value: clang keeps a vector constant in a local, set
    again in every iteration (lz77.O3simd's memset of -1 bytes: a 16-byte conversion per
    store; nbody.O3simd's splat of dt). A web holding a local's value on entry holds
    zero there (a parameter: anything), so it is one only with a zero constant."""
    value: dict[int, int | None] = {}
    for d, web in w.defs.items():
        op, imm = instrs[d - 1] if d > 0 else (None, None)
        v = imm if op is not None and op.name == "v128.const" else None
        value[web] = v if value.get(web, v) == v else None
    entry = {web: loc for loc, web in w.entry.items()}
    out = {}
    for web, v in value.items():
        loc = entry.get(web)
        if v is not None and (loc is None or (loc >= nparams and v == 0)):
            out[web] = v
    return out


def _live_lanes(instrs: list, v128: set[int], w: Webs,
                kinds: dict[int, Kind]) -> dict[int, tuple[bool, ...]]:
    """The lane-kept webs that not every lane of is read, with which lanes are."""
    needs = web_needs(instrs, v128, w.uses, w.defs)
    if needs is None:
        return {}
    dead: dict[int, tuple[bool, ...]] = {}
    for web, need in needs.items():
        kind = kinds.get(web)
        if kind is not None:
            lanes = tuple(bool(need & lane_mask(kind.width, j)) for j in range(kind.n))
            if not all(lanes):
                dead[web] = lanes
    return dead


#: A variable of the translated code: a local's (``l5``, its lane ``l5_12_0``: group 1
#: the local) or a temporary's (``t3``, ``t3_1``).
_VAR = re.compile(r"l(\d+)(?:_\d+_\d+)?|t\d+(?:_\d+)?")


def _names_in(lanes: list[str]) -> frozenset[str]:
    return frozenset(x for x in lanes if _VAR.fullmatch(x))


class LaneVisitors:
    """Mixin of the generator: lane conversions and lane-kept v128 locals."""

    lane_plan: LanePlan | None = None  # per function, on its first local access
    _aliases: dict[int, tuple[Kind, list[str]]] | None = None  # web -> the lanes it reads

    def _lanes_plan(self) -> LanePlan:
        plan = self.lane_plan
        if plan is None:
            params = self.ftype.params
            plan = self.lane_plan = lane_plan(self.instrs, self.body.local_types(params),
                                              len(params), self.ends)
            if plan.uses or plan.defs:
                self.consts.update(LANE_HELPERS)  # shared globals (simd.SIMD_HELPERS)
            self.prologue.extend(plan.init)
        return plan

    def lane_get(self, idx: int, imm: int) -> bool:
        """``local.get`` of a v128 kept as lanes: push its lanes (at a reuse of a loop's
        value, simd_exits.py, the lanes of the local it reads; nothing where it skips)."""
        plan = self._lanes_plan()
        c = plan.consts.get(idx)
        if c is not None:
            self.stack.append(lit(c))
            return True
        web = plan.use_webs.get(idx)
        if web is not None and self._aliases and web in self._aliases:
            kind, lanes = self._aliases[web]
            self.stack.append(LaneEntry(kind, lanes, _names_in(lanes)))
            return True
        got = plan.uses.get(idx)
        if got is None:
            return idx in plan.skip
        kind, names = got
        self.stack.append(LaneEntry(kind, names, frozenset(n for n in names if n[0] == "l")))
        return True

    def lane_targets(self, idx: int) -> tuple[str, ...]:
        """The lane variables the ``local.set``/``tee`` at ``idx`` writes (none when its
        local is not kept as lanes there)."""
        got = self._lanes_plan().defs.get(idx)
        return tuple(got[1]) if got is not None else ()

    def lane_set(self, idx: int, imm: int, tee: bool) -> bool:
        """``local.set``/``tee`` of a v128 kept as lanes: assign every lane at once."""
        if idx in self._lanes_plan().const_defs:  # its literal is read instead
            if not tee:
                self.take(1)
            return True
        got = self._lanes_plan().defs.get(idx)
        if got is None:
            return False
        kind, names = got
        top = self.stack[-1]
        if isinstance(top, LaneEntry) and top.kind is not kind:
            self.as_lanes(len(self.stack) - 1, kind)
        window = self.lane_plan.windows.get(idx)
        if window is not None and self._alias(kind, window, tee):
            return True
        live = self.lane_plan.live.get(idx)
        if live is not None and self._set_live(kind, names, live, tee):
            return True
        (v,) = self.take(1)
        if not (isinstance(v, LaneEntry) and v.kind is kind and v.lanes == names):
            viewed = v.view_lanes(names, kind) if isinstance(v, MemEntry) else None
            self.stmt(viewed or self._assign(names, v, kind), v.eff, tuple(names))
        if tee:
            self.stack.append(LaneEntry(kind, names, frozenset(names)))
        return True

    def _alias(self, kind: Kind, window: tuple[int, frozenset[int]], tee: bool) -> bool:
        """A set whose uses may read the value's own names (:func:`_windows`): when it is
        pure lanes of ``kind``, each a literal, a temporary (never written again) or a
        local's variable that the window does not write, record them for the uses."""
        v = self.stack[-1]
        if v.eff or not (isinstance(v, LaneEntry) and v.kind is kind):
            return False
        web, written = window
        for x in v.lanes:
            m = _VAR.fullmatch(x)
            if m is None:
                if not (is_atom(x) and x[:1] in "(-0123456789"):
                    return False  # neither a variable of ours nor a literal
            elif m.group(1) is not None and int(m.group(1)) in written:
                return False
        if self._aliases is None:
            self._aliases = {}
        self._aliases[web] = (kind, list(v.lanes))
        if not tee:
            self.take(1)
        return True

    def _set_live(self, kind: Kind, names: list[str], live: tuple[bool, ...],
                  tee: bool) -> bool:
        """A set of a web only some lanes of which its ``local.get``s read (``live``,
        simd_demand.py): assign those lanes. A tee passes its other lanes on as the value's
        own expressions (its consumer is their one reader), so with no lane read it is as
        if it were not there. False (the full assignment) for a value that is not pure
        lanes of ``kind``."""
        v = self.stack[-1]
        if v.eff:
            return False
        if v.const:
            self.as_lanes(len(self.stack) - 1, kind)
            v = self.stack[-1]
        if not (isinstance(v, LaneEntry) and v.kind is kind):
            return False
        if not any(live) and tee:
            return True
        self.take(1)
        pairs = [(n, x) for n, x, on in zip(names, v.lanes, live) if on and n != x]
        if pairs:
            self.stmt(assign([n for n, _ in pairs], [x for _, x in pairs]), False,
                      tuple(n for n, _ in pairs))
        if tee:
            lanes = [n if on else x for n, x, on in zip(names, v.lanes, live)]
            reads = v.reads.union(n for n, on in zip(names, live) if on)
            self.stack.append(LaneEntry(kind, lanes, reads, False, v.depth))
        return True

    # -- conversions ---------------------------------------------------------------------

    def _assign(self, names: list[str], e: Entry, kind: Kind) -> str:
        """The statement assigning the lanes of ``e`` to ``names``."""
        if isinstance(e, LaneEntry) and e.kind is kind:
            return assign(names, e.lanes)
        if e.const:
            return assign(names, [self._lane_literal(kind, v)
                                  for v in literal_lanes(kind, int(e.expr))])
        return f"{', '.join(names)} = {self._lanes_rhs(e, kind)}"

    def _lanes_rhs(self, e: Entry, kind: Kind) -> str:
        """A Python expression list (or tuple expression) of the lanes of ``e``."""
        if isinstance(e, LaneEntry) and e.kind is kind:
            return ", ".join(e.lanes)
        if e.const:
            return ", ".join(self._lane_literal(kind, v)
                             for v in literal_lanes(kind, int(e.expr)))
        if isinstance(e, MemEntry):
            if e.source == "full":
                return f"v_ld_{kind.name}({e.mem}, {e.ea})"
            width = int(e.source)
            if width == kind.width:
                return f"{lane_loader(kind)}({e.mem}, {e.ea}) * {kind.n}"
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
        if (isinstance(e, LaneEntry) and not e.kind.is_float and not kind.is_float
                and self._repack(pos, e, kind)):
            return
        if e.const:
            lanes = [self._lane_literal(kind, v) for v in literal_lanes(kind, int(e.expr))]
            if all(is_atom(x) for x in lanes) or not atomic:
                self.set_entry(pos, LaneEntry(kind, lanes))
                return
        if isinstance(e, MemEntry) and not atomic and INLINE_LOADS:
            inline = e.inline_lanes(kind, self.temp())
            if inline is not None:
                self.emit(inline[0])
                self.set_entry(pos, inline[1])
                return
        if e.eff and not (isinstance(e, MemEntry) and self._loads_only_below(pos)):
            self.flush_effects_to(pos)
        t = self.temp()
        unpacked = e.lanes_of(t, kind) if isinstance(e, MemEntry) else None
        if unpacked is not None:
            self.emit(unpacked[0])
            self.set_entry(pos, unpacked[1])
            return
        names = [f"{t}_{j}" for j in range(kind.n)]
        viewed = e.view_lanes(names, kind) if isinstance(e, MemEntry) else None
        self.emit(viewed or self._assign(names, e, kind))
        self.set_entry(pos, LaneEntry(kind, names, frozenset(names)))

    def _loads_only_below(self, pos: int) -> bool:
        """Whether every effectful entry below ``pos`` is a v128 load (a MemEntry, or read
        inside lanes: MemEntry.inline_lanes): a load at ``pos`` may then be read first,
        since reads commute and their traps are one and the same (a later write, call or
        other trap flushes those entries before it runs)."""
        if not INLINE_LOADS or pos > 32:
            return False
        return all(not x.eff or isinstance(x, MemEntry) or (isinstance(x, LaneEntry) and x.loads)
                   for x in self.stack[:pos])

    def spill_dropping(self, pos: int) -> None:
        """Before a consumer that reads only some lanes of entry ``pos``: evaluate all of
        an effectful one (view reads inline, MemEntry.inline_lanes), so that none of its
        loads, which may trap, is dropped."""
        if self.stack[pos].eff:
            self.spill(pos)

    def _repack(self, pos: int, e: LaneEntry, kind: Kind) -> bool:
        """Integer lanes of one width as another's, by shifts and masks instead of a trip
        through the int form (measured: hash.O3simd's i16x8 shuffle read as i64x2)."""
        from .simd_lanes import is_atom

        src, w = e.lanes, e.kind.width
        if w < kind.width:
            r = kind.width // w
            lanes = []
            for j in range(kind.n):
                parts = [src[j * r + k] if k == 0 else f"({src[j * r + k]} << {k * w})"
                         for k in range(r) if src[j * r + k] != "0"]
                lanes.append("(" + " | ".join(parts) + ")" if parts else "0")
        else:
            if not all(is_atom(x) for x in src):
                self.spill(pos)
                e = self.stack[pos]
                src = e.lanes
            r = w // kind.width
            lanes = [f"(({src[j // r]} >> {(j % r) * kind.width}) & {kind.mask})"
                     for j in range(kind.n)]
        self.set_entry(pos, LaneEntry(kind, lanes, e.reads, e.eff, e.depth + 1))
        return True

