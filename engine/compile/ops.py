"""Expression templates of the fixed-signature numeric instructions.

Each template is a Python expression over the operands ``{a}`` (deepest) and ``{b}``; every
compound is parenthesized so templates compose. ``CMP`` templates are *conditions* (Python
bools) used directly by ``if``/``br_if``/``select`` and turned into 0/1 only when stored.
``TRAPS`` lists the ops that may trap (they must be evaluated in program order).
"""

from __future__ import annotations

from typing import Any

from ..compat import HAS_BIT_COUNT

_M32 = "0xFFFFFFFF"
_M64 = "0xFFFFFFFFFFFFFFFF"
_S32 = "0x80000000"
_S64 = "0x8000000000000000"


def _int_ops(w: str, m: str, s: str, bits: int) -> tuple[dict[str, str], dict[str, str]]:
    val = {
        f"{w}.add": f"(({{a}} + {{b}}) & {m})",
        f"{w}.sub": f"(({{a}} - {{b}}) & {m})",
        f"{w}.mul": f"(({{a}} * {{b}}) & {m})",
        f"{w}.div_s": f"div_s{bits}({{a}}, {{b}})",
        # ZeroDivisionError raised here is turned into the trap by the function's handler.
        f"{w}.div_u": "({a} // {b})",
        f"{w}.rem_s": f"rem_s{bits}({{a}}, {{b}})",
        f"{w}.rem_u": "({a} % {b})",
        f"{w}.and": "({a} & {b})",
        f"{w}.or": "({a} | {b})",
        f"{w}.xor": "({a} ^ {b})",
        f"{w}.shl": f"(({{a}} << {{sb}}) & {m})",
        f"{w}.shr_u": "({a} >> {sb})",
        f"{w}.shr_s": f"(((({{a}} ^ {s}) - {s}) >> {{sb}}) & {m})",
        f"{w}.rotl": f"rotl{bits}({{a}}, {{b}})",
        f"{w}.rotr": f"rotr{bits}({{a}}, {{b}})",
        f"{w}.clz": f"({bits} - ({{a}}).bit_length())",
        f"{w}.ctz": f"ctz{bits}({{a}})",
        # int.bit_count is Python 3.10+; bin().count is the 3.9 (PyPy 7.3) fallback.
        f"{w}.popcnt": "({a}).bit_count()" if HAS_BIT_COUNT else 'bin({a}).count("1")',
        f"{w}.extend8_s": f"(((({{a}} & 0xFF) ^ 0x80) - 0x80) & {m})",
        f"{w}.extend16_s": f"(((({{a}} & 0xFFFF) ^ 0x8000) - 0x8000) & {m})",
    }
    cmp = {
        f"{w}.eq": "({a} == {b})",
        f"{w}.ne": "({a} != {b})",
        f"{w}.lt_u": "({a} < {b})",
        f"{w}.gt_u": "({a} > {b})",
        f"{w}.le_u": "({a} <= {b})",
        f"{w}.ge_u": "({a} >= {b})",
        f"{w}.lt_s": f"(({{a}} ^ {s}) < ({{b}} ^ {s}))",
        f"{w}.gt_s": f"(({{a}} ^ {s}) > ({{b}} ^ {s}))",
        f"{w}.le_s": f"(({{a}} ^ {s}) <= ({{b}} ^ {s}))",
        f"{w}.ge_s": f"(({{a}} ^ {s}) >= ({{b}} ^ {s}))",
        f"{w}.eqz": "(not {a})",
    }
    return val, cmp


def _float_ops(w: str) -> tuple[dict[str, str], dict[str, str]]:
    r = "f32r" if w == "f32" else ""
    val = {
        f"{w}.add": f"{r}({{a}} + {{b}})",
        f"{w}.sub": f"{r}({{a}} - {{b}})",
        f"{w}.mul": f"{r}({{a}} * {{b}})",
        f"{w}.div": "f32div({a}, {b})" if r else "fdiv({a}, {b})",
        f"{w}.min": "fmin({a}, {b})",
        f"{w}.max": "fmax({a}, {b})",
        f"{w}.copysign": "copysign({a}, {b})",
        f"{w}.abs": "fabs({a})",
        f"{w}.neg": "(-{a})",
        f"{w}.ceil": "fceil({a})",
        f"{w}.floor": "ffloor({a})",
        f"{w}.trunc": "ftrunc({a})",
        f"{w}.nearest": "fnearest({a})",
        f"{w}.sqrt": "f32sqrt({a})" if r else "fsqrt({a})",
    }
    cmp = {
        f"{w}.eq": "({a} == {b})",
        f"{w}.ne": "({a} != {b})",
        f"{w}.lt": "({a} < {b})",
        f"{w}.gt": "({a} > {b})",
        f"{w}.le": "({a} <= {b})",
        f"{w}.ge": "({a} >= {b})",
    }
    return val, cmp


VAL: dict[str, str] = {}
CMP: dict[str, str] = {}
for _v, _c in (
    _int_ops("i32", _M32, _S32, 32),
    _int_ops("i64", _M64, _S64, 64),
    _float_ops("f32"),
    _float_ops("f64"),
):
    VAL.update(_v)
    CMP.update(_c)

VAL.update(
    {
        "i64.extend32_s": f"(((({{a}} & {_M32}) ^ {_S32}) - {_S32}) & {_M64})",
        "i32.wrap_i64": f"({{a}} & {_M32})",
        "i64.extend_i32_u": "{a}",
        "i64.extend_i32_s": f"((({{a}} ^ {_S32}) - {_S32}) & {_M64})",
        "i32.trunc_f32_s": "trunc_i32_s({a})",
        "i32.trunc_f32_u": "trunc_i32_u({a})",
        "i32.trunc_f64_s": "trunc_i32_s({a})",
        "i32.trunc_f64_u": "trunc_i32_u({a})",
        "i64.trunc_f32_s": "trunc_i64_s({a})",
        "i64.trunc_f32_u": "trunc_i64_u({a})",
        "i64.trunc_f64_s": "trunc_i64_s({a})",
        "i64.trunc_f64_u": "trunc_i64_u({a})",
        "i32.trunc_sat_f32_s": "trunc_sat_i32_s({a})",
        "i32.trunc_sat_f32_u": "trunc_sat_i32_u({a})",
        "i32.trunc_sat_f64_s": "trunc_sat_i32_s({a})",
        "i32.trunc_sat_f64_u": "trunc_sat_i32_u({a})",
        "i64.trunc_sat_f32_s": "trunc_sat_i64_s({a})",
        "i64.trunc_sat_f32_u": "trunc_sat_i64_u({a})",
        "i64.trunc_sat_f64_s": "trunc_sat_i64_s({a})",
        "i64.trunc_sat_f64_u": "trunc_sat_i64_u({a})",
        # i32 -> double is exact, so one f32 rounding is correct.
        "f32.convert_i32_s": f"f32r(float(({{a}} ^ {_S32}) - {_S32}))",
        "f32.convert_i32_u": "f32r(float({a}))",
        # i64 -> double -> float would round twice: exact integer rounding instead.
        "f32.convert_i64_s": "f32_convert_i64_s({a})",
        "f32.convert_i64_u": "f32_convert_i64_u({a})",
        "f32.demote_f64": "fdemote({a})",
        # Python's int -> float conversion is correctly rounded.
        "f64.convert_i32_s": f"float(({{a}} ^ {_S32}) - {_S32})",
        "f64.convert_i32_u": "float({a})",
        "f64.convert_i64_s": f"float(({{a}} ^ {_S64}) - {_S64})",
        "f64.convert_i64_u": "float({a})",
        "f64.promote_f32": "fpromote({a})",
        "i32.reinterpret_f32": "f32_to_bits({a})",
        "i64.reinterpret_f64": "f64_to_bits({a})",
        "f32.reinterpret_i32": "f32_from_bits({a})",
        "f64.reinterpret_i64": "f64_from_bits({a})",
    }
)

TRAPS = frozenset(
    name
    for name in VAL
    if name.endswith(("div_s", "div_u", "rem_s", "rem_u")) or ".trunc_f" in name
)

#: Ops whose inline form raises ZeroDivisionError (needs the function's trap handler).

LOADS: dict[str, str] = {
    "i32.load": "U32(M0, {ea})[0]",
    "i64.load": "U64(M0, {ea})[0]",
    "f32.load": "load_f32(M0, {ea})",
    "f64.load": "UF64(M0, {ea})[0]",
    "i32.load8_s": f"(S8(M0, {{ea}})[0] & {_M32})",
    "i32.load8_u": "M0[{ea}]",
    "i32.load16_s": f"(S16(M0, {{ea}})[0] & {_M32})",
    "i32.load16_u": "U16(M0, {ea})[0]",
    "i64.load8_s": f"(S8(M0, {{ea}})[0] & {_M64})",
    "i64.load8_u": "M0[{ea}]",
    "i64.load16_s": f"(S16(M0, {{ea}})[0] & {_M64})",
    "i64.load16_u": "U16(M0, {ea})[0]",
    "i64.load32_s": f"(S32(M0, {{ea}})[0] & {_M64})",
    "i64.load32_u": "U32(M0, {ea})[0]",
}

#: Store statements; ``{v}`` is the value. (order flag: True when Python evaluates the
#: value before the address, so two trapping operands must be spilled first.)
STORES: dict[str, tuple[str, bool]] = {
    "i32.store": ("P32(M0, {ea}, {v})", False),
    "i64.store": ("P64(M0, {ea}, {v})", False),
    "f32.store": ("store_f32(M0, {ea}, {v})", False),
    "f64.store": ("PF64(M0, {ea}, {v})", False),
    "i32.store8": ("M0[{ea}] = {v} & 0xFF", True),
    "i32.store16": ("P16(M0, {ea}, {v} & 0xFFFF)", False),
    "i64.store8": ("M0[{ea}] = {v} & 0xFF", True),
    "i64.store16": ("P16(M0, {ea}, {v} & 0xFFFF)", False),
    "i64.store32": (f"P32(M0, {{ea}}, {{v}} & {_M32})", False),
}


def block_arity(info: Any, bt: Any) -> tuple[int, int]:
    """(params, results) of a block type immediate: None (empty), a value type (one
    result) or a type index of module ``info``."""
    if bt is None:
        return 0, 0
    if isinstance(bt, str):
        return 0, 1
    ft = info.types[bt]
    return len(ft.params), len(ft.results)
