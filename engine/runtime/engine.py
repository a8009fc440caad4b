"""Engine and Store: the Engine holds the Config once and the one CodeMap of its modules;
the Store owns runtime objects and the limits on them (``Store.set_limits``)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from .. import compile as compile_stage
from ..binary.module import Body, ModuleInfo
from ..codemap import CodeMap, Factory
from ..compile.fuel import EpochTicker, Meters, fuel_left, new_cell, set_fuel_left
from ..config import NO_METERING, CodegenOptions, Config
from ..errors import ResourceLimitError
from ..types import PAGE_SIZE
from .frames import tag


def _translator(options: CodegenOptions) -> Callable[[ModuleInfo, int, Body], Factory]:
    """The translator with this Engine's options, looked up at each use (tests may substitute
    ``compile_stage.translate``); the result is tagged so that trap frames can name the
    function."""

    def translate(info: ModuleInfo, func_index: int, body: Body,
                  unguarded: bool = False) -> Factory:
        if unguarded:  # what a failed entry guard runs (compile/entry_guard.py)
            factory = compile_stage.translate(info, func_index, body, options,
                                              entry_guard=False)
        elif options == NO_METERING:
            factory = compile_stage.translate(info, func_index, body)
        else:
            factory = compile_stage.translate(info, func_index, body, options)
        tag(factory, info, func_index)
        return factory

    return translate


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
                    store._interrupt()

    def __repr__(self) -> str:
        return f"<Engine {self.config!r}>"


class StoreLimits:
    """The limits of one Store (None: unlimited) and what it has created so far.

    As in wasmtime: ``memory_size`` (bytes) and ``table_elements`` bound each memory and
    table (at creation and when it grows); ``instances``, ``tables`` and ``memories`` bound
    how many the store creates in its lifetime. Memories and tables consult this object at
    every growth, so limits set later apply to existing ones too.
    """

    __slots__ = ("instances", "memories", "memory_size", "num_instances", "num_memories",
                 "num_tables", "table_elements", "tables")

    def __init__(self) -> None:
        self.memory_size: int | None = None
        self.table_elements: int | None = None
        self.instances: int | None = None
        self.tables: int | None = None
        self.memories: int | None = None
        self.num_instances = self.num_tables = self.num_memories = 0

    def memory_fits(self, nbytes: int) -> bool:
        return self.memory_size is None or nbytes <= self.memory_size

    def table_fits(self, elements: int) -> bool:
        return self.table_elements is None or elements <= self.table_elements

    def reserve(self, instances: int, memories: int, tables: int,
                min_bytes: list[int], min_elements: list[int]) -> None:
        """Check that one instantiation (or one host object) fits, then count it; raise
        ResourceLimitError naming the first limit it would pass, counting nothing.
        ``min_bytes``: the memories' minimum sizes in bytes (pages may be custom-sized)."""
        for nbytes in min_bytes:
            if not self.memory_fits(nbytes):
                size = f"{nbytes // PAGE_SIZE} pages" if nbytes % PAGE_SIZE == 0 \
                    else f"{nbytes} bytes"
                raise ResourceLimitError(
                    f"memory minimum size of {size} exceeds memory limits "
                    f"({self.memory_size} bytes)")
        for elements in min_elements:
            if not self.table_fits(elements):
                raise ResourceLimitError(
                    f"table minimum size of {elements} elements exceeds table limits "
                    f"({self.table_elements} elements)")
        counts = (("instance", instances, self.num_instances, self.instances),
                  ("memory", memories, self.num_memories, self.memories),
                  ("table", tables, self.num_tables, self.tables))
        for what, more, have, limit in counts:
            if more and limit is not None and have + more > limit:
                raise ResourceLimitError(
                    f"resource limit exceeded: {what} count too high at {have + more} "
                    f"(limit {limit})")
        self.num_instances += instances
        self.num_memories += memories
        self.num_tables += tables


class Store:
    """Owner of runtime objects (wasmtime-py shaped). Objects are Python-GC managed; the store
    carries the engine (its call depth limit), its limits and an optional user ``data``.

    Every Func, Memory, Table and Global belongs to the store it was created in (a Func
    made without a store, as ``Linker.define_func`` makes them, belongs to none and may be
    used in any); passing one to another store raises StoreMismatchError.
    """

    def __init__(self, engine: Engine | None = None, data: Any = None) -> None:
        self.engine = engine if engine is not None else Engine()
        self.data = data
        self.limits = StoreLimits()
        #: Remaining fuel and the interrupt flag, lists that translated code binds
        #: (``rt.fuel``, ``rt.interrupt``); ``meters``: the fuel meters of CPython's charges
        #: (``rt.meters``). See engine.compile.fuel.
        self.fuel = new_cell()  # [chunk, reserve, meters]
        self.interrupt: list[bool] = []  # non-empty: past the epoch deadline
        #: The countdown PyPy's entry polls use (``rt.store.epoch_ticker``, fuel.py).
        self.epoch_ticker = EpochTicker(self.interrupt)
        self.meters: Meters | None = None
        if self.engine.options.fuel:
            self.meters = self.fuel[2] = Meters(self.fuel, self.interrupt)
        self._deadline = 0
        self.wasi_config: Any = None
        self.wasi_state: Any = None
        if self.engine.options.epoch:
            self.set_epoch_deadline(0)  # as wasmtime: trap at once until a deadline is set

    def set_limits(self, memory_size: int = -1, table_elements: int = -1, instances: int = -1,
                   tables: int = -1, memories: int = -1) -> None:
        """Limit this store's resources (wasmtime-py's ``Store.set_limits``).

        ``memory_size``: bytes any one linear memory may have; ``table_elements``: elements
        any one table may have; ``instances``, ``tables``, ``memories``: how many the store
        may create. Growth past a limit makes ``memory.grow`` / ``table.grow`` return -1 (and
        ``Memory.grow`` / ``Table.grow`` raise); an instantiation or a host ``Memory`` /
        ``Table`` past one raises ResourceLimitError, leaving the store usable. A negative
        value leaves that limit as it was.
        """
        limits = self.limits
        for name, value in (("memory_size", memory_size), ("table_elements", table_elements),
                            ("instances", instances), ("tables", tables),
                            ("memories", memories)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if value >= 0:
                setattr(limits, name, value)

    def __repr__(self) -> str:
        return f"<Store of {self.engine!r}>"


    # -- fuel (Config.consume_fuel) -------------------------------------------------------

    def _need(self, feature: str) -> None:
        if not getattr(self.engine.config, feature):
            raise ValueError(f"{feature} is not enabled in this store's engine Config")

    def set_fuel(self, fuel: int) -> None:
        """Set the fuel left for wasm code (costs: docs/untrusted.md, ``control.scan``)."""
        self._need("consume_fuel")
        if not isinstance(fuel, int) or isinstance(fuel, bool) or fuel < 0:
            raise ValueError("fuel must be a non-negative int")
        set_fuel_left(self.fuel, fuel)

    def get_fuel(self) -> int:
        """The fuel left (0 once exhausted)."""
        self._need("consume_fuel")
        return fuel_left(self.fuel)

    # -- interruption (Config.epoch_interruption) -----------------------------------------

    def set_epoch_deadline(self, ticks_beyond_current: int) -> None:
        """Interrupt wasm of this store once the engine's epoch advanced by this many ticks."""
        self._need("epoch_interruption")
        engine = self.engine
        with engine._epoch_lock:
            self._deadline = engine._epoch + ticks_beyond_current
            self.interrupt.clear()
            if engine._epoch >= self._deadline:
                self._interrupt()
            engine._deadlines.add(self)

    def _interrupt(self) -> None:
        """Past the deadline (under the engine's epoch lock): raise the flag translated code
        polls, end the count of the entry polls (PyPy's), whose next poll then reads the
        flag, and end the fuel meters' chunks, whose next refill reads it."""
        if not self.interrupt:
            self.interrupt.append(True)
        self.epoch_ticker.stop()
        if self.meters is not None:
            self.meters.stop()

    def set_wasi(self, config: Any) -> None:
        """Give this store a WASI configuration (``engine.wasi.WasiConfig``); the WASI state
        (fd table, preopens) is created from it on the first WASI call of the store."""
        if self.wasi_state is not None:
            self.wasi_state.close()  # the previous configuration's open files
        self.wasi_config = config
        self.wasi_state = None
