"""The engine's exception types, shared by every stage of the pipeline.

Each error carries the WebAssembly specification's wording in its message (the testsuite
matches on it), and the class says which stage rejected the input. As in wasmtime-py, a trap
is not an engine error: ``Trap`` and ``EngineError`` (wasmtime-py's ``WasmtimeError``) are
siblings, so ``except EngineError`` around instantiation does not swallow a trapping start
function. ``WasmError`` is the root of both, for code that wants everything the engine raises
on purpose::

    WasmError
    +-- EngineError             wasmtime-py's WasmtimeError: the engine refused something
    |   +-- CompileError        the module cannot become a Module
    |   |   +-- MalformedError  the bytes are not a well-formed binary (decoder)
    |   |   +-- InvalidError    the module is well-formed but does not type-check (validator)
    |   |   +-- ImplementationLimitError  valid, but beyond a Config.limits bound
    |   +-- LinkError           imports do not match (instantiation, "unknown import", ...)
    |   +-- ResourceLimitError  a store limit (Store.set_limits) refused an allocation
    |   +-- StoreMismatchError  an object of one Store used with another
    |   +-- MemoryAccessError   Memory.write out of bounds (also an IndexError, as wasmtime-py)
    |   +-- ExitTrap            a WASI program called proc_exit (carries ``code``)
    +-- Trap                    execution trapped; ``trap_code``, ``message``, ``frames``
    |   +-- ExhaustionError     the call stack was exhausted
    +-- WasmException           a wasm exception (``throw``) not caught by wasm; ``tag``, ``payload``

Nothing here imports a stage: the runtime hands frame information to ``Trap.frames``
through the translated functions' code (a per-module tag as last constant, the function
index as ``co_firstlineno``) or, for the few with globals of their own, ``FRAME_SOURCE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, NamedTuple


class WasmError(Exception):
    """Base class of every error the engine raises on purpose."""


class EngineError(WasmError):
    """The engine refused something (compile, link, instantiation, API use): wasmtime-py's
    ``WasmtimeError``. Not a base of :class:`Trap`."""


class CompileError(EngineError):
    """The module could not be compiled: it is malformed or invalid.

    For a function body the error also names where: ``func_index`` (in the function index
    space) and ``offset`` (byte offset of the body in the module binary), both None for
    module-level errors. ``message`` is the specification's text alone; ``str()`` adds the
    location after it, so the text the testsuite expects is still contained.
    """

    func_index: int | None = None
    offset: int | None = None

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def locate(self, func_index: int, offset: int) -> None:
        """Record the function body this error is about (first location wins)."""
        if self.func_index is None:
            self.func_index = func_index
            self.offset = offset

    def __str__(self) -> str:
        text = self.message
        if self.func_index is None:
            return text
        return f"{text} (in function {self.func_index}, body at byte offset {self.offset:#x})"


class MalformedError(CompileError):
    """The binary is not well-formed (spec: 'malformed' / decoding error)."""


class InvalidError(CompileError):
    """The module is well-formed but not valid (spec: validation error)."""


class ImplementationLimitError(CompileError):
    """The module exceeds one of the engine's implementation limits (``Config.limits``).

    ``limit`` names the ``ImplLimits`` field, ``value`` what the module has, ``maximum`` the
    limit in force and ``where`` the place (a section or function)."""

    def __init__(self, what: str, limit: str, value: int, maximum: int, where: str) -> None:
        super().__init__(f"{what}: {value} in {where} exceeds the implementation limit "
                         f"{limit} = {maximum}")
        self.limit = limit
        self.value = value
        self.maximum = maximum
        self.where = where


class LinkError(EngineError):
    """Instantiation failed because of the imports ('unknown import', 'incompatible import type')."""


class ResourceLimitError(EngineError):
    """A limit set with ``Store.set_limits`` refused an instance, memory or table."""


class StoreMismatchError(EngineError):
    """An object created in one Store was passed to another Store."""


class MemoryAccessError(EngineError, IndexError):
    """A host access to linear memory out of bounds (``Memory.write``); an IndexError too,
    as wasmtime-py raises."""


class TrapCode(Enum):
    """Why a trap happened, as wasmtime-py's ``TrapCode`` (derived from the spec message)."""

    STACK_OVERFLOW = 0
    MEMORY_OUT_OF_BOUNDS = 1
    HEAP_MISALIGNED = 2
    TABLE_OUT_OF_BOUNDS = 3
    INDIRECT_CALL_TO_NULL = 4
    BAD_SIGNATURE = 5
    INTEGER_OVERFLOW = 6
    INTEGER_DIVISION_BY_ZERO = 7
    BAD_CONVERSION_TO_INTEGER = 8
    UNREACHABLE_CODE_REACHED = 9
    INTERRUPT = 10
    OUT_OF_FUEL = 11
    ATOMIC_WAIT_NON_SHARED_MEMORY = 12
    NULL_REFERENCE = 13
    ARRAY_OUT_OF_BOUNDS = 14
    ALLOCATION_TOO_LARGE = 15
    CAST_FAILURE = 16
    #: wasmtime-py's name of UNREACHABLE_CODE_REACHED (an alias: the same member).
    UNREACHABLE = 9  # noqa: PIE796 - an intended alias


#: Spec trap messages (their leading words) -> code. Checked in order, first match wins.
_TRAP_CODES: tuple[tuple[str, TrapCode], ...] = (
    ("call stack exhausted", TrapCode.STACK_OVERFLOW),
    ("out of bounds memory access", TrapCode.MEMORY_OUT_OF_BOUNDS),
    ("unaligned atomic", TrapCode.HEAP_MISALIGNED),
    ("out of bounds table access", TrapCode.TABLE_OUT_OF_BOUNDS),
    ("undefined element", TrapCode.TABLE_OUT_OF_BOUNDS),
    ("uninitialized element", TrapCode.INDIRECT_CALL_TO_NULL),
    ("indirect call type mismatch", TrapCode.BAD_SIGNATURE),
    ("integer overflow", TrapCode.INTEGER_OVERFLOW),
    ("integer divide by zero", TrapCode.INTEGER_DIVISION_BY_ZERO),
    ("invalid conversion to integer", TrapCode.BAD_CONVERSION_TO_INTEGER),
    ("unreachable", TrapCode.UNREACHABLE_CODE_REACHED),
    ("interrupt", TrapCode.INTERRUPT),
    ("all fuel consumed", TrapCode.OUT_OF_FUEL),
    ("expected shared memory", TrapCode.ATOMIC_WAIT_NON_SHARED_MEMORY),
    ("null", TrapCode.NULL_REFERENCE),
    ("out of bounds array access", TrapCode.ARRAY_OUT_OF_BOUNDS),
    ("cast failure", TrapCode.CAST_FAILURE),
)


def trap_code_of(message: str) -> TrapCode | None:
    """The TrapCode of a spec trap message; None for a message the spec does not define."""
    for prefix, code in _TRAP_CODES:
        if message.startswith(prefix):
            return code
    return None


@dataclass(frozen=True)
class Frame:
    """One wasm function a trap unwound through (wasmtime-py's ``Frame``).

    ``func_index`` is in the module's function index space; ``func_name`` and ``module_name``
    come from the name section when it has them. ``module_offset`` is the byte offset of the
    function's body in the module binary; ``func_offset`` is None: the translator does not
    map generated lines back to instruction offsets. A function whose body and type are
    byte-identical to an earlier one of its module shares that one's translation, and its
    frames name the earlier function.
    """

    func_index: int
    func_name: str | None
    module_name: str | None
    module_offset: int | None
    func_offset: int | None = None


#: Key under which the runtime stores a frame source in a translated function's globals
#: (functions whose factory runs ``make``, each with globals of its own): an object with
#: ``frame() -> Frame``. Not a valid generated identifier, so no clash.
FRAME_SOURCE = "__wasm_frame_source__"

#: The ``co_filename`` of every translated function's code. One shared string, not one per
#: function (a name per function cost 69 bytes each); the function index rides in
#: ``co_firstlineno``, so a traceback line reads ``File "<wasm>", line 12, in f`` for
#: function 12.
WASM_FILE = "<wasm>"
#: The code name of a function's translation for its failed entry guard
#: (compile/entry_guard.py): its frame stands for the guarded frame that called it.
UNGUARDED = "f_unguarded"


class FrameRef(NamedTuple):
    """A wasm frame read from a traceback: function ``func_index`` of the module whose frame
    tag (``runtime.frames.ModuleTag``: ``frame(index) -> Frame``) is ``tag``."""

    tag: Any
    func_index: int

    def frame(self) -> Frame:
        return self.tag.frame(self.func_index)


def frame_sources(tb: TracebackType | None) -> list[Any]:
    """The frame sources of a traceback's wasm frames, innermost first (cheap: no names):
    objects with ``frame() -> Frame``."""
    out: list[Any] = []
    outer = False  # the traceback entry just outside this one was a wasm frame
    while tb is not None:
        code = tb.tb_frame.f_code
        source = tb.tb_frame.f_globals.get(FRAME_SOURCE)
        if source is None:  # compact factories carry the module's tag as their last constant
            consts = code.co_consts
            if consts and getattr(type(consts[-1]), "is_frame_tag", False):
                source = FrameRef(consts[-1], code.co_firstlineno)
        if source is not None:
            if code.co_name == UNGUARDED and outer:
                out.pop()  # the guarded frame that handed this call over: one wasm frame
            out.append(source)
        outer = source is not None
        tb = tb.tb_next
    out.reverse()
    return out


def wasm_frames(tb: TracebackType | None) -> list[Frame]:
    """The wasm frames of a traceback, innermost first."""
    return [source.frame() for source in frame_sources(tb)]


class Trap(WasmError):
    """A WebAssembly trap (wasmtime-py's ``Trap``). The message is the specification's wording.

    ``trap_code`` is derived from the message (None for a host-made trap of other text);
    ``frames`` lists the wasm functions the trap unwound through, innermost first, read from
    the Python traceback (so, as with any exception, only once it has propagated).
    """

    #: Frame sources captured where the traceback was cut (the exhaustion boundary),
    #: innermost first; turned into Frames only when ``frames`` is read.
    captured: list[Any] | None = None

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    @property
    def trap_code(self) -> TrapCode | None:
        return trap_code_of(self.message)

    @property
    def frames(self) -> list[Frame]:
        # Captured frames (cut at an inner boundary) are inner to those still in the traceback.
        inner = [source.frame() for source in self.captured or ()]
        return inner + wasm_frames(self.__traceback__)

    def __str__(self) -> str:
        return self.message


class ExhaustionError(Trap):
    """The call stack was exhausted (spec: 'call stack exhausted')."""

    def __init__(self, message: str = "call stack exhausted") -> None:
        super().__init__(message)


class ExitTrap(EngineError):
    """WASI ``proc_exit(code)``: unwinds the program, carrying the exit code (wasmtime-py's
    ``ExitTrap``, a ``WasmtimeError`` there, so an ``EngineError`` here)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"Exited with i32 exit status {code}")
        self.code = code


class WasmException(WasmError):
    """A WebAssembly exception (exception handling: ``throw`` / ``throw_ref``).

    Raised by wasm code and not caught there, it reaches the host as this exception; a host
    function may raise one (``WasmException(tag, [values])``) for wasm to catch. ``tag`` is
    the ``engine.Tag`` it was thrown with (identity matters: a catch clause matches its tag
    object, across instances), ``payload`` its values as Python values (``values``: the
    internal representation). The object itself is the wasm ``exnref`` value, so rethrowing
    (``throw_ref``) keeps its identity. Not a Trap: wasm's ``try_table`` catches it, while a
    trap passes through every handler.
    """

    def __init__(self, tag: Any, payload: Any = (), *, values: tuple | None = None) -> None:
        super().__init__("uncaught wasm exception")
        self.tag = tag
        if values is None:
            values = tag._internal_payload(payload) if hasattr(tag, "_internal_payload") \
                else tuple(payload)
        self.values: tuple = values

    @property
    def payload(self) -> list[Any]:
        """The values thrown with the exception, as Python values (i32/i64 signed)."""
        external = getattr(self.tag, "_external_payload", None)
        return external(self.values) if external is not None else list(self.values)

    def __repr__(self) -> str:
        return f"WasmException({self.tag!r}, {self.payload!r})"
