"""Frame-slot forwarding across merges and loops (the -O0 shadow stack).

clang at -O0 keeps every C local in linear memory, in the frame addressed by one local
(``l3 = G0 - 80``), and reloads it at each use: mandel.O0's inner loop stores ``zr`` at
``l3 + 40`` and loads it back at the loop header of the next iteration. The straight-line
forwarding of visit_memory.py stops at the header (a merge); this pass is the global form.

A *slot* is ``(memory, L, offset, load)``: the bytes a ``load`` (i32.load, i64.load or
f64.load) of address ``local L + offset`` reads. A forward dataflow analysis over the
structured control flow finds, at each instruction, the slots *available* on every path
from the function's entry: the last write of those bytes on that path was an access of
exactly that slot (a store of the same width, or a load) at the current value of L, and
nothing between may have written them: no overlapping store through L, no write of L, no
call, memory.grow or bulk operation, no store through another address (but see guards). A
load of an available slot is *eliminated*: it reads a Python variable (``mv<n>``) that every
access of the slot assigns. Stores are all kept, so memory stays exact at every point;
traps stay exact because an eliminated load follows, on every path, a successful access of
the same bytes (memory never shrinks), so it could not trap.

A store through another address (a pointer, an array of the frame) keeps the slots of the
frame (the local most loads address: ``_frame_base``): it is *guarded*, its address kept in
a temporary and, when its bytes overlap a cluster of the slots (``Cluster``: one range test
each), their variables are loaded again (in bounds: accessed before on every path).

A call forgets every slot unless its callee is a small straight-line leaf (leaf.py): one
writing no memory keeps them all; one writing only in a frame below the stack-pointer global
keeps the slots of the local that global was last set from (``("SP", L, G)`` facts in the
state, forgotten when L or G is written).

Must-availability meets by intersection; loop headers start optimistic (what the entry
brings) and shrink until a fixpoint (the sets only shrink, so few rounds; a cap bounds the
cost). Constructs the analysis does not model (exceptions, tail calls, GC, references to
functions) turn it off for the function.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..opcodes import BY_NAME
from . import leaf
from .ops import CMP, LOADS, STORES, VAL, block_arity

#: Forwarded loads and the bytes they read; the load each full-width store makes known.
SLOT_LOADS = {"i32.load": 4, "i64.load": 8, "f64.load": 8}
STORE_SLOT = {"i32.store": "i32.load", "i64.store": "i64.load", "f64.store": "f64.load"}
#: Bytes each store writes.
STORE_SIZE = {name: 1 if "store8" in name else 2 if "store16" in name else
              4 if name in ("i32.store", "f32.store", "i64.store32") else 8 for name in STORES}
MAX_INSTRS = 40000  # larger bodies are not analysed (each round is linear)
MAX_ROUNDS = 24  # loop fixpoint rounds before giving up (a nest n deep needs ~n + 1)

#: Instructions typed by name whose stack effect (pops, pushes) is fixed and that write no
#: memory; everything else typed by name either is handled below or turns the analysis off.
_FIXED = {
    "nop": (0, 0), "drop": (1, 0), "select": (3, 1), "select_t": (3, 1),
    "global.get": (0, 1), "memory.size": (0, 1),
    "ref.null": (0, 1), "ref.func": (0, 1), "ref.is_null": (1, 1), "ref.as_non_null": (1, 1),
    "ref.eq": (2, 1), "table.get": (1, 1), "table.set": (2, 0), "table.size": (0, 1),
    "table.grow": (2, 1), "table.fill": (3, 0), "table.copy": (3, 0), "table.init": (3, 0),
}
#: Instructions typed by name that may write memory: (pops, pushes); they forget everything.
_CLOBBER = {"memory.grow": (1, 1), "memory.fill": (3, 0), "memory.copy": (3, 0),
            "memory.init": (3, 0)}
_PURE = frozenset(VAL) | frozenset(CMP) | frozenset(LOADS)
#: The single-byte instructions with a fixed signature that write no memory (numeric ops,
#: constants, nop): (pops, pushes), the bulk of a body, dispatched first.
_NUMERIC = {name: (len(op.params), len(op.results)) for name, op in BY_NAME.items()
            if op.prefix == 0 and op.params is not None and name not in LOADS
            and name not in STORES and len(op.results) <= 1}

Slot = tuple  # (mem, local, offset, load name)


class Cluster(NamedTuple):
    """Neighbouring slots of a guard: when a store's bytes overlap ``[base + lo, base +
    hi)``, their variables are loaded again."""

    lo: int
    hi: int
    slots: tuple[tuple[str, int, str], ...]  # (variable, offset, load) of each


class Guard(NamedTuple):
    """The slots (all through local ``base``) a store to another address keeps, in clusters
    (one range test each: a store into an array of the frame tests a few ranges and reloads
    nothing)."""

    base: int
    clusters: tuple[Cluster, ...]


#: Slots at most this many bytes apart share a cluster (one range test).
CLUSTER_GAP = 8


class Plan(NamedTuple):
    """What the translator does at each access: ``reads`` (eliminated load -> variable),
    ``writes`` (kept access -> the variable it also assigns) and ``guards`` (a store to an
    unknown address -> the slots it reloads when it overlaps them)."""

    reads: dict[int, str]
    writes: dict[int, str]
    guards: dict[int, Guard]


NO_PLAN = Plan({}, {}, {})


class _Frame:
    __slots__ = ("dead", "else_state", "height", "idx", "kind", "nresults", "out", "seen_else")

    def __init__(self, kind: str, idx: int, height: int, nresults: int) -> None:
        self.kind = kind
        self.idx = idx
        self.height = height  # operand-stack height below the block's parameters
        self.nresults = nresults
        self.out: frozenset | None = None  # meet of the states branching to the end
        self.else_state: frozenset | None = None  # an if's state for its else arm
        self.seen_else = False
        self.dead = False


class _Unsupported(Exception):
    """The body holds an instruction the analysis does not model."""


def _meet(a: frozenset | None, b: frozenset) -> frozenset:
    return b if a is None else a & b


class _Analysis:
    """One function's availability analysis (see the module docstring)."""

    def __init__(self, instrs: list[Any], info: Any, mems: frozenset[int], nresults: int,
                 guarded: frozenset[int]) -> None:
        self.instrs = instrs
        self.nresults = nresults
        self.info = info
        self.mems = mems  # memories whose slots may be forwarded (unshared)
        self.guarded = guarded  # memories whose unknown stores may keep the slots (guards)
        self.guards: dict[int, frozenset] = {}  # store -> the slots it keeps
        self.reach: dict[int, int] = {}  # guarded store -> the first index its reads may be at
        self.frame = _frame_base(instrs)
        self.summaries: dict[int, int | None] = {}  # callee -> leaf.summary
        self.assumed: dict[int, frozenset] = {}  # loop header -> state assumed there
        self.back: dict[int, frozenset] = {}  # loop header -> meet of this round's edges
        self.entry: dict[int, frozenset] = {}  # loop header -> state on entry
        self.hits: dict[int, Slot] = {}  # eliminated load -> its slot
        self.access: dict[int, Slot] = {}  # every analysed slot access -> its slot

    def blocktype(self, bt: Any) -> tuple[int, int]:
        return block_arity(self.info, bt)

    def solve(self) -> bool:
        """Rounds until the loop headers' states are stable; False when capped."""
        for _ in range(MAX_ROUNDS):
            self.back.clear()
            self.entry.clear()
            self.hits.clear()
            self.access.clear()
            self.guards.clear()
            self.round()
            if not self.hits:
                return True  # later rounds only shrink the states: nothing to eliminate
            changed = False
            for idx, entry in self.entry.items():
                new = entry & self.back[idx] if idx in self.back else entry
                if new != self.assumed.get(idx):
                    self.assumed[idx] = new
                    changed = True
            if not changed:
                return True
        return False

    def branch(self, frames: list[_Frame], depth: int, state: frozenset) -> None:
        fr = frames[-1 - depth]
        if fr.kind == "loop":
            self.back[fr.idx] = _meet(self.back.get(fr.idx), state)
        else:
            fr.out = _meet(fr.out, state)

    def round(self) -> None:
        instrs = self.instrs
        stack: list[int | None] = []  # the local an operand equals (its value now), or None
        frames = [_Frame("func", -1, 0, self.nresults)]
        state: frozenset = frozenset()
        live = True
        for idx, (op, imm) in enumerate(instrs):
            name = op.name
            if not live:
                if name in ("block", "loop", "if"):
                    fr = _Frame(name, idx, 0, 0)
                    fr.dead = True
                    frames.append(fr)
                    continue
                if name not in ("end", "else") or frames[-1].dead:
                    if name == "end" and frames[-1].dead:
                        frames.pop()
                    continue
            arity = _NUMERIC.get(name)
            if arity is not None:
                if arity[0]:
                    del stack[len(stack) - arity[0]:]
                if arity[1]:
                    stack.append(None)
            elif name == "local.get":
                stack.append(imm)
            elif name in ("local.set", "local.tee"):
                stack.pop()
                if state:
                    state = frozenset(s for s in state if s[1] != imm)
                for i, e in enumerate(stack):
                    if e == imm:
                        stack[i] = None
                if name == "local.tee":
                    stack.append(imm)
            elif name in LOADS:
                base = stack.pop()
                stack.append(None)
                if name in SLOT_LOADS and base is not None and imm[2] in self.mems:
                    slot = (imm[2], base, imm[1], name)
                    self.access[idx] = slot
                    if slot in state:
                        self.hits[idx] = slot
                    else:
                        state = state | {slot}
            elif name in STORES:
                stack.pop()
                base = stack.pop()
                state = self.stored(state, name, imm, base, idx)
                if idx in self.guards:
                    # Where the slots' next reads may be: after the store, or anywhere in
                    # its outermost loop.
                    self.reach[idx] = next((f.idx for f in frames if f.kind == "loop"), idx)
            elif name in _FIXED or name in _CLOBBER:
                pops, pushes = _FIXED.get(name) or _CLOBBER[name]
                del stack[len(stack) - pops:]
                stack.extend([None] * pushes)
                if name in _CLOBBER:
                    state = frozenset()
            elif name == "global.set":
                v = stack.pop()
                state = frozenset(s for s in state if s[0] != "SP" or s[2] != imm)
                if v is not None:  # the global now equals local v (a frame's stack pointer)
                    state = state | {("SP", v, imm)}
            elif name in ("call", "call_indirect"):
                ft = self.info.func_type(imm) if name == "call" else self.info.types[imm[0]]
                del stack[len(stack) - len(ft.params) - (name == "call_indirect"):]
                stack.extend([None] * len(ft.results))
                state = self.called(state, imm) if name == "call" and state else frozenset()
            elif name in ("block", "loop", "if"):
                if name == "if":
                    stack.pop()
                nparams, nresults = self.blocktype(imm)
                fr = _Frame(name, idx, len(stack) - nparams, nresults)
                stack[fr.height:] = [None] * nparams
                frames.append(fr)
                if name == "if":
                    fr.else_state = state
                elif name == "loop":
                    self.entry[idx] = state
                    assumed = self.assumed.get(idx)
                    if assumed is not None:
                        state = state & assumed
            elif name == "else":
                fr = frames[-1]
                if live:
                    fr.out = _meet(fr.out, state)
                fr.seen_else = True
                state = fr.else_state
                live = True
                nparams = self.blocktype(instrs[fr.idx][1])[0]
                stack[fr.height:] = [None] * nparams
            elif name == "end":
                fr = frames.pop()
                if live and len(stack) != fr.height + fr.nresults:
                    raise _Unsupported("operand stack mismatch")  # a typing rule not modelled
                if fr.kind == "func":
                    break
                if fr.kind != "loop":
                    if fr.kind == "if" and not fr.seen_else:
                        fr.out = _meet(fr.out, fr.else_state)
                    if live:
                        fr.out = _meet(fr.out, state)
                    live = fr.out is not None
                    if live:
                        state = fr.out
                stack[fr.height:] = [None] * fr.nresults
            elif name == "br":
                self.branch(frames, imm, state)
                live = False
            elif name == "br_if":
                stack.pop()
                self.branch(frames, imm, state)
            elif name == "br_table":
                stack.pop()
                for label in {*imm[0], imm[1]}:
                    self.branch(frames, label, state)
                live = False
            elif name in ("return", "unreachable"):
                live = False
            elif op.params is not None and op.prefix != 0xFB:
                del stack[len(stack) - len(op.params):]
                stack.extend([None] * len(op.results))
                if name not in _PURE and (op.imm in ("memarg", "memarg_lane")
                                          or op.prefix == 0xFE):
                    state = frozenset()  # a SIMD or atomic store: may write anything
            else:
                raise _Unsupported(name)
            if not live:
                # Unreachable code until the frame's else/end: its operands do not matter.
                del stack[frames[-1].height:]

    def called(self, state: frozenset, func: int) -> frozenset:
        """The state after a call of ``func``: what its summary (leaf.py) lets survive."""
        if func not in self.summaries:
            self.summaries[func] = leaf.summary(self.info, func)
        g = self.summaries[func]
        if g == leaf.PURE:
            return state
        if g is None:
            return frozenset()
        frames = {s[1] for s in state if s[0] == "SP" and s[2] == g}
        return frozenset(s for s in state if s[0] == "SP" or (
            s[1] in frames and s[2] + SLOT_LOADS[s[3]] <= leaf.MAX_FRAME))

    def stored(self, state: frozenset, name: str, imm: Any, base: int | None,
               idx: int) -> frozenset:
        """The state after a store ``name`` through local ``base`` (None: unknown)."""
        mem, off = imm[2], imm[1]
        if not state and (base is None or name not in STORE_SLOT or mem not in self.mems):
            return state
        others = frozenset(s for s in state if s[0] == mem and s[1] != base)
        kept = state - others
        if others and mem in self.guarded:
            # The frame's slots are kept, reloaded at run time when the store overlaps them
            # (measured: matrix.O0's stores through pointers).
            frame = frozenset(s for s in others if s[1] == self.frame)
            if frame:
                self.guards[idx] = frame
                kept = kept | frame
        if base is None:
            return kept
        end = off + STORE_SIZE[name]
        kept = frozenset(s for s in kept if s[0] != mem or s[1] != base or (
            s[2] >= end or s[2] + SLOT_LOADS[s[3]] <= off))
        load = STORE_SLOT.get(name)
        if load is not None and mem in self.mems:
            slot = (mem, base, off, load)
            self.access[idx] = slot
            kept = kept | {slot}
        return kept


def _frame_base(instrs: list[Any]) -> int:
    """The local most loads address directly (``local.get L; load``): the frame pointer,
    whose slots stores through other addresses keep (guarded); -1 when none."""
    count: dict[int, int] = {}
    prev = None
    for op, imm in instrs:
        if op.name in SLOT_LOADS and prev is not None and prev[0].name == "local.get":
            count[prev[1]] = count.get(prev[1], 0) + 1
        prev = (op, imm)
    return max(count, key=lambda k: (count[k], -k)) if count else -1


def _candidate(instrs: list[Any]) -> bool:
    """Whether some load ``local.get L; load`` may be eliminated at all: another such load of
    the same place, or a store of its width at its offset, exists (most -O2 functions have
    none: the analysis is skipped there)."""
    seen: set[tuple] = set()
    stored = {(imm[1], STORE_SLOT[op.name]) for op, imm in instrs if op.name in STORE_SLOT}
    prev = None
    for op, imm in instrs:
        name = op.name
        if name in SLOT_LOADS and prev is not None and prev[0].name in ("local.get",
                                                                         "local.tee"):
            key = (prev[1], imm[1], name, imm[2])
            if key in seen or (imm[1], name) in stored:
                return True
            seen.add(key)
        prev = (op, imm)
    return False


def plan(instrs: list[Any], info: Any, mems: frozenset[int], nresults: int,
         guarded: frozenset[int] = frozenset()) -> Plan:
    """The eliminated loads of a body, the accesses that feed them and the guarded stores
    (NO_PLAN when none, or when the body holds what the analysis does not model). Slots are
    forwarded in ``mems``; stores to unknown addresses of ``guarded`` keep them."""
    if not mems or len(instrs) > MAX_INSTRS or not _candidate(instrs):
        return NO_PLAN
    a = _Analysis(instrs, info, mems, nresults, guarded)
    try:
        if not a.solve():
            return NO_PLAN
    except (_Unsupported, IndexError):  # IndexError: an operand-stack rule not modelled
        return NO_PLAN
    if not a.hits:
        return NO_PLAN
    names: dict[Slot, str] = {}
    for slot in sorted(set(a.hits.values())):
        names[slot] = f"mv{len(names)}"
    reads = {idx: names[slot] for idx, slot in a.hits.items()}
    writes = {idx: names[slot] for idx, slot in a.access.items()
              if slot in names and idx not in reads}
    guards = {}
    last: dict[str, int] = {}  # variable -> its last eliminated read
    for idx, name in reads.items():
        last[name] = max(last.get(name, -1), idx)
    for idx, kept in a.guards.items():
        # Only the slots read again (by an eliminated load) where the store may reach.
        slots = sorted(((names[s], s[2], s[3]) for s in kept
                        if s in names and last[names[s]] > a.reach[idx]), key=lambda x: x[1])
        if slots:
            guards[idx] = Guard(next(iter(kept))[1], _clusters(slots))
    return Plan(reads, writes, guards)


def _clusters(slots: list[tuple[str, int, str]]) -> tuple[Cluster, ...]:
    """Slots sorted by offset, split where a gap exceeds CLUSTER_GAP bytes."""
    out: list[Cluster] = []
    run: list[tuple[str, int, str]] = []
    lo = hi = 0
    for slot in slots:
        _, off, load = slot
        if run and off > hi + CLUSTER_GAP:
            out.append(Cluster(lo, hi, tuple(run)))
            run = []
        if not run:
            lo = hi = off
        run.append(slot)
        hi = max(hi, off + SLOT_LOADS[load])
    out.append(Cluster(lo, hi, tuple(run)))
    return tuple(out)
