"""Engine configuration: compilation mode and call depth, held once per Engine.

This module is shared vocabulary (it imports no stage), so the code map and the runtime can
both read it.
"""

from __future__ import annotations

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


class Config:
    """Settings of an :class:`Engine`; read when modules are created and functions called.

    ``compilation_mode``: ``"eager"`` (decode, validate and translate every body in
    ``Module(...)``), ``"lazy-translation"`` (default: validate every body up front, translate
    on first call) or ``"lazy"`` (both on first call). ``max_call_depth``: nested calls
    allowed below the outermost wasm entry before the trap "call stack exhausted".

    The feature set is fixed: all of Wasm 2.0 (SIMD included) plus relaxed SIMD. There are no
    feature switches, since a switch the engine did not honour would mislead.
    """

    __slots__ = ("_max_call_depth", "_mode")

    def __init__(
        self,
        compilation_mode: str = LAZY_TRANSLATION,
        max_call_depth: int = DEFAULT_MAX_CALL_DEPTH,
    ) -> None:
        self.compilation_mode = compilation_mode
        self.max_call_depth = max_call_depth

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

    def __repr__(self) -> str:
        return f"Config(compilation_mode={self._mode!r}, max_call_depth={self._max_call_depth})"
