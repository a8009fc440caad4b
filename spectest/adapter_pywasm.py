"""The pywasm adapter (PyPI ``pywasm``, the ``bench`` extra): another pure-Python engine.

pywasm 2.x interprets Wasm 2.0 modules; it has no separate validation (a module is decoded and
then run), signals traps and failed import checks with ``assert`` (no messages), and keeps one
abstract machine per Runtime. So for this adapter:

- malformed and invalid are one kind (``merges_malformed_invalid``) and no error message is
  checked (``checked_messages`` is empty): only the kind of each rejection counts;
- a trap is any exception while running; "call stack exhausted" is pywasm's frame limit
  (1024 frames) or a Python RecursionError;
- one Runtime per session; its machine's stacks are cleared after an error, since pywasm
  leaves them half-unwound.

Values cross as pywasm's ``ValInst`` (16 bytes): numbers and v128 by their bits, references
as a store address (funcref) or the host number of ``ref.extern N``.
"""

from __future__ import annotations

import struct
from typing import Any

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
from spectest.values import ExternRef

FRAME_LIMIT = 1024
_TYPE_NAMES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
               0x70: "funcref", 0x6F: "externref"}


class PywasmFunc:
    """A non-null funcref result: pywasm's function address."""

    __slots__ = ("addr",)

    def __init__(self, addr: int) -> None:
        self.addr = addr

    def __repr__(self) -> str:
        return f"<pywasm func {self.addr}>"


def _fail(exc: BaseException, kind: str) -> AdapterError:
    return AdapterError(kind, f"{type(exc).__name__}: {exc}".rstrip(": "))


class PywasmSession(Session):
    """A pywasm Runtime with the spectest module and the registry of named instances."""

    def __init__(self) -> None:
        import pywasm

        self.P = pywasm
        self.runtime = pywasm.Runtime()
        self.registry: dict[str, dict[str, Any]] = {"spectest": self._spectest()}

    def _vt(self, name: str) -> Any:
        return getattr(self.P.ValType, {"funcref": "ref_func", "externref": "ref_extern"}
                       .get(name, name))()

    def _spectest(self) -> dict[str, Any]:
        P, rt = self.P, self.runtime
        out: dict[str, Any] = {}
        for name, params in SPECTEST_PRINTS.items():
            out[name] = rt.allocate_func_host(P.FuncType([self._vt(p) for p in params], []),
                                              lambda *a: [])
        for name, (t, v) in SPECTEST_GLOBALS.items():
            out[name] = rt.allocate_global(P.GlobalType(self._vt(t), 0),
                                           P.ValInst.from_all(self._vt(t), v))
        lo, hi = SPECTEST_TABLE
        out["table"] = rt.allocate_table(P.TableType(P.ValType.ref_func(), P.Limits(lo, hi)))
        lo, hi = SPECTEST_MEMORY
        out["memory"] = rt.allocate_memory(P.MemType(P.Limits(lo, hi)))
        return out

    def _reset(self) -> None:
        stack = self.runtime.machine.stack
        for name in ("value", "label", "frame"):
            getattr(stack, name).clear()

    def compile(self, data: bytes, check_all: bool = False) -> Any:
        import io

        try:
            return self.P.ModuleDesc.from_reader(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - pywasm raises anything on bad input
            raise _fail(exc, "malformed") from None

    def instantiate(self, module: Any) -> Any:
        externs = []
        for imp in module.imps:
            ext = self.registry.get(imp.module, {}).get(imp.name)
            if ext is None:
                raise AdapterError("unlinkable", f"unknown import {imp.module}.{imp.name}")
            externs.append(ext)
        try:
            return self.runtime.machine.instance(module, externs)
        except Exception as exc:  # noqa: BLE001
            depth = len(self.runtime.machine.stack.frame)
            self._reset()
            # import checks are asserts before anything runs; later failures are traps
            kind = "unlinkable" if isinstance(exc, AssertionError) and depth == 0 else "trap"
            raise _fail(exc, kind) from None

    def register(self, name: str, instance: Any) -> None:
        self.registry[name] = {e.name: e.data for e in instance.exps}

    def _export(self, instance: Any, field: str, kind: int) -> int:
        for e in instance.exps:
            if e.name == field and e.data.kind == kind:
                return e.data.data
        raise AdapterError("other", f"no export {field!r} of kind {kind}")

    def func_type(self, instance: Any, field: str) -> FuncSig | None:
        ft = self.runtime.machine.store.func[self._export(instance, field, 0x00)].type
        return FuncSig(tuple(_TYPE_NAMES[t.data] for t in ft.args),
                       tuple(_TYPE_NAMES[t.data] for t in ft.rets))

    def _to_val(self, t: Any, value: object) -> Any:
        if t.data in (0x70, 0x6F):
            if value is None:
                return self.P.ValInst(t, bytearray(16))
            n = value.n if isinstance(value, ExternRef) else getattr(value, "addr", None)
            if n is None:
                raise AdapterError("other", f"pywasm adapter cannot pass {value!r}")
            return self.P.ValInst.from_ref(t, n)
        return self.P.ValInst(t, bytearray(int(value).to_bytes(16, "little")))

    def _from_val(self, v: Any) -> object:
        t = v.type.data
        if t in (0x70, 0x6F):
            if v.data[4] == 0:
                return None
            n = struct.unpack("<i", v.data[0:4])[0]
            return ExternRef.of(n) if t == 0x6F else PywasmFunc(n)
        width = {0x7F: 4, 0x7D: 4, 0x7E: 8, 0x7C: 8, 0x7B: 16}[t]
        return int.from_bytes(bytes(v.data[:width]), "little")

    def invoke(self, instance: Any, field: str, args: list[object],
               types: list[str]) -> list[object]:
        addr = self._export(instance, field, 0x00)
        ft = self.runtime.machine.store.func[addr].type
        if len(ft.args) != len(args):
            raise AdapterError("other", f"{field}: {len(args)} arguments for {len(ft.args)}")
        vals = [self._to_val(t, a) for t, a in zip(ft.args, args)]
        try:
            out = self.runtime.machine.invocate(addr, vals)
        except RecursionError as exc:
            self._reset()
            raise _fail(exc, "exhaustion") from None
        except Exception as exc:  # noqa: BLE001 - pywasm traps are asserts and exceptions
            depth = len(self.runtime.machine.stack.frame)
            self._reset()
            raise _fail(exc, "exhaustion" if depth >= FRAME_LIMIT - 1 else "trap") from None
        return [self._from_val(v) for v in out]

    def get(self, instance: Any, field: str) -> object:
        glob = self.runtime.machine.store.glob[self._export(instance, field, 0x03)]
        return self._from_val(glob.data)

    def ref_kind(self, ref: object) -> str:
        if isinstance(ref, PywasmFunc):
            return "func"
        return super().ref_kind(ref)


class PywasmAdapter(Adapter):
    """pywasm (PyPI ``pywasm``); one mode (an interpreter), Wasm 2.0 only."""

    name = "pywasm"
    merges_malformed_invalid = True
    checked_messages: frozenset[str] = frozenset()
    modes = ("eager",)

    def session(self, spec: SessionSpec) -> Session:
        try:
            return PywasmSession()
        except ImportError as exc:
            raise AdapterError("crash", f"pywasm is not installed (pip install -e "
                                        f"'.[bench]'): {exc}") from None
