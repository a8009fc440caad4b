"""Random functions in the shapes clang -O0 emits, for the translator's scalar fast paths.

wasm-smith rarely stores and reloads the same ``base + offset`` or writes a local once and
reads it once, which is what -O0 code does all the time and what the translator folds
(single-use locals) and forwards (loads). This generator writes straight-line code full of
that: stores and loads of every width at a few bases (parameters that may alias, literal
addresses), locals set once and read once or several times, a base local moved, blocks left
by ``br_if``, then-arms, calls that write memory, trapping divisions and conversions.
``check_seed`` runs one module in every compilation mode, structured and flat, and in
wasmtime: results, trap kinds and the memory's bytes must agree.
"""

from __future__ import annotations

import random
from typing import Any

from tests.differential import harness

_OFFSETS = (0, 4, 8, 12, 16, 20, 24)
# Floats only move (load, store, local) or come from integers: a NaN an arithmetic op or a
# demotion produces has a nondeterministic payload, which memory would show.
# Full-width i32 accesses dominate, as in -O0 code (and only same-width ones forward).
_STORES = ("i32.store", "i32.store", "i32.store", "i64.store", "f64.store", "i32.store8",
           "i32.store16", "i64.store32")
_I32_LOADS = ("i32.load", "i32.load", "i32.load", "i32.load8_s", "i32.load8_u", "i32.load16_u")
_N_I32, _N_I64, _N_F64 = 8, 4, 2
# locals: 0 base0, 1 base1 (i32 params), 2 x (i32), 3 y (i64), then 4.. i32, i64, f64.
_I32_LOCALS = list(range(4, 4 + _N_I32))
_I64_LOCALS = list(range(4 + _N_I32, 4 + _N_I32 + _N_I64))
_F64_LOCALS = list(range(4 + _N_I32 + _N_I64, 4 + _N_I32 + _N_I64 + _N_F64))


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.recent: list[tuple[str, int]] = []  # places used lately: reused, as -O0 does

    def place(self) -> str:
        """``<address> <op> offset=<o>``'s address and offset: mostly a recent one."""
        rng = self.rng
        if self.recent and rng.random() < 0.6:
            addr, off = rng.choice(self.recent[-4:])
        else:
            r = rng.random()
            addr = (f"i32.const {rng.choice((0, 4, 8, 64))}" if r < 0.1
                    else f"local.get {0 if r < 0.7 else 1}")
            off = rng.choice(_OFFSETS)
            self.recent.append((addr, off))
        return addr, off

    def load(self, op: str) -> str:
        addr, off = self.place()
        return f"{addr} {op} offset={off}"

    def i32(self, depth: int = 0) -> str:
        rng = self.rng
        r = rng.random()
        if depth > 2 or r < 0.25:
            return rng.choice([f"local.get {rng.choice([2, *_I32_LOCALS])}",
                               f"i32.const {rng.choice((0, 1, 7, 12, -1, 0x7FFFFFFF))}"])
        if r < 0.55:
            return self.load(rng.choice(_I32_LOADS))
        if r < 0.85:
            op = rng.choice(("add", "sub", "mul", "xor", "and", "lt_u", "lt_s", "shl",
                             "shr_u", "div_u", "rem_s", "rotl", "eq"))
            return f"{self.i32(depth + 1)} {self.i32(depth + 1)} i32.{op}"
        if r < 0.93:
            return f"{self.i64(depth + 1)} i32.wrap_i64"
        return f"{self.f64(depth + 1)} i32.trunc_f64_s"

    def i64(self, depth: int = 0) -> str:
        rng = self.rng
        r = rng.random()
        if depth > 2 or r < 0.3:
            return f"local.get {rng.choice([3, *_I64_LOCALS])}"
        if r < 0.55:
            return self.load(rng.choice(("i64.load", "i64.load", "i64.load32_u", "i64.load8_s")))
        if r < 0.9:
            op = rng.choice(("add", "xor", "mul", "rotl", "rotr", "shr_u"))
            rhs = (f"i64.const {rng.choice((13, 31, 64))}" if op in ("rotl", "rotr", "shr_u")
                   and rng.random() < 0.7 else self.i64(depth + 1))
            return f"{self.i64(depth + 1)} {rhs} i64.{op}"
        return f"{self.i32(depth + 1)} i64.extend_i32_u"

    def f64(self, depth: int = 0) -> str:
        rng = self.rng
        r = rng.random()
        if depth > 2 or r < 0.3:
            return f"local.get {rng.choice(_F64_LOCALS)}"
        if r < 0.6:
            return self.load("f64.load")
        return f"{self.i32(depth + 1)} f64.convert_i32_s"

    def value(self, t: str) -> str:
        return {"i32": self.i32, "i64": self.i64, "f64": self.f64}[t]()

    def stmt(self, depth: int) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            op = rng.choice(_STORES)
            t = {"f": "f64"}.get(op[0], op[:3])
            addr, off = self.place()
            return f"{addr} {self.value(t)} {op} offset={off}"
        if r < 0.7:
            kind = rng.choice(("i32", "i32", "i64", "f64"))
            pool = {"i32": _I32_LOCALS, "i64": _I64_LOCALS, "f64": _F64_LOCALS}[kind]
            return f"{self.value(kind)} local.set {rng.choice(pool)}"
        if r < 0.75:
            return f"local.get {rng.choice((0, 1))} i32.const 4 i32.add local.set 0"
        if r < 0.78:  # a store, a store elsewhere (perhaps the same address), a reload
            (a, o), (b, p) = self.place(), self.place()
            return (f"{a} {self.i32()} i32.store offset={o} {b} {self.i32()} i32.store "
                    f"offset={p} {a} i32.load offset={o} local.set {rng.choice(_I32_LOCALS)}")
        if r < 0.82:
            return f"local.get {rng.choice((0, 1))} call $clobber"
        if depth < 2 and r < 0.9:
            body = " ".join(self.stmt(depth + 1) for _ in range(rng.randint(1, 4)))
            rest = " ".join(self.stmt(depth + 1) for _ in range(rng.randint(0, 3)))
            return f"block {body} {self.i32()} br_if 0 {rest} end"
        if depth < 2:
            body = " ".join(self.stmt(depth + 1) for _ in range(rng.randint(1, 4)))
            return f"{self.i32()} if {body} end"
        return f"{self.i32()} drop"


def generate_wat(seed: int, nfuncs: int = 4) -> str:
    rng = random.Random(seed)
    gen = _Gen(rng)
    locals_ = " ".join(["i32"] * _N_I32 + ["i64"] * _N_I64 + ["f64"] * _N_F64)
    funcs = []
    for k in range(nfuncs):
        body = " ".join(gen.stmt(0) for _ in range(rng.randint(8, 24)))
        folded = " ".join(f"local.get {i} i64.extend_i32_u i64.xor" for i in _I32_LOCALS)
        folded += " " + " ".join(f"local.get {i} i64.xor" for i in _I64_LOCALS)
        funcs.append(
            f'  (func (export "f{k}") (param i32 i32 i32 i64) (result i64) (local {locals_})\n'
            f"    {body}\n    i64.const 0 {folded})")
    return ("(module (memory (export \"mem\") 1)\n"
            "  (func $clobber (param i32) local.get 0 i32.const 0x5A5A5A5A i32.store offset=8)\n"
            + "\n".join(funcs) + ")")


_ARGS = [(0, 0, 7, 3), (0, 8, 12, 1 << 63), (16, 16, 0, 0xFFFF), (65530, 0, 1, 5),
         (100, 96, 0xFFFFFFFF, 1 << 32)]


def _ours(wasm: bytes, mode: str, flat: bool) -> list[Any]:
    import importlib

    from engine import Config, Engine, Instance, Module, Store, WasmError

    translate = importlib.import_module("engine.compile.translate")
    old = translate.FORCE_FLAT
    translate.FORCE_FLAT = flat
    try:
        config = Config()
        config.compilation_mode = mode
        store = Store(Engine(config))
        ex = Instance(store, Module(store.engine, wasm), []).exports(store)
        out: list[Any] = []
        for name in sorted(n for n in ex if n.startswith("f")):
            for args in _ARGS:
                try:
                    out.append(("ok", tuple(ex[name].call_bits(store, list(args)))))
                except WasmError as exc:
                    out.append(harness._our_failure(exc))
                out.append(bytes(ex["mem"].data[:512]))
        return out
    finally:
        translate.FORCE_FLAT = old


def _wasmtime(wasm: bytes) -> list[Any]:
    import wasmtime

    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    ex = inst.exports(store)
    mem = ex["mem"]
    out: list[Any] = []
    for name in sorted(n for n in ex if n.startswith("f")):
        for args in _ARGS:
            out.append(harness._wt_call(store, ex[name], ["i32", "i32", "i32", "i64"], ["i64"],
                                        list(args)))
            out.append(bytes(mem.read(store, 0, 512)))
    return out


def check_seed(seed: int) -> list[str]:
    """Disagreements (as text) between wasmtime and each of our modes on one seed."""
    wasm = harness.wat_to_wasm(generate_wat(seed))
    theirs = _wasmtime(wasm)
    problems = []
    for mode in harness.MODES:
        for flat in (False, True):
            ours = _ours(wasm, mode, flat)
            for i, (o, t) in enumerate(zip(ours, theirs)):
                if o != t:
                    what = "memory" if isinstance(t, bytes) else f"{o} vs wasmtime {t}"
                    problems.append(f"seed {seed} {mode} flat={flat} event {i}: {what}")
                    break
    return problems


if __name__ == "__main__":
    import sys

    bad = 0
    for s in range(int(sys.argv[1]) if len(sys.argv) > 1 else 100):
        for p in check_seed(s):
            bad += 1
            print(p)
    print("problems:", bad)
