"""Running one wasm binary in our engine and in wasmtime, for tests that compare the two:
a fresh instance of either (``instance``) and, per argument, the result of ``run`` (or
"trap") with a checksum of memory after it (``run_and_sum``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

M64 = (1 << 64) - 1

#: ``(run(arg), total(), trap exception type)`` of one instance.
Calls = tuple[Callable[[int], int], Callable[[], int], Any]


def instance(wasm: bytes, mode: str | None) -> Calls:
    """A fresh instance of ``wasm`` exporting ``run`` and ``sum``: ours in compilation
    ``mode``, or wasmtime's for ``None``."""
    if mode is None:
        import wasmtime

        store = wasmtime.Store()
        ex = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), []).exports(store)
        trap: Any = wasmtime.Trap
    else:
        from engine import Config, Engine, Instance, Module, Store, Trap

        store = Store(Engine(Config(compilation_mode=mode)))
        ex = Instance(store, Module(store.engine, wasm), []).exports(store)
        trap = Trap
    return (lambda n: ex["run"](store, n)), (lambda: ex["sum"](store)), trap


def run_and_sum(calls: Calls, args: Iterable[int]) -> list:
    """For each argument: ``run``'s result mod 2**64 (or "trap") and the checksum after it."""
    run, total, trap = calls
    out: list = []
    for n in args:
        try:
            out.append(run(n) & M64)
        except trap:
            out.append("trap")
        out.append(total() & M64)
    return out


def fresh_each(wasm: bytes, mode: str | None, args: Iterable[int]) -> list:
    """``run_and_sum`` with a fresh instance for every argument."""
    return [x for n in args for x in run_and_sum(instance(wasm, mode), (n,))]


def ours_and_wasmtime(wasm: bytes, mode: str, results: Callable[..., list]) -> tuple[list, list]:
    """``results(exports, store, trap_type)`` of one instance of ``wasm`` in our engine
    (compilation ``mode``) and of one in wasmtime."""
    import wasmtime

    from engine import Config, Engine, Instance, Module, Store, Trap

    store = Store(Engine(Config(compilation_mode=mode)))
    ours = results(Instance(store, Module(store.engine, wasm), []).exports(store), store, Trap)
    wstore = wasmtime.Store()
    inst = wasmtime.Instance(wstore, wasmtime.Module(wstore.engine, wasm), [])
    return ours, results(inst.exports(wstore), wstore, wasmtime.Trap)
