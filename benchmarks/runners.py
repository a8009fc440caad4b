"""Adapters that load a kernel's module in one engine and return ``run(n) -> checksum``.

Every adapter raises ``Unavailable`` when its engine is not installed, so the harness can
report "n/a" instead of crashing. Results are normalised (i32 as unsigned, f64 as float) so
checksums compare equal across engines that report i32 signed or unsigned.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

MASK32 = 0xFFFF_FFFF

RunFn = Callable[[int], object]


class Unavailable(Exception):
    """The engine is not installed or not usable in this environment."""


def normalise(result: str, value: object) -> object:
    """Canonical checksum: unsigned i32, or the f64's bit pattern (exact, NaN-safe)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"expected one result, got {value!r}")
        value = value[0]
    if result == "i32":
        return int(value) & MASK32
    if result == "f64":
        return struct.unpack("<Q", struct.pack("<d", float(value)))[0]
    raise ValueError(f"unknown result type {result}")


def show(result: str, checksum: object) -> str:
    """Human form of a normalised checksum."""
    if result == "f64" and isinstance(checksum, int):
        return repr(struct.unpack("<d", struct.pack("<Q", checksum))[0])
    return str(checksum)


def load_ours(wasm: bytes, mode: str | None = None) -> RunFn:
    """Our engine through its public API."""
    try:
        from engine import Config, Engine, Instance, Module, Store
    except ImportError as exc:
        raise Unavailable(f"engine public API not importable: {exc}") from exc
    config = Config()
    if mode is not None:
        config.compilation_mode = mode
    engine = Engine(config)
    store = Store(engine)
    instance = Instance(store, Module(engine, wasm), [])
    func = instance.exports(store)["run"]
    return lambda n: func(store, n)


def load_pywasm(wasm: bytes) -> RunFn:
    """pywasm (PyPI): ``Runtime.instance`` + ``Runtime.invocate``."""
    try:
        import pywasm
    except ImportError as exc:
        raise Unavailable("pywasm not installed") from exc
    runtime = pywasm.core.Runtime()
    instance = runtime.instance(pywasm.core.ModuleDesc.from_reader(io.BytesIO(wasm)))
    return lambda n: runtime.invocate(instance, "run", [n])


def load_wasmtime(wasm: bytes) -> RunFn:
    """wasmtime-py (native, for scale)."""
    try:
        import wasmtime
    except ImportError as exc:
        raise Unavailable("wasmtime not installed") from exc
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, wasmtime.Module(engine, wasm), [])
    func = instance.exports(store)["run"]
    return lambda n: func(store, n)


#: Wasm engines by column name, in table order.
WASM_ENGINES: dict[str, Callable[[bytes], RunFn]] = {
    "ours": load_ours,
    "pywasm": load_pywasm,
    "wasmtime": load_wasmtime,
}
