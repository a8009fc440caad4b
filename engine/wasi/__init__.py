"""WASI preview 1 (``wasi_snapshot_preview1``) for the engine, wasmtime-py shaped::

    config = WasiConfig(); config.argv = ["prog", "x"]; config.inherit_stdout()
    config.preopen_dir("/tmp/data", "/data")
    store.set_wasi(config)
    linker = Linker(engine); linker.define_wasi()
    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
    except ExitTrap as exit:
        code = exit.code

The package splits by concern: ``config`` (WasiConfig), ``state`` (per-store state),
``fdtable`` (fds and rights), ``sandbox`` (path resolution confined to a directory),
``guest`` (checked memory access), ``constants`` (errno, rights, flags), and the calls in
``calls_env``, ``calls_fd``, ``calls_path``, ``calls_poll`` (registered in ``registry``).
"""

from __future__ import annotations

from typing import Any

from ..errors import ExitTrap
from ..runtime import Func
from ..types import FuncType
from . import calls_env, calls_fd, calls_path, calls_poll  # noqa: F401  (register the calls)
from .config import Preopen, WasiConfig
from .registry import MODULE, SYSCALLS, host_function
from .state import WasiState, state_of

_TYPES = {"i": "i32", "I": "i64"}


def wasi_functions() -> dict[str, Func]:
    """A host ``Func`` (taking the caller) for every WASI preview 1 function, by name."""
    funcs = {}
    for name, call in SYSCALLS.items():
        ftype = FuncType([_TYPES[p] for p in call.params], ["i32"] if call.returns_errno else [])
        funcs[name] = Func.from_raw(None, ftype, host_function(call.impl), access_caller=True)
    return funcs


def define_wasi(linker: Any) -> None:
    """Define all of ``wasi_snapshot_preview1`` in ``linker``."""
    for name, func in wasi_functions().items():
        linker.define(None, MODULE, name, func)


__all__ = [
    "MODULE",
    "SYSCALLS",
    "ExitTrap",
    "Preopen",
    "WasiConfig",
    "WasiState",
    "define_wasi",
    "state_of",
    "wasi_functions",
]
