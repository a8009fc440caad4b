"""The engine's exception types, shared by every stage of the pipeline.

Each error carries the WebAssembly specification's wording in its message (the testsuite
matches on it), and the class says which stage rejected the input:

    WasmError
    +-- CompileError        the module cannot become a Module
    |   +-- MalformedError  the bytes are not a well-formed binary (decoder)
    |   +-- InvalidError    the module is well-formed but does not type-check (validator)
    |   +-- ImplementationLimitError  valid, but beyond a Config.limits bound
    +-- LinkError           imports do not match (instantiation, "unknown import", ...)
    +-- Trap                execution trapped ("integer divide by zero", ...)
        +-- ExhaustionError the call stack was exhausted
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


class LinkError(WasmError):
    """Instantiation failed because of the imports ('unknown import', 'incompatible import type')."""


class Trap(WasmError):
    """A WebAssembly trap. The message is the specification's wording."""


class ExhaustionError(Trap):
    """The call stack was exhausted (spec: 'call stack exhausted')."""

    def __init__(self, message: str = "call stack exhausted") -> None:
        super().__init__(message)
