"""The adapter for this project's engine, through its public API only (docs/architecture.md).

Raw values: ``Func.call_bits`` and ``Global.bits`` take and give bit patterns (refs as
objects). In the ``lazy`` mode bodies are validated on first call, so for ``assert_invalid``
and ``assert_malformed`` the runner asks for ``module.compile_all()`` right after
``Module(...)``: every deferred error surfaces there, and is still classified by its type.
"""

from __future__ import annotations

from typing import Any

from spectest.adapters import (
    SPECTEST_GLOBALS,
    SPECTEST_MEMORY,
    SPECTEST_PRINTS,
    SPECTEST_SHARED_MEMORY,
    SPECTEST_TABLE,
    SPECTEST_TABLE64,
    Adapter,
    AdapterError,
    FuncSig,
    Session,
    SessionSpec,
)
from spectest.values import default_kind


def _classify(exc: BaseException) -> AdapterError:
    """Map the engine's exception classes (engine.errors) to adapter kinds."""
    import engine

    text = str(exc)
    for cls, kind in ((engine.MalformedError, "malformed"), (engine.InvalidError, "invalid"),
                      (engine.LinkError, "unlinkable"), (engine.ExhaustionError, "exhaustion"),
                      (engine.Trap, "trap"),
                      (getattr(engine, "WasmException", ()), "exception"),
                      (engine.WasmError, "other")):
        if isinstance(exc, cls):
            return AdapterError(kind, text)
    return AdapterError("crash", f"{type(exc).__name__}: {text}")


def apply_features(config: Any, features: dict[str, bool]) -> list[str]:
    """Set the manifest's feature flags on a Config (wasmtime-py's names, e.g.
    ``wasm_memory64``) and return the names this Config does not have.

    An engine whose Config has no ``wasm_*`` flag at all predates feature sets: nothing is
    applied and every name is returned (the CLI and the report say so). An engine that has
    flags but not one the manifest names is an error: a misspelt flag must not pass
    silently."""
    has_flags = any(name.startswith("wasm_") and hasattr(config, name)
                    for name in dir(config)) or any(hasattr(config, n) for n in features)
    if not has_flags:
        return sorted(features)
    for name, value in features.items():
        if not hasattr(config, name):
            raise AdapterError("crash", f"engine Config has no feature flag {name!r} "
                                        f"(named in the manifest)")
        setattr(config, name, bool(value))
    return []


class EngineSession(Session):
    """A Store of our engine in one compilation mode and feature set, with spectest and the
    registry."""

    def __init__(self, mode: str, features: dict[str, bool] | None = None) -> None:
        import engine as E

        self.E = E
        config = E.Config()
        config.compilation_mode = mode
        self.unapplied = apply_features(config, dict(features or {}))
        self.engine = E.Engine(config)
        self.store = E.Store(self.engine)
        self.registry: dict[str, dict[str, Any]] = {"spectest": self._spectest()}

    def _spectest(self) -> dict[str, Any]:
        E, s = self.E, self.store
        out: dict[str, Any] = {}
        for name, params in SPECTEST_PRINTS.items():
            out[name] = E.Func(s, E.FuncType(list(params), []), lambda *a: None)
        for name, (t, v) in SPECTEST_GLOBALS.items():
            out[name] = E.Global(s, E.GlobalType(t, False), v)
        lo, hi = SPECTEST_TABLE
        out["table"] = E.Table(s, E.TableType("funcref", E.Limits(lo, hi)), None)
        lo, hi = SPECTEST_MEMORY
        out["memory"] = E.Memory(s, E.MemoryType(E.Limits(lo, hi)))
        # Wasm 3.0 / threads additions of the reference interpreter's spectest module.
        lo, hi = SPECTEST_TABLE64
        out["table64"] = E.Table(s, E.TableType("funcref", E.Limits(lo, hi), is_64=True), None)
        lo, hi = SPECTEST_SHARED_MEMORY
        out["shared_memory"] = E.Memory(s, E.MemoryType(E.Limits(lo, hi), shared=True))
        return out

    def compile(self, data: bytes, check_all: bool = False) -> Any:
        try:
            module = self.E.Module(self.engine, data)
            if check_all:
                module.compile_all()
            return module
        except Exception as exc:
            raise _classify(exc) from exc

    def instantiate(self, module: Any) -> Any:
        try:
            linker = self.E.Linker(self.engine)
            for mod_name, externs in self.registry.items():
                for name, ext in externs.items():
                    linker.define(self.store, mod_name, name, ext)
            return linker.instantiate(self.store, module)
        except Exception as exc:
            raise _classify(exc) from exc

    def register(self, name: str, instance: Any) -> None:
        self.registry[name] = dict(instance.exports(self.store).items())

    def _export(self, instance: Any, field: str) -> Any:
        try:
            return instance.exports(self.store)[field]
        except Exception as exc:
            raise AdapterError("other", f"no export {field!r}: {exc!r}") from exc

    def func_type(self, instance: Any, field: str) -> FuncSig | None:
        func = self._export(instance, field)
        if not isinstance(func, self.E.Func):
            raise AdapterError("other", f"export {field!r} is not a function")
        ft = func.type(self.store)
        return FuncSig(tuple(map(str, ft.params)), tuple(map(str, ft.results)))

    def ref_kind(self, ref: object) -> str:
        if isinstance(ref, self.E.Func):
            return "func"
        kind = default_kind(ref)
        if kind:
            return kind
        classify = getattr(self.E, "ref_kind", None)  # GC objects, when the engine has them
        return classify(ref) if classify is not None else "extern"

    def invoke(self, instance: Any, field: str, args: list[object],
               types: list[str]) -> list[object]:
        func = self._export(instance, field)
        try:
            return list(func.call_bits(self.store, list(args)))
        except Exception as exc:
            raise _classify(exc) from exc

    def get(self, instance: Any, field: str) -> object:
        glob = self._export(instance, field)
        try:
            return glob.bits(self.store)
        except Exception as exc:
            raise _classify(exc) from exc


class EngineAdapter(Adapter):
    """This project's engine (``import engine``)."""

    name = "engine"

    def session(self, spec: SessionSpec) -> Session:
        try:
            return EngineSession(spec.mode, dict(spec.features))
        except AdapterError:
            raise
        except Exception as exc:  # noqa: BLE001 - an engine that cannot start fails each command
            raise AdapterError("crash", f"cannot create a store: {type(exc).__name__}: {exc}")

    def unapplied_features(self, features: dict[str, bool]) -> list[str]:
        """The manifest's feature names this engine's Config cannot take (see
        :func:`apply_features`); reported, not silently dropped."""
        import engine as E

        return apply_features(E.Config(), dict(features)) if features else []
