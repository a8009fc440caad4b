"""Linker: externs by (module, name), resolving a module's imports to instantiate it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import LinkError, StoreMismatchError
from ..types import FuncType
from .func import Func
from .global_ import Global
from .instance import Extern, Instance, qualified
from .memory import Memory
from .module import Module
from .table import Table
from .tag import Tag

_EXTERNS = (Func, Memory, Table, Global, Tag)


class Linker:
    """Name-based import resolution (wasmtime-py shaped).

    Defining a name twice raises LinkError unless ``allow_shadowing`` is set.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.allow_shadowing = False
        self._defs: dict[tuple[str, str], Extern] = {}

    def define(self, store: Any, module: str, name: str, item: Extern) -> None:
        if not isinstance(item, _EXTERNS):
            raise TypeError(f"not an extern: {type(item).__name__}")
        owner = getattr(item, "_store", None)
        if owner is not None and store is not None and owner is not store:
            raise StoreMismatchError(f"{qualified(module, name)}: the {type(item).__name__} "
                                     "belongs to another store")
        key = (module, name)
        if key in self._defs and not self.allow_shadowing:
            raise LinkError(f"import of {module}::{name} defined twice")
        self._defs[key] = item

    def define_func(
        self,
        module: str,
        name: str,
        ftype: FuncType,
        func: Callable[..., Any],
        access_caller: bool = False,
    ) -> None:
        """Define a host function taking and returning Python values (called as
        ``func(caller, *args)`` with ``access_caller``; see ``engine.runtime.caller``)."""
        self.define(None, module, name, Func(None, ftype, func, access_caller))

    def define_wasi(self) -> None:
        """Define every ``wasi_snapshot_preview1`` function; each call uses the WASI state of
        the calling store (``store.set_wasi(config)``)."""
        from ..wasi import define_wasi  # the WASI layer sits after the runtime

        define_wasi(self)

    def define_instance(self, store: Any, name: str, instance: Instance) -> None:
        """Define every export of ``instance`` under module name ``name``."""
        for export_name, item in instance.exports(store).items():
            self.define(store, name, export_name, item)

    def get(self, store: Any, module: str, name: str) -> Extern:
        try:
            return self._defs[(module, name)]
        except KeyError:
            raise _unknown(module, name) from None

    def instantiate(self, store: Any, module: Module) -> Instance:
        """Resolve ``module``'s imports by name (LinkError "unknown import: `env::log` has not
        been defined") and instantiate."""
        externs = []
        for imp in module.info.imports:
            item = self._defs.get((imp.module, imp.name))
            if item is None:
                raise _unknown(imp.module, imp.name)
            externs.append(item)
        return Instance(store, module, externs)


def _unknown(module: str, name: str) -> LinkError:
    return LinkError(f"unknown import: {qualified(module, name)} has not been defined")
