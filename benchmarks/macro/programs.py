"""The macro benchmark programs: C sources in ``src/``, clang builds in ``wasm/``.

Every program exports ``run(n) -> checksum`` whose work is linear in ``n`` (``n`` rounds of
a fixed task, named by ``unit``), so times compare per unit of work across the different
sizes engines run. ``size`` is what our engine and wasmtime run; pywasm runs
``pywasm_sizes[build]``, chosen so that one pywasm call takes about a second on the
machine the README table was made on (pywasm is 100-300x slower than our engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmarks.macro.build import BUILDS

WASM_DIR = Path(__file__).resolve().parent / "wasm"
SRC_DIR = Path(__file__).resolve().parent / "src"

MASK = {"i32": 0xFFFF_FFFF, "i64": 0xFFFF_FFFF_FFFF_FFFF}


@dataclass(frozen=True)
class Program:
    """One macro program (see its C source for what a unit of work is)."""

    name: str
    description: str
    result: str  # "i32" or "i64"
    unit: str
    size: int
    pywasm_sizes: dict[str, int]
    quick_size: int = 2

    def path(self, build: str) -> Path:
        return WASM_DIR / f"{self.name}.{build}.wasm"

    def wasm(self, build: str) -> bytes:
        return self.path(build).read_bytes()

    def normalise(self, value: object) -> int:
        """Checksum as an unsigned int of the result's width (engines differ in sign)."""
        if isinstance(value, (list, tuple)):
            if len(value) != 1:
                raise ValueError(f"expected one result, got {value!r}")
            value = value[0]
        return int(value) & MASK[self.result]


def _sizes(o2: int, o0: int, o3simd: int) -> dict[str, int]:
    return {"O2": o2, "O0": o0, "O3simd": o3simd}


PROGRAMS: tuple[Program, ...] = (
    Program("hash", "xxhash64-style + SipHash-2-4-style over 1 KiB", "i64", "block", 600,
            _sizes(30, 4, 30)),
    Program("lz77", "LZ77 compress + decompress 1 KiB text", "i32", "round", 40,
            _sizes(2, 1, 2)),
    Program("sort", "quicksort + heap sort of 128 ints", "i32", "round", 150, _sizes(7, 2, 7)),
    Program("matrix", "12x12 matmul, f64 and i32", "i64", "round", 200, _sizes(10, 2, 8)),
    Program("strings", "tokenize + count words, naive/Horspool search", "i32", "round", 60,
            _sizes(3, 1, 4)),
    Program("vm", "bytecode VM (switch / br_table dispatch)", "i32", "iteration", 2000,
            _sizes(90, 48, 90)),
    Program("nbody", "5-body simulation, f64 + sqrt", "i64", "step", 8000,
            _sizes(300, 100, 150)),
    Program("mandel", "Mandelbrot escape counts, f64", "i32", "row", 1600, _sizes(16, 8, 16),
            quick_size=8),
    Program("crc_b64", "CRC-32 + base64 encode/decode of 384 bytes", "i32", "round", 200,
            _sizes(8, 2, 8)),
)


def program_names() -> list[str]:
    return [p.name for p in PROGRAMS]


def build_names() -> list[str]:
    return list(BUILDS)
