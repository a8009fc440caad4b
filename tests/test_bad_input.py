"""Hostile input: truncated and bit-flipped modules only ever raise the engine's own errors.

The seed corpus is every binary module of a sample of the official testsuite's scripts
(converted by the conformance runner's cached wast2json step; nothing from the suite is
committed), plus a sample of the Wasm 3.0 suite's scripts for memory64, multi-memory, tail
calls, extended constants, atomics, wide arithmetic and custom page sizes (``WASM_TESTSUITE_3``,
converted with ``wasm-tools json-from-wast``). Each module is
cut at many lengths and has single bits flipped at many positions; ``Module(...)`` followed by
``compile_all()`` must either succeed or raise a :class:`engine.WasmError` subclass, never a
raw Python exception, and must not hang.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import suite

from engine import Config, Engine, Instance, Module, Store, WasmError

SAMPLE_SCRIPTS = [
    "binary.wast",
    "binary-leb128.wast",
    "block.wast",
    "br_table.wast",
    "call_indirect.wast",
    "custom.wast",
    "data.wast",
    "elem.wast",
    "global.wast",
    "imports.wast",
    "memory.wast",
    "select.wast",
    "table_init.wast",
    "simd_const.wast",
]


@pytest.fixture(scope="module")
def corpus() -> list[bytes]:
    if suite.ROOT is None:
        pytest.fail(suite.MISSING, pytrace=False)
    modules: list[bytes] = []
    for name in SAMPLE_SCRIPTS:
        commands, folder = suite.commands(suite.ROOT / name)
        for command in commands:
            if command.get("module_type", "binary") == "binary" and "filename" in command:
                modules.append((folder / command["filename"]).read_bytes())
    assert len(modules) > 200
    return modules


#: Wasm 3.0 scripts whose modules use the 3.0 encodings (limits flags, memargs with a memory
#: index, u64 offsets, 0xFE atomics, tail and wide-arithmetic opcodes, extended constants).
SAMPLE_SCRIPTS_3 = [
    "address64.wast",
    "memory64.wast",
    "table64.wast",
    "memory-multi.wast",
    "load2.wast",
    "memory_grow64.wast",
    "call_indirect64.wast",
    "return_call.wast",
    "return_call_indirect.wast",
    "global.wast",
    "data.wast",
    "binary.wast",
    "proposals/threads/atomic.wast",
    "proposals/wide-arithmetic/wide-arithmetic.wast",
    "proposals/custom-page-sizes/custom-page-sizes.wast",
]


@pytest.fixture(scope="module")
def corpus_3() -> list[bytes]:
    root = suite.root_3()
    modules: list[bytes] = []
    for name in SAMPLE_SCRIPTS_3:
        commands, folder = suite.commands_3(Path(root) / name)
        for command in commands:
            if command.get("module_type", "binary") == "binary" and "filename" in command:
                modules.append((folder / command["filename"]).read_bytes())
    assert len(modules) > 200
    return modules


def _mutants(data: bytes, rng: random.Random) -> list[bytes]:
    """Truncations at every length up to 64 and at random points, plus single-bit flips."""
    cuts = set(range(min(len(data), 64))) | {rng.randrange(len(data) + 1) for _ in range(8)}
    out = [data[:n] for n in sorted(cuts)]
    for _ in range(16 if data else 0):
        pos = rng.randrange(len(data))
        flipped = bytearray(data)
        flipped[pos] ^= 1 << rng.randrange(8)
        out.append(bytes(flipped))
    return out


@pytest.mark.parametrize("mode", ["eager", "lazy-translation", "lazy"])
def test_mutated_modules_raise_only_engine_errors(corpus: list[bytes], mode: str) -> None:
    _check_mutants(corpus, mode)


@pytest.mark.parametrize("mode", ["eager", "lazy-translation", "lazy"])
def test_mutated_wasm_3_modules_raise_only_engine_errors(corpus_3: list[bytes],
                                                         mode: str) -> None:
    _check_mutants(corpus_3, mode)


def _check_mutants(corpus: list[bytes], mode: str) -> None:
    config = Config()
    config.compilation_mode = mode
    engine = Engine(config)
    rng = random.Random(20261125)
    accepted = rejected = 0
    for original in corpus:
        for mutant in _mutants(original, rng):
            try:
                module = Module(engine, mutant)
                module.compile_all()
            except WasmError:
                rejected += 1
            except Exception as exc:  # noqa: BLE001 - the point of the test
                pytest.fail(f"{type(exc).__name__} escaped for a {len(mutant)}-byte module: {exc}")
            else:
                accepted += 1
    # Both outcomes must occur, or the mutations are not exercising anything.
    assert rejected > 1000 and accepted > 100


def test_store_usable_after_rejections(corpus: list[bytes]) -> None:
    engine = Engine(Config())
    store = Store(engine)
    for bad in (b"", b"\0asm", b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\x0f", corpus[0][:-1]):
        with pytest.raises(WasmError):
            Module(engine, bad).compile_all()
    wat_free_module = b"\0asm\x01\0\0\0"  # the empty module
    Instance(store, Module(engine, wat_free_module), [])
