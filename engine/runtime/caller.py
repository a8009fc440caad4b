"""``Caller``: what a host function defined with ``access_caller=True`` receives first.

A host function that asks for its caller is bound once per importing instance (when the
instance links the import, ``Instance._link`` stores ``partial(fn, Caller(...))`` in
``rt.funcs``, where translated calls look their callees up):
functions that do not ask pay nothing, and those that do pay no lookup per call. Called
through a table or from Python, such a function sees the instance that imported it last.
"""

from __future__ import annotations

from typing import Any

from ..binary.module import FUNC, MEMORY, TABLE

#: The runtime record type is only used for annotations here (instance.py imports us).
Runtime = Any


class Caller:
    """The calling instance's exports (``caller["memory"]``, ``caller.get(name)``) and store.

    ``caller.store`` is the store the function was created for (``Func(store, ...)``) or that
    instantiated the caller through a Linker; None when neither is known.
    """

    __slots__ = ("_cache", "_rt", "store")

    def __init__(self, rt: Runtime | None, store: Any = None) -> None:
        self._rt = rt
        self.store = store
        self._cache: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        """The export ``name`` of the calling instance, or None."""
        hit = self._cache.get(name)
        if hit is not None or self._rt is None:
            return hit
        item = _export(self._rt, name, self.store)
        if item is not None:
            self._cache[name] = item
        return item

    def __getitem__(self, name: str) -> Any:
        item = self.get(name)
        if item is None:
            raise KeyError(name)
        return item

    def memory_data(self, name: str = "memory") -> bytearray | None:
        """The live bytearray of the exported memory ``name`` (grown in place), or None."""
        mem = self.get(name)
        return None if mem is None or not hasattr(mem, "_mem") else mem._mem.data

    def __repr__(self) -> str:
        return f"<Caller of {self._rt.module if self._rt is not None else None!r}>"


def _export(rt: Runtime, name: str, store: Any) -> Any:
    """Build the public handle of ``rt``'s export ``name`` (None if there is none)."""
    from .global_ import Global
    from .memory import Memory
    from .table import Table

    for exp in rt.info.exports:
        if exp.name != name:
            continue
        if exp.kind == FUNC:
            return rt.func_refs[exp.index]
        if exp.kind == MEMORY:
            return Memory._wrap(rt.memories[exp.index], store)
        if exp.kind == TABLE:
            return Table._wrap(rt.tables[exp.index], store)
        return Global._wrap(rt.globals[exp.index], store)
    return None
