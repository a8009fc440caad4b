"""The call boundary between Python and wasm: call depth limit and exhaustion.

Translated code keeps no depth counter. Instead the outermost wasm entry of a thread sets
``sys.setrecursionlimit`` to the current Python depth plus ``Config.max_call_depth`` (lowering
or raising it), and restores the previous limit when the last active entry leaves. Python's
``RecursionError`` then becomes the trap "call stack exhausted"; the stack has unwound by the
time the boundary sees it, so the interpreter is usable afterwards.

The recursion limit is process-wide: while several threads are inside wasm it is the largest
one they need.

A host function's own exception crosses wasm frames inside a :class:`HostError` and leaves
here as itself (a host ``RecursionError`` is the host's, not wasm's exhaustion). The frames
of an exhaustion are read from the ``RecursionError`` before its traceback is dropped.

Translated code has no exception handler of its own: an inline memory access out of bounds
raises ``struct.error``/``IndexError`` (``OverflowError`` for a 64-bit address beyond what
Python indexes) and an integer division by zero ``ZeroDivisionError``, right in the wasm
function's frame. :func:`invoke` turns exactly those (raised in a frame whose code is
translated wasm, ``errors.WASM_FILE``) into the trap, keeping the wasm frames in its
traceback; the same types raised anywhere else are not a trap and pass unchanged.
"""

from __future__ import annotations

import struct
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..errors import WASM_FILE, ExhaustionError, Trap, frame_sources

_lock = threading.Lock()
_tls = threading.local()
_active = 0  # outermost entries in progress, all threads
_saved_limit = 0  # the limit before the first of them
#: Frames the boundary itself needs to raise and convert the error.
_MARGIN = 20


def _python_depth() -> int:
    depth = 0
    frame = sys._getframe(2)
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def _enter(max_depth: int) -> None:
    global _active, _saved_limit
    need = _python_depth() + max_depth + _MARGIN
    with _lock:
        if _active == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(need)
        elif need > sys.getrecursionlimit():
            sys.setrecursionlimit(need)
        _active += 1


def _leave() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active == 0:
            sys.setrecursionlimit(_saved_limit)


class HostError(BaseException):
    """Carries a host function's exception through wasm frames to :func:`invoke`.

    A BaseException, so that no ``except Exception`` between the host and the boundary
    (there is none in translated code) can mistake it for its own.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


def _exhausted(exc: RecursionError) -> ExhaustionError:
    trap = ExhaustionError()
    trap.captured = frame_sources(exc.__traceback__)
    return trap


#: What translated code raises for a trap, in its own frame (see the module docstring).
TRAPPING = (struct.error, IndexError, ZeroDivisionError, OverflowError)


def _trap_of(exc: BaseException) -> BaseException:
    """The trap ``exc`` stands for when the innermost frame it was raised in is translated
    wasm code, else ``exc`` itself (a bug elsewhere is not a trap). The trap keeps the
    traceback below the boundary, so ``Trap.frames`` lists the wasm frames."""
    tb = exc.__traceback__
    if tb is None:
        return exc
    inner = tb
    while inner.tb_next is not None:
        inner = inner.tb_next
    if inner.tb_frame.f_code.co_filename != WASM_FILE:
        return exc
    message = ("integer divide by zero" if isinstance(exc, ZeroDivisionError)
               else "out of bounds memory access")
    return Trap(message).with_traceback(tb.tb_next)


def _run(fn: Callable[..., Any], args: Any) -> Any:
    """``fn(*args)`` with what leaves wasm turned into what the host sees (see the module
    docstring): exhaustion, traps raised in translated frames, host errors unwrapped."""
    try:
        return fn(*args)
    except RecursionError as exc:
        raise _exhausted(exc) from None
    except TRAPPING as exc:
        error = _trap_of(exc)
    except HostError as carrier:
        error = carrier.error
    raise error


def invoke(max_depth: int, fn: Callable[..., Any], args: Any) -> Any:
    """Call internal callable ``fn(*args)`` from the host, enforcing the depth limit."""
    if getattr(_tls, "inside", False):  # re-entry from a host function: limit already set
        return _run(fn, args)
    _enter(max_depth)
    _tls.inside = True
    try:
        return _run(fn, args)
    finally:
        _tls.inside = False
        _leave()
