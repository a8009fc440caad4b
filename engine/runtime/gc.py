"""GC references at the host boundary (arguments, results, globals, tables).

References of the ``any`` hierarchy are opaque to the host: a struct comes out as a
:class:`~engine.gcobjects.StructRef`, an i31 as :class:`~engine.gcobjects.I31`, an array
as its :class:`~engine.gcobjects.GcArray`, and a host value stored in an ``anyref`` comes
back as itself. Going in, those boxes are unboxed and any other host object is boxed as a
:class:`~engine.gcobjects.HostAny` (only ``anyref`` itself accepts it), then checked
against the expected type like a ``ref.cast`` (a ``TypeError`` instead of a trap).
``funcref`` / ``externref`` / ``exnref`` values pass unchanged.
"""

from __future__ import annotations

from typing import Any

from ..compile.gc_helpers import make_test
from ..gcobjects import I31, GcArray, StructRef, from_host, to_host
from ..gctypes import RefType, as_reftype, heap_top, strip_exact


def _any_ref(t: Any) -> RefType | None:
    r = as_reftype(t)
    if isinstance(r, RefType) and is_any_ref(r):
        return r
    return None


def is_any_ref(r: RefType) -> bool:
    """Whether reference type ``r`` is in the ``any`` hierarchy (abstract heap types by name,
    canonical GC types by kind; other runtime heap types are function types)."""
    h = strip_exact(r.heap)
    if isinstance(h, str):
        return heap_top(h) == "any"
    return getattr(h, "kind", "func") != "func"


def ref_from_python(t: Any, value: Any) -> Any:
    """The internal value of a host reference for canonical reference type ``t``."""
    r = _any_ref(t)
    if r is None:
        return value
    if value is None:
        if not r.nullable:
            raise TypeError(f"expected a non-null reference for {r}, got None")
        return None
    internal = from_host(value)
    if not make_test(r.heap, False)(internal):
        raise TypeError(f"expected a reference of type {r}, got {type(value).__name__}")
    return internal


def ref_to_python(t: Any, value: Any) -> Any:
    """The host's view of an internal reference of type ``t``."""
    if value is None or _any_ref(t) is None:
        return value
    return to_host(value)


def ref_kind(ref: Any) -> str:
    """The kind of a non-null reference the host holds: "struct", "array", "i31", or
    "extern" for any other object (used by the conformance runner's result patterns)."""
    t = type(ref)
    if t is StructRef:
        return "struct"
    if t is GcArray:
        return "array"
    if t is I31:
        return "i31"
    return "extern"
