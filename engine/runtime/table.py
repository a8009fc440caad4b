"""Tables: the internal instance (``TableInst``) and the public ``Table`` handle."""

from __future__ import annotations

from typing import Any

from ..errors import Trap, WasmError
from ..types import MAX_TABLE_SIZE, Limits, TableType, is_ref
from .values import check_ref

#: Growth beyond this many elements fails (returns -1) instead of allocating gigabytes of
#: list; the spec lets table.grow fail for resource reasons.
TABLE_ELEMENTS_CAP = 1 << 24


class TableInst:
    """What translated code uses: ``elements`` (a list grown in place), ``type``, ``max``."""

    __slots__ = ("elements", "max", "type")

    def __init__(self, ttype: TableType, init: Any = None) -> None:
        lim = ttype.limits
        if not is_ref(ttype.elem) or (lim.max is not None and lim.min > lim.max):
            raise WasmError("invalid table type")
        if lim.min > TABLE_ELEMENTS_CAP:
            raise WasmError("table too large")
        self.type = ttype
        self.max = lim.max
        self.elements: list[Any] = [init] * lim.min

    def limits(self) -> Limits:
        """Current limits, as import matching sees them."""
        return Limits(len(self.elements), self.max)

    def grow(self, delta: int, init: Any) -> int:
        """Grow by ``delta`` elements set to ``init``; old size or -1 (table.grow semantics)."""
        elements = self.elements
        old = len(elements)
        new = old + delta
        if new > (MAX_TABLE_SIZE if self.max is None else self.max) or new > TABLE_ELEMENTS_CAP:
            return -1
        try:
            elements.extend([init] * delta)
        except (MemoryError, OverflowError):
            return -1
        return old


class Table:
    """A table handle (wasmtime-py shaped). Identity is kept across export/import."""

    __slots__ = ("_table",)

    def __init__(self, store: Any, ttype: TableType, init: Any = None) -> None:
        self._table = TableInst(ttype, check_ref(ttype.elem, init))

    @classmethod
    def _wrap(cls, table: TableInst) -> Table:
        self = cls.__new__(cls)
        self._table = table
        return self

    def type(self, store: Any = None) -> TableType:
        return TableType(self._table.type.elem, self._table.limits())

    def size(self, store: Any = None) -> int:
        return len(self._table.elements)

    def get(self, store: Any, index: int) -> Any:
        """The reference at ``index`` (a Func / object, or None for null)."""
        elements = self._table.elements
        if not 0 <= index < len(elements):
            raise Trap("out of bounds table access")
        return elements[index]

    def set(self, store: Any, index: int, value: Any) -> None:
        elements = self._table.elements
        if not 0 <= index < len(elements):
            raise Trap("out of bounds table access")
        elements[index] = check_ref(self._table.type.elem, value)

    def grow(self, store: Any, delta: int, init: Any = None) -> int:
        """Grow by ``delta`` elements; the old size; WasmError if it cannot grow."""
        if delta < 0:
            raise WasmError("table delta must be non-negative")
        old = self._table.grow(delta, check_ref(self._table.type.elem, init))
        if old < 0:
            raise WasmError("failed to grow table")
        return old

    def __repr__(self) -> str:
        return f"<Table {self._table.type.elem} size={len(self._table.elements)}>"
