"""Engine and Store: the Engine holds the Config once and the one CodeMap of its modules."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from .. import compile as compile_stage
from ..binary.module import Body, ModuleInfo
from ..codemap import CodeMap, Factory
from ..compile.numerics import FUEL_CHUNK
from ..config import NO_METERING, CodegenOptions, Config


def _translator(options: CodegenOptions) -> Callable[[ModuleInfo, int, Body], Factory]:
    """The translator with this Engine's options, looked up at each use (tests may substitute
    ``compile_stage.translate``)."""
    if options == NO_METERING:
        return lambda info, func_index, body: compile_stage.translate(info, func_index, body)
    return lambda info, func_index, body: compile_stage.translate(
        info, func_index, body, options)


class Engine:
    """Compilation context shared by modules: its Config (read once, here) and CodeMap.

    The compilation mode is fixed when the Engine is created; change the Config before.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config if config is not None else Config()
        self.options = self.config.codegen_options()
        self.code_map = CodeMap(self.config.compilation_mode, _translator(self.options))
        self._epoch = 0
        self._epoch_lock = threading.Lock()
        #: Stores with an epoch deadline (their interrupt flags are raised from here).
        self._deadlines: weakref.WeakSet[Store] = weakref.WeakSet()

    def increment_epoch(self) -> None:
        """Advance the epoch by one tick (callable from any thread, e.g. a timer); running
        wasm of a store whose deadline this reaches traps with "interrupt" at its next loop
        iteration or function entry."""
        with self._epoch_lock:
            self._epoch += 1
            for store in list(self._deadlines):
                if self._epoch >= store._deadline:
                    store.interrupt[0] = True

    def __repr__(self) -> str:
        return f"<Engine {self.config!r}>"


class Store:
    """Owner of runtime objects (wasmtime-py shaped). Objects are Python-GC managed; the store
    carries the engine (its call depth limit) and an optional user ``data``."""

    def __init__(self, engine: Engine | None = None, data: Any = None) -> None:
        self.engine = engine if engine is not None else Engine()
        self.data = data
        #: Remaining fuel and the interrupt flag, one-element lists that translated code
        #: binds (``rt.fuel``, ``rt.interrupt``).
        self.fuel = [0, 0]  # [chunk, reserve]: see engine.compile.numerics.refuel
        self.interrupt = [False]
        self._deadline = 0
        if self.engine.options.epoch:
            self.set_epoch_deadline(0)  # as wasmtime: trap at once until a deadline is set

    # -- fuel (Config.consume_fuel) -------------------------------------------------------

    def _need(self, feature: str) -> None:
        if not getattr(self.engine.config, feature):
            raise ValueError(f"{feature} is not enabled in this store's engine Config")

    def set_fuel(self, fuel: int) -> None:
        """Set the fuel left for wasm code (see ``engine.compile.control.scan`` for costs)."""
        self._need("consume_fuel")
        if not isinstance(fuel, int) or fuel < 0:
            raise ValueError("fuel must be a non-negative int")
        chunk = min(fuel, FUEL_CHUNK)
        self.fuel[0], self.fuel[1] = chunk, fuel - chunk

    def get_fuel(self) -> int:
        """The fuel left (0 once exhausted)."""
        self._need("consume_fuel")
        return max(self.fuel[0], 0) + self.fuel[1]

    # -- interruption (Config.epoch_interruption) -----------------------------------------

    def set_epoch_deadline(self, ticks_beyond_current: int) -> None:
        """Interrupt wasm of this store once the engine's epoch advanced by this many ticks."""
        self._need("epoch_interruption")
        engine = self.engine
        with engine._epoch_lock:
            self._deadline = engine._epoch + ticks_beyond_current
            self.interrupt[0] = engine._epoch >= self._deadline
            engine._deadlines.add(self)
