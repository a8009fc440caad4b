"""Engine adapters: one small interface between the runner and an engine.

An adapter makes a :class:`Session` per (script, mode): a fresh store with the ``spectest``
host module and an empty registry. A session compiles, instantiates, invokes and reads
globals with raw values (see :mod:`spectest.values`), and raises :class:`AdapterError` with a
classified ``kind`` when the engine rejects something:

    malformed | invalid | unlinkable | trap | exhaustion | exception | other | crash

``crash`` is a Python exception the engine should never let escape (IndexError, ...).
"""

from __future__ import annotations

import importlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spectest.values import default_kind

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
#: Wasm 3.0's spectest module adds a 64-bit table and a shared memory (threads); adapters
#: offer them when their engine can make them.
SPECTEST_TABLE64 = (10, 20)  # funcref, i64 addresses
SPECTEST_SHARED_MEMORY = (1, 2)  # pages, shared


class AdapterError(Exception):
    """The engine rejected a module or trapped; ``kind`` is one of :data:`KINDS`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class SessionSpec:
    """What a session runs: the compilation ``mode``, the ``suite`` and ``pin`` names and the
    engine ``features`` the manifest sets for that suite (wasmtime-py's flag names)."""

    mode: str
    suite: str = "top"
    pin: str = ""
    features: Mapping[str, bool] = field(default_factory=dict)
    #: The pin's rewordings of expected error texts (``spectest.suites.Reword``).
    reworded: tuple[Any, ...] = ()


@dataclass(frozen=True)
class TextModule:
    """A module in the text format, as the script's converter wrote it (``data``: the file's
    bytes, UTF-8 or not: a malformed encoding is the engine's to report). Passed to
    ``Session.compile`` of adapters that read text (``Adapter.reads_text``)."""

    data: bytes


@dataclass(frozen=True)
class FuncSig:
    """A function's parameter and result types as text (``i32``, ``funcref``, ...)."""

    params: tuple[str, ...]
    results: tuple[str, ...]


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

    def func_type(self, instance: Any, field: str) -> FuncSig | None:
        """The type of an exported function, for the runner's argument and result checks
        (the reference interpreter refuses an action of the wrong types); None when this
        adapter cannot tell (the checks are then not made)."""
        return None

    def invoke(self, instance: Any, field: str, args: list[object],
               types: list[str]) -> list[object]:
        """Call an exported function with raw arguments (of the script's ``types``)."""
        raise NotImplementedError

    def get(self, instance: Any, field: str) -> object:
        """The raw value of an exported global."""
        raise NotImplementedError

    def ref_kind(self, ref: object) -> str:
        """The kind of a non-null reference result: ``func``, ``extern``, ``host``, ``i31``,
        ``struct``, ``array`` or ``exn`` ("" when unknown); used by the patterns
        ``(ref.func)``, ``(ref.struct)``, ... See :data:`spectest.values.KIND_BELOW`."""
        return default_kind(ref)


class Adapter:
    """Makes sessions. ``merges_malformed_invalid``: the engine reports both alike.
    ``checked_messages``: the error kinds whose message must contain the script's expected
    text; an adapter whose texts are not the specification's leaves some out (documented per
    adapter: wasmtime's compile and link errors, pywasm's everything)."""

    name = "?"
    merges_malformed_invalid = False
    checked_messages: frozenset[str] = frozenset(
        {"trap", "exhaustion", "invalid", "malformed", "unlinkable"})
    #: Compilation modes the adapter tells apart (others run as the first).
    modes: tuple[str, ...] = ("eager", "lazy-translation", "lazy")
    #: The engine parses the text format itself: ``Session.compile`` then also takes a module
    #: in text form (a ``str``), and text-form malformed/invalid modules are judged for real
    #: instead of being counted as ``text``.
    reads_text = False

    def session(self, spec: SessionSpec) -> Session:
        """A fresh session for one (script, mode) with the feature set of its suite."""
        raise NotImplementedError


#: Entry-point group through which other packages register adapters:
#:     [project.entry-points."lazywasm.spectest_engines"]
#:     myengine = "mypkg.spectest_adapter:MyAdapter"
ENTRY_POINT_GROUP = "lazywasm.spectest_engines"
BUILTIN = {
    "engine": "spectest.adapter_engine:EngineAdapter",
    "wasmtime": "spectest.adapter_wasmtime:WasmtimeAdapter",
    "pywasm": "spectest.adapter_pywasm:PywasmAdapter",
}


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    try:
        found = entry_points(group=ENTRY_POINT_GROUP)
    except TypeError:  # Python 3.9 (PyPy): a dict of groups, without the keyword
        found = entry_points().get(ENTRY_POINT_GROUP, [])
    return {ep.name: ep for ep in found}


def adapter_names() -> list[str]:
    """Built-in adapters and those registered through the entry-point group."""
    return list(BUILTIN) + sorted(set(_entry_points()) - set(BUILTIN))


def get_adapter(name: str) -> Adapter:
    """The adapter called ``name``: a built-in one, or one registered by another package
    under the entry-point group :data:`ENTRY_POINT_GROUP` (a class or a factory)."""
    if name in BUILTIN:
        module, _, attr = BUILTIN[name].partition(":")
        factory = getattr(importlib.import_module(module), attr)
    else:
        eps = _entry_points()
        if name not in eps:
            raise ValueError(f"unknown engine {name!r} (choose from "
                             f"{', '.join(adapter_names())}; others register under the "
                             f"entry-point group {ENTRY_POINT_GROUP!r})")
        factory = eps[name].load()
    adapter = factory()
    if not callable(getattr(adapter, "session", None)):
        raise TypeError(f"engine {name!r}: {factory!r} did not make an adapter")
    return adapter
