"""Engine adapters: one small interface between the runner and an engine.

An adapter makes a :class:`Session` per (script, mode): a fresh store with the ``spectest``
host module and an empty registry. A session compiles, instantiates, invokes and reads
globals with raw values (see :mod:`spectest.values`), and raises :class:`AdapterError` with a
classified ``kind`` when the engine rejects something:

    malformed | invalid | unlinkable | trap | exhaustion | exception | other | crash

``crash`` is a Python exception the engine should never let escape (IndexError, ...).
"""

from __future__ import annotations

import struct
from typing import Any

KINDS = ("malformed", "invalid", "unlinkable", "trap", "exhaustion", "exception", "other",
         "crash")

#: The spec harness's host module: print functions with these parameter types.
SPECTEST_PRINTS = {
    "print": [],
    "print_i32": ["i32"],
    "print_i64": ["i64"],
    "print_f32": ["f32"],
    "print_f64": ["f64"],
    "print_i32_f32": ["i32", "f32"],
    "print_f64_f64": ["f64", "f64"],
}
F32_666_6 = struct.unpack("<f", struct.pack("<f", 666.6))[0]
SPECTEST_GLOBALS = {"global_i32": ("i32", 666), "global_i64": ("i64", 666),
                    "global_f32": ("f32", F32_666_6), "global_f64": ("f64", 666.6)}
SPECTEST_TABLE = (10, 20)  # funcref
SPECTEST_MEMORY = (1, 2)  # pages


class AdapterError(Exception):
    """The engine rejected a module or trapped; ``kind`` is one of :data:`KINDS`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Session:
    """One store and one registry of named instances (the spec harness's state)."""

    def compile(self, data: bytes, check_all: bool = False) -> Any:
        """A compiled module; ``check_all`` forces deferred validation (lazy modes)."""
        raise NotImplementedError

    def instantiate(self, module: Any) -> Any:
        """An instance, imports resolved from ``spectest`` and the registered instances."""
        raise NotImplementedError

    def register(self, name: str, instance: Any) -> None:
        """Make an instance's exports importable under ``name``."""
        raise NotImplementedError

    def invoke(self, instance: Any, field: str, args: list[object],
               types: list[str]) -> list[object]:
        """Call an exported function with raw arguments (of the script's ``types``)."""
        raise NotImplementedError

    def get(self, instance: Any, field: str) -> object:
        """The raw value of an exported global."""
        raise NotImplementedError


class Adapter:
    """Makes sessions. ``merges_malformed_invalid``: the engine reports both alike."""

    name = "?"
    merges_malformed_invalid = False

    def session(self, mode: str, suite: str = "top") -> Session:
        """A fresh session in compilation mode ``mode`` with the feature set of ``suite``."""
        raise NotImplementedError


def get_adapter(name: str) -> Adapter:
    """The adapter called ``name`` (``engine`` or ``wasmtime``)."""
    if name == "engine":
        from spectest.adapter_engine import EngineAdapter

        return EngineAdapter()
    if name == "wasmtime":
        from spectest.adapter_wasmtime import WasmtimeAdapter

        return WasmtimeAdapter()
    raise ValueError(f"unknown engine {name!r} (choose engine or wasmtime)")
