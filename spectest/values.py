"""Values between the runner's JSON and an adapter: raw bit patterns, compared bit-exactly.

The JSON (wasm-tools' schema, :mod:`spectest.schema`) writes i32/i64/f32/f64 as decimal
strings of the bits (signed or unsigned), v128 as lanes of a ``lane_type``, references as
``"null"``, a host number, or no value at all (a pattern). The runner hands adapters ints
(bits; v128 as one 128-bit int, lane 0 in the low bits), ``None`` for null, an
:class:`ExternRef` for ``ref.extern N`` and a :class:`HostRef` for ``ref.host N`` (a host
reference in the ``any`` hierarchy); results come back the same way.

Reference results follow the reference interpreter's patterns:

- ``(ref.null ht)`` and ``(ref.null)`` (``refnull``; ``nullref``, ``nullfuncref``, ... for the
  bottom types) match any null reference;
- ``(ref.extern N)`` / ``(ref.host N)`` match that very host object;
- ``(ref.func)``, ``(ref.extern)``, ``(ref.any)``, ``(ref.eq)``, ``(ref.i31)``,
  ``(ref.struct)``, ``(ref.array)``, ``(ref.exn)`` (a type without value) match any non-null
  reference whose kind (told by the adapter) lies below that heap type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

LANE_BITS = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "f32": 32, "f64": 64}
NUM_BITS = {"i32": 32, "i64": 64, "f32": 32, "f64": 64, "v128": 128}

F32_CANONICAL, F32_QUIET, F32_ABS = 0x7FC0_0000, 0x7FC0_0000, 0x7FFF_FFFF
F64_CANONICAL, F64_QUIET = 0x7FF8_0000_0000_0000, 0x7FF8_0000_0000_0000
F64_ABS = 0x7FFF_FFFF_FFFF_FFFF

#: JSON reference type -> its abstract heap type.
REF_HEAP = {"funcref": "func", "externref": "extern", "anyref": "any", "eqref": "eq",
            "i31ref": "i31", "structref": "struct", "arrayref": "array", "exnref": "exn"}
#: JSON types of null references of the bottom heap types (and ``refnull``: any null).
NULL_TYPES = {"refnull": "", "nullref": "any", "nullfuncref": "func",
              "nullexternref": "extern", "nullexnref": "exn"}
#: Kinds an adapter reports for a non-null reference (see Session.ref_kind), and the heap
#: types each kind lies below (the subtype lattice of the abstract heap types).
KIND_BELOW = {
    "func": {"func"},
    "extern": {"extern"},
    "exn": {"exn"},
    "host": {"any"},
    "i31": {"i31", "eq", "any"},
    "struct": {"struct", "eq", "any"},
    "array": {"array", "eq", "any"},
}
#: The hierarchy (top heap type) of each abstract heap type, for argument/result type checks.
HIERARCHY = {"func": "func", "nofunc": "func", "extern": "extern", "noextern": "extern",
             "exn": "exn", "noexn": "exn", "any": "any", "eq": "any", "i31": "any",
             "struct": "any", "array": "any", "none": "any"}


class ValueError_(Exception):
    """A JSON value the runner cannot represent (a broken conversion, not an engine fault)."""


class _HostObject:
    """A host object known by its number, one per number (compared by identity)."""

    __slots__ = ("n",)
    _cache: ClassVar[dict[int, _HostObject]]
    _form: ClassVar[str] = "?"

    def __init__(self, n: int) -> None:
        self.n = n

    @classmethod
    def of(cls, n: int) -> _HostObject:
        """The one object for N (so a round trip through the engine keeps identity)."""
        ref = cls._cache.get(n)
        if ref is None:
            ref = cls._cache[n] = cls(n)
        return ref

    def __repr__(self) -> str:
        return f"{self._form} {self.n}"


class ExternRef(_HostObject):
    """The host object behind ``ref.extern N``."""

    __slots__ = ()
    _cache: ClassVar[dict[int, _HostObject]] = {}
    _form = "ref.extern"


class HostRef(_HostObject):
    """The host object behind ``ref.host N`` (a host reference of the ``any`` hierarchy)."""

    __slots__ = ()
    _cache: ClassVar[dict[int, _HostObject]] = {}
    _form = "ref.host"


def default_kind(ref: object) -> str:
    """The kind of the runner's own host objects; "" for anything else."""
    if isinstance(ref, ExternRef):
        return "extern"
    if isinstance(ref, HostRef):
        return "host"
    return ""


def lanes_to_int(lane_type: str, lanes: list[str]) -> int:
    """Join lanes (decimal strings, signed or unsigned, lane 0 first) into a 128-bit int."""
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
    t = v.get("type")
    value = v.get("value")
    try:
        if t in ("i32", "i64", "f32", "f64"):
            return int(value) & ((1 << NUM_BITS[t]) - 1)
        if t == "v128":
            if len(value) * LANE_BITS[v["lane_type"]] != 128:
                raise ValueError_(f"v128 argument with {len(value)} lanes of {v['lane_type']}")
            return lanes_to_int(v["lane_type"], value)
        if t in NULL_TYPES and value is None:
            return None
        if t in REF_HEAP and value == "null":
            return None
        if t == "externref" and value is not None:
            return ExternRef.of(int(value))
        if t == "anyref" and value is not None:
            return HostRef.of(int(value))
    except (TypeError, KeyError, ValueError) as exc:
        raise ValueError_(f"cannot read argument {v}: {exc}") from exc
    raise ValueError_(f"unsupported argument {v}")


def arg_type(v: dict) -> str:
    """The value type of an argument as the runner names it (``i32``, ``v128``, or a heap
    type's reference name such as ``funcref``; bottom nulls as ``nullfuncref`` ...)."""
    return str(v.get("type"))


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


def _ref_matches(t: str, value: object, got: object, kind: Callable[[object], str]) -> bool:
    if t in NULL_TYPES:
        if value is not None:
            raise ValueError_(f"a {t} result with a value: {value!r}")
        return got is None
    if value == "null":
        return got is None
    if value is None:  # (ref.func), (ref.struct), ...: a non-null ref below the heap type
        if got is None or isinstance(got, (int, bool)):
            return False
        return REF_HEAP[t] in KIND_BELOW.get(kind(got) or default_kind(got), set())
    if t in ("externref", "anyref"):
        # One host address N in two forms: the reference interpreter's (ref.extern N) is the
        # externalized (ref.host N), so extern.convert_any / any.convert_extern keep N; an
        # engine that keeps the host object itself through the conversion returns the
        # argument's form.
        n = int(value)
        return got is ExternRef.of(n) or got is HostRef.of(n)
    raise ValueError_(f"unsupported expected reference {t} {value!r}")


def matches(expected: dict, got: object,
            kind: Callable[[object], str] = default_kind) -> bool:
    """True when a raw result satisfies one expected JSON value (bit-exact, by pattern).

    ``kind`` tells the kind of a non-null reference (the adapter's ``ref_kind``)."""
    t = expected.get("type")
    value = expected.get("value")
    if t == "either":
        return any(matches(alt, got, kind) for alt in expected.get("values", []))
    if t in ("i32", "i64"):
        return _is_bits(got, t) and got == int(value) & ((1 << NUM_BITS[t]) - 1)
    if t in ("f32", "f64"):
        return _is_bits(got, t) and _float_matches(t, value, got)
    if t == "v128":
        if not _is_bits(got, t):
            return False
        lane_type = expected["lane_type"]
        lanes = int_to_lanes(lane_type, got)
        if len(value) != len(lanes):
            raise ValueError_(f"v128 result with {len(value)} lanes of {lane_type}")
        if lane_type in ("f32", "f64"):
            return all(_float_matches(lane_type, p, g) for p, g in zip(value, lanes))
        return lanes == int_to_lanes(lane_type, lanes_to_int(lane_type, value))
    if t in REF_HEAP or t in NULL_TYPES:
        return _ref_matches(t, value, got, kind)
    raise ValueError_(f"unsupported expected value {expected}")


def expected_types(expected: dict) -> set[str]:
    """The value types an expected value (or each alternative of an ``either``) can have."""
    if expected.get("type") == "either":
        return {t for alt in expected.get("values", []) for t in expected_types(alt)}
    return {str(expected.get("type"))}


def show_expected(v: dict) -> str:
    """A compact text form of an expected JSON value for failure messages."""
    t = v.get("type")
    value = v.get("value")
    if t == "either":
        return "either(" + " | ".join(show_expected(a) for a in v.get("values", [])) + ")"
    if t == "v128":
        return f"v128:{v.get('lane_type')}[{' '.join(map(str, value or []))}]"
    if value is None:
        return f"{t}:<null>" if t in NULL_TYPES else f"{t}:<any>"
    return f"{t}:{value}"


def show_raw(got: object, t: str | None = None) -> str:
    """A compact text form of a raw result; with the expected type, v128 is shown in lanes."""
    if got is None:
        return "null"
    if isinstance(got, _HostObject):
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


# -- type checks of actions (the reference interpreter's "wrong number or types") ----------

_NUMERIC = ("i32", "i64", "f32", "f64", "v128")
#: Value type names an engine may report for the abstract reference types.
_REF_NAMES = {
    "funcref": "func", "externref": "extern", "anyref": "any", "eqref": "eq",
    "i31ref": "i31", "structref": "struct", "arrayref": "array", "exnref": "exn",
    "nullref": "none", "nullfuncref": "nofunc", "nullexternref": "noextern",
    "nullexnref": "noexn",
}


def hierarchy_of(type_name: str) -> str:
    """The hierarchy (``func``, ``extern``, ``any``, ``exn``) of a reference type name as an
    engine or the JSON writes it (``funcref``, ``(ref null func)``, ``(ref $t)`` ...);
    "" when it cannot be told (a concrete type index), "num" for numeric types."""
    name = type_name.strip()
    if name in _NUMERIC:
        return "num"
    if name in _REF_NAMES:
        return HIERARCHY[_REF_NAMES[name]]
    if name == "refnull":
        return ""
    words = name.replace("(", " ").replace(")", " ").split()
    for w in reversed(words):
        if w in HIERARCHY:
            return HIERARCHY[w]
    return ""


def value_fits(json_type: str, declared: str) -> bool:
    """Whether a value of JSON type ``json_type`` can be of the declared type ``declared``:
    numeric types must be equal; references must be of the same hierarchy where both are
    known (a concrete type such as ``(ref $t)`` is not resolved)."""
    declared = declared.strip()
    if json_type in _NUMERIC or declared in _NUMERIC:
        return json_type == declared
    mine, theirs = hierarchy_of(json_type), hierarchy_of(declared)
    return not mine or not theirs or mine == theirs
