"""Switches: the ``br_table`` exits whose code can be placed at the ``br_table`` itself.

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
#: ``br_table`` and the segment's own place, see ``Control.inline_exit``).
_PARENTS = frozenset(("block", "loop", "if", "func"))

#: Frames examined outwards from one br_table (bounds the analysis to linear cost).
MAX_CHAIN = 64

#: A segment's parent starts at most this many instructions before the br_table: the
#: operands pushed since, saved and reinstated around each inline segment, stay few.
MAX_SPAN = 256

SEVERAL = -1  # Sources: a construct targeted by more than one branch instruction


class Opened(NamedTuple):
    """A construct open at a br_table: where it starts and what it is."""

    start: int
    kind: str


class Table(NamedTuple):
    """A br_table and the constructs around it, innermost first (the first ``MAX_CHAIN``
    and up to one past its deepest label)."""

    index: int
    chain: list[Opened]


def chain_at(index: int, opened: list, labels: tuple) -> Table:
    """The :class:`Table` of the br_table at ``index`` (``opened``: scan's open
    constructs, the function first)."""
    depth = min(max(labels) + 2, MAX_CHAIN, len(opened))
    return Table(index, [Opened(o.start, o.kind) for o in opened[-1 : -1 - depth : -1]])


def _segment_end(fr: Opened, parent: Opened, ends: dict, elses: dict) -> int:
    """Index of the else/end closing the code that follows ``fr``'s end inside ``parent``."""
    else_ = elses.get(parent.start, -1)
    if parent.kind == "if" and else_ > ends[fr.start]:
        return else_
    return ends[parent.start]


def inline_exits(instrs: list, tables: list[Table], sources: dict[int, int],
                 ends: dict[int, int], elses: dict[int, int]) -> frozenset:
    """The starts of the blocks whose exits are inlined at their br_table (see the module
    docstring). ``sources``: targeted construct -> its only branch instruction, or SEVERAL.

    Walking out from a br_table, a block qualifies while every frame passed is a block that
    no branch targets or that qualifies itself (so no Python loop lies between the
    br_table and the segment's own place)."""
    found: set[int] = set()
    for index, chain in tables:
        for d in range(len(chain) - 1):
            fr, parent = chain[d], chain[d + 1]
            if fr.kind != "block":
                break
            src = sources.get(fr.start)
            if src is None:
                continue  # no branch targets it: no Python construct, look further out
            if src != index or parent.kind not in _PARENTS or index - parent.start > MAX_SPAN:
                break
            end = ends[fr.start]
            if instrs[end - 1][0].name not in UNCONDITIONAL:
                break
            stop = _segment_end(fr, parent, ends, elses)
            if not (stop - 1 > end and instrs[stop - 1][0].name in UNCONDITIONAL
                    or parent.kind == "func"
                    or parent.kind == "block" and parent.start in sources):
                break
            found.add(fr.start)
    return frozenset(found)
