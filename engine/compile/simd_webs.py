"""Webs of v128 locals: which ``local.set`` reaches which ``local.get``.

clang reuses a v128 local for unrelated values (matrix.O3simd: the f64x2 accumulators of one
loop nest are the i32x4 accumulators of the next), so one lane kind per local would convert
at every access in one of the loops. A *web* is a set of definitions and uses of one local
closed under "this definition may reach this use"; each web may get its own lane kind and
Python variables (simd_locals.py).

Two passes over the structured body, each linear (the backward one repeats while the live
set of a loop header grows: at most the loop nesting depth + 2 times, capped):

1. liveness of the v128 locals (bit sets), backward, with the live sets at every label;
2. webs, forward, with a union-find: every definition starts a web; at a label each local
   live there gets one web, joined with the web every branch and fallthrough brings.

A local dead at a label keeps no web across it: that is what separates the reuses. Bodies
with exception handlers (a throw may branch from anywhere) or branches this pass does not
model get ``None``: the caller keeps one web per local, which is always correct.
"""

from __future__ import annotations

from typing import Any, NamedTuple

_MAX_PASSES = 12
_GIVE_UP = frozenset(("try_table", "try", "catch", "catch_all", "delegate", "rethrow",
                      "br_on_cast", "br_on_cast_fail", "br_on_cast_desc_eq",
                      "br_on_cast_desc_eq_fail"))
_NO_RETURN = frozenset(("unreachable", "return", "throw", "throw_ref", "return_call",
                        "return_call_indirect", "return_call_ref"))
_OPENERS = frozenset(("block", "loop", "if", "for"))


class Webs(NamedTuple):
    """Per instruction index: the web a ``local.get`` reads / a ``local.set``/``tee``
    writes (root ids); ``entry``: local -> the web of its value on function entry."""

    uses: dict[int, int]
    defs: dict[int, int]
    entry: dict[int, int]


class _Frame:
    """A construct open in the forward pass."""

    __slots__ = ("entered", "entry", "kind", "live", "reached", "start", "webs")

    def __init__(self, start: int, kind: str, live: int, entry: dict | None) -> None:
        self.start = start
        self.kind = kind
        self.live = live  # locals live at the label (loop: header; else: after the end)
        self.webs: dict[int, int] = {}  # local -> its web at the label
        self.entry = entry  # `if`: the state its false edge carries (until `else`)
        self.entered = entry is not None
        self.reached = False  # some branch or fallthrough reaches the label


def webs(instrs: list, v128: set[int], ends: dict[int, int]) -> Webs | None:
    """The webs of the v128 locals of one body (see the module docstring); ``ends`` maps
    each construct's start to its end."""
    bit = {loc: 1 << k for k, loc in enumerate(sorted(v128))}
    starts = {e: s for s, e in ends.items() if s >= 0}
    lv = _liveness(instrs, bit, starts)
    if lv is None:
        return None
    header, after = lv
    parent: list[int] = []

    def new() -> int:
        parent.append(len(parent))
        return len(parent) - 1

    def find(w: int) -> int:
        while parent[w] != w:
            parent[w] = parent[parent[w]]
            w = parent[w]
        return w

    locs = sorted(v128)

    def flow(fr: _Frame, state: dict[int, int] | None) -> None:
        """A branch or fallthrough from ``state`` to the label of ``fr``."""
        if state is None:
            return
        fr.reached = True
        for loc in locs:
            if fr.live & bit[loc]:
                w = fr.webs.get(loc)
                if w is None:
                    fr.webs[loc] = w = new()
                parent[find(state[loc])] = find(w)

    def at_label(fr: _Frame, live: int) -> dict[int, int]:
        return {loc: fr.webs[loc] if live & bit[loc] and loc in fr.webs else new()
                for loc in locs}

    cur: dict[int, int] | None = {loc: new() for loc in locs}
    entry = dict(cur)
    uses: dict[int, int] = {}
    defs: dict[int, int] = {}
    frames: list[_Frame] = []
    func = _Frame(-1, "func", 0, None)
    for i, (op, imm) in enumerate(instrs):
        name = op.name
        if name in _OPENERS:
            if name in ("loop", "for"):
                fr = _Frame(i, name, header.get(i, 0), cur)
                flow(fr, cur)
                if cur is not None:
                    cur = at_label(fr, fr.live)
            else:
                fr = _Frame(i, name, after.get(i, 0), dict(cur) if cur is not None else None)
            frames.append(fr)
            continue
        if name == "else":
            fr = frames[-1]
            flow(fr, cur)
            cur, fr.entry = fr.entry, None  # the else arm replaces the false edge
            continue
        if name == "end":
            if not frames:
                break  # the function's end
            fr = frames.pop()
            if fr.kind == "loop":
                continue  # a loop's end falls through with its state
            flow(fr, cur)  # for: the body's end goes back to the header
            if fr.kind == "for":
                cur = at_label(fr, after.get(fr.start, 0)) if fr.entered else None
                continue
            if fr.kind == "if":
                flow(fr, fr.entry)  # no else: the condition's false edge
            cur = at_label(fr, fr.live) if fr.reached else None
            continue
        if cur is None:
            continue
        if name == "local.get":
            if imm in bit:
                uses[i] = cur[imm]
        elif name in ("local.set", "local.tee"):
            if imm in bit:
                cur[imm] = defs[i] = new()
        elif name in _NO_RETURN:
            cur = None
        elif name in ("br", "br_if", "br_on_null", "br_on_non_null"):
            flow(frames[-1 - imm] if imm < len(frames) else func, cur)
            if name == "br":
                cur = None
        elif name == "br_table":
            labels, default = imm
            for lab in (*labels, default):
                flow(frames[-1 - lab] if lab < len(frames) else func, cur)
            cur = None
    return Webs({i: find(w) for i, w in uses.items()}, {i: find(w) for i, w in defs.items()},
                {loc: find(w) for loc, w in entry.items()})


def _liveness(instrs: list, bit: dict[int, int],
              starts: dict[int, int]) -> tuple[dict[int, int], dict[int, int]] | None:
    """Live v128 locals (bit sets) at each loop/for header and after each construct's end,
    keyed by the construct's start (``starts``: end -> start); None when the body is beyond
    this pass (or its loops did not settle in ``_MAX_PASSES`` passes)."""
    header: dict[int, int] = {}
    after: dict[int, int] = {}
    for _ in range(_MAX_PASSES):
        res = _pass(instrs, bit, starts, header, after)
        if res is None:
            return None
        if not res:
            return header, after
    return None


def _pass(instrs: list, bit: dict[int, int], starts: dict[int, int], header: dict[int, int],
          after: dict[int, int]) -> bool | None:
    """One backward pass; True when a loop header's live set grew (another pass needed)."""
    changed = False
    live = 0
    frames: list[list[Any]] = []  # [start, label_live, after_end, else_in]
    for i in range(len(instrs) - 1, -1, -1):
        op, imm = instrs[i]
        name = op.name
        if name in _GIVE_UP:
            return None
        if name == "end":
            start = starts.get(i)
            if start is None:  # the function's own end (or beyond this pass)
                frames.append([None, 0, 0, None])
                live = 0
                continue
            sname = instrs[start][0].name
            if sname in ("loop", "for"):
                lab = header.get(start, 0)
                if sname == "for":
                    after[start] = live
                    live = lab  # the body's end goes back to the header
                frames.append([start, lab, live if sname == "loop" else after[start], None])
            else:
                frames.append([start, live, live, None])
            continue
        if name == "else":
            fr = frames[-1]
            fr[3] = live
            live = fr[2]
            continue
        if name in _OPENERS:
            fr = frames.pop()
            if name == "if":
                live |= fr[3] if fr[3] is not None else fr[2]
            if name in ("loop", "for"):
                if name == "for":
                    live |= after[i]  # zero iterations: the header exits
                old = header.get(i, 0)
                if old | live != old:
                    changed = True
                    header[i] = old | live
            else:
                after[i] = fr[2]
            continue
        if name == "local.get":
            b = bit.get(imm)
            if b:
                live |= b
        elif name in ("local.set", "local.tee"):
            b = bit.get(imm)
            if b:
                live &= ~b
        elif name in _NO_RETURN:
            live = 0
        elif name in ("br", "br_if", "br_on_null", "br_on_non_null"):
            t = frames[-1 - imm][1] if imm < len(frames) else 0
            live = t if name == "br" else live | t
        elif name == "br_table":
            labels, default = imm
            live = 0
            for lab in (*labels, default):
                live |= frames[-1 - lab][1] if lab < len(frames) else 0
    return changed
