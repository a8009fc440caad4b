"""PyPy: i64 locals held as signed machine words, so the JIT keeps them unboxed.

The engine's canonical i64 is the unsigned bit pattern, a Python int in [0, 2**64). On
PyPy an int of 2**63 or more is a heap-allocated bignum, and every 64-bit hash or multiply
chain leaves the machine-word fast path (measured, PyPy 7.3.11: the hash64 kernel's loop
37 ms with unsigned locals, 0.37 ms with signed ones; converting at each statement instead
buys nothing). So on PyPy, when ``__pypy__.intop`` exists, the translator keeps the i64
locals that are not counted-loop variables (those stay canonical for ``range``) in the
signed form ``s`` in [-2**63, 2**63), the same bits; parameters arrive canonical and the
prologue converts them:

* a stack entry may carry ``sexpr``, the signed form of its value, next to ``expr`` (the
  canonical form, which every other consumer keeps using: branches, calls, results,
  globals, memory, slots); a consumer evaluates one of the two, never both;
* ``local.get`` of a signed local gives ``expr = u64(l)``, ``sexpr = l``; ``local.set``
  stores the value's ``sexpr`` or ``s64(expr)``;
* the i64 ops of ``visit_signed64.py`` (add, sub, mul, bitwise, shifts, rotates, compares,
  extensions, wrap, select, loads and stores) compute on signed forms with ``intop``'s
  wrapping int_add / int_sub / int_mul / int_lshift / uint_rshift (machine ops in the JIT),
  or plain bitwise ops and ``>>`` (exact on two's complement); their canonical form is
  ``u64(signed form)``. The rest (division, clz, conversions to float ...) reads ``expr``.

Every sexpr lies in [-2**63, 2**63): literals are printed signed, locals hold only sexprs
or ``s64`` of canonical values, and the operations above wrap. Off PyPy the same code runs
with the portable emulations of ``PORTABLE`` (tests force it on CPython to check that the
templates compute what the canonical ones do); normally it is switched off there.
"""

from __future__ import annotations

import struct
from typing import Any

from ..compat import PYPY

_W = 1 << 64
_H = 1 << 63
_MAXS = _H - 1
_M64 = _W - 1


# Both conversions are branch-free on purpose: a test of the sign splits PyPy's trace at
# every conversion (a bridge per sign), and values of 64-bit hashes take both signs at
# random (measured: the hash C program at -O0, calls with i64 arguments, 650 -> 60 ms).


def u64(x: int) -> int:
    """The canonical (unsigned) i64 of a signed form."""
    return x & _M64


def s64(x: int) -> int:
    """The signed form of a canonical i64."""
    return (x ^ _H) - _H


def _wrap(x: int) -> int:
    x &= _M64
    return x if x <= _MAXS else x - _W


def _portable() -> dict[str, Any]:
    """Pure-Python equivalents of the ``__pypy__.intop`` functions used here."""
    return {
        "iadd": lambda a, b: _wrap(a + b),
        "isub": lambda a, b: _wrap(a - b),
        "imul": lambda a, b: _wrap(a * b),
        "ishl": lambda a, k: _wrap(a << k),
        "ushr": lambda a, k: (a & _M64) >> k,
        "SMIN": -(1 << 63),
    }


PORTABLE = _portable()


def _native() -> dict[str, Any] | None:
    if not PYPY:
        return None
    try:
        from __pypy__ import intop  # PyPy's built-in module
    except ImportError:
        return None
    return {
        "iadd": intop.int_add,
        "isub": intop.int_sub,
        "imul": intop.int_mul,
        "ishl": intop.int_lshift,
        "ushr": intop.uint_rshift,
        # -2**63 as a machine word (the literal would be a bignum negated).
        "SMIN": intop.int_lshift(1, 63),
    }


def make_helpers(base: dict[str, Any]) -> dict[str, Any]:
    """The names translated code reads, over ``base`` (native or portable intop)."""
    ishl, ushr = base["ishl"], base["ushr"]

    def srl(x: int, b: int) -> int:
        """i64.shr_u by a variable count."""
        k = b & 63
        return ushr(x, k) if k else x

    def srotl(x: int, b: int) -> int:
        """i64.rotl on a signed form."""
        k = b & 63
        return (ishl(x, k) | ushr(x, 64 - k)) if k else x

    def srotr(x: int, b: int) -> int:
        """i64.rotr on a signed form."""
        k = -b & 63
        return (ishl(x, k) | ushr(x, 64 - k)) if k else x

    q = struct.Struct("<q")
    return dict(base, u64=u64, s64=s64, srl=srl, srotl=srotl, srotr=srotr,
                SQ64=q.unpack_from, PQ64=q.pack_into)


_NATIVE = _native()
#: True where the translator keeps i64 locals signed (PyPy with ``__pypy__.intop``).
ENABLED = _NATIVE is not None
#: Names the translated code reads (assemble.base_globals adds them; harmless off PyPy).
HELPERS: dict[str, Any] = make_helpers(_NATIVE if _NATIVE is not None else PORTABLE)


def signed_literal(text: str) -> str:
    """The signed form of an i64 literal (canonical text)."""
    v = int(text)
    if v <= _MAXS:
        return text
    v -= _W
    return "SMIN" if v == -(1 << 63) else f"({v})"
