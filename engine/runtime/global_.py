"""Globals: the internal cell (``GlobalCell``) and the public ``Global`` handle."""

from __future__ import annotations

from typing import Any

from ..errors import EngineError, StoreMismatchError
from ..types import VALUE_TYPES, GlobalType, is_ref
from .func import Func
from .values import from_bits, from_python, to_bits, to_python


class GlobalCell:
    """What translated code uses: ``value`` holds the internal value."""

    __slots__ = ("type", "value")

    def __init__(self, gtype: GlobalType, value: Any) -> None:
        self.type = gtype
        self.value = value


class Global:
    """A global handle (wasmtime-py shaped). Identity is kept across export/import."""

    __slots__ = ("_cell", "_store")

    def __init__(self, store: Any, gtype: GlobalType, value: Any) -> None:
        """A new global holding Python value ``value``."""
        if gtype.content not in VALUE_TYPES and not is_ref(gtype.content):
            raise EngineError("invalid global type")
        gtype = GlobalType(gtype.content, bool(gtype.mutable))
        self._store = store
        self._cell = GlobalCell(gtype, self._own(from_python(gtype.content, value)))

    @classmethod
    def _wrap(cls, cell: GlobalCell, store: Any) -> Global:
        self = cls.__new__(cls)
        self._cell = cell
        self._store = store
        return self

    def _own(self, value: Any) -> Any:
        """Refuse a Func of another store as this global's value."""
        owner = value._store if isinstance(value, Func) else None
        if owner is not None and self._store is not None and owner is not self._store:
            raise StoreMismatchError("a Func of another store cannot be stored in this global")
        return value

    def type(self, store: Any = None) -> GlobalType:
        return self._cell.type

    def value(self, store: Any = None) -> Any:
        """The value as a Python value (integers signed)."""
        return to_python(self._cell.type.content, self._cell.value)

    def set_value(self, store: Any, value: Any) -> None:
        self._set(from_python(self._cell.type.content, value))

    def bits(self, store: Any = None) -> Any:
        """The raw value: numbers as bit patterns, references as objects."""
        return to_bits(self._cell.type.content, self._cell.value)

    def set_bits(self, store: Any, bits: Any) -> None:
        self._set(from_bits(self._cell.type.content, bits))

    def _set(self, value: Any) -> None:
        if not self._cell.type.mutable:
            raise EngineError("global is immutable")
        self._cell.value = self._own(value)

    def __repr__(self) -> str:
        return f"<Global {self._cell.type}>"
