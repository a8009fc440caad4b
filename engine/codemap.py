"""The code map: per-function compilation state of every module of one Engine, in columns.

One ``CodeMap`` per Engine (wasmi's design). ``register`` gives each module a ``CodeSpan``: a
contiguous range of *slots*, one per defined function, in the engine-wide columns. Nothing
per function is a Python object until the function is compiled.

Layout, what each defined function costs while uncompiled (bytes):

    ModuleInfo.funcs         4   type index   (array 'I', the decoder's, reused)
    ModuleInfo.code_offsets  4   body offset  (array 'I', the decoder's, reused)
    ModuleInfo.code_lengths  4   body length  (array 'I', the decoder's, reused)
    CodeMap._state           1   UNCOMPILED / VALIDATED / COMPILED / FAILED (bytearray)
                            --
                            13   (the decoder sizes the arrays exactly; the engine-wide
                                 bytearray over-allocates by at most 12.5% as it grows)

The body bytes themselves stay in the module's ``data``; a body is sliced only to compile it.
A module's first compiled function gives its span a list of factories (``CodeSpan.factories``,
8 bytes per defined function, freed with the span: the module and its instances hold it);
a compiled function adds the factory itself, which identical bodies of identical type in one
module share. Eager mode finds them while compiling everything up front and keeps nothing
for it; the lazy modes keep ``CodeSpan.shared`` (hash of body bytes
+ FuncType -> the first defined index compiled with it, ~110 bytes per distinct body, never
a copy of the body), and a hit is confirmed by comparing the two bodies in ``data``.
A failed function adds one entry in ``_errors`` so every later call raises the same error.

Publication is race-safe without holding a lock while compiling: two threads may both
translate a function, and a check-and-set under ``_lock`` publishes exactly one factory.

Only a ``CompileError`` (the body is malformed or invalid) marks a slot FAILED. Exhaustion
(``RecursionError``), ``MemoryError``, traps or anything else raised while compiling leave
the slot as it was, so a later call compiles again. A first call may come deep inside wasm
recursion, where the Python stack left below the recursion limit belongs to wasm: when
compiling there runs out of stack, it is redone on a fresh thread (its own stack), so the
depth available to wasm is the same in every compilation mode.

Nothing leaks: when a Module dies its slots' errors are dropped (its factories go with its
span, which the module and its instances hold) and its slot range is reused by a later module of the same function count (or the state column shrinks
when the range is at its end).

The translate function is injected by the runtime (this stage precedes ``engine.compile``).
"""

from __future__ import annotations

import _thread
import threading
import weakref
from collections.abc import Callable
from typing import Any

from .binary import decode_body
from .binary.module import FUNC, ModuleInfo
from .config import EAGER, LAZY
from .errors import CompileError, ExhaustionError
from .validate import forget_context, validate_body

#: Slot states.
UNCOMPILED, VALIDATED, COMPILED, FAILED = 0, 1, 2, 3

Factory = Callable[[Any], Callable[..., Any]]
Translate = Callable[..., Factory]  # (info, func_index, body[, unguarded=])


def _on_fresh_stack(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a new thread (a fresh Python stack), re-raising what it raises.

    Started with ``_thread`` so that the caller, which may sit at the recursion limit, needs
    no Python frame beyond this one to start and wait for it."""
    box: list[Any] = [None, None]
    done = _thread.allocate_lock()
    done.acquire()

    def run() -> None:
        try:
            box[0] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box[1] = exc
        finally:
            done.release()

    _thread.start_new_thread(run, ())
    done.acquire()
    if box[1] is not None:
        raise box[1]
    return box[0]


class CodeSpan:
    """One module's range of slots in a CodeMap: slot ``base + i`` is defined function ``i``."""

    __slots__ = ("__weakref__", "base", "code_map", "count", "factories", "info",
                 "num_imported", "shared")

    def __init__(self, code_map: CodeMap, info: ModuleInfo, base: int) -> None:
        self.code_map = code_map
        self.info = info
        self.base = base
        self.count = len(info.funcs)
        self.num_imported = sum(1 for imp in info.imports if imp.kind == FUNC)
        #: hash(body bytes, FuncType) -> first defined index compiled with that key; the
        #: lazy modes create it at the first compilation (eager mode never needs it).
        self.shared: dict[int, int] | None = None
        #: defined index -> factory (None: not compiled), created at the first compilation.
        self.factories: list[Factory | None] | None = None

    def state(self, defined_index: int) -> int:
        """State of defined function ``defined_index`` (UNCOMPILED ... FAILED)."""
        return self.code_map._state[self.base + defined_index]

    def factory(self, defined_index: int, unguarded: bool = False) -> Factory:
        """The compiled factory of defined function ``defined_index``, compiling on first use
        (``unguarded``: see :meth:`unguarded_factory`)."""
        if unguarded:
            return self.unguarded_factory(defined_index)
        factories = self.factories
        if factories is not None:
            found = factories[defined_index]
            if found is not None:
                return found
        return self.code_map._compile(self, defined_index)

    def unguarded_factory(self, defined_index: int) -> Factory:
        """Defined function ``defined_index`` translated without what an entry guard
        checks (compile/entry_guard.py): what the guard runs when its check fails. Not kept
        here (instances keep what they make of it); the body was validated when its
        guarded translation was made."""
        func_index = self.num_imported + defined_index
        body = decode_body(self.info, func_index)
        return self.code_map._translate(self.info, func_index, body, unguarded=True)

    def factory_on_fresh_stack(self, defined_index: int, unguarded: bool = False) -> Factory:
        """``factory(defined_index, unguarded)`` compiled on a fresh thread's stack: for a
        first call deep in wasm recursion, whose Python stack belongs to wasm. A
        RecursionError there (a body too deep even for a fresh stack) is the trap "call
        stack exhausted", and like any exhaustion it does not mark the function as failed."""
        try:
            return _on_fresh_stack(self.factory, defined_index, unguarded)
        except RecursionError:
            raise ExhaustionError() from None

    def compile_all(self) -> None:
        """Force every deferred decode/validate/translate; raise the first CompileError."""
        for i in range(self.count):
            self.factory(i)

    def validate_all(self) -> None:
        """Decode and validate every body now (identical bodies of one type checked once)."""
        self.code_map._check_all(self, translate=False)


class CodeMap:
    """Engine-wide columns of per-function compilation state (see the module docstring)."""

    def __init__(self, mode: str, translate: Translate) -> None:
        self.mode = mode
        self._translate = translate
        self._state = bytearray()
        self._errors: dict[int, CompileError] = {}
        #: Released slot ranges by function count -> their bases (reused by ``register``).
        self._free: dict[int, list[int]] = {}
        self._lock = threading.Lock()
        self._dead: list[tuple[int, int]] = []  # spans released while the lock was held

    def register(self, info: ModuleInfo, owner: object | None = None) -> CodeSpan:
        """Give ``info``'s defined functions slots, and do the mode's up-front work.

        ``owner`` (the Module) lets the map drop the span's compiled entries when it dies.
        Raises MalformedError / InvalidError for bodies checked up front.
        """
        count = len(info.funcs)
        with self._lock:
            self._forget_dead()
            free = self._free.get(count)
            if free:
                base = free.pop()
            else:
                base = len(self._state)
                self._state.extend(bytes(count))
        span = CodeSpan(self, info, base)
        if owner is not None and count:
            weakref.finalize(owner, self._release, base, count).atexit = False
        if self.mode == EAGER:
            self._check_all(span, translate=True)
        elif self.mode != LAZY:
            self._check_all(span, translate=False)
        forget_context(info)  # validation state is rebuilt on demand by a lazy compile
        return span

    def _release(self, base: int, count: int) -> None:
        """Forget the errors of a dead module's slots (O(count); its factories die with its
        span) and give its slot range back.

        A GC finalizer: it may fire inside this thread's own locked region (PyPy collects at
        any allocation), where taking the lock would deadlock (it did, at the end of a test
        session). Then the span is only queued, and the next ``register`` or release under
        the lock forgets it.
        """
        if not self._lock.acquire(blocking=False):
            self._dead.append((base, count))
            return
        try:
            self._forget(base, count)
            self._forget_dead()
        finally:
            self._lock.release()

    def _forget_dead(self) -> None:
        """Forget the queued dead spans (the caller holds the lock)."""
        while self._dead:
            self._forget(*self._dead.pop())

    def _forget(self, base: int, count: int) -> None:
        if self._errors:
            for slot in range(base, base + count):
                self._errors.pop(slot, None)
        if base + count == len(self._state):
            del self._state[base:]
        else:
            self._state[base : base + count] = bytes(count)
            self._free.setdefault(count, []).append(base)

    def _check_all(self, span: CodeSpan, translate: bool) -> None:
        info = span.info
        data, offsets, lengths = info.data, info.code_offsets, info.code_lengths
        types, funcs = info.types, info.funcs
        seen: dict[tuple[bytes, Any], Factory | None] = {}  # transient: dropped on return
        state, base = self._state, span.base
        for i in range(span.count):
            if state[base + i] >= COMPILED:
                continue
            off = offsets[i]
            key = (bytes(data[off : off + lengths[i]]), types[funcs[i]])
            if key in seen:
                factory = seen[key]
            else:
                factory = self._build(span, i, validate=state[base + i] == UNCOMPILED,
                                      translate=translate)
                seen[key] = factory
            if factory is None:
                state[base + i] = VALIDATED
            else:  # every body is compiled here: nothing to remember for sharing
                self._publish(span, i, None, factory)

    def _build(self, span: CodeSpan, i: int, validate: bool, translate: bool) -> Factory | None:
        """Decode (+ validate) (+ translate) defined function ``i``; record a failure."""
        func_index = span.num_imported + i
        try:
            body = decode_body(span.info, func_index)
            if validate:
                validate_body(span.info, func_index, body)
            return self._translate(span.info, func_index, body) if translate else None
        except CompileError as exc:
            exc.locate(func_index, span.info.code_offsets[i])  # name the body in the message
            with self._lock:
                self._state[span.base + i] = FAILED
                self._errors[span.base + i] = exc
            raise

    def _compile(self, span: CodeSpan, i: int) -> Factory:
        slot = span.base + i
        state = self._state[slot]
        if state == FAILED:
            raise self._errors[slot]
        key = _body_key(span.info, i)
        shared = span.shared
        first = shared.get(key) if shared is not None else None
        factory = None
        if first is not None and span.factories is not None and _same_body(span.info, first, i):
            factory = span.factories[first]
        if factory is None:
            factory = self._build(span, i, validate=state == UNCOMPILED, translate=True)
        return self._publish(span, i, key, factory)

    def _publish(self, span: CodeSpan, i: int, key: int | None, factory: Factory) -> Factory:
        """Publish ``factory`` for slot ``i`` once; a racing thread gets the first one, and
        so does a thread that compiled an identical body (same ``key``, bodies compared)."""
        with self._lock:
            factories = span.factories
            if factories is None:
                factories = span.factories = [None] * span.count
            if key is not None:
                if span.shared is None:
                    span.shared = {}
                first = span.shared.setdefault(key, i)
                if first != i and factories[first] is not None and _same_body(span.info, first, i):
                    factory = factories[first]  # type: ignore[assignment]
            if factories[i] is None:
                factories[i] = factory
            else:
                factory = factories[i]  # type: ignore[assignment]
            self._state[span.base + i] = COMPILED
        return factory


def _body_key(info: ModuleInfo, i: int) -> int:
    """Hash of defined function ``i``'s body bytes and type (equal bodies: equal keys)."""
    off = info.code_offsets[i]
    return hash((info.data[off : off + info.code_lengths[i]], info.types[info.funcs[i]]))


def _same_body(info: ModuleInfo, a: int, b: int) -> bool:
    """Whether defined functions ``a`` and ``b`` have the same type and body bytes (a key
    collision is only a missed sharing, never a wrong factory)."""
    if a == b:
        return True
    n, lengths, offsets = info.code_lengths[a], info.code_lengths, info.code_offsets
    if lengths[b] != n or info.types[info.funcs[a]] != info.types[info.funcs[b]]:
        return False
    view = memoryview(info.data)
    return view[offsets[a] : offsets[a] + n] == view[offsets[b] : offsets[b] + n]
