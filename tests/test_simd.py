"""Tests of the SIMD templates and helpers (engine.compile.simd).

Two layers:
- direct unit tests of templates on small operands (lanes, NaNs, signed zeros, saturation);
- the testsuite's simd_*.wast and relaxed-simd assertions, evaluated with a tiny test-only
  stack evaluator over the decoded bodies (straight-line functions only), so each template
  is checked against the official expected values before the full engine exists.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest
import suite

from engine.compile.simd import SIMD_EXPR, SIMD_HELPERS
from engine.errors import Trap, WasmError
from engine.opcodes import PREFIXED

M128 = (1 << 128) - 1


def run(op: str, *args: object, imm: object = None, mem: bytearray | None = None,
        ea: int | None = None) -> object:
    """Evaluate the template of ``op`` on argument values, as the translator would."""
    tpl = SIMD_EXPR[op]
    src = tpl.format(a="_a", b="_b", c="_c", imm=repr(imm), mem="_mem", ea="_ea")
    env = dict(SIMD_HELPERS)
    env.update({"_" + k: v for k, v in zip("abc", args)}, _mem=mem, _ea=ea)
    if op.startswith("v128.store"):
        exec(src, env)  # noqa: S102 - the template under test
        return None
    return eval(src, env)


def lanes(v: int, width: int, signed: bool = False) -> list[int]:
    out = [(v >> (i * width)) & ((1 << width) - 1) for i in range(128 // width)]
    if signed:
        out = [x - (1 << width) if x >> (width - 1) else x for x in out]
    return out


def vec(values: list[int], width: int) -> int:
    return sum((x & ((1 << width) - 1)) << (i * width) for i, x in enumerate(values))


def f32v(values: list[float]) -> int:
    return int.from_bytes(struct.pack("<4f", *values), "little")


def f32lanes(v: int) -> list[float]:
    return list(struct.unpack("<4f", v.to_bytes(16, "little")))


# ---------------------------------------------------------------------------------------------
# Table and template coverage


def test_every_simd_opcode_has_a_template() -> None:
    names = {op.name for op in PREFIXED[0xFD].values()}
    assert len(names) == 256
    assert names == set(SIMD_EXPR)


def test_helper_names_are_prefixed_and_present() -> None:
    import re

    for op, tpl in SIMD_EXPR.items():
        for name in re.findall(r"\b([A-Za-z_]\w*)\(", tpl):
            assert name in SIMD_HELPERS or name in ("int",), (op, name)
    assert all(k.startswith("v_") for k in SIMD_HELPERS)


def test_operands_occur_once_in_order() -> None:
    for op, tpl in SIMD_EXPR.items():
        pos = [tpl.find("{" + k + "}") for k in "abc" if "{" + k + "}" in tpl]
        assert pos == sorted(pos), op
        for k in "abc":
            assert tpl.count("{" + k + "}") <= 1, op


# ---------------------------------------------------------------------------------------------
# Integer lanes


@pytest.mark.parametrize("width", [8, 16, 32, 64])
def test_swar_add_sub_neg_match_lanewise(width: int) -> None:
    import random

    rng = random.Random(width)
    shape = {8: "i8x16", 16: "i16x8", 32: "i32x4", 64: "i64x2"}[width]
    m = (1 << width) - 1
    specials = [0, 1, m, m >> 1, (m >> 1) + 1]
    for _ in range(200):
        xs = [rng.choice(specials + [rng.getrandbits(width)]) for _ in range(128 // width)]
        ys = [rng.choice(specials + [rng.getrandbits(width)]) for _ in range(128 // width)]
        a, b = vec(xs, width), vec(ys, width)
        assert run(f"{shape}.add", a, b) == vec([x + y for x, y in zip(xs, ys)], width)
        assert run(f"{shape}.sub", a, b) == vec([x - y for x, y in zip(xs, ys)], width)
        assert run(f"{shape}.neg", a) == vec([-x for x in xs], width)
        assert run(f"{shape}.eq", a, b) == vec([-(x == y) for x, y in zip(xs, ys)], width)
        assert run(f"{shape}.ne", a, b) == vec([-(x != y) for x, y in zip(xs, ys)], width)
        assert run(f"{shape}.all_true", a) == int(all(xs))
        n = rng.getrandbits(32)
        sx = lanes(a, width, signed=True)
        assert run(f"{shape}.shl", a, n) == vec([x << (n % width) for x in xs], width)
        assert run(f"{shape}.shr_u", a, n) == vec([x >> (n % width) for x in xs], width)
        assert run(f"{shape}.shr_s", a, n) == vec([x >> (n % width) for x in sx], width)


def test_saturating_and_narrow() -> None:
    a = vec([127, -128, 100, 0] * 4, 8)
    b = vec([1, -1, 100, -5] * 4, 8)
    assert lanes(run("i8x16.add_sat_s", a, b), 8, True)[:4] == [127, -128, 127, -5]
    assert lanes(run("i8x16.sub_sat_u", b, a), 8)[:4] == [0, 127, 0, 251]
    w = vec([300, -300, 5, 255, -1, 128, 0, 32767], 16)
    assert lanes(run("i8x16.narrow_i16x8_s", w, w), 8, True)[:8] == [127, -128, 5, 127, -1,
                                                                    127, 0, 127]
    assert lanes(run("i8x16.narrow_i16x8_u", w, w), 8)[:8] == [255, 0, 5, 255, 0, 128, 0, 255]


def test_widen_extmul_dot_q15() -> None:
    a = vec(list(range(-8, 8)), 8)
    assert lanes(run("i16x8.extend_high_i8x16_s", a), 16, True) == list(range(8))
    assert lanes(run("i16x8.extend_low_i8x16_u", a), 16) == list(range(248, 256))
    assert lanes(run("i16x8.extmul_low_i8x16_s", a, a), 16) == [x * x for x in range(-8, 0)]
    assert lanes(run("i16x8.extadd_pairwise_i8x16_s", a), 16, True) == [
        x + x + 1 for x in range(-8, 8, 2)]
    mn = vec([-32768] * 8, 16)
    assert lanes(run("i32x4.dot_i16x8_s", mn, mn), 32) == [1 << 31] * 4
    assert lanes(run("i16x8.q15mulr_sat_s", mn, mn), 16, True) == [32767] * 8


def test_popcnt_abs_avgr_bitmask_minmax() -> None:
    a = vec([0, 1, 3, 255, 128, 127] + [0] * 10, 8)
    assert lanes(run("i8x16.popcnt", a), 8)[:6] == [0, 1, 2, 8, 1, 7]
    assert lanes(run("i8x16.abs", a), 8, True)[:6] == [0, 1, 3, 1, -128, 127]
    assert lanes(run("i8x16.avgr_u", a, vec([255] * 16, 8)), 8)[:4] == [128, 128, 129, 255]
    assert run("i8x16.bitmask", a) == 0b11000
    assert run("i64x2.bitmask", 1 << 127) == 2
    assert lanes(run("i32x4.min_s", vec([-1, 2, 3, 4], 32), vec([1, 1, 1, 1], 32)), 32,
                 True) == [-1, 1, 1, 1]
    assert lanes(run("i32x4.min_u", vec([-1, 2, 3, 4], 32), vec([1, 1, 1, 1], 32)), 32) == [
        1, 1, 1, 1]
    assert run("i64x2.lt_s", vec([-1, 5], 64), vec([0, 5], 64)) == vec([-1, 0], 64)


def test_shuffle_swizzle_splat_lanes() -> None:
    a = vec(list(range(16)), 8)
    b = vec(list(range(16, 32)), 8)
    idx = tuple(range(31, 15, -1))
    assert lanes(run("i8x16.shuffle", a, b, imm=idx), 8) == list(idx)
    s = vec([0, 15, 16, 255, 3] + [0] * 11, 8)
    assert lanes(run("i8x16.swizzle", a, s), 8)[:5] == [0, 15, 0, 0, 3]
    assert run("i16x8.splat", 0x12345) == vec([0x2345] * 8, 16)
    assert run("i8x16.extract_lane_s", a | (0x80 << 40), imm=5) == 0xFFFFFF85
    assert run("i16x8.replace_lane", 0, 0x1FFFF, imm=7) == 0xFFFF << 112
    assert run("i64x2.replace_lane", M128, 0, imm=0) == M128 ^ ((1 << 64) - 1)


# ---------------------------------------------------------------------------------------------
# Float lanes


def test_f32_arith_rounds_and_special_values() -> None:
    big = 3.4028234663852886e38
    r = f32lanes(run("f32x4.add", f32v([big, 1.0, 0.1, -0.0]), f32v([big, 2.0 ** -24, 0.2, 0.0])))
    assert r[0] == math.inf and r[1] == 1.0 and r[3] == 0.0
    assert r[2] == struct.unpack("<f", struct.pack("<f", 0.1 + 0.2))[0]
    d = f32lanes(run("f32x4.div", f32v([1.0, -1.0, 0.0, 1.0]), f32v([0.0, 0.0, 0.0, -0.0])))
    assert d[0] == math.inf and d[1] == -math.inf and math.isnan(d[2]) and d[3] == -math.inf
    s = f32lanes(run("f32x4.sqrt", f32v([-1.0, 4.0, -0.0, math.inf])))
    assert math.isnan(s[0]) and s[1] == 2.0 and math.copysign(1, s[2]) < 0 and s[3] == math.inf


def test_f32_min_max_pmin_nan_and_zero() -> None:
    snan = 0x7FA00001
    a = f32v([0.0, -0.0, 1.0, 0.0]) & ~(0xFFFFFFFF << 96) | (snan << 96)
    b = f32v([-0.0, 0.0, math.nan, 5.0])
    mn = run("f32x4.min", a, b)
    assert lanes(mn, 32)[:2] == [0x80000000, 0x80000000]
    assert lanes(mn, 32)[2:] == [0x7FC00000, 0x7FC00000]
    mx = run("f32x4.max", a, b)
    assert lanes(mx, 32)[:2] == [0, 0]
    # pmin(a, b) = b < a ? b : a keeps a's signalling NaN bits exactly
    assert lanes(run("f32x4.pmin", a, b), 32)[3] == snan
    assert lanes(run("f32x4.pmax", a, b), 32)[3] == snan


def test_f32_abs_neg_keep_nan_bits() -> None:
    snan = 0xFFA00001
    assert run("f32x4.abs", snan) == 0x7FA00001
    assert lanes(run("f32x4.neg", 0x7FA00001), 32) == [snan, 1 << 31, 1 << 31, 1 << 31]


def test_rounding_lanes() -> None:
    v = f32v([2.5, -0.5, -1.5, 0.49999997])
    assert f32lanes(run("f32x4.nearest", v)) == [2.0, -0.0, -2.0, 0.0]
    assert math.copysign(1, f32lanes(run("f32x4.nearest", v))[1]) < 0
    assert math.copysign(1, f32lanes(run("f32x4.ceil", v))[1]) < 0
    assert f32lanes(run("f32x4.floor", v)) == [2.0, -1.0, -2.0, 0.0]


def test_conversions() -> None:
    t = run("i32x4.trunc_sat_f32x4_s", f32v([math.nan, 3e9, -3e9, -1.9]))
    assert lanes(t, 32, True) == [0, 2**31 - 1, -(2**31), -1]
    t = run("i32x4.trunc_sat_f32x4_u", f32v([math.nan, 5e9, -3.0, 1.9]))
    assert lanes(t, 32) == [0, 2**32 - 1, 0, 1]
    c = run("f32x4.convert_i32x4_u", vec([0xFFFFFFFF, 16777217, 0, 1], 32))
    assert f32lanes(c) == [4294967296.0, 16777216.0, 0.0, 1.0]
    z = run("i32x4.trunc_sat_f64x2_s_zero", int.from_bytes(struct.pack("<2d", -1e10, 7.9),
                                                           "little"))
    assert lanes(z, 32, True) == [-(2**31), 7, 0, 0]
    dm = run("f32x4.demote_f64x2_zero", int.from_bytes(struct.pack("<2d", 1e300, 0.1), "little"))
    assert f32lanes(dm)[0] == math.inf and lanes(dm, 32)[2:] == [0, 0]


# ---------------------------------------------------------------------------------------------
# Memory


def test_loads_stores_and_bounds() -> None:
    mem = bytearray(range(32))
    assert run("v128.load", mem=mem, ea=16) == int.from_bytes(bytes(range(16, 32)), "little")
    with pytest.raises(Trap, match="out of bounds memory access"):
        run("v128.load", mem=mem, ea=17)
    assert lanes(run("v128.load8x8_s", mem=bytearray(b"\xff" * 8), ea=0), 16, True) == [-1] * 8
    assert lanes(run("v128.load32x2_u", mem=bytearray(b"\xff" * 8), ea=0), 64) == [2**32 - 1] * 2
    assert run("v128.load16_splat", mem=mem, ea=2) == vec([0x0302] * 8, 16)
    assert run("v128.load32_zero", mem=mem, ea=0) == 0x03020100
    assert run("v128.load8_lane", None, 0, mem=mem, ea=5, imm=((0, 0), 15)) == 5 << 120
    run("v128.store64_lane", None, M128, mem=mem, ea=24, imm=((0, 0), 1))
    assert mem[24:32] == b"\xff" * 8
    with pytest.raises(Trap):
        run("v128.store", None, 0, mem=mem, ea=2**32 - 1)
    with pytest.raises(Trap):
        run("v128.store16_lane", None, 0, mem=mem, ea=31, imm=((0, 0), 0))


# ---------------------------------------------------------------------------------------------
# The testsuite's assertions through a test-only straight-line evaluator.


class Unsupported(Exception):
    pass


def _f32_bits_to_val(bits: int) -> float:
    from engine.compile.numerics import f32_from_bits

    return f32_from_bits(bits)


def _arg(v: dict) -> object:
    t = v["type"]
    if t == "v128":
        w = int(v["lane_type"][1:])
        return vec([int(x) for x in v["value"]], w)
    if t in ("i32", "i64"):
        return int(v["value"]) & ((1 << int(t[1:])) - 1)  # wast2json: unsigned, own: signed
    if t == "f32":
        return _f32_bits_to_val(int(v["value"]))
    if t == "f64":
        return struct.unpack("<d", struct.pack("<Q", int(v["value"])))[0]
    raise Unsupported(t)


def _lane_matches(bits: int, expect: str, w: int) -> bool:
    if expect.startswith("nan:"):
        exp_mask = ((1 << w) - 1) >> 1
        frac = (1 << (23 if w == 32 else 52)) - 1
        quiet = 1 << (22 if w == 32 else 51)
        if bits & exp_mask & ~frac != exp_mask & ~frac or not bits & frac:
            return False
        if expect == "nan:canonical":
            return bits & frac == quiet
        return bool(bits & quiet)
    return bits == int(expect) & ((1 << w) - 1)  # wast2json writes lanes unsigned, own signed


def _result_matches(got: object, exp: dict) -> bool:
    from engine.compile.numerics import f32_to_bits

    t = exp["type"]
    if t == "v128":
        w = int(exp["lane_type"][1:])
        return all(_lane_matches(x, e, w) for x, e in zip(lanes(got, w), exp["value"]))
    if t in ("i32", "i64"):
        return got == int(exp["value"]) & ((1 << int(t[1:])) - 1)
    if t == "f32":
        return _lane_matches(f32_to_bits(got), exp["value"], 32)
    if t == "f64":
        return _lane_matches(struct.unpack("<Q", struct.pack("<d", got))[0], exp["value"], 64)
    raise Unsupported(t)


_SCALAR = {
    "i32.add": lambda a, b: (a + b) & 0xFFFFFFFF,
    "i32.eqz": lambda a: int(a == 0),
}


class MiniModule:
    """Enough of an instance to run straight-line SIMD test functions."""

    def __init__(self, data: bytes) -> None:
        from engine.binary import decode_body, decode_module

        self.info = info = decode_module(data)
        self.decode_body = decode_body
        mems = info.all_mems()
        self.mem = bytearray(mems[0].limits.min * 65536) if mems else bytearray()
        for seg in info.datas:
            if seg.mode == "active":
                (op, off), = seg.offset
                if op.name != "i32.const":
                    raise Unsupported("data offset")
                self.mem[off:off + len(seg.init)] = seg.init
        self.exports = {e.name: e.index for e in info.exports if e.kind == "func"}

    def call(self, name: str, args: list) -> list:
        fi = self.exports[name]
        ft = self.info.func_type(fi)
        body = self.decode_body(self.info, fi)
        local_vals = list(args) + [0.0 if t[0] == "f" else 0 for t in body.local_types(())]
        stack: list = []
        env = dict(SIMD_HELPERS)
        for op, imm in body.instrs:
            n = op.name
            if n == "end":
                break
            if n == "local.get":
                stack.append(local_vals[imm])
            elif n in ("local.set", "local.tee"):
                local_vals[imm] = stack[-1] if n == "local.tee" else stack.pop()
            elif n == "drop":
                stack.pop()
            elif n in ("i32.const", "i64.const"):
                stack.append(imm)
            elif n == "f32.const":
                stack.append(_f32_bits_to_val(imm))
            elif n == "f64.const":
                stack.append(struct.unpack("<d", struct.pack("<Q", imm))[0])
            elif n in _SCALAR:
                k = len(op.params)
                vals = stack[len(stack) - k:]
                del stack[len(stack) - k:]
                stack.append(_SCALAR[n](*vals))
            elif op.prefix == 0xFD:
                k = len(op.params)
                vals = stack[len(stack) - k:]
                del stack[len(stack) - k:]
                tpl = SIMD_EXPR[n]
                ea = None
                if op.imm in ("memarg", "memarg_lane"):
                    offset = imm[1] if op.imm == "memarg" else imm[0][1]
                    ea = vals[0] + offset
                env.update(_a=vals[0] if vals else None, _b=vals[1] if k > 1 else None,
                           _c=vals[2] if k > 2 else None, _mem=self.mem, _ea=ea)
                src = tpl.format(a="_a", b="_b", c="_c", imm=repr(imm), mem="_mem", ea="_ea")
                if op.results:
                    stack.append(eval(src, env))
                else:
                    exec(src, env)  # noqa: S102 - the template under test
            else:
                raise Unsupported(n)
        return stack[len(stack) - len(ft.results):]


def _scripts() -> list[Path]:
    return suite.scripts("simd_*.wast") + suite.scripts(sub="proposals/relaxed-simd")


@suite.needs_suite
@pytest.mark.parametrize("wast", _scripts(), ids=lambda p: p.stem)
def test_testsuite_assertions(wast: Path) -> None:
    """Every straight-line assert_return / assert_trap of the script gives the expected value."""
    commands, folder = suite.commands(wast)
    mod = None
    checked = failed = 0
    failures = []
    for cmd in commands:
        kind = cmd["type"]
        if kind == "module":
            try:
                mod = MiniModule((folder / cmd["filename"]).read_bytes())
            except (WasmError, Unsupported, ValueError):
                mod = None
            continue
        if kind not in ("assert_return", "assert_trap") or mod is None:
            continue
        action = cmd["action"]
        if action["type"] != "invoke" or action.get("module") or action["field"] not in \
                mod.exports:
            continue
        try:
            args = [_arg(a) for a in action["args"]]
            if kind == "assert_trap":
                try:
                    mod.call(action["field"], args)
                    ok = False
                except Trap as e:
                    ok = str(e) == cmd["text"]
            else:
                got = mod.call(action["field"], args)
                if "either" in cmd:
                    ok = any(_result_matches(got[0], e) for e in cmd["either"])
                else:
                    ok = len(got) == len(cmd["expected"]) and all(
                        _result_matches(g, e) for g, e in zip(got, cmd["expected"]))
        except Unsupported:
            continue
        checked += 1
        if not ok:
            failed += 1
            if len(failures) < 8:
                failures.append((cmd["line"], action["field"], action["args"],
                                 cmd.get("expected") or cmd.get("either") or cmd.get("text")))
    assert failed == 0, f"{failed}/{checked} failed, e.g. {failures}"


# ---------------------------------------------------------------------------------------------
# End to end through the public API: the benchmark's v128 and scalar kernels agree.


@pytest.mark.parametrize("mode", ["eager", "lazy"])
def test_v128_kernel_matches_scalar_kernel(mode: str) -> None:
    from benchmarks.simd_vs_scalar import fill, instantiate

    out = []
    for name in ("saxpy_v128", "saxpy_scalar"):
        store, ex = instantiate(name, mode)
        fill(store, ex["memory"], 64)
        ex["saxpy"](store, 64, 0.25)
        out.append((bytes(ex["memory"].read(store, 32768, 32768 + 256)),
                    ex["sum_i32"](store, 64)))
    assert out[0] == out[1]
    assert struct.unpack("<f", out[0][0][4:8])[0] == 0.25 * 0.5 + 1.0
