"""Functions: the public ``Func`` is also the funcref value and the unit of import/export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from ..types import FuncType, intern_func_type
from .caller import Caller
from .calls import invoke
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
    value, so its identity is kept across exports, imports and tables.
    """

    __slots__ = ("_caller_fn", "_default_caller", "_index", "_rt", "fn", "ftype")

    def __init__(
        self, store: Any, ftype: FuncType, func: Callable[..., Any], access_caller: bool = False
    ) -> None:
        """A host function called with Python values and returning Python values
        (None, one value, or a list/tuple of values for several results). With
        ``access_caller`` it is called as ``func(caller, *args)`` (see ``Caller``)."""
        self.ftype = interned(ftype)
        self._rt = None
        self._index = -1
        if access_caller:
            self._set_caller_fn(store, _python_host(self.ftype, func, True))
        else:
            self.fn = _python_host(self.ftype, func)

    @classmethod
    def from_raw(
        cls, store: Any, ftype: FuncType, func: Callable[..., Any], access_caller: bool = False
    ) -> Func:
        """A host function using the internal calling convention and internal values
        (``func(caller, *args)`` with ``access_caller``)."""
        self = cls.__new__(cls)
        self.ftype = interned(ftype)
        self._rt = None
        self._index = -1
        if access_caller:
            self._set_caller_fn(store, func)
        else:
            self.fn = func
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
    def _wasm(cls, rt: Any, index: int, ftype: FuncType) -> Func:
        """Function ``index`` of the instance whose runtime record is ``rt`` (not yet bound)."""
        self = cls.__new__(cls)
        self.ftype = ftype
        self._rt = rt
        self._index = index
        return self

    def __getattr__(self, name: str) -> Any:
        if name != "fn":
            raise AttributeError(name)
        fn = self._rt.funcs[self._index]  # compiles and binds on first use
        self.fn = fn
        return fn

    def type(self, store: Any = None) -> FuncType:
        return self.ftype

    def __call__(self, store: Any, *args: Any) -> Any:
        """Call with Python values; returns None, one value, or a list of values."""
        ft = self.ftype
        if len(args) != len(ft.params):
            raise TypeError(f"expected {len(ft.params)} arguments, got {len(args)}")
        raw = [from_python(t, a) for t, a in zip(ft.params, args)]
        out = results_list(len(ft.results), invoke(_max_depth(store), self.fn, raw))
        if len(out) == 1:
            return to_python(ft.results[0], out[0])
        return [to_python(t, v) for t, v in zip(ft.results, out)] if out else None

    def call_bits(self, store: Any, args: Sequence[Any]) -> list[Any]:
        """Call with raw values (numbers as bit patterns, refs as objects); raw results."""
        ft = self.ftype
        if len(args) != len(ft.params):
            raise TypeError(f"expected {len(ft.params)} arguments, got {len(args)}")
        raw = [from_bits(t, a) for t, a in zip(ft.params, args)]
        out = results_list(len(ft.results), invoke(_max_depth(store), self.fn, raw))
        return [to_bits(t, v) for t, v in zip(ft.results, out)]

    def __repr__(self) -> str:
        kind = "host" if self._rt is None else f"wasm #{self._index}"
        return f"<Func {kind} {self.ftype}>"


def _python_host(
    ft: FuncType, func: Callable[..., Any], with_caller: bool = False
) -> Callable[..., Any]:
    """Wrap a Python-valued callable into the internal calling convention (taking the
    caller first, passed through unconverted, when ``with_caller``)."""
    params, results = ft.params, ft.results
    n = len(results)

    def host(*args: Any) -> Any:
        if with_caller:
            out = func(args[0], *[to_python(t, a) for t, a in zip(params, args[1:])])
        else:
            out = func(*[to_python(t, a) for t, a in zip(params, args)])
        if n == 0:
            return None
        if n == 1:
            if isinstance(out, (list, tuple)) and len(out) == 1:
                out = out[0]
            return from_python(results[0], out)
        if not isinstance(out, (list, tuple)) or len(out) != n:
            raise TypeError(f"host function must return {n} values")
        return tuple(from_python(t, v) for t, v in zip(results, out))

    return host
