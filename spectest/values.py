"""Values between the runner's JSON and an adapter: raw bit patterns, compared bit-exactly.

wast2json writes i32/i64/f32/f64 as decimal strings of the unsigned bits, v128 as lanes of a
``lane_type``, references as ``"null"`` or an extern host number. The runner hands adapters
ints (bits; v128 as one 128-bit int, lane 0 in the low bits), ``None`` for null, an
:class:`ExternRef` for ``ref.extern N``; results come back the same way.
"""

from __future__ import annotations

from typing import ClassVar

LANE_BITS = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "f32": 32, "f64": 64}
NUM_BITS = {"i32": 32, "i64": 64, "f32": 32, "f64": 64, "v128": 128}

F32_CANONICAL, F32_QUIET, F32_ABS = 0x7FC0_0000, 0x7FC0_0000, 0x7FFF_FFFF
F64_CANONICAL, F64_QUIET = 0x7FF8_0000_0000_0000, 0x7FF8_0000_0000_0000
F64_ABS = 0x7FFF_FFFF_FFFF_FFFF


class ValueError_(Exception):
    """A JSON value the runner cannot represent (a broken conversion, not an engine fault)."""


class ExternRef:
    """The host object behind ``ref.extern N``: one object per N, compared by identity."""

    __slots__ = ("n",)
    _cache: ClassVar[dict[int, ExternRef]] = {}

    def __init__(self, n: int) -> None:
        self.n = n

    @classmethod
    def of(cls, n: int) -> ExternRef:
        """The one object for N (so a round trip through the engine keeps identity)."""
        ref = cls._cache.get(n)
        if ref is None:
            ref = cls._cache[n] = cls(n)
        return ref

    def __repr__(self) -> str:
        return f"ref.extern {self.n}"


def lanes_to_int(lane_type: str, lanes: list[str]) -> int:
    """Join lanes (unsigned decimal strings, lane 0 first) into a 128-bit int."""
    bits = LANE_BITS[lane_type]
    mask = (1 << bits) - 1
    out = 0
    for i, lane in enumerate(lanes):
        out |= (int(lane) & mask) << (i * bits)
    return out


def int_to_lanes(lane_type: str, value: int) -> list[int]:
    """Split a 128-bit int into unsigned lanes of ``lane_type``."""
    bits = LANE_BITS[lane_type]
    mask = (1 << bits) - 1
    return [(value >> (i * bits)) & mask for i in range(128 // bits)]


def parse_arg(v: dict) -> object:
    """The raw value of one argument in a JSON action."""
    t = v["type"]
    value = v.get("value")
    try:
        if t in ("i32", "i64", "f32", "f64"):
            return int(value) & ((1 << NUM_BITS[t]) - 1)
        if t == "v128":
            return lanes_to_int(v["lane_type"], value)
        if t in ("funcref", "externref"):
            if value == "null":
                return None
            if t == "externref":
                return ExternRef.of(int(value))
    except (TypeError, KeyError, ValueError) as exc:
        raise ValueError_(f"cannot read argument {v}: {exc}") from exc
    raise ValueError_(f"unsupported argument {v}")


def _float_matches(t: str, pattern: str, got: int) -> bool:
    """A scalar float result against a value or a NaN pattern (spec 'result' patterns)."""
    if t == "f32":
        if pattern == "nan:canonical":
            return got & F32_ABS == F32_CANONICAL
        if pattern == "nan:arithmetic":
            return got & F32_QUIET == F32_QUIET
    else:
        if pattern == "nan:canonical":
            return got & F64_ABS == F64_CANONICAL
        if pattern == "nan:arithmetic":
            return got & F64_QUIET == F64_QUIET
    return got == int(pattern) & ((1 << NUM_BITS[t]) - 1)


def _is_bits(got: object, t: str) -> bool:
    return isinstance(got, int) and not isinstance(got, bool) and 0 <= got < (1 << NUM_BITS[t])


def matches(expected: dict, got: object) -> bool:
    """True when a raw result satisfies one expected JSON value (bit-exact, by pattern)."""
    t = expected["type"]
    value = expected.get("value")
    if t in ("i32", "i64"):
        return _is_bits(got, t) and got == int(value) & ((1 << NUM_BITS[t]) - 1)
    if t in ("f32", "f64"):
        return _is_bits(got, t) and _float_matches(t, value, got)
    if t == "v128":
        if not _is_bits(got, t):
            return False
        lane_type = expected["lane_type"]
        lanes = int_to_lanes(lane_type, got)
        if lane_type in ("f32", "f64"):
            return all(_float_matches(lane_type, p, g) for p, g in zip(value, lanes))
        return lanes == int_to_lanes(lane_type, lanes_to_int(lane_type, value))
    if t in ("funcref", "externref"):
        if value == "null":
            return got is None
        if value is None:  # (ref.func) / (ref.extern): any non-null reference of the type
            return got is not None and (t == "externref") == isinstance(got, ExternRef)
        if t == "externref":
            return got is ExternRef.of(int(value))
        return False
    raise ValueError_(f"unsupported expected value {expected}")


def show_expected(v: dict) -> str:
    """A compact text form of an expected JSON value for failure messages."""
    t = v["type"]
    value = v.get("value")
    if t == "v128":
        return f"v128:{v.get('lane_type')}[{' '.join(map(str, value or []))}]"
    if value is None:
        return f"{t}:<any>"
    return f"{t}:{value}"


def show_raw(got: object, t: str | None = None) -> str:
    """A compact text form of a raw result; with the expected type, v128 is shown in lanes."""
    if got is None:
        return "null"
    if isinstance(got, ExternRef):
        return repr(got)
    if isinstance(got, int) and not isinstance(got, bool):
        if t == "v128":
            return f"v128[{hex(got)}]"
        if t in ("f32", "f64"):
            return f"{got} ({hex(got)})"
        return str(got)
    return f"{type(got).__name__}:{got!r}"[:80]


def show_results(expected: list[dict], got: list[object]) -> str:
    """The results as text, typed by the expected list where it lines up."""
    types = [e.get("type") for e in expected] + [None] * len(got)
    return "(" + ", ".join(show_raw(g, t) for g, t in zip(got, types)) + ")"
