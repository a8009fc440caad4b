"""Functions: the public ``Func`` is also the funcref value and the unit of import/export.

Host functions are wrapped so that their exceptions keep their own type: anything a host
raises other than a ``Trap`` travels through wasm frames inside a :class:`HostError` carrier
(which no translated ``except`` catches) and is re-raised, unchanged, at the boundary where
the host entered wasm (``calls.invoke``). Without it a host ``RecursionError`` would read as
"call stack exhausted" and a host ``IndexError`` as an out-of-bounds memory access. A host
may raise ``Trap`` on purpose to trap. Results of raw host functions are range-checked.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from ..errors import StoreMismatchError, Trap, WasmException
from ..types import EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, FuncType, intern_func_type
from .caller import Caller
from .calls import HostError, invoke
from .values import from_bits, from_python, results_list, to_bits, to_python


def interned(ftype: FuncType) -> FuncType:
    """The interned FuncType equal to ``ftype`` (public constructors may hold lists)."""
    return intern_func_type(tuple(ftype.params), tuple(ftype.results))


def _max_depth(store: Any) -> int:
    return store.engine.config.max_call_depth


class Func:
    """A function: wasm-defined (compiled on first use) or a host callable.

    ``ftype`` is the interned FuncType; ``fn`` the internal callable (internal calling
    convention), resolved on first access for wasm functions. The object itself is the funcref
    value, so its identity is kept across exports, imports and tables. ``_store`` is the
    Store it belongs to (None: a store-free host function, usable in any store).
    """

    __slots__ = ("_caller_fn", "_default_caller", "_index", "_rt", "_store", "deftype",
                 "fn", "ftype")

    #: The canonical GC type (engine.gctypes.DefType) of a wasm function; None for host
    #: functions (matched by signature).
    deftype: Any

    def __init__(
        self, store: Any, ftype: FuncType, func: Callable[..., Any], access_caller: bool = False
    ) -> None:
        """A host function called with Python values and returning Python values
        (None, one value, or a list/tuple of values for several results). With
        ``access_caller`` it is called as ``func(caller, *args)`` (see ``Caller``)."""
        self.ftype = interned(ftype)
        self.deftype = None
        self._rt = None
        self._index = -1
        self._store = store
        if access_caller:
            self._set_caller_fn(store, _python_host(self.ftype, func, True))
        else:
            self.fn = _python_host(self.ftype, func)

    @classmethod
    def from_raw(
        cls, store: Any, ftype: FuncType, func: Callable[..., Any], access_caller: bool = False
    ) -> Func:
        """A host function using the internal calling convention and internal values
        (i32/i64 unsigned ints, f32/f64 floats, v128 an unsigned int, refs as objects);
        its results are range-checked (TypeError naming the function). With
        ``access_caller`` it is called as ``func(caller, *args)``."""
        self = cls.__new__(cls)
        self.ftype = interned(ftype)
        self.deftype = None
        self._rt = None
        self._index = -1
        self._store = store
        if access_caller:
            self._set_caller_fn(store, _raw_host(self.ftype, func))
        else:
            self.fn = _raw_host(self.ftype, func)
        return self

    def _set_caller_fn(self, store: Any, func: Callable[..., Any]) -> None:
        self._caller_fn = func
        self._default_caller = Caller(None, store)
        self.fn = partial(func, self._default_caller)

    def _bind_caller(self, rt: Any, store: Any) -> Callable[..., Any]:
        """The internal callable for instance ``rt`` importing this caller-taking function:
        the caller is bound here, once. Calls through ``fn`` (tables, Python) then see this
        instance too, the last one that imported the function."""
        default = self._default_caller
        store = store if store is not None else default.store
        caller = Caller(rt, store)
        default.__init__(rt, store)
        return partial(self._caller_fn, caller)

    @classmethod
    def _wasm(cls, rt: Any, index: int, ftype: FuncType, deftype: Any = None) -> Func:
        """Function ``index`` of the instance whose runtime record is ``rt`` (not yet bound)."""
        self = cls.__new__(cls)
        self.ftype = ftype
        self.deftype = deftype
        self._rt = rt
        self._index = index
        self._store = rt.store
        return self

    def __getattr__(self, name: str) -> Any:
        if name != "fn":
            raise AttributeError(name)
        fn = self._rt.funcs[self._index]  # compiles and binds on first use
        self.fn = fn
        return fn

    def type(self, store: Any = None) -> FuncType:
        return self.ftype

    def _check(self, store: Any, args: Sequence[Any]) -> None:
        """Refuse another store, a wrong argument count, and Funcs of another store."""
        own = self._store
        if own is not None and store is not None and store is not own:
            raise StoreMismatchError("this Func belongs to another store")
        ft = self.ftype
        if len(args) != len(ft.params):
            raise TypeError(f"expected {len(ft.params)} arguments, got {len(args)}")
        if store is not None and FUNCREF in ft.params:
            for arg in args:
                other = arg._store if isinstance(arg, Func) else None
                if other is not None and other is not store:
                    raise StoreMismatchError("a Func argument belongs to another store")

    def __call__(self, store: Any, *args: Any) -> Any:
        """Call with Python values; returns None, one value, or a list of values."""
        self._check(store, args)
        ft = self.ftype
        raw = [from_python(t, a) for t, a in zip(ft.params, args)]
        out = results_list(len(ft.results), invoke(_max_depth(store), self.fn, raw))
        if len(out) == 1:
            return to_python(ft.results[0], out[0])
        return [to_python(t, v) for t, v in zip(ft.results, out)] if out else None

    def call_bits(self, store: Any, args: Sequence[Any]) -> list[Any]:
        """Call with raw values (numbers as bit patterns, refs as objects); raw results."""
        self._check(store, args)
        ft = self.ftype
        raw = [from_bits(t, a) for t, a in zip(ft.params, args)]
        out = results_list(len(ft.results), invoke(_max_depth(store), self.fn, raw))
        return [to_bits(t, v) for t, v in zip(ft.results, out)]

    def __repr__(self) -> str:
        kind = "host" if self._rt is None else f"wasm #{self._index}"
        return f"<Func {kind} {self.ftype}>"


#: A RecursionError raised with fewer frames than this left below the recursion limit at the
#: host wrapper is wasm's exhaustion reaching into the host, not the host's own.
_HOST_ROOM = 100


def _carry(exc: Exception) -> BaseException:
    """What a host wrapper raises for the host's exception ``exc``: a HostError carrier.

    Except a RecursionError raised when wasm had used up the depth limit (the wrapper runs
    within ``_HOST_ROOM`` frames of it): that stays a RecursionError, which the boundary
    reports as "call stack exhausted". Counting frames is linear in the depth, and happens
    only on this exception path.
    """
    if isinstance(exc, RecursionError):
        depth, frame = 0, sys._getframe(1)
        while frame is not None:
            depth += 1
            frame = frame.f_back
        if sys.getrecursionlimit() - depth < _HOST_ROOM:
            return exc
    return HostError(exc)


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


def _python_host(
    ft: FuncType, func: Callable[..., Any], with_caller: bool = False
) -> Callable[..., Any]:
    """Wrap a Python-valued callable into the internal calling convention (taking the
    caller first, passed through unconverted, when ``with_caller``)."""
    params, results = ft.params, ft.results
    n = len(results)

    def host(*args: Any) -> Any:
        try:
            if with_caller:
                out = func(args[0], *[to_python(t, a) for t, a in zip(params, args[1:])])
            else:
                out = func(*[to_python(t, a) for t, a in zip(params, args)])
        except (Trap, WasmException):
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised unchanged at the boundary
            raise _carry(exc) from None
        try:
            if n == 0:
                return None
            if n == 1:
                if isinstance(out, (list, tuple)) and len(out) == 1:
                    out = out[0]
                return from_python(results[0], out)
            if not isinstance(out, (list, tuple)) or len(out) != n:
                raise TypeError(f"must return {n} values, returned {out!r}")
            return tuple(from_python(t, v) for t, v in zip(results, out))
        except TypeError as exc:
            raise HostError(TypeError(f"host function {_name(func)!r} ({ft}): {exc}")) from None

    return host


#: Checks of raw (internal) values by type: (accepts, what the type wants).
_RAW_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    I32: (lambda v: type(v) is int and 0 <= v <= 0xFFFF_FFFF, "an int in [0, 2**32)"),
    I64: (lambda v: type(v) is int and 0 <= v < 1 << 64, "an int in [0, 2**64)"),
    F32: (lambda v: type(v) is float, "a float"),
    F64: (lambda v: type(v) is float, "a float"),
    V128: (lambda v: type(v) is int and 0 <= v < 1 << 128, "an int in [0, 2**128)"),
    FUNCREF: (lambda v: v is None or isinstance(v, Func), "a Func or None"),
    EXTERNREF: (lambda v: True, "any object"),
}


_ANY_REF = (lambda v: True, "a reference")

_INT_BOUNDS = {I32: 1 << 32, I64: 1 << 64, V128: 1 << 128}


def _raw_host(ft: FuncType, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a raw host callable: exceptions carried, results range-checked."""
    results = ft.results
    n = len(results)
    checks = [_RAW_CHECKS.get(t, _ANY_REF)[0] for t in results]

    def bad(out: Any) -> HostError:
        if n > 1 and (not isinstance(out, tuple) or len(out) != n):
            why = f"must return a tuple of {n} values, returned {out!r}"
        else:
            values = (out,) if n == 1 else out
            k = next(i for i in range(n) if not checks[i](values[i]))
            want = _RAW_CHECKS.get(results[k], _ANY_REF)[1]
            why = f"result {k} ({results[k]}) must be {want}, got {values[k]!r}"
        return HostError(TypeError(f"raw host function {_name(func)!r} ({ft}): {why}"))

    if n == 0:
        def raw(*args: Any) -> Any:
            try:
                return func(*args)
            except (Trap, WasmException):
                raise
            except Exception as exc:  # noqa: BLE001 - re-raised unchanged at the boundary
                raise _carry(exc) from None
        return raw

    if n == 1 and results[0] in _INT_BOUNDS:  # the common case, checked inline
        bound = _INT_BOUNDS[results[0]]

        def raw_int(*args: Any) -> Any:
            try:
                out = func(*args)
            except (Trap, WasmException):
                raise
            except Exception as exc:  # noqa: BLE001 - re-raised unchanged at the boundary
                raise _carry(exc) from None
            if type(out) is int and 0 <= out < bound:
                return out
            raise bad(out)

        return raw_int

    check0 = checks[0]

    def raw_results(*args: Any) -> Any:
        try:
            out = func(*args)
        except (Trap, WasmException):
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised unchanged at the boundary
            raise _carry(exc) from None
        if n == 1:
            if check0(out):
                return out
        elif isinstance(out, tuple) and len(out) == n and all(
                c(v) for c, v in zip(checks, out)):
            return out
        raise bad(out)

    return raw_results
