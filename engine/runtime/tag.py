"""Tags of exception handling: ``Tag(store, TagType(FuncType([...], [])))``.

A tag is an identity: a ``catch`` clause matches the exceptions thrown with its very tag
object, whichever instance defined, imported or exported it. Instances hold their tag index
space in ``rt.tags`` (imported tags are the exporter's objects).
"""

from __future__ import annotations

from typing import Any

from ..errors import EngineError
from ..types import FuncType, TagType, intern_func_type
from .values import from_python, to_python


class Tag:
    """A tag (wasmtime-py shaped): made by the host or by an instance, importable and
    exportable; ``type(store)`` gives its TagType."""

    __slots__ = ("__weakref__", "_deftype", "_store", "_type")

    def __init__(self, store: Any, tag_type: TagType) -> None:
        ft = tag_type.functype if isinstance(tag_type, TagType) else tag_type
        if not isinstance(ft, FuncType):
            raise TypeError("Tag needs a TagType (or the FuncType of its payload)")
        if ft.results:
            raise EngineError("non-empty tag result type")
        self._store = store
        self._type = TagType(intern_func_type(tuple(ft.params), ()))
        self._deftype = None  # a host tag matches by signature

    @classmethod
    def _wasm(cls, store: Any, functype: FuncType, deftype: Any = None) -> Tag:
        """A tag defined by an instance (``functype``: its canonical runtime type;
        ``deftype``: its canonical GC type, for iso-recursive import matching)."""
        self = cls.__new__(cls)
        self._store = store
        self._type = TagType(functype)
        self._deftype = deftype
        return self

    def type(self, store: Any = None) -> TagType:
        return self._type

    def _internal_payload(self, payload: Any) -> tuple:
        """Python values -> internal values, checked against the tag's parameters."""
        params = self._type.functype.params
        values = list(payload)
        if len(values) != len(params):
            raise TypeError(f"tag payload needs {len(params)} values, got {len(values)}")
        return tuple(from_python(t, v) for t, v in zip(params, values))

    def _external_payload(self, values: tuple) -> list[Any]:
        return [to_python(t, v) for t, v in zip(self._type.functype.params, values)]

    def __repr__(self) -> str:
        return f"<Tag {self._type.functype}>"
