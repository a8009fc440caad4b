"""The benchmark kernels written by hand in plain Python: the practical ceiling for a
pure-Python engine.

Each function is the same algorithm over the same data layout as its ``kernels/*.wat``
twin (byte buffers are ``bytearray``s, the f64 matrices flat row-major lists), written as
idiomatic Python: ``range`` loops, slice assignment for the bulk operations, and i32
wrap-around made explicit with ``& MASK32`` only where a value can overflow.
"""

from __future__ import annotations

MASK32 = 0xFFFF_FFFF


def fib(n: int) -> int:
    """Recursive Fibonacci (the i32 result, unsigned)."""
    if n < 2:
        return n
    return (fib(n - 1) + fib(n - 2)) & MASK32


def loop(n: int) -> int:
    """Tight integer loop: an LCG-like mix over i32."""
    acc = 1
    for i in range(n):
        acc = ((acc * 1103515245 + i) & MASK32) ^ (acc >> 13)
    return acc


def sieve(n: int) -> int:
    """Number of primes below n, one byte per number."""
    mem = bytearray(b"\x01") * n
    i = 2
    while i * i < n:
        if mem[i]:
            for j in range(i * i, n, i):
                mem[j] = 0
        i += 1
    count = 0
    for i in range(2, n):
        count += mem[i]
    return count


def matmul(n: int) -> float:
    """C = A * B for n x n f64 matrices (flat, row-major); the sum of C in row-major order."""
    a = [0.0] * (n * n)
    b = [0.0] * (n * n)
    for i in range(n):
        for j in range(n):
            a[i * n + j] = ((i * 7 + j * 3) % 11) / 3.0
            b[i * n + j] = ((i * 5 + j) % 13) / 7.0
    c = [0.0] * (n * n)
    total = 0.0
    for i in range(n):
        row = i * n
        for j in range(n):
            acc = 0.0
            for k in range(n):
                acc += a[row + k] * b[k * n + j]
            c[row + j] = acc
            total += acc
    return total


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = 0xEDB88320 ^ (c >> 1) if c & 1 else c >> 1
        table.append(c)
    return table


def crc32_buffer(n: int) -> bytearray:
    """The kernel's input: n bytes, the top byte of an LCG seeded with n."""
    buf = bytearray(n)
    seed = n
    for i in range(n):
        seed = (seed * 1664525 + 1013904223) & MASK32
        buf[i] = seed >> 24
    return buf


def crc32(n: int) -> int:
    """Table-driven CRC-32 of the LCG buffer (table built per run, as the kernel does)."""
    table = _crc_table()
    buf = crc32_buffer(n)
    c = MASK32
    for byte in buf:
        c = table[(c ^ byte) & 255] ^ (c >> 8)
    return c ^ MASK32


def bulk(n: int) -> int:
    """memory.fill / memory.copy as bytearray slice assignments over one 64 KiB page."""
    mem = bytearray(65536)
    acc = 0
    for i in range(n):
        length = 256 + ((i * 97) & 4095)
        dst = (i * 7919) & 32767
        src = (i * 104729 + 12345) & 32767
        mem[dst:dst + length] = bytes((i & 255,)) * length
        to = dst + (length >> 1)
        mem[to:to + length] = mem[src:src + length]
        acc = (acc * 31 + mem[(i * 31337) & 65535]) & MASK32
    total = 0
    for i in range(0, 65536, 1024):
        total += mem[i]
    return acc ^ ((total << 8) & MASK32)


def _op_add(a: int, b: int) -> int:
    return (a + b) & MASK32


def _op_sub(a: int, b: int) -> int:
    return (a - b) & MASK32


def _op_mul(a: int, b: int) -> int:
    return (a * (b | 1)) & MASK32


def _op_xor(a: int, b: int) -> int:
    return a ^ 0x5BD1E995


def _op_rotl(a: int, b: int) -> int:
    k = b & 31
    return ((a << k) | (a >> (32 - k))) & MASK32


def _op_shr(a: int, b: int) -> int:
    return ((a >> 3) + b) & MASK32


def _op_andnot(a: int, b: int) -> int:
    return a & (b ^ MASK32)


def _op_mix(a: int, b: int) -> int:
    return ((a * 0x01000193) & MASK32) ^ b


_OPS = (_op_add, _op_sub, _op_mul, _op_xor, _op_rotl, _op_shr, _op_andnot, _op_mix)


def dispatch(n: int) -> int:
    """Indirect dispatch through a tuple of eight functions, selected by (acc ^ i) & 7."""
    ops = _OPS
    acc = 1
    for i in range(n):
        acc = ops[(acc ^ i) & 7](acc, i)
    return acc


def mem64(n: int) -> int:
    """The mem64 kernel: an i64 word array (memory $a) and a byte buffer (memory $b)."""
    words = [0] * 8192
    b = bytearray(65536)
    acc = 0
    for i in range(n):
        p = (i * 8) & 65528
        w = (words[p >> 3] + i) & 0xFFFF_FFFF_FFFF_FFFF
        words[p >> 3] = w
        q = (i * 12) & 65532
        v = int.from_bytes(b[q:q + 4], "little") ^ (w & MASK32)
        b[q:q + 4] = v.to_bytes(4, "little")
        acc = (acc * 31 + b[q + 1]) & MASK32
    return acc


MASK64 = 0xFFFF_FFFF_FFFF_FFFF


def hash64(n: int) -> int:
    """The 64-bit multiply / rotate / xor / add chain of kernels/hash64.wat, folded to i32."""
    h, x = 0x27D4EB2F165667C5, n
    for i in range(n):
        x = (x * 0x9E3779B185EBCA87 + i) & MASK64
        v = h ^ x
        h = ((((v << 31) | (v >> 33)) & MASK64) * 0xC2B2AE3D27D4EB4F) & MASK64
        h ^= h >> 29
        h = (h + (((x >> 17) | (x << 47)) & MASK64)) & MASK64
    return (h ^ (h >> 32)) & MASK32
