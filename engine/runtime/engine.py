"""Engine and Store: the Engine holds the Config once and the one CodeMap of its modules."""

from __future__ import annotations

from typing import Any

from .. import compile as compile_stage
from ..binary.module import Body, ModuleInfo
from ..codemap import CodeMap, Factory
from ..config import Config


def _translate(info: ModuleInfo, func_index: int, body: Body) -> Factory:
    """The translator, looked up at each use (tests may substitute ``compile_stage.translate``)."""
    return compile_stage.translate(info, func_index, body)


class Engine:
    """Compilation context shared by modules: its Config (read once, here) and CodeMap.

    The compilation mode is fixed when the Engine is created; change the Config before.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config if config is not None else Config()
        self.code_map = CodeMap(self.config.compilation_mode, _translate)

    def __repr__(self) -> str:
        return f"<Engine {self.config!r}>"


class Store:
    """Owner of runtime objects (wasmtime-py shaped). Objects are Python-GC managed; the store
    carries the engine (its call depth limit) and an optional user ``data``."""

    def __init__(self, engine: Engine | None = None, data: Any = None) -> None:
        self.engine = engine if engine is not None else Engine()
        self.data = data
        self.wasi_config: Any = None
        self.wasi_state: Any = None

    def set_wasi(self, config: Any) -> None:
        """Give this store a WASI configuration (``engine.wasi.WasiConfig``); the WASI state
        (fd table, preopens) is created from it on the first WASI call of the store."""
        if self.wasi_state is not None:
            self.wasi_state.close()  # the previous configuration's open files
        self.wasi_config = config
        self.wasi_state = None
