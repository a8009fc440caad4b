"""Engine configuration: compilation mode and call depth, held once per Engine.

This module is shared vocabulary (it imports no stage), so the code map and the runtime can
both read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

#: Compilation modes, as in wasmi (see docs/architecture.md).
EAGER = "eager"
LAZY_TRANSLATION = "lazy-translation"
LAZY = "lazy"
COMPILATION_MODES = (EAGER, LAZY_TRANSLATION, LAZY)

#: Default maximum call depth, in Python frames above the outermost wasm entry (about one per
#: nested wasm call). CPython 3.10 spends C stack on every Python call (roughly 0.5-1 KiB per
#: level), so 3,000 stays far below an 8 MiB main-thread stack and macOS's 16 MiB thread
#: stacks; raise it on 3.11+ where Python-to-Python calls no longer nest C frames.
DEFAULT_MAX_CALL_DEPTH = 3000

#: Standard feature flags, with wasmtime-py's names, and their defaults: every standard
#: Wasm 3.0 feature is on (the legacy exception handling, not a standard, is off). The decoder and validator consult them (``engine.features``);
#: the conformance manifest turns some off for a pin whose expectations follow an older rule.
FEATURES: dict[str, bool] = {
    "wasm_bulk_memory": True,
    "wasm_reference_types": True,
    "wasm_multi_value": True,
    "wasm_simd": True,
    "wasm_relaxed_simd": True,
    "wasm_multi_memory": True,
    "wasm_memory64": True,
    "wasm_tail_call": True,
    "wasm_extended_const": True,
    "wasm_threads": True,
    "wasm_wide_arithmetic": True,
    "wasm_custom_page_sizes": True,
    "wasm_function_references": True,
    "wasm_exceptions": True,
    "wasm_gc": True,
    # The legacy (phase 3, pre-3.0) exception handling instructions: try / catch /
    # catch_all / delegate / rethrow. Never standardised, still shipped by browsers; off by
    # default, as in wasmparser (whose name it keeps: wasmtime-py has no such flag).
    "legacy_exceptions": False,
    # The custom descriptors proposal (a GC extension, phase 3): exact reference types,
    # descriptor / describes clauses and their instructions. Off by default, as wasmtime.
    "wasm_custom_descriptors": False,
}

#: Features standardised after Wasm 2.0 (or still proposals): a Wasm 2.0 pin turns them off.
POST_2_0_FEATURES = (
    "wasm_multi_memory",
    "wasm_memory64",
    "wasm_tail_call",
    "wasm_extended_const",
    "wasm_threads",
    "wasm_wide_arithmetic",
    "wasm_custom_page_sizes",
    "wasm_function_references",
    "wasm_exceptions",
    "wasm_gc",
    "legacy_exceptions",
    "wasm_custom_descriptors",
)


_SNAPSHOTS: dict[tuple[bool, ...], Mapping[str, bool]] = {}


def features_snapshot(features: Mapping[str, bool]) -> Mapping[str, bool]:
    """A read-only copy of a feature-flag set, shared by every module decoded with the same
    flags (a module keeps its flags for lazy decoding and validation without a dict each)."""
    key = tuple(bool(features.get(name, FEATURES[name])) for name in FEATURES)
    snap = _SNAPSHOTS.get(key)
    if snap is None:
        snap = _SNAPSHOTS.setdefault(key, MappingProxyType(dict(zip(FEATURES, key))))
    return snap


def follows_wasm_2_0(features: Mapping[str, bool] | None) -> bool:
    """Whether a feature set is a Wasm 2.0 one (the GC flag off, 3.0's defining feature): the
    few rules and messages the 3.0 specification rewrote without a feature of their own
    (limits flags read as a 1-bit LEB, constant expressions not bounded by their section,
    "global is immutable") then follow 2.0, as the 2.0 testsuite pin expects."""
    return features is not None and not features.get("wasm_gc", True)


def wasm_2_0_features() -> dict[str, bool]:
    """The feature flags of Wasm 2.0 (with relaxed SIMD): every later feature off."""
    return {name: name not in POST_2_0_FEATURES for name in FEATURES}


@dataclass
class ImplLimits:
    """Implementation limits, in the manner of wasmparser's: what one module may declare.

    Every module of the conformance testsuite fits the defaults. Exceeding one raises
    ``ImplementationLimitError`` (a CompileError) naming the limit, the value and where.
    They bound the constants of the linear cost of decoding, validation and translation:
    e.g. a branch costs O(arity) <= max_params/max_results, a block entry O(max_params).
    """

    max_types: int = 1_000_000
    max_functions: int = 1_000_000
    max_imports: int = 1_000_000
    max_exports: int = 1_000_000
    max_globals: int = 1_000_000
    max_tables: int = 100
    max_memories: int = 100
    max_element_segments: int = 100_000
    max_data_segments: int = 100_000
    #: Bytes of one function body (locals declarations and code).
    max_function_size: int = 7_654_321
    #: Declared locals of one function (parameters not included).
    max_locals: int = 50_000
    max_params: int = 1_000
    max_results: int = 1_000
    max_br_table_targets: int = 7_654_321
    #: Nesting depth of block/loop/if in one body.
    max_nesting: int = 10_000


DEFAULT_LIMITS = ImplLimits()


class CodegenOptions(NamedTuple):
    """What translated code must do besides computing (fixed per Engine)."""

    fuel: bool = False  # charge fuel at function entry and loop iterations
    epoch: bool = False  # poll the store's interrupt flag at the same points


NO_METERING = CodegenOptions()


class Config:
    """Settings of an :class:`Engine`; read when modules are created and functions called.

    ``compilation_mode``: ``"eager"`` (decode, validate and translate every body in
    ``Module(...)``), ``"lazy-translation"`` (default: validate every body up front, translate
    on first call) or ``"lazy"`` (both on first call). ``max_call_depth``: nested calls
    allowed below the outermost wasm entry before the trap "call stack exhausted".

    Feature flags (``wasm_memory64``, ``wasm_tail_call``, ... see :data:`FEATURES`) are
    booleans named as in wasmtime-py; all standard Wasm 3.0 features are on by default.
    ``legacy_exceptions`` (wasmparser's name: wasmtime-py has none) enables the legacy
    exception handling (try / catch / catch_all / delegate / rethrow); off by default.
    ``wasm_custom_descriptors`` (wasmtime's name) enables the custom descriptors proposal
    (exact references, descriptor clauses and their instructions); off by default.
    """

    __slots__ = (
        "_max_call_depth",
        "_mode",
        "consume_fuel",
        "epoch_interruption",
        "features",
        "limits",
    )

    def __init__(
        self,
        compilation_mode: str = LAZY_TRANSLATION,
        max_call_depth: int = DEFAULT_MAX_CALL_DEPTH,
    ) -> None:
        self.compilation_mode = compilation_mode
        self.max_call_depth = max_call_depth
        # -- untrusted code (issue 12) ---------------------------------------------------
        #: Charge fuel for executed code (``Store.set_fuel``); running out traps with "all
        #: fuel consumed". Off: no fuel code is generated at all.
        self.consume_fuel = False
        #: Poll the store's epoch deadline (``Engine.increment_epoch``,
        #: ``Store.set_epoch_deadline``); passing it traps with "interrupt".
        self.epoch_interruption = False
        #: Implementation limits on what a module may declare (see :class:`Limits`).
        self.limits = ImplLimits()
        #: The feature flags in force (a copy of :data:`FEATURES`, changed through the
        #: ``wasm_*`` properties).
        self.features: dict[str, bool] = dict(FEATURES)

    @property
    def compilation_mode(self) -> str:
        return self._mode

    @compilation_mode.setter
    def compilation_mode(self, mode: str) -> None:
        if mode not in COMPILATION_MODES:
            raise ValueError(f"compilation_mode must be one of {COMPILATION_MODES}, not {mode!r}")
        self._mode = mode

    @property
    def max_call_depth(self) -> int:
        return self._max_call_depth

    @max_call_depth.setter
    def max_call_depth(self, depth: int) -> None:
        if not isinstance(depth, int) or depth < 1:
            raise ValueError("max_call_depth must be a positive int")
        self._max_call_depth = depth

    def codegen_options(self) -> CodegenOptions:
        """What the translator must generate besides the computation (fixed per Engine)."""
        return CodegenOptions(bool(self.consume_fuel), bool(self.epoch_interruption))

    def __getattr__(self, name: str) -> bool:
        if name in FEATURES:
            return self.features[name]
        raise AttributeError(f"Config has no attribute {name!r}")

    def __setattr__(self, name: str, value: object) -> None:
        if name in FEATURES:
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
            self.features[name] = value
            return
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"Config(compilation_mode={self._mode!r}, max_call_depth={self._max_call_depth})"
