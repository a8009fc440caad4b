"""Tail calls in constant Python stack depth: a marker returned to a trampoline.

A function whose body holds ``return_call`` / ``return_call_indirect`` is translated into
two callables: its *body*, which ends a tail call by returning ``TailCall(target, args)``
instead of calling, and its *entry* (what ``rt.funcs`` and every caller see), which calls the
body and runs the returned markers until a real result comes back. ``entry.tail`` is the
body. The target of a marker is the callee's body when the callee tail-calls too (so a chain
of tail calls of any length runs in the one trampoline) and the callee itself otherwise.

Functions without tail calls are translated as before: their callers pay nothing.
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
    """The callable a tail call to ``fn`` runs: its body if it tail-calls, else ``fn``."""
    return getattr(fn, "tail", fn)


HELPERS = {"TailCall": TailCall, "tail_of": tail_of}

#: Instruction names that make a function need the trampoline.
TAIL_CALLS = frozenset(("return_call", "return_call_indirect", "return_call_ref"))
