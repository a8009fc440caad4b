"""Known alignment of memory addresses: how many low bits of a load's or store's address
operand are known to be zero, so that translated code may read it through a typed view
(``runtime/memory.typed_views``: ``V[k][a >> 2]``, 16 ns, against ``struct``'s 42 ns).

A symbolic run of the operand stack tracks, for each value, a lower bound on its trailing
zero bits (``tz``): literals have theirs, ``add``/``sub``/``or``/``xor``/``select`` keep the
smaller, ``mul`` adds, ``shl`` by a literal adds the shift, ``and`` keeps the larger. Every
other value (a load, a call's result, a global, a parameter) has none known. A local's
bound is the least over everything the function stores in it, found by repeating the run
until no bound moves (flow-insensitive: exact for every path). Control flow forgets the
operand stack, which only loses facts. The bounds are exact modulo 2**32 and 2**64 alike:
wrapping never changes low bits.

Measured on the macro programs (in-process interleaved A/B): clang's array indexing
``base + i * 4`` and pointer increments of ``p += 8`` keep their alignment; addresses
through the shadow-stack global do not (a global's alignment is not known to one body).
"""

from __future__ import annotations

from typing import Any

#: ``tz`` of zero: every bit known zero (more than any width).
ZERO = 64
#: Passes before giving up on a fixed point (then nothing is known); each pass is linear.
MAX_PASSES = 6

_MIN2 = frozenset(("i32.add", "i32.sub", "i64.add", "i64.sub", "i32.or", "i32.xor",
                   "i64.or", "i64.xor"))
_SAME = frozenset(("i64.extend_i32_u", "i32.wrap_i64"))


def ctz(value: int) -> int:
    """Trailing zero bits of a literal (as a 64-bit pattern; zero: :data:`ZERO`)."""
    value &= (1 << 64) - 1
    return ZERO if not value else min(ZERO, (value & -value).bit_length() - 1)


def address_tz(instrs: list, nparams: int, nlocals: int, wanted: frozenset[str]
               ) -> dict[int, int]:
    """For each instruction in ``wanted`` (loads: address on top; stores: address under the
    value), by index, the known trailing zero bits of its address operand (offset not
    included).

    Flow-sensitive over structured control (:class:`_Flow`) for up to :data:`MAX_TRACKED`
    locals that clang reuses for values of different alignment, on the bounds of a
    flow-insensitive run (:func:`insensitive`) for the others; that run alone where the
    flow analysis does not apply (exception handling) or overruns its budget."""
    base = insensitive(instrs, nparams, nlocals, wanted)
    if base is None:
        return {}
    local_tz, found = base
    if any(op.name in _UNMODELLED for op, _ in instrs):
        return found
    tracked = _reused(instrs, local_tz)
    if not tracked:
        return found
    flow = _Flow(instrs, local_tz, tracked, wanted, nparams)
    better = flow.run()
    return found if better is None else better


def insensitive(instrs: list, nparams: int, nlocals: int, wanted: frozenset[str]
                ) -> tuple[list[int], dict[int, int]] | None:
    """Each local's bound (the least over everything the function stores in it, repeated
    until no bound moves) and the access bounds found with them; None when the bounds do
    not settle within :data:`MAX_PASSES`."""
    local_tz = [0] * nparams + [ZERO] * (nlocals - nparams)
    for _ in range(MAX_PASSES):
        found: dict[int, int] = {}
        sim = _Sim(local_tz, None)
        moved = False
        for idx, (op, imm) in enumerate(instrs):
            if op.name in wanted:
                found[idx] = sim.address(op)
            if op.name in ("local.set", "local.tee") and sim.peek() < local_tz[imm]:
                local_tz[imm] = sim.peek()
                moved = True
            sim.step(op, imm)
        if not moved:
            return local_tz, found
    return None


def _reused(instrs: list, local_tz: list[int]) -> dict[int, int]:
    """The locals worth tracking by program point (slot by local): those stored a value
    with more known zero bits than their flow-insensitive bound somewhere."""
    optimistic = [ZERO] * len(local_tz)
    sim = _Sim(optimistic, None)
    tracked: dict[int, int] = {}
    for op, imm in instrs:
        if op.name in ("local.set", "local.tee") and imm not in tracked and (
                sim.peek() > local_tz[imm]) and len(tracked) < MAX_TRACKED:
            tracked[imm] = len(tracked)
        sim.step(op, imm)
    return tracked


class _Sim:
    """The operand stack of (tz, literal or None) entries, and the locals' bounds: a list
    by local, or (``slots``) a state list for the tracked locals over that list."""

    __slots__ = ("local_tz", "slots", "stack", "state")

    def __init__(self, local_tz: list[int], slots: dict[int, int] | None) -> None:
        self.stack: list[tuple[int, Any]] = []
        self.local_tz = local_tz
        self.slots = slots
        self.state: list[int] | None = None

    def peek(self) -> int:
        return self.stack[-1][0] if self.stack else 0

    def pop(self) -> tuple[int, Any]:
        return self.stack.pop() if self.stack else _UNKNOWN

    def address(self, op: Any) -> int:
        """The bound of a load's (top) or store's (under the value) address."""
        stack = self.stack
        if op.results:
            return stack[-1][0] if stack else 0
        return stack[-2][0] if len(stack) > 1 else 0

    def get(self, local: int) -> int:
        slots = self.slots
        if slots is not None:
            k = slots.get(local)
            if k is not None:
                return self.state[k]  # type: ignore[index]
        return self.local_tz[local]

    def step(self, op: Any, imm: Any) -> None:
        """One instruction's effect on the operand stack (and on tracked locals)."""
        name = op.name
        stack = self.stack
        pop = self.pop
        if name == "local.get":
            stack.append((self.get(imm), None))
        elif name in ("i32.const", "i64.const"):
            stack.append((ctz(imm), imm))
        elif name in ("local.set", "local.tee"):
            v = pop()
            slots = self.slots
            if slots is not None and imm in slots:
                self.state[slots[imm]] = min(v[0], ZERO)  # type: ignore[index]
            if name == "local.tee":
                stack.append(v)
        elif name in _MIN2:
            b, a = pop(), pop()
            stack.append((min(a[0], b[0]), None))
        elif name in ("i32.mul", "i64.mul"):
            b, a = pop(), pop()
            stack.append((min(ZERO, a[0] + b[0]), None))
        elif name in ("i32.and", "i64.and"):
            b, a = pop(), pop()
            stack.append((max(a[0], b[0]), None))
        elif name in ("i32.shl", "i64.shl"):
            b, a = pop(), pop()
            width = 32 if name[1] == "3" else 64
            shift = b[1] % width if b[1] is not None else 0
            stack.append((min(ZERO, a[0] + shift), None))
        elif name in _SAME:
            stack.append((pop()[0], None))
        elif name == "select":
            _, b, a = pop(), pop(), pop()
            stack.append((min(a[0], b[0]), None))
        elif name == "drop" or name == "global.set":
            pop()
        elif op.params is not None and op.results is not None:
            for _ in op.params:
                pop()
            stack.extend([_UNKNOWN] * len(op.results))
        else:
            stack.clear()  # control flow, calls ...: nothing is known below here


_UNKNOWN = (0, None)
#: Locals tracked by program point at most (a state is copied at every branch).
MAX_TRACKED = 48
#: Instructions the flow analysis may visit, per instruction of the body (loops are
#: visited again until their entry state settles).
BUDGET = 8
#: Control the flow analysis does not model (a throw inside a try reaches its handler from
#: anywhere): the flow-insensitive bounds apply.
_UNMODELLED = frozenset(("try_table", "try", "catch", "catch_all", "delegate"))
_ENDS_PATH = frozenset(("br", "br_table", "return", "unreachable", "return_call",
                        "return_call_indirect", "return_call_ref", "throw", "throw_ref",
                        "rethrow"))
_COND_BR = frozenset(("br_if", "br_on_null", "br_on_non_null", "br_on_cast",
                      "br_on_cast_fail", "br_on_cast_desc_eq", "br_on_cast_desc_eq_fail"))


def _join(a: list[int] | None, b: list[int] | None) -> list[int] | None:
    if a is None:
        return None if b is None else list(b)
    if b is None:
        return a
    return [min(y, x) for x, y in zip(a, b)]


class _Frame:
    __slots__ = ("kind", "label", "other", "start")

    def __init__(self, kind: str, start: int, other: list[int] | None) -> None:
        self.kind = kind
        self.start = start
        self.label: list[int] | None = None  # joined states of branches to the label
        self.other = other  # loop: the entry state; if: the state for the else arm


class _Flow:
    """Abstract interpretation of the body over its structured control: the tracked
    locals' bounds at each point (a list; None where unreachable), joined (least) where
    paths merge, loops visited again until their entry state settles."""

    def __init__(self, instrs: list, local_tz: list[int], tracked: dict[int, int],
                 wanted: frozenset[str], nparams: int) -> None:
        self.instrs = instrs
        self.sim = _Sim(local_tz, tracked)
        # On entry a parameter is unknown and every other local is zero.
        self.initial = [0 if x < nparams else ZERO for x in tracked]
        self.wanted = wanted

    def run(self) -> dict[int, int] | None:
        instrs, sim, wanted = self.instrs, self.sim, self.wanted
        found: dict[int, int] = {}
        frames = [_Frame("func", -1, None)]
        sim.state = list(self.initial)
        budget = BUDGET * len(instrs) + 64
        idx = 0
        while idx < len(instrs):
            budget -= 1
            if budget < 0:
                return None
            op, imm = instrs[idx]
            name = op.name
            state = sim.state
            if name in ("block", "loop", "if"):
                sim.stack.clear()
                if name == "loop":
                    frames.append(_Frame(name, idx, None if state is None else list(state)))
                else:
                    frames.append(_Frame(name, idx, None if state is None or name == "block"
                                         else list(state)))
            elif name == "else":
                fr = frames[-1]
                fr.label = _join(fr.label, state)
                sim.state, fr.other, fr.kind = fr.other, None, "else"
                sim.stack.clear()
            elif name == "end":
                fr = frames[-1]
                sim.stack.clear()
                if fr.kind == "loop":
                    header = _join(list(fr.other) if fr.other is not None else None, fr.label)
                    if fr.label is not None and header != fr.other:
                        fr.other, fr.label = header, None
                        sim.state = list(header)  # type: ignore[arg-type]
                        idx = fr.start + 1
                        continue
                elif fr.kind == "if":  # no else: the condition's false path
                    sim.state = _join(sim.state, fr.other)
                    sim.state = _join(sim.state, fr.label)
                else:
                    sim.state = _join(sim.state, fr.label)
                frames.pop()
                if not frames:
                    break
            elif state is None:
                pass  # unreachable code
            else:
                if name in wanted:
                    found[idx] = min(found.get(idx, ZERO), sim.address(op))
                if name in _COND_BR or name in _ENDS_PATH:
                    self.branch(frames, name, imm, state)
                    if name in _ENDS_PATH:
                        sim.state = None
                    sim.stack.clear()
                else:
                    sim.step(op, imm)
            idx += 1
        return found

    def branch(self, frames: list[_Frame], name: str, imm: Any, state: list[int]) -> None:
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
