"""Generate the C source of the *big* module: 2,500 functions of eight shapes that clang
compiles the way it compiles real programs (loops over arrays, switch tables, f64 math,
64-bit hash mixing, qsort callbacks, malloc'd lists, snprintf), linked with wasi-libc.

It exists to measure the memory of compiled code at scale (``harness.big_module_row``:
bytes retained per byte of function body after ``compile_all()``); it is never run.
``python -m benchmarks.macro.build --big`` writes ``wasm/big.wasm`` (needs Debian's
``wasi-libc`` besides clang and lld). Deterministic: a fixed seed.
"""

from __future__ import annotations

import random

FUNCTIONS = 2500
SEED = 7

_OPS = ("+", "-", "*", "^", "|", "&")


def _expr(rng: random.Random, names: list[str], depth: int = 0) -> str:
    if depth > 2 or rng.random() < 0.3:
        return rng.choice(names) if rng.random() < 0.7 else str(rng.randrange(1, 1 << 20))
    if rng.random() < 0.25:
        return f"({_expr(rng, names, depth + 1)} {rng.choice(('<<', '>>'))} {rng.randrange(1, 31)})"
    return f"({_expr(rng, names, depth + 1)} {rng.choice(_OPS)} {_expr(rng, names, depth + 1)})"


def _function(rng: random.Random, i: int) -> str:
    """Function ``fn<i>(u32, u32) -> u32`` of a random shape (helpers named ``*<i>``)."""
    e = _expr
    call = f"fn{rng.randrange(i)}" if i else ""
    shape = rng.randrange(8)
    if shape == 0:
        return (f"u32 fn{i}(u32 a, u32 b) {{ u32 c = {e(rng, ['a', 'b'])}; "
                f"for (u32 j = 0; j < (a & 63); j++) c = {e(rng, ['c', 'j', 'a'])}; return c; }}")
    if shape == 1:
        cases = " ".join(f"case {c}: return {e(rng, ['a', 'b'])};"
                         for c in range(rng.randrange(3, 9)))
        other = f"{call}(b, a)" if call else "a"
        return (f"u32 fn{i}(u32 a, u32 b) {{ switch ((a ^ b) % {rng.randrange(3, 12)}) {{ "
                f"{cases} default: return {other}; }} }}")
    if shape == 2:
        return (f"u32 fn{i}(u32 a, u32 b) {{ u32 s = {rng.randrange(99)}; "
                f"for (u32 j = 0; j < 64; j++) {{ s += arr[(a + j * {rng.randrange(1, 9)}) & 4095]"
                f" * {rng.randrange(1, 99)}; arr[(b + j) & 4095] = s; }} return s; }}")
    if shape == 3:
        return (f"u32 fn{i}(u32 a, u32 b) {{ double x = a * {rng.random():.4f}, "
                f"y = b + {rng.random():.4f}; for (int j = 0; j < 8; j++) {{ "
                f"x = x * {rng.random():.3f} + sqrt(fabs(y)); y = y - x / {rng.randrange(2, 9)}.0;"
                f" darr[(a + j) & 1023] = x; }} return (u32)(long long)(x + y); }}")
    if shape == 4:
        more = f"{call}(a, n)" if call else "0"
        return (f'u32 fn{i}(u32 a, u32 b) {{ int n = snprintf(buf, sizeof buf, "%u-%x-%s-%d", '
                f'a, b, "k{i}", (int)(a % 7)); return (u32)n + (u32)strlen(buf) + {more}; }}')
    if shape == 5:
        return (f"u32 fn{i}(u32 a, u32 b) {{ struct node *h = 0; "
                f"for (u32 j = 0; j < (a & 15); j++) {{ struct node *n = malloc(sizeof *n); "
                f"n->next = h; n->key = (int)(j * {rng.randrange(1, 99)}); "
                f"n->val = j * {rng.random():.3f}; h = n; }} u32 s = b; while (h) {{ "
                f"struct node *t = h->next; s = s * 31 + (u32)h->key + (u32)h->val; free(h); "
                f"h = t; }} return s; }}")
    if shape == 6:
        more = f"{call}(v[3], b)" if call else "b"
        return (f"static int cmp{i}(const void *x, const void *y) {{ u32 a = *(const u32 *)x, "
                f"b = *(const u32 *)y; return (a > b) - (a < b); }}\n"
                f"u32 fn{i}(u32 a, u32 b) {{ u32 v[16]; for (int j = 0; j < 16; j++) "
                f"v[j] = {e(rng, ['a', 'b'])} + (u32)j * {rng.randrange(1, 999)}; "
                f"qsort(v, 16, 4, cmp{i}); return v[a & 15] ^ {more}; }}")
    return (f"u64 h{i}(u64 x) {{ x ^= x >> {rng.randrange(20, 40)}; "
            f"x *= 0x{rng.getrandbits(64) | 1:x}ULL; x ^= x >> {rng.randrange(20, 40)}; "
            f"return x; }}\nu32 fn{i}(u32 a, u32 b) {{ u64 x = ((u64)a << 32) | b; "
            f"for (int j = 0; j < {rng.randrange(2, 9)}; j++) x = h{i}(x + (u64)j); "
            f"return (u32)(x >> {rng.randrange(1, 32)}); }}")


def source(functions: int = FUNCTIONS, seed: int = SEED) -> str:
    """The whole C program (``main`` calls every function through a table)."""
    rng = random.Random(seed)
    lines = ["#include <math.h>", "#include <stdio.h>", "#include <stdlib.h>",
             "#include <string.h>",
             "typedef unsigned long long u64;", "typedef unsigned int u32;",
             "static u32 arr[4096]; static double darr[1024]; static char buf[4096];",
             "struct node { struct node *next; int key; double val; };"]
    lines += [_function(rng, i) for i in range(functions)]
    lines.append("typedef u32 (*fp)(u32, u32);")
    lines.append("static fp table[] = {" + ", ".join(f"fn{i}" for i in range(functions)) + "};")
    lines.append(
        "int main(int argc, char **argv) { u32 s = 0; "
        f"for (int i = 0; i < {functions}; i++) s += table[(i * 7919) % {functions}](s, (u32)i);"
        ' double d = strtod(argc > 1 ? argv[1] : "1.5", 0); printf("%u %g\\n", s, d); '
        "return 0; }")
    return "\n".join(lines) + "\n"
