"""Execute one script's commands through an adapter and classify each command's outcome.

Every command wast2json writes is counted (``present``) and gets exactly one outcome:
passed, failed, xfailed (listed in the manifest and failing), skipped (listed as skip, not
run) or text (a malformed/invalid module in text form: a test of a text parser, not of the
engine). An expected failure that passes is reported as failed ("XPASS(strict)").
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectest import OUTCOMES
from spectest.adapters import Adapter, AdapterError, Session
from spectest.convert import ConversionError, load_commands
from spectest.suites import Script
from spectest.values import ValueError_, matches, parse_arg, show_expected, show_results

DEFAULT_TIMEOUT = 30.0


class CommandTimeout(BaseException):
    """A command ran past its time limit (BaseException: an engine's `except Exception`
    must not swallow it)."""


@dataclass
class CommandResult:
    """The outcome of one command; ``ok`` is the raw verdict before the manifest applies."""

    index: int
    line: int
    type: str
    outcome: str
    ok: bool
    detail: str = ""


@dataclass
class ScriptResult:
    """All command outcomes of one script in one mode."""

    script: str
    mode: str
    results: list[CommandResult] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        """present and the outcome categories (they add up to present)."""
        out = {"present": len(self.results)}
        out.update({k: 0 for k in OUTCOMES})
        for r in self.results:
            out[r.outcome] += 1
        return out

    def failures(self) -> list[CommandResult]:
        """The commands counted as failed."""
        return [r for r in self.results if r.outcome == "failed"]


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise CommandTimeout in the block after ``seconds`` (main thread only: SIGALRM)."""
    if (not seconds or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CommandTimeout()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def describe(cmd: dict) -> str:
    """A one-line text of a command, e.g. ``assert_return invoke "add"(i32:1, i32:2)``."""
    kind = cmd["type"]
    action = cmd.get("action")
    if action:
        args = ", ".join(show_expected(a) for a in action.get("args", []))
        where = f" in {action['module']}" if action.get("module") else ""
        call = f"{action['type']} {action.get('field')!r}"
        return f"{kind} {call}({args}){where}" if action["type"] == "invoke" else \
            f"{kind} {call}{where}"
    if kind == "module":
        return f"module {cmd.get('name') or ''} {cmd.get('filename')}".replace("  ", " ")
    if kind == "register":
        return f"register {cmd.get('as')!r} {cmd.get('name') or ''}".rstrip()
    text = f" {cmd['text']!r}" if "text" in cmd else ""
    return f"{kind} {cmd.get('filename')}{text}"


class _Fail(Exception):
    """A command's verdict is 'failed' with this explanation."""


class ScriptRun:
    """The spec harness's state while running one script: session, current and named
    instances."""

    def __init__(self, session: Session, folder: Path, merged: bool) -> None:
        self.session = session
        self.folder = folder
        self.merged = merged
        self.current: Any = None
        self.named: dict[str, Any] = {}
        self.last_module_error = ""

    # -- helpers ----------------------------------------------------------------------------
    def _bytes(self, cmd: dict) -> bytes:
        return (self.folder / cmd["filename"]).read_bytes()

    def _instance(self, name: str | None) -> Any:
        inst = self.named.get(name) if name else self.current
        if inst is None:
            why = f" ({self.last_module_error})" if self.last_module_error else ""
            raise _Fail(f"no module instance {name or '(current)'}{why}")
        return inst

    def _action(self, action: dict) -> list[object]:
        inst = self._instance(action.get("module"))
        if action["type"] == "invoke":
            args = action.get("args", [])
            return self.session.invoke(inst, action["field"], [parse_arg(a) for a in args],
                                       [a["type"] for a in args])
        if action["type"] == "get":
            return [self.session.get(inst, action["field"])]
        raise _Fail(f"unsupported action type {action['type']!r}")

    def _expect_error(self, kinds: tuple[str, ...], text: str | None, thunk: Any) -> None:
        """Run ``thunk``; it must raise an AdapterError of one of ``kinds`` (and ``text``)."""
        try:
            got = thunk()
        except AdapterError as err:
            if err.kind not in kinds:
                raise _Fail(f"expected {'/'.join(kinds)} {text!r}, got {err.kind}: "
                            f"{err.message}") from None
            if text is not None and kinds[0] in ("trap", "exhaustion", "exception") \
                    and text not in err.message:
                raise _Fail(f"expected {kinds[0]} {text!r}, got {err.kind}: {err.message}") \
                    from None
            return
        raise _Fail(f"expected {'/'.join(kinds)} {text!r}, but it succeeded"
                    + (f" with {show_results([], got)}" if isinstance(got, list) else ""))

    def _compile_kinds(self, kind: str) -> tuple[str, ...]:
        if self.merged:  # the adapter cannot tell malformed from invalid
            return (kind, "invalid" if kind == "malformed" else "malformed")
        return (kind,)

    # -- commands ---------------------------------------------------------------------------
    def module(self, cmd: dict) -> None:
        name = cmd.get("name")
        self.current = None
        if name:
            self.named.pop(name, None)
        if cmd.get("module_type", "binary") != "binary":
            raise _Fail("a module in text form cannot be run")
        try:
            inst = self.session.instantiate(self.session.compile(self._bytes(cmd)))
        except AdapterError as err:
            self.last_module_error = f"line {cmd['line']}: {err.kind}: {err.message}"
            raise _Fail(f"module rejected: {err.kind}: {err.message}") from None
        self.current = inst
        if name:
            self.named[name] = inst

    def register(self, cmd: dict) -> None:
        self.session.register(cmd["as"], self._instance(cmd.get("name")))

    def action(self, cmd: dict) -> None:
        self._action(cmd["action"])

    def assert_return(self, cmd: dict) -> None:
        got = self._action(cmd["action"])
        if "either" in cmd:
            alternatives = [[e] for e in cmd["either"]]
        else:
            alternatives = [cmd.get("expected", [])]
        for expected in alternatives:
            if len(got) == len(expected) and all(map(matches, expected, got)):
                return
        want = " or ".join("(" + ", ".join(map(show_expected, e)) + ")" for e in alternatives)
        raise _Fail(f"expected {want}, got {show_results(alternatives[0], got)}")

    def assert_trap(self, cmd: dict) -> None:
        self._expect_error(("trap",), cmd.get("text"), lambda: self._action(cmd["action"]))

    def assert_exhaustion(self, cmd: dict) -> None:
        self._expect_error(("exhaustion",), cmd.get("text"),
                           lambda: self._action(cmd["action"]))

    def assert_exception(self, cmd: dict) -> None:
        self._expect_error(("exception",), None, lambda: self._action(cmd["action"]))

    def assert_invalid(self, cmd: dict) -> None:
        data = self._bytes(cmd)
        self._expect_error(self._compile_kinds("invalid"), cmd.get("text"),
                           lambda: self.session.compile(data, check_all=True))

    def assert_malformed(self, cmd: dict) -> None:
        data = self._bytes(cmd)
        self._expect_error(self._compile_kinds("malformed"), cmd.get("text"),
                           lambda: self.session.compile(data, check_all=True))

    def _compile_ok(self, cmd: dict) -> Any:
        try:
            return self.session.compile(self._bytes(cmd))
        except AdapterError as err:
            raise _Fail(f"module must compile, got {err.kind}: {err.message}") from None

    def assert_unlinkable(self, cmd: dict) -> None:
        module = self._compile_ok(cmd)
        self._expect_error(("unlinkable",), cmd.get("text"),
                           lambda: self.session.instantiate(module))

    def assert_uninstantiable(self, cmd: dict) -> None:
        module = self._compile_ok(cmd)
        self._expect_error(("trap", "exhaustion"), cmd.get("text"),
                           lambda: self.session.instantiate(module))


TEXT_FORM = ("assert_malformed", "assert_invalid", "assert_unlinkable", "assert_uninstantiable")


def _verdict(run: ScriptRun | None, cmd: dict, timeout: float | None,
             session_error: str) -> tuple[bool, str]:
    """(ok, explanation) for one command."""
    if run is None:
        return False, session_error
    handler = getattr(run, cmd["type"], None) if not cmd["type"].startswith("_") else None
    if handler is None:
        return False, f"unsupported command type {cmd['type']!r}"
    try:
        with time_limit(timeout):
            handler(cmd)
        return True, ""
    except _Fail as fail:
        return False, str(fail)
    except AdapterError as err:
        return False, f"{err.kind}: {err.message}"
    except CommandTimeout:
        return False, f"timed out after {timeout:g} s (hang guard)"
    except (ValueError_, OSError, KeyError) as exc:
        return False, f"runner could not execute the command: {exc!r}"


def run_script(script: Script, mode: str, adapter: Adapter,
               expectations: dict[Any, tuple[str, str]] | None = None,
               timeout: float | None = DEFAULT_TIMEOUT,
               flags: tuple[str, ...] | None = None) -> ScriptResult:
    """Run every command of ``script`` in ``mode``; ``expectations`` maps a line (or
    ``"all"``) to ``(action, reason)`` with action ``xfail`` or ``skip``."""
    start = time.perf_counter()
    expectations = expectations or {}
    result = ScriptResult(script.id, mode)
    try:
        commands, folder = load_commands(script.path, *(() if flags is None else (flags,)))
    except (ConversionError, OSError, ValueError) as exc:
        result.results.append(CommandResult(0, 0, "convert", "failed", False, str(exc)))
        return result
    run, session_error = None, ""
    try:
        with time_limit(timeout):
            session = adapter.session(mode, script.suite)
        run = ScriptRun(session, folder, adapter.merges_malformed_invalid)
    except AdapterError as err:
        session_error = f"no session: {err.message}"
    except CommandTimeout:
        session_error = f"no session: timed out after {timeout:g} s"
    for index, cmd in enumerate(commands):
        line = cmd.get("line", 0)
        expect = expectations.get(line) or expectations.get("all")
        kind = cmd["type"]
        if kind in TEXT_FORM and cmd.get("module_type") == "text":
            result.results.append(CommandResult(index, line, kind, "text", False,
                                                "text-form module (tests a text parser)"))
            continue
        if expect and expect[0] == "skip":
            if kind == "module" and run is not None:
                run.current = None
                run.last_module_error = f"line {line}: skipped by the manifest"
            result.results.append(CommandResult(index, line, kind, "skipped", False, expect[1]))
            continue
        ok, detail = _verdict(run, cmd, timeout, session_error)
        detail = f"{describe(cmd)}: {detail}" if detail else describe(cmd)
        if expect:
            outcome = "failed" if ok else "xfailed"
            if ok:
                detail = f"XPASS(strict): {detail} passed but is listed as expected failure " \
                         f"({expect[1]})"
        else:
            outcome = "passed" if ok else "failed"
        result.results.append(CommandResult(index, line, kind, outcome, ok, detail))
    result.seconds = time.perf_counter() - start
    return result
