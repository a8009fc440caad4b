"""Tail calls in constant Python stack depth: a marker returned to a trampoline.

A function whose body holds ``return_call`` / ``return_call_indirect`` is translated into
two variants of the same body. Its *entry* ``f`` (what ``rt.funcs`` and every caller see)
runs a tail call in place: ``return trampoline(target, args)`` calls the target and then
every ``TailCall`` marker it returns, until a real result comes back. Its *tail body*
``f.tail`` (what a tail call runs) ends a tail call by returning ``TailCall(target, args)``
instead. The target is ``tail_of(callee)``: the callee's tail body when it tail-calls too (so
a chain of tail calls of any length runs in one trampoline) and the callee itself otherwise.
An ordinary call of such a function costs one Python frame, as for any other function, so
non-tail recursion keeps the full call depth.

The translator writes each tail call as one line ``return TAILCALL(target, (args))`` and a
self tail call's target as ``SELF_TAIL``; the assembler makes the two variants from it
(``in_entry`` / ``in_body``). Functions without tail calls are translated as before: their
callers pay nothing.
"""

from __future__ import annotations

from typing import Any


class TailCall:
    """What a body returns to make a tail call: the callable to run next and its arguments."""

    __slots__ = ("args", "fn")

    def __init__(self, fn: Any, args: tuple) -> None:
        self.fn = fn
        self.args = args


def tail_of(fn: Any) -> Any:
    """The callable a tail call to ``fn`` runs: its tail body if it tail-calls, else ``fn``."""
    return getattr(fn, "tail", fn)


def trampoline(fn: Any, args: tuple) -> Any:
    """Run a tail call from an entry: ``fn(*args)`` and every marker it leads to."""
    r = fn(*args)
    while r.__class__ is TailCall:
        r = r.fn(*r.args)
    return r


#: Tokens the translator writes (only ever in its own ``return`` lines of tail calls).
TAILCALL = "TAILCALL("
SELF_TAIL = "SELF_TAIL"


def in_entry(line: str) -> str:
    """A body line as the entry variant has it: tail calls run in place."""
    if TAILCALL not in line:
        return line
    return line.replace(TAILCALL, "trampoline(").replace(SELF_TAIL, "f_tail")


def in_body(line: str) -> str:
    """A body line as the tail variant has it: tail calls return their marker."""
    if TAILCALL not in line:
        return line
    return line.replace(TAILCALL, "TailCall(").replace(SELF_TAIL, "f_tail")


HELPERS = {"TailCall": TailCall, "tail_of": tail_of, "trampoline": trampoline}

#: Instruction names that make a function need the trampoline.
TAIL_CALLS = frozenset(("return_call", "return_call_indirect", "return_call_ref"))
