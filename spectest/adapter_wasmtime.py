"""The wasmtime adapter (wasmtime-py): the reference the runner is proven against.

Raw values go through wasmtime's C API value union directly, so f32/f64 NaN payloads and
v128 lanes cross bit-exactly (wasmtime-py's own ``Val`` would round-trip floats through
Python floats and does not carry v128).

wasmtime reports every compile failure alike, so it cannot tell a malformed module from an
invalid one: ``merges_malformed_invalid`` is set and the runner accepts either kind for both
``assert_malformed`` and ``assert_invalid`` for this adapter only; its compile and link error
texts are its own (``checked_messages`` holds traps and exhaustion only: the runner checks the
kind of compile and link errors, not their text). Trap
codes are mapped to the specification's trap messages.

Feature sets: the manifest's flags use wasmtime-py's names and are set on its Config as they
are; ``wasm_extended_const`` has no switch in wasmtime (always on). Without flags (an ad-hoc
script) wasmtime runs with the Wasm 2.0 set of the d76759e pin.
"""

from __future__ import annotations

import ctypes
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._func import enter_wasm

from spectest.adapters import (
    SPECTEST_GLOBALS,
    SPECTEST_MEMORY,
    SPECTEST_PRINTS,
    SPECTEST_TABLE,
    Adapter,
    AdapterError,
    FuncSig,
    Session,
    SessionSpec,
)
from spectest.values import HostRef, default_kind

_TC = wasmtime.TrapCode
#: wasmtime trap code -> the spec's wording. One code can stand for two spec traps (a table
#: index out of range is "undefined element" in call_indirect and "out of bounds table
#: access" elsewhere); both wordings are given so either expectation is met.
TRAP_MESSAGES = {
    _TC.MEMORY_OUT_OF_BOUNDS: "out of bounds memory access",
    _TC.TABLE_OUT_OF_BOUNDS: "out of bounds table access / undefined element",
    _TC.INDIRECT_CALL_TO_NULL: "uninitialized element",
    _TC.BAD_SIGNATURE: "indirect call type mismatch",
    _TC.INTEGER_OVERFLOW: "integer overflow",
    _TC.INTEGER_DIVISION_BY_ZERO: "integer divide by zero",
    _TC.BAD_CONVERSION_TO_INTEGER: "invalid conversion to integer",
    _TC.UNREACHABLE: "unreachable executed",
    _TC.NULL_REFERENCE: "null reference / null function reference / null structure reference"
                       " / null array reference / null i31 reference",
}
_KIND_CODE = {"i32": ffi.WASMTIME_I32, "i64": ffi.WASMTIME_I64, "f32": ffi.WASMTIME_F32,
              "f64": ffi.WASMTIME_F64, "v128": ffi.WASMTIME_V128}
#: wasmtime_valkind_t of anyref and exnref (wasmtime/val.h; wasmtime-py has no names).
ANYREF_KIND, EXNREF_KIND = 7, 8
#: Flags wasmtime has no switch for (always on), or cannot turn off: wasmtime-py 50's engine
#: panics without reference types ("the component-model-async feature requires the wasm
#: reference-types proposal"), so the threads suite's "multiple tables" rejections are listed
#: as wasmtime's expected failures instead.
ALWAYS_ON = {"wasm_extended_const", "wasm_reference_types"}
#: Flags of proposals wasmtime does not implement (no switch to turn on): the legacy
#: exception handling (try/catch/delegate; wasmtime has only Wasm 3.0's try_table) and
#: custom descriptors (wasmtime-py has no switch for it). Not
#: applied (reported as such); the scripts that need them are wasmtime's expected failures.
NEVER_ON = {"legacy_exceptions", "wasm_custom_descriptors"}
#: Without manifest flags: Wasm 2.0 (memory64 off, else limits decode as u64 and overlong u32
#: LEBs pass).
WASM2 = {"wasm_simd": True, "wasm_reference_types": True, "wasm_bulk_memory": True,
         "wasm_multi_value": True, "wasm_relaxed_simd": True, "wasm_multi_memory": False,
         "wasm_memory64": False, "wasm_threads": False, "wasm_tail_call": False,
         "wasm_gc": False, "wasm_function_references": False, "wasm_exceptions": False}


def _config(features: dict[str, bool]) -> wasmtime.Config:
    """A wasmtime Config with the manifest's feature flags (unknown names are an error)."""
    cfg = wasmtime.Config()
    for name, value in (features or WASM2).items():
        if name in ALWAYS_ON or name in NEVER_ON:
            continue
        if not hasattr(type(cfg), name):
            raise AdapterError("crash", f"wasmtime Config has no feature flag {name!r}")
        setattr(cfg, name, bool(value))
    if features.get("wasm_threads"):
        cfg.shared_memory = True  # wasmtime's separate switch for shared memories
    return cfg


class WasmtimeRef:
    """A non-null anyref/exnref result of wasmtime, with its kind (i31, struct, ...)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"<wasmtime {self.kind} ref>"


def _classify(exc: Exception, stage: str) -> AdapterError:
    if isinstance(exc, wasmtime.Trap) or "thrown Wasm exception" in str(exc):
        if "thrown Wasm exception" in str(exc):
            return AdapterError("exception", "uncaught exception")
        code = exc.trap_code
        if code == _TC.STACK_OVERFLOW:
            return AdapterError("exhaustion", "call stack exhausted")
        return AdapterError("trap", TRAP_MESSAGES.get(code, exc.message))
    text = str(exc).strip()
    if stage == "compile":
        return AdapterError("invalid", text.splitlines()[0] if text else "compile error")
    if stage == "instantiate":
        return AdapterError("unlinkable", text.splitlines()[0] if text else "link error")
    return AdapterError("other", text)


class WasmtimeSession(Session):
    """A wasmtime Store with the spectest module and registered instances."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self.engine = engine
        self.store = wasmtime.Store(engine)
        self.registry: dict[str, dict[str, Any]] = {"spectest": self._spectest()}

    def _spectest(self) -> dict[str, Any]:
        s = self.store
        vt = {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64(),
              "f32": wasmtime.ValType.f32(), "f64": wasmtime.ValType.f64()}
        out: dict[str, Any] = {}
        for name, params in SPECTEST_PRINTS.items():
            ft = wasmtime.FuncType([vt[p] for p in params], [])
            out[name] = wasmtime.Func(s, ft, lambda *a: None)
        for name, (t, v) in SPECTEST_GLOBALS.items():
            out[name] = wasmtime.Global(s, wasmtime.GlobalType(vt[t], False),
                                        getattr(wasmtime.Val, t)(v))
        lo, hi = SPECTEST_TABLE
        out["table"] = wasmtime.Table(
            s, wasmtime.TableType(wasmtime.ValType.funcref(), wasmtime.Limits(lo, hi)), None)
        lo, hi = SPECTEST_MEMORY
        out["memory"] = wasmtime.Memory(s, wasmtime.MemoryType(wasmtime.Limits(lo, hi)))
        # No "shared_memory": wasmtime-py 50's Linker.define fails on a SharedMemory
        # (TypeError in _sharedmemory._as_extern), so scripts importing it are listed as
        # wasmtime's expected failures.
        return out

    def compile(self, data: bytes, check_all: bool = False) -> Any:
        try:
            return wasmtime.Module(self.engine, data)
        except wasmtime.WasmtimeError as exc:
            raise _classify(exc, "compile") from None

    def instantiate(self, module: Any) -> Any:
        linker = wasmtime.Linker(self.engine)
        linker.allow_shadowing = True
        for mod_name, externs in self.registry.items():
            for name, ext in externs.items():
                linker.define(self.store, mod_name, name, ext)
        try:
            return linker.instantiate(self.store, module)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise _classify(exc, "instantiate") from None

    def register(self, name: str, instance: Any) -> None:
        self.registry[name] = dict(instance.exports(self.store).items())

    def _export(self, instance: Any, field: str) -> Any:
        ext = instance.exports(self.store).get(field)
        if ext is None:
            raise AdapterError("other", f"no export {field!r}")
        return ext

    def _to_raw(self, t: str, value: object) -> Any:
        if t in _KIND_CODE:
            raw = ffi.wasmtime_val_t(kind=_KIND_CODE[t])
            if t == "v128":
                raw.of.v128 = ffi.wasmtime_v128(*value.to_bytes(16, "little"))
            elif t in ("i32", "f32"):
                raw.of.i32 = ctypes.c_int32(value).value
            else:
                raw.of.i64 = ctypes.c_int64(value).value
            return raw
        if t == "externref" or (t == "nullexternref" and value is None):
            return wasmtime.Val.externref(value)._new_raw(self.store)
        if t in ("funcref", "nullfuncref") and value is None:
            return wasmtime.Val.funcref(None)._new_raw(self.store)
        if value is None and t in ("anyref", "eqref", "structref", "arrayref", "i31ref",
                                   "nullref", "exnref", "nullexnref"):
            return ffi.wasmtime_val_t(kind=EXNREF_KIND if "exn" in t else ANYREF_KIND)
        if isinstance(value, HostRef):
            raise AdapterError("other", "the wasmtime adapter cannot pass a ref.host value "
                                        "(wasmtime-py has no host anyref)")
        raise AdapterError("other", f"the wasmtime adapter cannot pass a {t} argument")

    def _from_raw(self, raw: Any) -> object:
        kind = raw.kind
        if kind in (ffi.WASMTIME_I32.value, ffi.WASMTIME_F32.value):
            return raw.of.i32 & 0xFFFF_FFFF
        if kind in (ffi.WASMTIME_I64.value, ffi.WASMTIME_F64.value):
            return raw.of.i64 & 0xFFFF_FFFF_FFFF_FFFF
        if kind == ffi.WASMTIME_V128.value:
            return int.from_bytes(bytes(raw.of.v128), "little")
        if kind == ANYREF_KIND:
            ref = ctypes.byref(raw.of.anyref)
            if raw.of.anyref.store_id == 0:
                return None
            ctx = self.store._context()
            # wasmtime_anyref_is_i31 answers True for structs and arrays too (measured with
            # wasmtime 50), so i31 is what is an eqref but neither struct nor array.
            for test, name in ((ffi.wasmtime_anyref_is_struct, "struct"),
                               (ffi.wasmtime_anyref_is_array, "array"),
                               (ffi.wasmtime_anyref_is_eqref, "i31")):
                if test(ctx, ref):
                    return WasmtimeRef(name)
            return WasmtimeRef("host")
        if kind == EXNREF_KIND:
            return None if raw.of.exnref.store_id == 0 else WasmtimeRef("exn")
        return wasmtime.Val._from_raw(self.store, raw).value

    def ref_kind(self, ref: object) -> str:
        if isinstance(ref, wasmtime.Func):
            return "func"
        if isinstance(ref, WasmtimeRef):
            return ref.kind
        return default_kind(ref) or ("extern" if ref is not None else "")

    def func_type(self, instance: Any, field: str) -> FuncSig | None:
        # wasmtime's C API aborts the process when asked for the kind of a v128 value type
        # (see invoke), so types are not read: invoke checks the counts only.
        return None

    def invoke(self, instance: Any, field: str, args: list[object],
               types: list[str]) -> list[object]:
        # Argument types come from the script: wasmtime's C API aborts the process when asked
        # for the kind of a v128 value type, so the function type is used for counts only.
        func = self._export(instance, field)
        if not isinstance(func, wasmtime.Func):
            raise AdapterError("other", f"export {field!r} is not a function")
        ty = func.type(self.store)
        if len(ty.params) != len(args):
            raise AdapterError("other", f"{field}: {len(args)} arguments for {len(ty.params)}")
        args_c = (ffi.wasmtime_val_t * len(args))(
            *[self._to_raw(t, a) for t, a in zip(types, args)])
        results_c = (ffi.wasmtime_val_t * len(ty.results))()
        try:
            with enter_wasm(self.store) as trap:
                error = ffi.wasmtime_func_call(self.store._context(), ctypes.byref(func._func),
                                               args_c, len(args), results_c, len(ty.results),
                                               trap)
                if error:
                    raise wasmtime.WasmtimeError._from_ptr(error)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise _classify(exc, "invoke") from None
        return [self._from_raw(r) for r in results_c]

    def get(self, instance: Any, field: str) -> object:
        glob = self._export(instance, field)
        if not isinstance(glob, wasmtime.Global):
            raise AdapterError("other", f"export {field!r} is not a global")
        raw = ffi.wasmtime_val_t()
        ffi.wasmtime_global_get(self.store._context(), ctypes.byref(glob._global),
                                ctypes.byref(raw))
        return self._from_raw(raw)


class WasmtimeAdapter(Adapter):
    """wasmtime (PyPI ``wasmtime``); modes are ignored (wasmtime compiles eagerly)."""

    name = "wasmtime"
    merges_malformed_invalid = True
    checked_messages: frozenset[str] = frozenset({"trap", "exhaustion"})
    modes = ("eager",)

    def __init__(self) -> None:
        self.engines: dict[tuple[tuple[str, bool], ...], wasmtime.Engine] = {}

    def unapplied_features(self, features: dict[str, bool]) -> list[str]:
        """The manifest's flags wasmtime cannot turn on (:data:`NEVER_ON`)."""
        return sorted(name for name, on in features.items() if on and name in NEVER_ON)

    def session(self, spec: SessionSpec) -> Session:
        key = tuple(sorted(dict(spec.features).items()))
        if key not in self.engines:
            self.engines[key] = wasmtime.Engine(_config(dict(spec.features)))
        return WasmtimeSession(self.engines[key])
