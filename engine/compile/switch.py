"""Inline exits: the branches out of a block whose code can be placed at the branch.

A C ``switch`` compiles to nested blocks around a ``br_table``; each case's code follows the
``end`` of the block its label names::

    block B1            ;; parent P of B1: the code after B1's end is B1's *segment*
      block B2
        ...br_table 1 0 ...
      end               ;; B2's end: only the br_table reaches it
      ...case code; br/return      (B2's segment, ends unconditionally)
    end
    ...case code; br/return        (B1's segment)

Translated as branches, each case is a ``break`` out of one Python loop per block, with a
label variable tested after every loop on the way out. When a block's end is reached only
by one ``br_table`` (no fallthrough: the instruction before the ``end`` transfers
unconditionally, no other branch names it) and its segment ends unconditionally, the
segment runs only as that branch's continuation: the translator emits it in the
``br_table``'s dispatch leaf and the block needs no Python loop (an *inline exit*). The
translation of that segment is then dead where it stands, and is skipped there. A segment
may also fall through into the function's end (it returns) or into the end of a block that
other branches target (a Python loop already: it breaks out of it).
"""

from __future__ import annotations

from typing import NamedTuple

#: Instructions after which control never falls through to the next one.
UNCONDITIONAL = frozenset((
    "br", "br_table", "return", "unreachable",
    "return_call", "return_call_indirect", "return_call_ref",
))

#: Parents whose body may hold an inline segment (no Python ``try``/``for`` between the
#: branch and the segment's own place, see ``Control.inline_exit``).
_PARENTS = frozenset(("block", "loop", "if", "func"))

#: Frames walked outwards from one branch to its target (bounds the analysis).
MAX_CHAIN = 64

#: A segment's parent starts at most this many instructions before the branch: the
#: operands pushed since, saved and reinstated around each inline segment, stay few.
MAX_SPAN = 256

#: A segment reached by several branches is copied at each: at most this many branches,
#: this many instructions, none of them structured control or a branch to a block (so no
#: copy holds copies).
MAX_SITES = 8
MAX_COPY = 16
_COPYABLE_CONTROL = frozenset(("br", "br_if", "return", "unreachable",
                               "return_call", "return_call_indirect", "return_call_ref"))
_CONTROL = frozenset(("block", "loop", "if", "else", "end", "for", "try", "try_table", "catch",
                      "catch_all", "delegate", "br_table", "br_on_null", "br_on_non_null",
                      "br_on_cast", "br_on_cast_fail", "throw", "throw_ref", "rethrow"))


class Shape(NamedTuple):
    """What scan records for this analysis: every construct's kind and parent (the function
    is -1, kind "func"), the branch instructions naming each construct (a br_table once),
    the constructs also named otherwise (br_on_*, catch clauses), and the innermost
    construct open at each br / br_if / br_table."""

    kinds: dict[int, str]
    parent: dict[int, int]
    sources: dict[int, list[int]]
    blocked: set[int]
    inner: dict[int, int]


def _segment_end(fr: int, parent: int, kinds: dict, ends: dict, elses: dict) -> int:
    """Index of the else/end closing the code that follows ``fr``'s end inside ``parent``."""
    else_ = elses.get(parent, -1)
    if kinds[parent] == "if" and else_ > ends[fr]:
        return else_
    return ends[parent]


def _segment_ok(instrs: list, fr: int, shape: Shape, ends: dict, elses: dict,
                targeted: set[int]) -> bool:
    """Only branches reach ``fr``'s end and its segment ends unconditionally, or falls
    into the function's end or into the end of a block or (empty-typed) loop that is a
    Python loop (targeted)."""
    end = ends[fr]
    parent = shape.parent[fr]
    pkind = shape.kinds[parent]
    if instrs[end - 1][0].name not in UNCONDITIONAL or pkind not in _PARENTS:
        return False
    stop = _segment_end(fr, parent, shape.kinds, ends, elses)
    if stop - 1 > end and instrs[stop - 1][0].name in UNCONDITIONAL:
        return True
    return (pkind == "func" or (pkind == "block" and parent in targeted)
            or (pkind == "loop" and parent in targeted and instrs[parent][1] is None))


def _copyable(instrs: list, fr: int, shape: Shape, ends: dict, elses: dict) -> bool:
    """A segment small and flat enough to be copied at each of its branches."""
    if len(shape.sources[fr]) > MAX_SITES:
        return False
    parent = shape.parent[fr]
    stop = _segment_end(fr, parent, shape.kinds, ends, elses)
    if stop - ends[fr] - 1 > MAX_COPY:
        return False
    for op, imm in instrs[ends[fr] + 1 : stop]:
        name = op.name
        if name in _CONTROL:
            return False
        if name == "br" or name == "br_if":  # to a loop or the function only
            target = parent
            for _ in range(imm):
                target = shape.parent.get(target, -2)
            if shape.kinds.get(target) not in ("loop", "func"):
                return False
    return True


def _chain_ok(site: int, fr: int, shape: Shape, targeted: set[int], needs: dict) -> bool:
    """Between the branch at ``site`` and ``fr`` lie only blocks and ifs, none a Python loop
    unless inlined itself (recorded in ``needs``: frame -> the candidates needing it)."""
    if site - shape.parent[fr] > MAX_SPAN:
        return False
    x = shape.inner[site]
    for _ in range(MAX_CHAIN):
        if x == fr:
            return True
        if shape.kinds[x] not in ("block", "if"):
            return False
        if x in targeted:
            needs.setdefault(x, []).append(fr)
        x = shape.parent[x]
    return False


def inline_exits(instrs: list, shape: Shape, ends: dict[int, int], elses: dict[int, int],
                 targeted: set[int]) -> frozenset:
    """The starts of the blocks whose exits are inlined at their branches (see the module
    docstring): each block named by br / br_if / br_table only, whose end only branches
    reach, whose segment ends as ``_segment_ok`` says (and is ``_copyable`` when several
    branches name it), with only blocks and ifs between each branch and the block, none of
    them a Python loop. That last condition depends on which blocks are inlined: a
    candidate goes when a frame it needs goes (each candidate once: linear)."""
    cand: set[int] = set()
    for fr, sites in shape.sources.items():
        if (fr in shape.blocked or shape.kinds.get(fr) != "block"
                or not _segment_ok(instrs, fr, shape, ends, elses, targeted)
                or (len(sites) > 1 and not _copyable(instrs, fr, shape, ends, elses))):
            continue
        cand.add(fr)
    needs: dict[int, list[int]] = {}
    for fr in list(cand):
        if not all(_chain_ok(site, fr, shape, targeted, needs) for site in shape.sources[fr]):
            cand.discard(fr)
    work = [x for x in needs if x not in cand]
    while work:
        for fr in needs.get(work.pop(), ()):
            if fr in cand:
                cand.discard(fr)
                work.append(fr)
    return frozenset(cand)
