"""Module: a decoded, validated module registered in its engine's code map."""

from __future__ import annotations

import os

from ..binary import decode_module
from ..binary.module import Export, Import, ModuleInfo
from ..codemap import CodeSpan
from ..validate import validate_module
from .engine import Engine


class Module:
    """``Module(engine, wasm_bytes)``: decode and validate; bodies per the compilation mode.

    Raises MalformedError / InvalidError (in "eager" mode for every body, in
    "lazy-translation" for every body's validation; "lazy" defers bodies to first call).
    """

    def __init__(self, engine: Engine, wasm: bytes | bytearray | memoryview | str) -> None:
        if isinstance(wasm, str):  # the text format, as wasmtime-py accepts it
            from ..text import wat2wasm

            wasm = wat2wasm(wasm)
        data = wasm if isinstance(wasm, bytes) else bytes(wasm)
        info = decode_module(data)
        validate_module(info)
        self.engine = engine
        self.info: ModuleInfo = info
        self.code: CodeSpan = engine.code_map.register(info, self)

    @classmethod
    def from_file(cls, engine: Engine, path: str | os.PathLike[str]) -> Module:
        """A module from a file: ``.wasm`` is read as a binary, ``.wat`` as text; any other
        name as text unless it starts with the binary magic."""
        with open(path, "rb") as f:
            data = f.read()
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix == ".wat" or (suffix != ".wasm" and not data.startswith(b"\0asm")):
            from ..text import wat2wasm

            data = wat2wasm(data)
        return cls(engine, data)

    @staticmethod
    def validate(engine: Engine, wasm: bytes) -> None:
        """Raise MalformedError / InvalidError unless every part of ``wasm`` is valid."""
        Module(engine, wasm).compile_all()

    def compile_all(self) -> None:
        """Force deferred decoding, validation and translation of every function body."""
        self.code.compile_all()

    @property
    def imports(self) -> list[Import]:
        return list(self.info.imports)

    @property
    def exports(self) -> list[Export]:
        return list(self.info.exports)

    def __repr__(self) -> str:
        return f"<Module {len(self.info.funcs)} functions>"
