"""Measure candidate representations of GC objects (the figures in engine/runtime/gc.py).

``python -m benchmarks.gc_repr``

For one struct of three i32 fields, one array of 1,000 i8 and one i31 it prints the bytes
retained (tracemalloc over 10,000 objects, divided) and the time of a field read, an
allocation and (arrays) an element read, for each alternative.
"""

from __future__ import annotations

import timeit
import tracemalloc
from array import array
from collections.abc import Callable
from typing import Any

N_OBJECTS = 10_000


class _Rtt:
    """Stands for a canonical type."""


RTT = _Rtt()


class SlotsPerType:
    """Alternative A: one __slots__ class per struct type (fields as attributes)."""

    __slots__ = ("f0", "f1", "f2")
    rtt = RTT

    def __init__(self, a: int, b: int, c: int) -> None:
        self.f0 = a
        self.f1 = b
        self.f2 = c


class GenericStruct:
    """Alternative B: one class for all structs: type + list of fields."""

    __slots__ = ("fields", "rtt")

    def __init__(self, rtt: Any, fields: list) -> None:
        self.rtt = rtt
        self.fields = fields


class ListStruct(list):
    """Alternative C: a list subclass, index 0 the type, fields from index 1."""

    __slots__ = ()


class I31Box:
    """Tagged i31 wrapper (alternative to plain ints)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


def retained(make: Callable[[int], Any]) -> float:
    """Bytes per object retained by ``N_OBJECTS`` objects built by ``make(i)``."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    keep = [make(i) for i in range(N_OBJECTS)]
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    list_overhead = 8 * len(keep)  # the list holding them: one pointer each
    del keep
    return (used - list_overhead) / N_OBJECTS


def ns(stmt: str, setup: dict[str, Any], number: int = 200_000) -> float:
    """Nanoseconds per execution of ``stmt`` (best of 5)."""
    t = min(timeit.repeat(stmt, globals=setup, number=number, repeat=5))
    return t / number * 1e9


def structs() -> list[tuple[str, float, float, float]]:
    """(name, bytes, ns read of field 1, ns allocation)."""
    g: dict[str, Any] = {"SlotsPerType": SlotsPerType, "GenericStruct": GenericStruct,
                         "ListStruct": ListStruct, "RTT": RTT}
    g["sa"] = SlotsPerType(1, 2, 3)
    g["sb"] = GenericStruct(RTT, [1, 2, 3])
    g["sc"] = ListStruct((RTT, 1, 2, 3))
    g["sd"] = [RTT, 1, 2, 3]
    g["new_a"] = SlotsPerType.__new__
    return [
        ("__slots__ class per type", retained(lambda i: SlotsPerType(i, i, i)),
         ns("sa.f1", g), ns("SlotsPerType(1, 2, 3)", g)),
        ("generic class + field list", retained(lambda i: GenericStruct(RTT, [i, i, i])),
         ns("sb.fields[1]", g), ns("GenericStruct(RTT, [1, 2, 3])", g)),
        ("list subclass [rtt, f...]", retained(lambda i: ListStruct((RTT, i, i, i))),
         ns("sc[2]", g), ns("ListStruct((RTT, 1, 2, 3))", g)),
        ("plain list [rtt, f...]", retained(lambda i: [RTT, i, i, i]),
         ns("sd[2]", g), ns("[RTT, 1, 2, 3]", g)),
    ]


def arrays() -> list[tuple[str, float, float, float]]:
    """(name, bytes, ns read of element 500 sign-extended, ns allocation of 1,000)."""
    g: dict[str, Any] = {"array": array}
    g["a_list"] = [0] * 1000
    g["a_bytes"] = bytearray(1000)
    g["a_arr"] = array("b", bytes(1000))
    return [
        ("list of int", retained(lambda i: [i & 0x7F] * 1000),
         ns("(a_list[500] ^ 0x80) - 0x80", g), ns("[0] * 1000", g, 20_000)),
        ("bytearray", retained(lambda i: bytearray(1000)),
         ns("(a_bytes[500] ^ 0x80) - 0x80", g), ns("bytearray(1000)", g, 20_000)),
        ("array('b')", retained(lambda i: array("b", bytes(1000))),
         ns("a_arr[500]", g), ns("array('b', bytes(1000))", g, 20_000)),
    ]


def i31s() -> list[tuple[str, float, float, float]]:
    """(name, bytes, ns i31.get_s, ns ref.i31)."""
    g: dict[str, Any] = {"I31Box": I31Box, "v": 123456, "b": I31Box(123456)}
    return [
        ("plain int (value & 0x7FFFFFFF)", retained(lambda i: (i + 1000) & 0x7FFFFFFF),
         ns("((v ^ 0x40000000) - 0x40000000) & 0xFFFFFFFF", g), ns("v & 0x7FFFFFFF", g)),
        ("tagged wrapper object", retained(lambda i: I31Box(i + 1000)),
         ns("((b.value ^ 0x40000000) - 0x40000000) & 0xFFFFFFFF", g),
         ns("I31Box(v & 0x7FFFFFFF)", g)),
    ]


def main() -> None:
    for title, rows, cols in (
        ("struct {i32, i32, i32}", structs(), ("get", "new")),
        ("array of 1,000 i8", arrays(), ("get_s", "new")),
        ("i31", i31s(), ("get_s", "ref.i31")),
    ):
        print(f"\n{title}")
        print(f"  {'representation':32} {'bytes':>7} {cols[0] + ' ns':>9} {cols[1] + ' ns':>9}")
        for name, size, read, new in rows:
            print(f"  {name:32} {size:7.0f} {read:9.1f} {new:9.1f}")


if __name__ == "__main__":
    main()
