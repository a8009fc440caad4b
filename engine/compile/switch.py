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
label variable tested after every loop on the way out (``Control.branch``). When only
branches (``br``, ``br_if``, ``br_table``) reach a block's end (the instruction before the
``end`` transfers unconditionally), the segment runs only as those branches'
continuation: the translator emits it at each branch, and the block needs no Python loop
(an *inline exit*). Its translation where it stands is then dead code, skipped there.

Where the segment may end: unconditionally; by falling into the function's end (a
return), into the end of a block or empty-typed loop that is a Python loop (a ``break``),
or into the end of a block whose own exits are inlined (its segment follows, in turn).
The last case covers a block whose end is reached by falling out of its last child block's
segment (clang's ``block { block { br_if 0 ..; ...; br 1 } ... }`` if/else shape).

A segment reached from several places is copied at each: only a small flat one
(``MAX_COPY``, ``MAX_COPIES``). Between a branch and its inlined block lie only blocks and
ifs that are not Python loops (so ``break``/``continue`` in the segment mean what they
meant at its own place) and no ``try``: which blocks qualify depends on which others do,
settled in one pass over the candidates (``inline_exits``). Translating a segment away from
its place saves and reinstates the operand stack around it (``Control.inline_exit``);
``COPY_BUDGET`` bounds that work per body, and a body beyond CPython's nesting limits is
translated again without inline exits (``translate.translate``).
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

#: Operands saved and reinstated around the inline segments of one body, at most (per
#: instruction of the body, see ``Control.inline_exit``): beyond, the body is translated in
#: the flat form, which inlines nothing (a quadratic case: many branches over deep stacks).
COPY_BUDGET = 64


class InlineBudget(ValueError):
    """The inline segments of a body would copy too many operands (see COPY_BUDGET);
    ``translate`` falls back to the flat form on a ValueError."""

#: A segment reached by several branches is copied at each: at most MAX_COPY instructions,
#: MAX_COPIES instructions in all the copies but one, none of them structured control or a
#: branch to a block (so no copy holds copies).
MAX_COPY = 16
MAX_COPIES = 128
_COPYABLE_CONTROL = frozenset(("br", "br_if", "return", "unreachable",
                               "return_call", "return_call_indirect", "return_call_ref"))
_CONTROL = frozenset(("block", "loop", "if", "else", "end", "for", "try", "try_table", "catch",
                      "catch_all", "delegate", "br_table", "br_on_null", "br_on_non_null",
                      "br_on_cast", "br_on_cast_fail", "br_on_cast_desc_eq",
                      "br_on_cast_desc_eq_fail", "throw", "throw_ref", "rethrow"))


#: What a loop's copied tail may not hold (``Control.tail_of``): control of any kind.
TAIL_BARRIERS = _CONTROL | _COPYABLE_CONTROL | {"else", "try_table", "try", "for"}


class Shape(NamedTuple):
    """What scan records for this analysis: every construct's kind and parent (the function
    is -1, kind "func"), the branch instructions naming each construct (a br_table once),
    the constructs also named otherwise (br_on_*, catch clauses), the innermost construct
    open at each br / br_if / br_table, and each construct's last child construct."""

    kinds: dict[int, str]
    parent: dict[int, int]
    sources: dict[int, list[int]]
    blocked: set[int]
    inner: dict[int, int]
    last: dict[int, int]


class _Analysis:
    """One run of :func:`inline_exits` (the facts its checks share)."""

    def __init__(self, instrs: list, shape: Shape, ends: dict, elses: dict, targeted: set):
        self.instrs, self.shape, self.ends, self.elses = instrs, shape, ends, elses
        self.targeted = targeted
        self.needs: dict[int, list[int]] = {}  # frame -> the candidates needing it inlined
        # A block whose end its last child block's segment falls into (see _falls_into).
        self.fall: dict[int, int] = {}
        for p, f in shape.last.items():
            if (shape.kinds.get(p) == "block" and shape.kinds[f] == "block"
                    and instrs[ends[p] - 1][0].name not in UNCONDITIONAL):
                self.fall[p] = f

    def name(self, i: int) -> str:
        return self.instrs[i][0].name

    def stop(self, fr: int) -> int:
        """Index of the else/end closing the code that follows ``fr``'s end in its parent
        (``fr``'s *segment*)."""
        parent = self.shape.parent[fr]
        else_ = self.elses.get(parent, -1)
        if self.shape.kinds[parent] == "if" and else_ > self.ends[fr]:
            return else_
        return self.ends[parent]

    def sites(self, fr: int) -> int:
        """How many places emit ``fr``'s segment: its branches, and the end of its last
        child's segment when that falls into ``fr``'s end."""
        return len(self.shape.sources.get(fr, ())) + (fr in self.fall)

    def candidate(self, fr: int) -> bool:
        shape = self.shape
        if fr in shape.blocked or shape.kinds.get(fr) != "block":
            return False
        end = self.ends[fr]
        parent = shape.parent[fr]
        if shape.kinds[parent] not in _PARENTS:
            return False
        if self.name(end - 1) not in UNCONDITIONAL:
            if fr not in self.fall:
                return False
            self.needs.setdefault(self.fall[fr], []).append(fr)  # its code comes in copies
        if not self.segment_ends(fr, parent):
            return False
        if self.sites(fr) > 1 and not self.copyable(fr):
            return False
        return all(self.chain_ok(site, fr) for site in shape.sources.get(fr, ()))

    def segment_ends(self, fr: int, parent: int) -> bool:
        """``fr``'s segment ends unconditionally, or falls into the function's end, into the
        end of a block or (empty-typed) loop that is a Python loop (targeted), or into the
        end of a block inlined in turn."""
        stop = self.stop(fr)
        if stop - 1 > self.ends[fr] and self.name(stop - 1) in UNCONDITIONAL:
            return True
        pkind = self.shape.kinds[parent]
        if pkind == "func":
            return True
        if pkind == "block" and self.fall.get(parent) == fr:
            if parent not in self.targeted:  # no Python loop to fall back on
                self.needs.setdefault(parent, []).append(fr)
            return True
        return parent in self.targeted and (
            pkind == "block" or (pkind == "loop" and self.instrs[parent][1] is None))

    def copyable(self, fr: int) -> bool:
        """A segment small and flat enough to be copied at each of its sites."""
        shape = self.shape
        parent = shape.parent[fr]
        stop = self.stop(fr)
        size = stop - self.ends[fr] - 1
        if size > MAX_COPY or size * (self.sites(fr) - 1) > MAX_COPIES:
            return False
        for op, imm in self.instrs[self.ends[fr] + 1 : stop]:
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

    def chain_ok(self, site: int, fr: int) -> bool:
        """Between the branch at ``site`` and ``fr`` lie only blocks and ifs, none a Python
        loop unless inlined itself (recorded in ``needs``)."""
        shape = self.shape
        x = shape.inner[site]
        for _ in range(MAX_CHAIN):
            if x == fr:
                return True
            if shape.kinds[x] not in ("block", "if"):
                return False
            if x in self.targeted:
                self.needs.setdefault(x, []).append(fr)
            x = shape.parent[x]
        return False


def inline_exits(instrs: list, shape: Shape, ends: dict[int, int], elses: dict[int, int],
                 targeted: set[int]) -> frozenset:
    """The starts of the blocks whose exits are inlined at their branches (see the module
    docstring; each check is a method of ``_Analysis``). Whether a block qualifies may
    depend on others qualifying (a frame between a branch and its target must not be a
    Python loop; a block whose end a child's code falls into): a candidate goes when a
    frame it needs goes, each once (linear)."""
    a = _Analysis(instrs, shape, ends, elses, targeted)
    cand = {fr for fr in (*shape.sources, *a.fall) if a.candidate(fr)}
    needs = a.needs
    work = [x for x in needs if x not in cand]
    while work:
        for fr in needs.get(work.pop(), ()):
            if fr in cand:
                cand.discard(fr)
                work.append(fr)
    return frozenset(cand)
