"""Variables and the operand-stack entries that read them (wasmi keeps such a chain per local).

A write of a local (or of any generated variable) must first spill the stack entries whose
expressions read it. :class:`Readers` finds them without scanning the stack: each entry is
recorded, with its stack position, under every variable it reads; a write takes the
variable's whole chain. Records whose position now holds another entry (popped, replaced)
are recognised by identity and dropped, so each record is visited at most once.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Placed(NamedTuple):
    """An entry and the stack position it was registered at."""

    pos: int
    entry: Any  # stack.Entry


class Readers:
    """Variable name -> the :class:`Placed` entries that read it."""

    __slots__ = ("chains",)

    def __init__(self) -> None:
        self.chains: dict[str, list[Placed]] = {}

    def add(self, rec: Placed) -> None:
        """Record ``rec`` under every variable its entry reads."""
        chains = self.chains
        for name in rec.entry.reads:
            chain = chains.get(name)
            if chain is None:
                chains[name] = [rec]
            else:
                chain.append(rec)

    def take(self, name: str) -> list[Placed]:
        """The records of the entries that may read ``name`` (the chain is emptied: the
        caller spills every live one, after which none reads it)."""
        return self.chains.pop(name, [])
