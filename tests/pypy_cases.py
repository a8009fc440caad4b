"""Exactness of the PyPy-specific translation (Python 3.9, standard library + engine only).

Runs inside pytest (``tests/test_pypy.py``) and, under ``pypy3``, as a script that prints
one line per mismatch and exits 1 when there is one.

* The signed-i64 form (``engine/compile/signed64.py``): every i64 op of the opcode table that
  ``visit_signed64.py`` translates is exported as a function that moves its operands
  through non-parameter i64 locals (the signed ones) and returns the result through one,
  plus each shift/rotate by constant counts and each binary op with a literal operand. The
  module is translated with the signed form and without it (the canonical templates, which
  the conformance suites check), and both must return the same bits on edge values.
* The bulk helpers of ``engine/compile/pypy_helpers.py`` (PyPy): against the portable
  ``numerics.mem_*`` on overlapping, edge and out-of-bounds ranges.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

from engine import Config, Engine, Instance, Module, Store, Trap, wat2wasm
from engine.compile import numerics, pypy_helpers, signed64, visit_signed64

BINARY = ["add", "sub", "mul", "and", "or", "xor", "shl", "shr_u", "shr_s", "rotl", "rotr"]
COMPARE = ["eq", "ne", "lt_s", "gt_s", "le_s", "ge_s", "lt_u", "gt_u", "le_u", "ge_u"]
UNARY = ["eqz", "extend8_s", "extend16_s", "extend32_s", "wrap"]
COUNTS = [0, 1, 7, 17, 31, 32, 33, 47, 63, 64, 65, 127]
LITERALS = [0, 1, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0x9E3779B185EBCA87, (1 << 64) - 1]
VALUES = [0, 1, 2, 63, 64, 0x7F, 0x80, 0xFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
          0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000,
          0x8000_0000_0000_0001, 0x9E37_79B1_85EB_CA87, 0xFFFF_FFFF_FFFF_FFFE,
          0xFFFF_FFFF_FFFF_FFFF]


def _func(name: str, params: str, result: str, body: str) -> str:
    return (f'(func (export "{name}") (param {params}) (result {result}) '
            f"(local $a i64) (local $b i64) (local $r i64) {body})")


def module_text() -> str:
    """The module: names are ``op``, ``op/k`` (constant count or literal) and ``op/lit``."""
    fs = []
    ab = "(local.set $a (local.get 0)) (local.set $b (local.get 1)) "
    for op in BINARY:
        fs.append(_func(op, "i64 i64", "i64", ab + f"(local.set $r (i64.{op} (local.get $a) "
                        "(local.get $b))) (local.get $r)"))
        counts = COUNTS if op in ("shl", "shr_u", "shr_s", "rotl", "rotr") else LITERALS
        for k in counts:
            fs.append(_func(f"{op}/{k}", "i64 i64", "i64", ab + f"(i64.{op} (local.get $a) "
                            f"(i64.const {k}))"))
            fs.append(_func(f"{op}/lit{k}", "i64 i64", "i64", ab + f"(i64.{op} "
                            f"(i64.const {k}) (local.get $b))"))
        # A chain: the inner result's signed form feeds the outer op directly.
        fs.append(_func(f"{op}/chain", "i64 i64", "i64", ab + f"(local.set $r (i64.{op} "
                        f"(i64.{op} (local.get $a) (local.get $b)) (i64.xor (local.get $b) "
                        "(i64.const 0x8000000000000001)))) (local.get $r)"))
    for op in COMPARE:
        fs.append(_func(op, "i64 i64", "i32", ab + f"(i64.{op} (local.get $a) (local.get $b))"))
        fs.append(_func(f"{op}/br", "i64 i64", "i32", ab + f"(if (result i32) (i64.{op} "
                        "(local.get $a) (local.get $b)) (then (i32.const 7)) "
                        "(else (i32.const 9)))"))
    for op in UNARY:
        inst = "i32.wrap_i64" if op == "wrap" else f"i64.{op}"
        result = "i32" if op in ("eqz", "wrap") else "i64"
        fs.append(_func(op, "i64 i64", result, ab + f"({inst} (local.get $a))"))
    for ext in ("extend_i32_u", "extend_i32_s"):
        fs.append(_func(ext, "i64 i64", "i64", f"(local.set $a (i64.{ext} (i32.wrap_i64 "
                        "(local.get 0)))) (local.set $r (i64.add (local.get $a) "
                        "(i64.const 1))) (local.get $r)"))
    fs.extend(_memory_and_spills(ab))
    fs.extend(_i32_products())
    return "(module (memory 1)\n" + "\n".join(fs) + "\n)"


def _i32_products() -> list[str]:
    """i32 products past 2**63 (the wrapped ``imul`` of visit_numeric on PyPy) in chains."""
    x, y = "(i32.wrap_i64 (local.get 0))", "(i32.wrap_i64 (local.get 1))"
    bodies = {
        "mul_add": f"(i32.add (i32.mul {x} {y}) {y})",
        "mul_mul": f"(i32.mul (i32.mul {x} {y}) (i32.add {x} {y}))",
        "mul_sub": f"(i32.sub (i32.mul {x} {y}) (i32.mul {y} (i32.sub {x} {y})))",
        "mul_and": f"(i32.and (i32.mul {x} {y}) (i32.const 0xFFF0))",
        "mul_shl": f"(i32.shl (i32.mul {x} {y}) (i32.const 7))",
        "mul_store": f"(i32.store8 (i32.const 40) (i32.mul {x} {y})) "
                     "(i32.load8_u (i32.const 40))",
    }
    return [_func(f"i32/{k}", "i64 i64", "i32", v) for k, v in bodies.items()]


def _memory_and_spills(ab: str) -> list[str]:
    """i64 loads and stores of every width through signed locals, and entries spilled to
    temporaries (a ``local.tee`` of a local that an operand below still reads)."""
    stores = ("(i64.store (i32.const 8) (local.get $a)) (i64.store32 (i32.const 16) "
              "(local.get $b)) (i64.store16 (i32.const 24) (i64.mul (local.get $a) "
              "(local.get $b))) (i64.store8 (i32.const 32) (i64.xor (local.get $a) "
              "(local.get $b))) ")
    loads = [f"(i64.{w} (i32.const {off}))" for off in (8, 16, 24, 32)
             for w in ("load", "load8_s", "load8_u", "load16_s", "load16_u", "load32_s",
                       "load32_u")]
    mixed = loads[0]
    for i, ld in enumerate(loads[1:], 1):
        mixed = f"(i64.xor (i64.rotl {mixed} (i64.const {i * 5})) {ld})"
    out = [_func("memory", "i64 i64", "i64", ab + stores + f"(local.set $r {mixed}) "
                 "(local.get $r)")]
    for i, ld in enumerate(loads):
        out.append(_func(f"load/{i}", "i64 i64", "i64", ab + stores +
                         f"(local.set $r {ld}) (local.get $r)"))
    out.append(_func("spill", "i64 i64", "i64", ab + "(i64.add (i64.mul (local.get $a) "
                     "(local.get $b)) (local.tee $a (i64.sub (local.get $b) "
                     "(local.get $a))))"))
    out.append(_func("spill/u", "i64 i64", "i64", ab + "(i64.add (i64.shr_u (local.get $a) "
                     "(i64.const 3)) (local.tee $a (i64.rotr (local.get $b) "
                     "(local.get $a))))"))
    out.append(_func("select", "i64 i64", "i64", ab + "(local.set $r (select (local.get $a) "
                     "(i64.const -5) (i64.lt_s (local.get $a) (local.get $b)))) (i64.add "
                     "(local.get $r) (select (i64.const 0x8000000000000000) (local.get $b) "
                     "(i64.eqz (local.get $a))))"))
    # Parameters in signed form across tail calls (the trampoline passes canonical values).
    out.append('(func $tail (param i64 i64) (result i64) (if (result i64) (i64.eqz '
               '(local.get 1)) (then (local.get 0)) (else (return_call $tail (i64.add '
               '(i64.rotl (local.get 0) (i64.const 7)) (local.get 1)) (i64.sub (local.get 1) '
               '(i64.const 1))))))')
    out.append(_func("tail", "i64 i64", "i64", "(call $tail (local.get 0) (i64.and "
                     "(local.get 1) (i64.const 15)))"))
    return out


def _instance(wasm: bytes, signed: bool) -> tuple[Store, dict]:
    saved = signed64.ENABLED
    signed64.ENABLED = signed
    try:
        engine = Engine(Config(compilation_mode="eager"))
        store = Store(engine)
        inst = Instance(store, Module(engine, wasm), [])
    finally:
        signed64.ENABLED = saved
    return store, inst.exports(store)


def _outcome(func: Any, store: Store, a: int, b: int) -> Any:
    try:
        return func(store, a, b)
    except Trap as exc:
        return f"trap {exc}"


def signed_mismatches() -> list[str]:
    """Every (function, operands) where the signed and canonical translations disagree."""
    wasm = wat2wasm(module_text())
    s_store, signed = _instance(wasm, True)
    c_store, canon = _instance(wasm, False)
    out = []
    for name in canon:
        for a, b in itertools.product(VALUES, VALUES):
            want = _outcome(canon[name], c_store, a, b)
            got = _outcome(signed[name], s_store, a, b)
            if got != want:
                out.append(f"{name}({a:#x}, {b:#x}): signed {got!r}, canonical {want!r}")
    return out


def signed_source_sample() -> str:
    """The signed translation of ``add`` (tests check the signed form is really used)."""
    import importlib

    from engine.binary import decode_body, decode_module

    # engine.compile re-exports a function named translate: the module by its full name.
    translate = importlib.import_module("engine.compile.translate")
    info = decode_module(wat2wasm(module_text()))
    saved = signed64.ENABLED
    signed64.ENABLED = True
    try:
        return translate.translate_source(info, 0, decode_body(info, 0))
    finally:
        signed64.ENABLED = saved


def bulk_mismatches(helpers: dict[str, Any]) -> list[str]:
    """Each bulk helper against its portable twin on the same memory contents."""
    out = []
    base = bytearray(i * 7 & 0xFF for i in range(300))
    seg = bytes(range(40))
    size = len(base)
    cases = [(d, s, n) for d in (0, 5, 100, 290, 299, 300) for s in (0, 3, 100, 295)
             for n in (0, 1, 5, 64, 200, 301)]
    pairs = [("mem_fill", lambda f, m, d, s, n: f(m, d, s + 0x1F0, n)),
             ("mem_copy", lambda f, m, d, s, n: f(m, m, d, s, n)),
             ("mem_init", lambda f, m, d, s, n: f(m, seg, d, s % 41, n))]
    for name, call in pairs:
        raw = helpers[name + "_raw"]
        ref = getattr(numerics, name)
        for d, s, n in cases:
            results = []
            for fn in (raw, ref):
                mem = bytearray(base)
                try:
                    call(fn, mem, d, s, n)
                    results.append(bytes(mem))
                except Trap as exc:
                    results.append(f"trap {exc}")
            if results[0] != results[1] or len(base) != size:
                out.append(f"{name}(d={d}, s={s}, n={n}) differs from numerics.{name}")
    return out


def main() -> int:
    problems = signed_mismatches()
    if "iadd(" not in signed_source_sample():
        problems.append("the signed form is not used by the translation of i64.add")
    if pypy_helpers.HELPERS:
        problems += bulk_mismatches(pypy_helpers.HELPERS)
    else:
        problems.append("pypy_helpers.HELPERS is empty: _cffi_backend is missing")
    if not signed64.ENABLED:
        problems.append("signed64 is not enabled (no __pypy__.intop)")
    for p in problems:
        print(p)
    print(f"checked: signed64 native={signed64.ENABLED}, "
          f"helpers={visit_signed64.__name__}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
