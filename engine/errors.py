"""The engine's exception types, shared by every stage of the pipeline.

Each error carries the WebAssembly specification's wording in its message (the testsuite
matches on it), and the class says which stage rejected the input:

    WasmError
    +-- CompileError        the module cannot become a Module
    |   +-- MalformedError  the bytes are not a well-formed binary (decoder)
    |   +-- InvalidError    the module is well-formed but does not type-check (validator)
    +-- LinkError           imports do not match (instantiation, "unknown import", ...)
    +-- Trap                execution trapped ("integer divide by zero", ...)
        +-- ExhaustionError the call stack was exhausted
        +-- ExitTrap        a WASI program called proc_exit (carries ``code``)
"""

from __future__ import annotations


class WasmError(Exception):
    """Base class of every error the engine raises on purpose."""


class CompileError(WasmError):
    """The module could not be compiled: it is malformed or invalid."""


class MalformedError(CompileError):
    """The binary is not well-formed (spec: 'malformed' / decoding error)."""


class InvalidError(CompileError):
    """The module is well-formed but not valid (spec: validation error)."""


class LinkError(WasmError):
    """Instantiation failed because of the imports ('unknown import', 'incompatible import type')."""


class Trap(WasmError):
    """A WebAssembly trap. The message is the specification's wording."""


class ExhaustionError(Trap):
    """The call stack was exhausted (spec: 'call stack exhausted')."""

    def __init__(self, message: str = "call stack exhausted") -> None:
        super().__init__(message)


class ExitTrap(Trap):
    """WASI ``proc_exit(code)``: unwinds the program like a trap, carrying the exit code
    (wasmtime-py's ``ExitTrap`` shape)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"Exited with i32 exit status {code}")
        self.code = code
