"""Types of the WebAssembly type system, shared by every stage.

Value types are plain strings (``"i32"``, ``"i64"``, ``"f32"``, ``"f64"``, ``"v128"``,
``"funcref"``, ``"externref"``): cheap to compare, readable in messages and generated code.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

I32 = "i32"
I64 = "i64"
F32 = "f32"
F64 = "f64"
V128 = "v128"
FUNCREF = "funcref"
EXTERNREF = "externref"

NUM_TYPES = (I32, I64, F32, F64)
REF_TYPES = (FUNCREF, EXTERNREF)
VALUE_TYPES = (I32, I64, F32, F64, V128, FUNCREF, EXTERNREF)

#: Binary encoding of value types (spec 5.3.3 / 5.3.4).
VALTYPE_CODES = {0x7F: I32, 0x7E: I64, 0x7D: F32, 0x7C: F64, 0x7B: V128, 0x70: FUNCREF, 0x6F: EXTERNREF}
REFTYPE_CODES = {0x70: FUNCREF, 0x6F: EXTERNREF}

#: Page size of linear memory and the 2.0 limits (in pages / elements).
PAGE_SIZE = 65536
MAX_PAGES = 65536
MAX_TABLE_SIZE = 0xFFFF_FFFF
#: memory64 / table64 bounds: 2**48 pages of 64 KiB, 2**64-1 elements.
MAX_PAGES_64 = 1 << 48
MAX_TABLE_SIZE_64 = (1 << 64) - 1


def is_ref(t: str) -> bool:
    """True for reference types."""
    return t in REF_TYPES


@dataclass(frozen=True)
class FuncType:
    """A function type: parameter and result value types. Equal and hashed by value; any
    iterables given (``FuncType([ValType.i32()], [])``, as wasmtime-py) are kept as tuples."""

    params: tuple[str, ...]
    results: tuple[str, ...]

    def __post_init__(self) -> None:
        if type(self.params) is not tuple:
            object.__setattr__(self, "params", tuple(self.params))
        if type(self.results) is not tuple:
            object.__setattr__(self, "results", tuple(self.results))

    def __str__(self) -> str:
        return f"[{' '.join(self.params)}] -> [{' '.join(self.results)}]"


#: Weak values: an interned type lives as long as a module, function or compiled body uses
#: it, so loading and dropping modules does not grow this table.
_FUNC_TYPES: weakref.WeakValueDictionary[tuple[tuple[str, ...], tuple[str, ...]], FuncType] = (
    weakref.WeakValueDictionary()
)
_INTERN_LOCK = threading.Lock()


def intern_func_type(params: tuple[str, ...], results: tuple[str, ...]) -> FuncType:
    """The one shared FuncType object for this signature.

    Interning lets the hot ``call_indirect`` check compare types with ``is`` first.
    """
    key = (tuple(params), tuple(results))
    ft = _FUNC_TYPES.get(key)
    if ft is None:
        with _INTERN_LOCK:
            ft = _FUNC_TYPES.get(key)
            if ft is None:
                ft = FuncType(*key)
                _FUNC_TYPES[key] = ft
    return ft


@dataclass(frozen=True)
class Limits:
    """Limits of a memory (pages) or table (elements); ``max`` is None when unbounded."""

    min: int
    max: int | None = None


@dataclass(frozen=True)
class TableType:
    """A table type: element reference type, limits and index type (``is_64``: table64)."""

    elem: str
    limits: Limits
    is_64: bool = False

    @property
    def index_type(self) -> str:
        """The type of element indices: ``"i64"`` for a 64-bit table, else ``"i32"``."""
        return I64 if self.is_64 else I32

    @property
    def element(self) -> str:
        """The element type (wasmtime-py's name for ``elem``)."""
        return self.elem


@dataclass(frozen=True)
class MemoryType:
    """A memory type: limits in pages, index type (``is_64``: memory64), ``shared`` (threads)
    and the page size as a power of two (custom page sizes: 0 or 16)."""

    limits: Limits
    is_64: bool = False
    shared: bool = False
    page_size_log2: int = 16

    @property
    def index_type(self) -> str:
        """The type of addresses: ``"i64"`` for a 64-bit memory, else ``"i32"``."""
        return I64 if self.is_64 else I32

    @property
    def page_size(self) -> int:
        return 1 << self.page_size_log2

    @property
    def min_bytes(self) -> int:
        """The minimum size in bytes (what store limits count)."""
        return self.limits.min << self.page_size_log2

    @property
    def max_pages(self) -> int:
        """The largest size in pages its index type can address (the spec's bound)."""
        bits = 64 if self.is_64 else 32
        return min(1 << (bits - self.page_size_log2), (1 << bits) - 1)


@dataclass(frozen=True)
class GlobalType:
    """A global type: value type and mutability."""

    content: str
    mutable: bool = False


def memory_type_match(actual: MemoryType, expected: MemoryType) -> bool:
    """Import matching of memory types: same index type, sharing and page size, and
    matching limits."""
    return (
        actual.is_64 == expected.is_64
        and actual.shared == expected.shared
        and actual.page_size_log2 == expected.page_size_log2
        and limits_match(actual.limits, expected.limits)
    )


def limits_match(actual: Limits, expected: Limits) -> bool:
    """Import subtyping of limits (spec 'Limits' in import matching)."""
    if actual.min < expected.min:
        return False
    if expected.max is None:
        return True
    return actual.max is not None and actual.max <= expected.max
