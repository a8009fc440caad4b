"""Known alignment of memory addresses: how many low bits of a load's or store's address
operand are known to be zero, so that translated code may read it through a typed view
(``runtime/memory.typed_views``: ``V[a >> 2]``, 16 ns, against ``struct``'s 42 ns).

A symbolic run of the operand stack tracks, for each value, a lower bound on its trailing
zero bits (``tz``): literals have theirs, ``add``/``sub``/``or``/``xor``/``select`` keep the
smaller, ``mul`` adds, ``shl`` by a literal adds the shift, ``and`` keeps the larger. Every
other value (a load, a call's result, a global, a parameter) has none known. The bounds
are exact modulo 2**32 and 2**64 alike: wrapping never changes low bits.

Locals are followed by program point (clang reuses one local for an index and an address):
the run is an abstract interpretation of the structured body, states joined (least bound)
where paths merge and each loop visited again until its entry state settles. Only locals
that are ever stored a value with known zero bits are tracked (at most
:data:`MAX_TRACKED`; the others are unknown), control flow forgets the operand stack
(which only loses facts), and the whole run has a budget linear in the body
(:data:`BUDGET`): past it, or in a body with exception handling (a throw reaches its
handler from anywhere), nothing is known and every access keeps ``struct``.

Measured on the macro programs (in-process interleaved A/B): clang's array indexing
``base + i * 4`` and pointer increments ``p += 8`` keep their alignment; addresses through
the shadow-stack global do when the function's entry guard checks the global's low bits
(entry_guard.py: a global's alignment is not otherwise known to one body).
"""

from __future__ import annotations

from typing import Any

#: ``tz`` of zero: every bit known zero (more than any width).
ZERO = 64
#: Locals tracked by program point at most (a state is copied at every branch).
MAX_TRACKED = 48
#: Instructions the run may visit per instruction of the body (loops are visited again
#: until their entry state settles).
BUDGET = 8
#: Known zero bits that make a local worth tracking (the least an access can use).
USEFUL = 2

# Instruction categories of the run.
_OTHER, _GET, _CONST, _SET, _TEE, _MIN2, _MUL, _AND, _SHL, _SAME, _SELECT, _POP = range(12)
_OPEN, _ELSE, _END, _BRANCH, _COND = range(12, 17)
_CATS: dict[str, int] = {
    "local.get": _GET, "i32.const": _CONST, "i64.const": _CONST, "local.set": _SET,
    "local.tee": _TEE, "i32.mul": _MUL, "i64.mul": _MUL, "i32.and": _AND, "i64.and": _AND,
    "i32.shl": _SHL, "i64.shl": _SHL, "i64.extend_i32_u": _SAME, "i32.wrap_i64": _SAME,
    "select": _SELECT, "select_t": _SELECT, "drop": _POP, "global.set": _POP,
    "block": _OPEN, "loop": _OPEN, "if": _OPEN, "else": _ELSE, "end": _END,
    **{n: _MIN2 for n in ("i32.add", "i32.sub", "i64.add", "i64.sub", "i32.or", "i32.xor",
                          "i64.or", "i64.xor")},
    **{n: _BRANCH for n in ("br", "br_table", "return", "unreachable", "return_call",
                            "return_call_indirect", "return_call_ref", "throw", "throw_ref",
                            "rethrow")},
    **{n: _COND for n in ("br_if", "br_on_null", "br_on_non_null", "br_on_cast",
                          "br_on_cast_fail", "br_on_cast_desc_eq", "br_on_cast_desc_eq_fail")},
}
#: Control the run does not model (a throw inside a try reaches its handler from anywhere).
_UNMODELLED = frozenset(("try_table", "try", "catch", "catch_all", "delegate"))
_UNKNOWN = (0, None)
#: What may compute a value with known zero bits (the tracked locals are stored one).
_PRODUCERS = frozenset(n for n, c in _CATS.items() if _GET <= c <= _SELECT and c != _SET)


def ctz(value: int) -> int:
    """Trailing zero bits of a literal (as a 64-bit pattern; zero: :data:`ZERO`)."""
    value &= (1 << 64) - 1
    return ZERO if not value else min(ZERO, (value & -value).bit_length() - 1)


def address_tz(instrs: list, nparams: int, wanted: frozenset[str],
               entry_tz: int = 0) -> dict[int, int]:
    """For each reachable instruction in ``wanted`` (loads: address on top; stores:
    address under the value), by index, the known trailing zero bits of its address
    operand (offset not included); empty when nothing can be known. ``entry_tz``: the
    bits known of the value a ``global.get`` first in the body reads (the function's entry
    guard checks them, entry_guard.py)."""
    if any(op.name in _UNMODELLED for op, _ in instrs):
        return {}
    if not (entry_tz and instrs and instrs[0][0].name == "global.get"):
        entry_tz = 0
    tracked = _tracked(instrs, entry_tz > 0)
    return _Run(instrs, tracked, wanted, nparams, entry_tz).run() or {}


def _tracked(instrs: list, entry: bool) -> dict[int, int]:
    """The locals worth tracking (slot by local): those stored the result of an
    instruction that may have known zero bits (a literal, arithmetic, a local, the guarded
    ``global.get`` at the ``entry``), in order of first store. A cheap
    over-approximation: an untracked local is merely unknown."""
    tracked: dict[int, int] = {}
    prev = "local.get" if entry else ""  # the guarded read: a producer
    for op, imm in instrs[1:] if entry else instrs:
        name = op.name
        if (name == "local.set" or name == "local.tee") and prev in _PRODUCERS and (
                imm not in tracked):
            if len(tracked) >= MAX_TRACKED:
                break
            tracked[imm] = len(tracked)
        prev = name
    return tracked


def _step(stack: list, cat: int, op: Any, imm: Any, slots: dict[int, int],
          state: list[int]) -> None:
    """One non-control instruction other than ``local.get`` and a literal (inline in
    :meth:`_Run.run`): its effect on the operand stack and on the tracked locals'
    ``state``."""
    if cat == _SET or cat == _TEE:
        v = stack.pop() if stack else _UNKNOWN
        k = slots.get(imm)
        if k is not None:
            state[k] = v[0]
        if cat == _TEE:
            stack.append(v)
    elif _MIN2 <= cat <= _SHL:
        b = stack.pop() if stack else _UNKNOWN
        a = stack.pop() if stack else _UNKNOWN
        if cat == _MIN2:
            tz = min(a[0], b[0])
        elif cat == _MUL:
            tz = min(ZERO, a[0] + b[0])
        elif cat == _AND:
            tz = max(a[0], b[0])
        else:  # shl: by a literal, the shift more; by anything, at least as many
            shift = b[1] % (32 if op.name[1] == "3" else 64) if b[1] is not None else 0
            tz = min(ZERO, a[0] + shift)
        stack.append((tz, None))
    elif cat == _SAME:
        stack.append((stack.pop()[0] if stack else 0, None))
    elif cat == _SELECT:
        del stack[-1:]
        b = stack.pop() if stack else _UNKNOWN
        a = stack.pop() if stack else _UNKNOWN
        stack.append((min(a[0], b[0]), None))
    elif cat == _POP:
        del stack[-1:]
    elif op.params is not None and op.results is not None:
        if op.params:
            del stack[-len(op.params):]
        stack.extend([_UNKNOWN] * len(op.results))
    else:
        stack.clear()  # control flow, calls ...: nothing is known below here


def _join(a: list[int] | None, b: list[int] | None) -> list[int] | None:
    """The state where paths in ``a`` and ``b`` meet (a new list unless one is None)."""
    if a is None:
        return None if b is None else list(b)
    if b is None:
        return a
    return [min(x, y) for x, y in zip(a, b)]


class _Frame:
    __slots__ = ("kind", "label", "other", "start")

    def __init__(self, kind: str, start: int, other: list[int] | None) -> None:
        self.kind = kind
        self.start = start
        self.label: list[int] | None = None  # joined states of branches to the label
        self.other = other  # loop: the entry state; if: the state for the else arm


class _Run:
    """The abstract interpretation: the tracked locals' bounds at each point (a list;
    None where unreachable), joined where paths merge, loops visited again until their
    entry state settles."""

    def __init__(self, instrs: list, tracked: dict[int, int], wanted: frozenset[str],
                 nparams: int, entry_tz: int = 0) -> None:
        self.instrs = instrs
        self.tracked = tracked
        self.wanted = wanted
        self.entry_tz = entry_tz
        # On entry a parameter is unknown and every other local is zero.
        self.initial = [0 if x < nparams else ZERO for x in tracked]

    def run(self) -> dict[int, int] | None:
        """The bounds of the wanted accesses, or None past the budget."""
        instrs, wanted, slots = self.instrs, self.wanted, self.tracked
        found: dict[int, int] = {}
        frames = [_Frame("func", -1, None)]
        headers: dict[int, list[int]] = {}  # loop start -> the entry state it settled on
        stack: list[tuple[int, Any]] = []
        state: list[int] | None = list(self.initial)
        budget = BUDGET * len(instrs) + 64
        idx, n = 0, len(instrs)
        while idx < n:
            budget -= 1
            if budget < 0:
                return None
            op, imm = instrs[idx]
            name = op.name
            cat = _CATS.get(name, _OTHER)
            if cat >= _OPEN:
                stack.clear()
                if cat == _OPEN:
                    entry = None if state is None or name == "block" else list(state)
                    if name == "loop" and entry is not None:
                        # Start from the header this loop settled on in an earlier visit of
                        # an enclosing loop (joined: still sound), so that it settles again
                        # at once instead of once more per visit of every enclosing loop.
                        entry = _join(entry, headers.get(idx))
                        headers[idx] = entry  # type: ignore[assignment]
                    frames.append(_Frame(name, idx, entry))
                elif cat == _ELSE:
                    fr = frames[-1]
                    fr.label = _join(fr.label, state)
                    state, fr.other, fr.kind = fr.other, None, "else"
                elif cat == _END:
                    fr = frames[-1]
                    if fr.kind == "loop":
                        header = _join(fr.other, fr.label)
                        if fr.label is not None and header != fr.other:
                            fr.other, fr.label = header, None  # visit the body again
                            headers[fr.start] = header  # type: ignore[assignment]
                            state = list(header)  # type: ignore[arg-type]
                            idx = fr.start + 1
                            continue
                    elif fr.kind == "if":  # no else: the condition's false path
                        state = _join(_join(state, fr.other), fr.label)
                    else:
                        state = _join(state, fr.label)
                    frames.pop()
                    if not frames:
                        break
                elif state is not None:
                    _branch(frames, name, imm, state)
                    if cat == _BRANCH:
                        state = None
            elif state is not None:
                if cat == _GET:
                    k = slots.get(imm)
                    stack.append((state[k] if k is not None else 0, None))
                elif cat == _CONST:
                    stack.append((ctz(imm), imm))
                elif idx == 0 and self.entry_tz:  # the guarded global.get (entry_guard.py)
                    stack.append((self.entry_tz, None))
                else:
                    if name in wanted:
                        found[idx] = min(found.get(idx, ZERO), _address(stack, op))
                    _step(stack, cat, op, imm, slots, state)
            idx += 1
        return found


def _address(stack: list, op: Any) -> int:
    """The bound of a load's (top) or store's (under the value) address."""
    if op.results:
        return stack[-1][0] if stack else 0
    return stack[-2][0] if len(stack) > 1 else 0


def _branch(frames: list[_Frame], name: str, imm: Any, state: list[int]) -> None:
    """Join ``state`` into the labels a branch instruction may take."""
    if name == "br_table":
        labels = (*imm[0], imm[1])
    elif name in ("br", "br_if", "br_on_null", "br_on_non_null"):
        labels = (imm,)
    elif name.startswith("br_on"):
        labels = (imm[0],)
    else:
        return  # return, unreachable, throw: leave the function
    for depth in labels:
        if depth < len(frames) - 1:
            fr = frames[-1 - depth]
            fr.label = _join(fr.label, state)
