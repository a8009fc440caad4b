"""Runtime helpers of the threads proposal's instructions, with single-threaded semantics.

An engine instance runs wasm on one thread at a time per store, so every atomic access is a
plain access with the atomics' extra trap: an effective address that is not a multiple of
the access size traps "unaligned atomic" (checked after the bounds, as the reference
interpreter does). ``memory.atomic.wait32/64`` can never be woken by another agent, so they
return at once: 1 ("not-equal") when the value differs, else 2 ("timed-out") instead of
blocking forever; ``memory.atomic.notify`` wakes no one (0). Waiting on an unshared memory
traps, as the proposal specifies.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import Trap

_OOB = "out of bounds memory access"


def _check(mem: bytearray, ea: int, n: int) -> None:
    if ea + n > len(mem):
        raise Trap(_OOB)
    if ea & (n - 1):
        raise Trap("unaligned atomic")


def atomic_load(mem: bytearray, ea: int, n: int) -> int:
    _check(mem, ea, n)
    return int.from_bytes(mem[ea : ea + n], "little")


def atomic_store(mem: bytearray, ea: int, n: int, v: int) -> None:
    _check(mem, ea, n)
    mem[ea : ea + n] = (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")


_RMW: dict[str, Callable[[int, int], int]] = {
    "add": lambda old, v: old + v,
    "sub": lambda old, v: old - v,
    "and": lambda old, v: old & v,
    "or": lambda old, v: old | v,
    "xor": lambda old, v: old ^ v,
    "xchg": lambda old, v: v,
}


def atomic_rmw(mem: bytearray, ea: int, n: int, op: str, v: int) -> int:
    """Read-modify-write of ``n`` bytes; returns the old value (zero-extended)."""
    _check(mem, ea, n)
    old = int.from_bytes(mem[ea : ea + n], "little")
    new = _RMW[op](old, v) & ((1 << (8 * n)) - 1)
    mem[ea : ea + n] = new.to_bytes(n, "little")
    return old


def atomic_cmpxchg(mem: bytearray, ea: int, n: int, expected: int, replacement: int) -> int:
    """Compare ``expected`` (wrapped to the access width) and exchange; returns the old value."""
    _check(mem, ea, n)
    mask = (1 << (8 * n)) - 1
    old = int.from_bytes(mem[ea : ea + n], "little")
    if old == expected & mask:
        mem[ea : ea + n] = (replacement & mask).to_bytes(n, "little")
    return old


def atomic_wait(mem: bytearray, ea: int, n: int, expected: int, timeout: int,
                shared: bool) -> int:
    """memory.atomic.wait32/64 on one thread: 1 "not-equal" or 2 "timed-out", never blocks."""
    _check(mem, ea, n)
    if not shared:
        raise Trap("expected shared memory")
    if int.from_bytes(mem[ea : ea + n], "little") != expected:
        return 1
    return 2


def atomic_notify(mem: bytearray, ea: int, count: int) -> int:
    """memory.atomic.notify: no agent ever waits, so none is woken."""
    _check(mem, ea, 4)
    return 0


#: Names the translated code reads (assemble.base_globals adds them).
HELPERS = {
    "atomic_load": atomic_load,
    "atomic_store": atomic_store,
    "atomic_rmw": atomic_rmw,
    "atomic_cmpxchg": atomic_cmpxchg,
    "atomic_wait": atomic_wait,
    "atomic_notify": atomic_notify,
}
