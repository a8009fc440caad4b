"""The execution kernels: Wasm module, hand-written twin, sizes and unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import handwritten

KERNEL_DIR = Path(__file__).resolve().parent / "kernels"


# Work units count loop-body iterations (calls for fib and dispatch), fixed set-up loops
# included, so that per-unit times compare fairly across the different sizes engines run.

def _fib_calls(n: int) -> int:
    """Calls made by the recursive fib(n): 2 * F(n + 1) - 1."""
    a, b = 0, 1
    for _ in range(n + 1):
        a, b = b, a + b
    return 2 * a - 1


def _sieve_iterations(n: int) -> int:
    """Outer-loop steps, marking stores and counting steps of the sieve below n."""
    marks, outer, i = 0, 0, 2
    flags = bytearray(b"\x01") * max(n, 2)
    while i * i < n:
        outer += 1
        if flags[i]:
            for j in range(i * i, n, i):
                flags[j] = 0
                marks += 1
        i += 1
    return outer + marks + max(0, n - 2)


@dataclass(frozen=True)
class Kernel:
    """One execution benchmark.

    ``size`` is the full-run size, ``quick_size`` the smoke-test size and ``pywasm_size``
    a smaller size for pywasm (compared per unit of work, see ``work``).
    """

    name: str
    description: str
    result: str  # "i32" or "f64": how the checksum is normalised
    size: int
    quick_size: int
    pywasm_size: int
    unit: str
    work: Callable[[int], int]
    python: Callable[[int], object]
    #: Engines that cannot load the kernel (a Wasm 3.0 feature they lack): shown as n/a.
    unsupported_by: tuple[str, ...] = ()

    @property
    def wat_path(self) -> Path:
        return KERNEL_DIR / f"{self.name}.wat"

    @property
    def wasm_path(self) -> Path:
        return KERNEL_DIR / f"{self.name}.wasm"

    def wasm_bytes(self) -> bytes:
        """The committed binary (built from the .wat by ``python -m benchmarks.build``)."""
        return self.wasm_path.read_bytes()


KERNELS: tuple[Kernel, ...] = (
    Kernel("fib", "recursive Fibonacci", "i32", 27, 10, 17, "call",
           _fib_calls, handwritten.fib),
    Kernel("loop", "tight i32 loop", "i32", 300_000, 200, 10_000, "iteration",
           lambda n: n, handwritten.loop),
    Kernel("sieve", "sieve over linear memory", "i32", 400_000, 500, 8_000, "iteration",
           _sieve_iterations, handwritten.sieve),
    Kernel("matmul", "f64 matrix multiply", "f64", 80, 4, 12, "iteration",
           lambda n: n * n * n + 2 * n * n, handwritten.matmul),
    Kernel("crc32", "CRC-32 over a buffer", "i32", 100_000, 100, 3_000, "iteration",
           lambda n: 256 + 2048 + 2 * n, handwritten.crc32),
    Kernel("bulk", "memory.fill / memory.copy", "i32", 20_000, 20, 400, "iteration",
           lambda n: n + 64, handwritten.bulk),
    Kernel("dispatch", "call_indirect dispatch", "i32", 200_000, 200, 5_000, "call",
           lambda n: n, handwritten.dispatch),
    # Wasm 3.0: an i64-indexed memory and a second memory (memory64 + multi-memory).
    Kernel("mem64", "memory64 + multi-memory accesses", "i32", 100_000, 100, 3_000,
           "iteration", lambda n: n, handwritten.mem64, unsupported_by=("pywasm",)),
    Kernel("hash64", "64-bit multiply/rotate/xor hash", "i32", 100_000, 100, 3_000, "iteration",
           lambda n: n, handwritten.hash64),
)


def kernel_names() -> list[str]:
    return [k.name for k in KERNELS]
