"""Module: a decoded, validated module registered in its engine's code map."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..binary import decode_module
from ..binary.module import FUNC, GLOBAL, MEMORY, TABLE, ModuleInfo
from ..codemap import CodeSpan
from ..config import features_snapshot
from ..types import (
    FuncType,
    GlobalType,
    RefType,
    TableType,
    canon_valtype,
    canonical_ids,
    intern_func_type,
    map_heap,
    strip_exact,
)
from ..validate import validate_module
from .engine import Engine


@dataclass(frozen=True)
class ImportType:
    """One import of a module: ``type`` is a FuncType, TableType, MemoryType or GlobalType;
    ``kind`` is ``"func"``, ``"table"``, ``"memory"`` or ``"global"``."""

    module: str
    name: str
    type: Any
    kind: str


@dataclass(frozen=True)
class ExportType:
    """One export of a module, with the type of what it exports (see ImportType)."""

    name: str
    type: Any
    kind: str


class Canonical:
    """A module's types in runtime form: canonical ids instead of type indices."""

    __slots__ = ("func_types", "gc", "ids", "plain")

    def __init__(self, types: list[FuncType], gc_types: list | None = None) -> None:
        # With the canonical GC types (engine.gctypes.DefType, one per type index) a type
        # index becomes its DefType: iso-recursive identity and declared subtyping.
        self.ids: list[Any] = list(gc_types) if gc_types else canonical_ids(types)
        self.gc = bool(gc_types)
        #: True when no type mentions a type index (every Wasm 2.0 module): nothing changes.
        self.plain = not any(isinstance(t, RefType) and isinstance(strip_exact(t.heap), int)
                             for ft in types for t in ft.params + ft.results)
        self.func_types = [self.func_type(ft) for ft in types]

    def val(self, t: Any) -> Any:
        if self.gc and isinstance(t, RefType):
            h = strip_exact(t.heap)
            if isinstance(h, int) and h < len(self.ids):
                return RefType(t.nullable, map_heap(t.heap, self.ids.__getitem__))
        return canon_valtype(t, self.ids)

    def func_type(self, ft: FuncType) -> FuncType:
        if self.plain:
            return intern_func_type(tuple(ft.params), tuple(ft.results))
        return intern_func_type(tuple(self.val(t) for t in ft.params),
                                tuple(self.val(t) for t in ft.results))

    def global_type(self, gt: GlobalType) -> GlobalType:
        content = self.val(gt.content)
        return gt if content is gt.content else GlobalType(content, gt.mutable)

    def table_type(self, tt: TableType) -> TableType:
        elem = self.val(tt.elem)
        return tt if elem is tt.elem else TableType(elem, tt.limits, tt.is_64)


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
        info = decode_module(data, features_snapshot(engine.config.features),
                             engine.config.limits)
        validate_module(info)
        self.engine = engine
        self.info: ModuleInfo = info
        #: The module's types with type indices replaced by canonical ids (what instances,
        #: their functions, tables and globals carry; see engine.types.canon_valtype).
        self.canon = Canonical(info.types, info.gc_types)
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
    def imports(self) -> list[ImportType]:
        """The imports in order, each with ``module``, ``name`` and ``type`` (wasmtime-py)."""
        info = self.info
        return [ImportType(imp.module, imp.name,
                           info.types[imp.desc] if imp.kind == FUNC else imp.desc, imp.kind)
                for imp in info.imports]

    @property
    def exports(self) -> list[ExportType]:
        """The exports in order, each with ``name`` and ``type`` (wasmtime-py)."""
        info = self.info
        func_imports = [imp.desc for imp in info.imports if imp.kind == FUNC]
        spaces: dict[str, list[Any]] = {
            TABLE: info.all_tables(), MEMORY: info.all_mems(), GLOBAL: info.all_global_types()}

        def func_type(index: int) -> Any:  # O(1) per export: no rescan of the imports
            n = len(func_imports)
            return info.types[func_imports[index] if index < n else info.funcs[index - n]]

        return [ExportType(exp.name, func_type(exp.index) if exp.kind == FUNC
                           else spaces[exp.kind][exp.index], exp.kind)
                for exp in info.exports]

    def __repr__(self) -> str:
        return f"<Module {len(self.info.funcs)} functions>"
