"""Tables: the internal instance (``TableInst``) and the public ``Table`` handle."""

from __future__ import annotations

from typing import Any

from ..errors import EngineError, StoreMismatchError
from ..types import MAX_TABLE_SIZE, MAX_TABLE_SIZE_64, Limits, TableType, is_ref
from .values import check_ref

#: Growth beyond this many elements fails (returns -1) instead of allocating gigabytes of
#: list; the spec lets table.grow fail for resource reasons.
TABLE_ELEMENTS_CAP = 1 << 24


class TableInst:
    """What translated code uses: ``elements`` (a list grown in place), ``type``, ``max``;
    ``store_limits`` is the owning store's StoreLimits or None."""

    __slots__ = ("elements", "max", "store_limits", "type")

    def __init__(self, ttype: TableType, init: Any = None, limits: Any = None) -> None:
        lim = ttype.limits
        if not is_ref(ttype.elem) or (lim.max is not None and lim.min > lim.max):
            raise EngineError("invalid table type")
        if lim.min > TABLE_ELEMENTS_CAP:
            raise EngineError(f"table minimum size of {lim.min} elements exceeds the engine's "
                              f"cap of {TABLE_ELEMENTS_CAP}")
        self.type = ttype
        self.max = lim.max
        self.store_limits = limits
        self.elements: list[Any] = [init] * lim.min

    def limits(self) -> Limits:
        """Current limits, as import matching sees them."""
        return Limits(len(self.elements), self.max)

    def grow(self, delta: int, init: Any) -> int:
        """Grow by ``delta`` elements set to ``init``; old size or -1 (table.grow semantics):
        past the type's maximum, the engine's cap or the store's ``table_elements`` limit."""
        elements = self.elements
        old = len(elements)
        new = old + delta
        bound = MAX_TABLE_SIZE_64 if self.type.is_64 else MAX_TABLE_SIZE
        if new > (bound if self.max is None else self.max) or new > TABLE_ELEMENTS_CAP:
            return -1
        store_limits = self.store_limits
        if store_limits is not None and not store_limits.table_fits(new):
            return -1
        try:
            elements.extend([init] * delta)
        except (MemoryError, OverflowError):
            return -1
        return old


class Table:
    """A table handle (wasmtime-py shaped). Identity is kept across export/import."""

    __slots__ = ("_store", "_table")

    def __init__(self, store: Any, ttype: TableType, init: Any = None) -> None:
        """A new table of ``store`` filled with ``init``; ResourceLimitError past the store's
        limits."""
        init = self._value(store, ttype.elem, init)
        limits = getattr(store, "limits", None)
        if limits is not None:
            limits.reserve(0, 0, 1, [], [ttype.limits.min])
        try:
            self._table = TableInst(ttype, init, limits)
        except EngineError:
            if limits is not None:
                limits.num_tables -= 1  # not created: not counted
            raise
        self._store = store

    @classmethod
    def _wrap(cls, table: TableInst, store: Any) -> Table:
        self = cls.__new__(cls)
        self._table = table
        self._store = store
        return self

    @staticmethod
    def _value(store: Any, elem: str, value: Any) -> Any:
        """Check a reference for this table: its type, and a Func's store."""
        value = check_ref(elem, value)
        owner = getattr(value, "_store", None) if value is not None and elem == "funcref" else None
        if owner is not None and store is not None and owner is not store:
            raise StoreMismatchError("a Func of another store cannot be stored in this table")
        return value

    def type(self, store: Any = None) -> TableType:
        return TableType(self._table.type.elem, self._table.limits(), self._table.type.is_64)

    def size(self, store: Any = None) -> int:
        return len(self._table.elements)

    def get(self, store: Any, index: int) -> Any:
        """The reference at ``index`` (a Func / object, or None for null); None as well when
        ``index`` is out of bounds, as wasmtime-py."""
        elements = self._table.elements
        if not 0 <= index < len(elements):
            return None
        return elements[index]

    def set(self, store: Any, index: int, value: Any) -> None:
        """Store ``value`` at ``index``; EngineError out of bounds (as wasmtime-py)."""
        elements = self._table.elements
        value = self._value(self._store, self._table.type.elem, value)
        if not 0 <= index < len(elements):
            raise EngineError(f"out of bounds table access: index {index}, size {len(elements)}")
        elements[index] = value

    def grow(self, store: Any, delta: int, init: Any = None) -> int:
        """Grow by ``delta`` elements; the old size; EngineError if it cannot grow."""
        if delta < 0:
            raise EngineError("cannot grow table by a negative amount")
        old = self._table.grow(delta, self._value(self._store, self._table.type.elem, init))
        if old < 0:
            raise EngineError(f"failed to grow table by {delta} elements")
        return old

    def __repr__(self) -> str:
        return f"<Table {self._table.type.elem} size={len(self._table.elements)}>"
