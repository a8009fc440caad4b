"""What the engine needs from Python 3.10+ that Python 3.9 (Debian's PyPy 7.3) lacks.

The engine runs on CPython 3.9+ and on PyPy at the 3.9 language level; this module is the
one place that knows the difference. It imports nothing from the engine.
"""

from __future__ import annotations

import platform
import sys

#: ``@dataclass(**SLOTS)``: slotted where ``dataclass(slots=True)`` exists (3.10+); on 3.9 a
#: plain class (PyPy's map-based instances are compact without slots).
SLOTS: dict = {"slots": True} if sys.version_info >= (3, 10) else {}

#: True on PyPy: the translator picks JIT-friendly template variants there (measured in
#: benchmarks/pypy_compare.py).
PYPY = platform.python_implementation() == "PyPy"

#: ``int.bit_count`` appeared in 3.10.
HAS_BIT_COUNT = hasattr(int, "bit_count")


def popcount(a: int) -> int:
    """Number of set bits of a non-negative int (``int.bit_count`` where it exists)."""
    return bin(a).count("1")  # noqa: FURB161 - the Python 3.9 fallback


if HAS_BIT_COUNT:
    popcount = int.bit_count  # type: ignore[assignment]
