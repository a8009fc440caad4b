"""Random WAT modules exercising bulk memory, table and reference instructions, run differentially.

wasm-smith rarely produces segment/table interplay that reaches the interesting edges, so this
generator writes small modules by hand: one memory, three tables (funcref, externref, funcref),
passive / active / declarative data and element segments, and exported functions whose bodies
mix memory.copy/fill/init, data.drop, table.copy/init/fill/grow/get/set/size, elem.drop,
ref.func/ref.null/ref.is_null and call_indirect (including signature mismatches and null
entries) with operands chosen near the bounds. Each module is then driven in our engine and in
wasmtime through ``harness`` and the event records are compared.

Everything is deterministic from the seed:
``python -m tests.differential.bulkgen --count N --start SEED``.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from tests.differential import harness

PAGE = 65536
TABLE_TYPES = ("funcref", "externref", "funcref")
FUNC_TABLES = (0, 2)
FUNC_TYPES = ("(param i32) (result i32)", "(param i32) (result i64)", "(result i32)")
HELPERS = (
    "(func $h0 (type $ty0) local.get 0 i32.const 7 i32.add)",
    "(func $h1 (type $ty1) local.get 0 i64.extend_i32_u i64.const 3 i64.mul)",
    "(func $h2 (type $ty2) i32.const 42)",
    "(func $h3 (type $ty0) local.get 0 i32.const 1 i32.xor)",
)
#: Constant operands: small counts, page and 2**31 boundaries, and negative (huge unsigned).
CONSTS = (
    0, 1, 2, 3, 4, 5, 7, 8, 12, 100, 65535, 65536, 65532, 131072, 131071,
    -1, -2, 0x7FFFFFFF, -0x80000000,
)  # fmt: skip
#: Largest payload of one data segment (active segments are placed so that it fits).
MAX_DATA = 12


class _Builder:
    """The state of one module under construction; methods draw from one seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.pages = self.r.choice([0, 1, 1, 2])
        self.table_sizes = [self.r.randint(0, 8), self.r.randint(0, 6), self.r.randint(0, 5)]
        self.n_data = 0
        self.n_elem = 0

    # ------------------------------------------------------------------ module fields

    def module(self) -> str:
        """The whole module text."""
        fields = [*self.memory_and_tables(), *self.types_and_helpers()]
        fields += self.data_segments() + self.elem_segments() + self.globals()
        fields += [self.function(i) for i in range(self.r.randint(4, 10))]
        return "(module\n  " + "\n  ".join(fields) + "\n)\n"

    def memory_and_tables(self) -> list[str]:
        """The exported memory and three bounded tables."""
        max_pages = self.pages + self.r.choice([0, 1, 2])
        out = [f'(memory (export "m") {self.pages} {max_pages})']
        for i, (size, ty) in enumerate(zip(self.table_sizes, TABLE_TYPES)):
            limit = size + self.r.choice([0, 2, 10])
            out.append(f'(table $t{i} (export "t{i}") {size} {limit} {ty})')
        return out

    def types_and_helpers(self) -> list[str]:
        """Three function types, four callees, and a declarative segment so ref.func is legal."""
        types = [f"(type $ty{k} (func {ty}))" for k, ty in enumerate(FUNC_TYPES)]
        return [*types, *HELPERS, "(elem declare func $h0 $h1 $h2 $h3)"]

    def data_bytes(self) -> str:
        """A WAT string literal of up to MAX_DATA random bytes."""
        n = self.r.randint(0, MAX_DATA)
        return "".join(f"\\{self.r.randrange(256):02x}" for _ in range(n))

    def data_segments(self) -> list[str]:
        """One to five data segments, passive or active (active ones fit the memory)."""
        self.n_data = self.r.randint(1, 5)
        out = []
        for d in range(self.n_data):
            if self.r.random() < 0.5:
                out.append(f'(data $d{d} "{self.data_bytes()}")')
                continue
            size = self.pages * PAGE
            off = self.r.choice([0, 1, 100, size - 4, size]) if self.pages else 0
            if size >= off + MAX_DATA:
                out.append(f'(data $d{d} (i32.const {off}) "{self.data_bytes()}")')
            else:
                out.append(f'(data $d{d} "{self.data_bytes()}")')
        return out

    def func_ref(self) -> str:
        """A constant funcref expression: one of the helpers, or null."""
        return self.r.choice(
            ["(ref.func $h0)", "(ref.func $h1)", "(ref.func $h2)", "(ref.func $h3)"]
            + ["(ref.null func)"]
        )

    def elem_segments(self) -> list[str]:
        """One to five element segments: passive, declarative, or active in a funcref table."""
        self.n_elem = self.r.randint(1, 5)
        out = []
        for e in range(self.n_elem):
            n = self.r.randint(0, 5)
            items = " ".join(f"(item {self.func_ref()})" for _ in range(n))
            kind = self.r.random()
            t = self.r.choice(FUNC_TABLES) if kind >= 0.6 else 0
            if kind < 0.5 or (kind >= 0.6 and self.table_sizes[t] < n):
                out.append(f"(elem $e{e} funcref {items})")
            elif kind < 0.6:
                out.append(f"(elem $e{e} declare funcref {items})")
            else:
                off = self.r.randint(0, self.table_sizes[t] - n)
                out.append(f"(elem $e{e} (table $t{t}) (i32.const {off}) funcref {items})")
        return out

    def globals(self) -> list[str]:
        """An i32 accumulator (observed after each call) and one global per reference type."""
        return [
            '(global $g (export "g") (mut i32) (i32.const 0))',
            '(global $gr (export "gr") (mut funcref) (ref.null func))',
            '(global $ge (export "ge") (mut externref) (ref.null extern))',
        ]

    def function(self, index: int) -> str:
        """An exported function of one to four statements that returns the accumulator."""
        body = " ".join(self.statement() for _ in range(self.r.randint(1, 4)))
        return (
            f'(func (export "f{index}") (param i32 i32 i32) (result i32) '
            f"{body} (global.get $g))"
        )

    # ------------------------------------------------------------------ expressions

    def operand(self) -> str:
        """An i32 operand: a parameter (the harness passes edge values) or a boundary constant."""
        if self.r.random() < 0.35:
            return f"(local.get {self.r.randrange(3)})"
        return f"(i32.const {self.r.choice(CONSTS)})"

    def operands(self, n: int) -> str:
        """``n`` operands separated by spaces."""
        return " ".join(self.operand() for _ in range(n))

    def ref_for(self, t: int) -> str:
        """A reference expression of table ``t``'s element type."""
        if TABLE_TYPES[t] == "externref":
            choices = ["(ref.null extern)", "(global.get $ge)", f"(table.get $t1 {self.operand()})"]
            return self.r.choice(choices)
        u = self.r.choice(FUNC_TABLES)
        choices = [self.func_ref(), "(global.get $gr)", f"(table.get $t{u} {self.operand()})"]
        return self.r.choice(choices)

    def accumulate(self, expr: str, op: str = "i32.add") -> str:
        """Fold an i32 ``expr`` into the exported accumulator so its value is observed."""
        return f"(global.set $g ({op} (global.get $g) {expr}))"

    # ------------------------------------------------------------------ statements

    def statement(self) -> str:
        """One statement drawn uniformly from the kinds below."""
        return self.r.choice(_STATEMENTS)(self)

    def s_memory_copy(self) -> str:
        return f"(memory.copy {self.operands(3)})"

    def s_memory_fill(self) -> str:
        return f"(memory.fill {self.operands(3)})"

    def s_memory_init(self) -> str:
        return f"(memory.init $d{self.r.randrange(self.n_data)} {self.operands(3)})"

    def s_data_drop(self) -> str:
        return f"(data.drop $d{self.r.randrange(self.n_data)})"

    def s_table_copy(self) -> str:
        if self.r.random() < 0.2:
            return f"(table.copy $t1 $t1 {self.operands(3)})"
        a, b = self.r.choice(FUNC_TABLES), self.r.choice(FUNC_TABLES)
        return f"(table.copy $t{a} $t{b} {self.operands(3)})"

    def s_table_init(self) -> str:
        t = self.r.choice(FUNC_TABLES)
        return f"(table.init $t{t} $e{self.r.randrange(self.n_elem)} {self.operands(3)})"

    def s_elem_drop(self) -> str:
        return f"(elem.drop $e{self.r.randrange(self.n_elem)})"

    def s_table_grow(self) -> str:
        t = self.r.randrange(3)
        return self.accumulate(f"(table.grow $t{t} {self.ref_for(t)} {self.operand()})")

    def s_table_fill(self) -> str:
        t = self.r.randrange(3)
        return f"(table.fill $t{t} {self.operand()} {self.ref_for(t)} {self.operand()})"

    def s_table_set(self) -> str:
        t = self.r.randrange(3)
        return f"(table.set $t{t} {self.operand()} {self.ref_for(t)})"

    def s_set_funcref_global(self) -> str:
        return f"(global.set $gr {self.ref_for(self.r.choice(FUNC_TABLES))})"

    def s_call_i32(self) -> str:
        t = self.r.choice(FUNC_TABLES)
        return self.accumulate(f"(call_indirect $t{t} (type $ty0) {self.operands(2)})")

    def s_call_i64(self) -> str:
        t = self.r.choice(FUNC_TABLES)
        call = f"(call_indirect $t{t} (type $ty1) {self.operands(2)})"
        return self.accumulate(f"(i32.wrap_i64 {call})")

    def s_call_nullary(self) -> str:
        t = self.r.choice(FUNC_TABLES)
        return self.accumulate(f"(call_indirect $t{t} (type $ty2) {self.operand()})")

    def s_memory_grow(self) -> str:
        return self.accumulate(f"(memory.grow {self.operand()})")

    def s_table_size(self) -> str:
        return self.accumulate(f"(table.size $t{self.r.randrange(3)})", "i32.xor")

    def s_load(self) -> str:
        offset = self.r.choice([0, 1, 65535])
        return self.accumulate(f"(i32.load8_u offset={offset} {self.operand()})")

    def s_is_null(self) -> str:
        return self.accumulate(f"(ref.is_null {self.ref_for(self.r.randrange(3))})")

    def s_set_externref_global(self) -> str:
        return f"(global.set $ge (table.get $t1 {self.operand()}))"

    def s_store(self) -> str:
        offset = self.r.choice([0, 3, 65530])
        value = self.r.getrandbits(64) - (1 << 63)
        return f"(i64.store offset={offset} {self.operand()} (i64.const {value}))"


_STATEMENTS: tuple[Callable[[_Builder], str], ...] = tuple(
    getattr(_Builder, name) for name in sorted(vars(_Builder)) if name.startswith("s_")
)


def generate_wat(seed: int) -> str:
    """The module text for ``seed`` (always valid Wasm 2.0 by construction)."""
    return _Builder(seed).module()


def check_seed(
    seed: int, modes: Sequence[str] = harness.MODES, calls_per_func: int = 3
) -> list[harness.Discrepancy]:
    """Generate the module of ``seed``, run it in wasmtime and in each of our ``modes``."""
    wasm = harness.wat_to_wasm(generate_wat(seed))
    theirs = harness.run_wasmtime(wasm, calls_per_func, seed)
    if theirs is None:  # valid by construction: wasmtime refusing it is itself a finding
        verdict = harness.our_verdict(wasm)
        return [harness.Discrepancy(seed, "eager", "wasmtime-rejects", 0, verdict, None, wasm)]
    found = []
    for mode in modes:
        d = harness.compare(seed, mode, harness.run_ours(wasm, mode, calls_per_func, seed), theirs)
        if d is not None:
            d.wasm = wasm
            found.append(d)
    return found


def _save(out: str, d: harness.Discrepancy) -> None:
    """Write the finding's module text next to its summary."""
    base = os.path.join(out, f"bulk_s{d.seed}_{d.mode}_{d.kind}")
    with open(base + ".wat", "w") as f:
        f.write(generate_wat(d.seed))
    with open(base + ".txt", "w") as f:
        f.write(d.summary() + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run many seeds; print each discrepancy and save its WAT to --out."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--calls", type=int, default=3)
    p.add_argument("--modes", default=",".join(harness.MODES))
    p.add_argument("--out", default="/tmp/difffindings")
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: no limit)")
    p.add_argument("--print", action="store_true", help="print the WAT of --start and exit")
    ns = p.parse_args(argv)
    if ns.print:
        print(generate_wat(ns.start), end="")
        return 0
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    os.makedirs(ns.out, exist_ok=True)
    t0 = time.time()
    total = bad = 0
    for seed in range(ns.start, ns.start + ns.count):
        if ns.seconds and time.time() - t0 > ns.seconds:
            break
        total += 1
        try:
            found = check_seed(seed, ns.modes.split(","), ns.calls)
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"seed {seed}: harness error {exc!r}", flush=True)
            continue
        for d in found:
            bad += 1
            print(d.summary(), flush=True)
            _save(ns.out, d)
    print(f"done: {total} seeds, {bad} discrepancies, {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
