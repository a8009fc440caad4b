"""Execute one script's commands through an adapter and classify each command's outcome.

Every command the converter writes is counted (``present``) and gets exactly one outcome:
passed, failed, xfailed (listed in the manifest and failing), skipped (listed as skip, not
run) or text (a malformed/invalid module in text form: a test of a text parser, not of the
engine). An expected failure that passes is reported as failed ("XPASS(strict)"). A command
kind the runner does not know is a failure naming the kind, never a pass.

Checks follow the reference interpreter's script runner: results bit-exact by type, the
argument and result types of every action against the function's type, the error kind of
every rejection and its message (the expected text must be contained in the engine's
message) for traps, exhaustion, invalid, malformed (binary form), unlinkable and
uninstantiable modules. An adapter whose messages are not the specification's narrows
``checked_messages`` (wasmtime: traps only; pywasm: none) and is checked by kind there.
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
from spectest.adapters import Adapter, AdapterError, Session, SessionSpec, TextModule
from spectest.convert import ConversionError, choose, load_commands
from spectest.suites import Script
from spectest.values import (
    ValueError_,
    arg_type,
    expected_types,
    matches,
    parse_arg,
    show_expected,
    show_results,
    value_fits,
)

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
    converter: str = ""

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
    if kind in ("module", "module_definition"):
        return f"{kind} {cmd.get('name') or ''} {cmd.get('filename')}".replace("  ", " ")
    if kind == "module_instance":
        return f"module_instance {cmd.get('instance') or ''} of {cmd.get('module')}"
    if kind == "register":
        return f"register {cmd.get('as')!r} {cmd.get('name') or ''}".rstrip()
    text = f" {cmd['text']!r}" if "text" in cmd else ""
    return f"{kind} {cmd.get('filename')}{text}"


class _Fail(Exception):
    """A command's verdict is 'failed' with this explanation."""


#: Command kinds a malformed/invalid module in text form can appear in (a text-parser test).
TEXT_FORM = ("assert_malformed", "assert_invalid", "assert_unlinkable", "assert_uninstantiable",
             "assert_malformed_custom", "assert_invalid_custom")
#: Every command kind the runner executes (wasm-tools' schema, spectest.schema).
COMMANDS = ("module", "module_definition", "module_instance", "register", "action",
            "assert_return", "assert_trap", "assert_exhaustion", "assert_exception",
            "assert_invalid", "assert_malformed", "assert_unlinkable", "assert_uninstantiable",
            "assert_invalid_custom", "assert_malformed_custom")


class ScriptRun:
    """The spec harness's state while running one script: session, current and named
    instances, named module definitions."""

    def __init__(self, session: Session, folder: Path, merged: bool,
                 checked: frozenset[str] = Adapter.checked_messages) -> None:
        self.session = session
        self.folder = folder
        self.merged = merged
        self.checked = checked
        self.current: Any = None
        self.named: dict[str, Any] = {}
        self.definitions: dict[str | None, Any] = {}
        self.last_module_error = ""
        #: The command being run (its line) and the script's name, for the pin's rewordings.
        self.cmd: dict = {}
        self.script_name = ""
        self.reworded: tuple[Any, ...] = ()
        #: The adapter parses text-form modules (``Adapter.reads_text``).
        self.reads_text = False

    # -- helpers ----------------------------------------------------------------------------
    def _bytes(self, cmd: dict) -> bytes | TextModule:
        if cmd.get("module_type", "binary") == "binary":
            return (self.folder / cmd["filename"]).read_bytes()
        if cmd.get("binary_filename"):  # a text module the converter also encoded
            return (self.folder / cmd["binary_filename"]).read_bytes()
        if self.reads_text:  # the engine parses the text itself
            return TextModule((self.folder / cmd["filename"]).read_bytes())
        raise _Fail("a module in text form that the converter did not encode cannot be run")

    def _instance(self, name: str | None) -> Any:
        inst = self.named.get(name) if name else self.current
        if inst is None:
            why = f" ({self.last_module_error})" if self.last_module_error else ""
            raise _Fail(f"no module instance {name or '(current)'}{why}")
        return inst

    def _check_types(self, inst: Any, action: dict, expected: list[dict] | None) -> None:
        """The reference interpreter's type check of an invocation: argument count and types
        against the function's parameters, expected results against its results."""
        sig = self.session.func_type(inst, action["field"])
        if sig is None:
            return
        args = action.get("args", [])
        if len(args) != len(sig.params) or not all(
                value_fits(arg_type(a), p) for a, p in zip(args, sig.params)):
            raise _Fail(f"wrong number or types of arguments: ({', '.join(map(arg_type, args))})"
                        f" for parameters ({', '.join(sig.params)})")
        if expected is None:
            return
        if len(expected) != len(sig.results) or not all(
                all(value_fits(t, r) for t in expected_types(e))
                for e, r in zip(expected, sig.results)):
            raise _Fail(f"result types ({', '.join(sig.results)}) do not match the expected "
                        f"({', '.join(map(show_expected, expected))})")

    def _action(self, action: dict, expected: list[dict] | None = None) -> list[object]:
        inst = self._instance(action.get("module"))
        if action["type"] == "invoke":
            self._check_types(inst, action, expected)
            args = action.get("args", [])
            return self.session.invoke(inst, action["field"], [parse_arg(a) for a in args],
                                       [arg_type(a) for a in args])
        if action["type"] == "get":
            return [self.session.get(inst, action["field"])]
        raise _Fail(f"unsupported action type {action['type']!r}")

    def _message_checked(self, kind: str) -> bool:
        return kind in self.checked

    def _expect_error(self, kinds: tuple[str, ...], text: str | None, thunk: Any) -> None:
        """Run ``thunk``; it must raise an AdapterError of one of ``kinds`` whose message
        contains ``text`` (where messages are checked)."""
        try:
            got = thunk()
        except AdapterError as err:
            if err.kind not in kinds:
                raise _Fail(f"expected {'/'.join(kinds)} {text!r}, got {err.kind}: "
                            f"{err.message}") from None
            if text is not None and self._message_checked(err.kind) \
                    and not any(t in err.message for t in self._accepted(text)):
                raise _Fail(f"expected {kinds[0]} {text!r}, got {err.kind}: {err.message}") \
                    from None
            return
        raise _Fail(f"expected {'/'.join(kinds)} {text!r}, but it succeeded"
                    + (f" with {show_results([], got)}" if isinstance(got, list) else ""))

    def _accepted(self, text: str) -> list[str]:
        """``text`` and its current wording where the pin's manifest entry rewords it."""
        line = int(self.cmd.get("line", 0))
        return [text] + [r.now for r in self.reworded
                         if r.applies(text, self.script_name, line)]

    def _compile_kinds(self, kind: str) -> tuple[str, ...]:
        if self.merged:  # the adapter cannot tell malformed from invalid
            return (kind, "invalid" if kind == "malformed" else "malformed")
        return (kind,)

    def _compile_ok(self, cmd: dict) -> Any:
        try:
            return self.session.compile(self._bytes(cmd))
        except AdapterError as err:
            self.last_module_error = f"line {cmd['line']}: {err.kind}: {err.message}"
            raise _Fail(f"module must compile, got {err.kind}: {err.message}") from None

    def _instantiate(self, module: Any, cmd: dict) -> Any:
        try:
            return self.session.instantiate(module)
        except AdapterError as err:
            self.last_module_error = f"line {cmd['line']}: {err.kind}: {err.message}"
            raise _Fail(f"module rejected: {err.kind}: {err.message}") from None

    # -- commands ---------------------------------------------------------------------------
    def module(self, cmd: dict) -> None:
        name = cmd.get("name")
        self.current = None
        if name:
            self.named.pop(name, None)
        inst = self._instantiate(self._compile_ok(cmd), cmd)
        self.current = inst
        if name:
            self.named[name] = inst

    def module_definition(self, cmd: dict) -> None:
        """``(module definition $M ...)``: compiled, not instantiated (see module_instance)."""
        name = cmd.get("name")
        self.definitions.pop(name, None)
        self.definitions.pop(None, None)
        module = self._compile_ok(cmd)
        self.definitions[name] = module
        self.definitions[None] = module  # `(module instance $I)` names no module: the last

    def module_instance(self, cmd: dict) -> None:
        """``(module instance $I $M)``: a new instance of a module definition."""
        name, module = cmd.get("instance"), cmd.get("module")
        self.current = None
        if name:
            self.named.pop(name, None)
        if module not in self.definitions:
            raise _Fail(f"no module definition {module or '(last)'}")
        inst = self._instantiate(self.definitions[module], cmd)
        self.current = inst
        if name:
            self.named[name] = inst

    def register(self, cmd: dict) -> None:
        self.session.register(cmd["as"], self._instance(cmd.get("name")))

    def action(self, cmd: dict) -> None:
        self._action(cmd["action"])

    def assert_return(self, cmd: dict) -> None:
        expected = cmd.get("expected", [])
        got = self._action(cmd["action"], expected)
        kind = self.session.ref_kind
        if len(got) == len(expected) and all(matches(e, g, kind) for e, g in zip(expected, got)):
            return
        want = "(" + ", ".join(map(show_expected, expected)) + ")"
        raise _Fail(f"expected {want}, got {show_results(expected, got)}")

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

    def _custom(self, cmd: dict) -> None:
        """``assert_{malformed,invalid}_custom``: the error is in a custom section (e.g. a
        branch hint annotation). The specification's rule for custom sections is that errors
        in their data "must not invalidate the module", so an engine passes by accepting the
        module (the expected text is the reference interpreter's own custom-section report).
        In text form the annotation itself is malformed text: a text parser may also refuse
        it as malformed."""
        try:
            self.session.compile(self._bytes(cmd), check_all=True)
        except AdapterError as err:
            if err.kind == "malformed" and cmd.get("module_type") == "text":
                return  # text form: the annotation is malformed text, a parser may refuse it
            raise _Fail(f"an error in a custom section must not reject the module, got "
                        f"{err.kind}: {err.message}") from None

    def assert_invalid_custom(self, cmd: dict) -> None:
        self._custom(cmd)

    def assert_malformed_custom(self, cmd: dict) -> None:
        self._custom(cmd)

    def assert_unlinkable(self, cmd: dict) -> None:
        module = self._compile_ok(cmd)
        self._expect_error(("unlinkable",), cmd.get("text"),
                           lambda: self.session.instantiate(module))

    def assert_uninstantiable(self, cmd: dict) -> None:
        module = self._compile_ok(cmd)
        self._expect_error(("trap", "exhaustion"), cmd.get("text"),
                           lambda: self.session.instantiate(module))


def _verdict(run: ScriptRun | None, cmd: dict, timeout: float | None,
             session_error: str) -> tuple[bool, str]:
    """(ok, explanation) for one command."""
    if run is None:
        return False, session_error
    if cmd.get("type") not in COMMANDS:
        return False, (f"unsupported command type {cmd.get('type')!r} (the runner does not "
                       f"know it; it is counted as failed, never passed)")
    handler = getattr(run, cmd["type"])
    run.cmd = cmd
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


#: Converters tried for a script run without a manifest suite (own scripts, ad-hoc paths).
DEFAULT_CONVERTERS = ("wabt", "wasm-tools", "own")


def _is_text_form(cmd: dict) -> bool:
    return cmd.get("type") in TEXT_FORM and cmd.get("module_type") == "text"


def run_script(script: Script, mode: str, adapter: Adapter,
               expectations: dict[Any, tuple[str, str]] | None = None,
               timeout: float | None = DEFAULT_TIMEOUT,
               flags: tuple[str, ...] | None = None,
               converters: tuple[str, ...] = DEFAULT_CONVERTERS,
               spec: SessionSpec | None = None) -> ScriptResult:
    """Run every command of ``script`` in ``mode``; ``expectations`` maps a line (or
    ``"all"``) to ``(action, reason)`` with action ``xfail`` or ``skip``. ``converters``: the
    preferred converter, then fallbacks; ``spec``: the session's suite, pin and features."""
    start = time.perf_counter()
    expectations = expectations or {}
    result = ScriptResult(script.id, mode)
    expect_all = expectations.get("all")
    try:
        conv = choose(converters)
        version = conv.version()
        result.converter = version if version.startswith(conv.name) else \
            f"{conv.name} {version}"
        commands, folder = load_commands(script.path, flags or (), conv)
    except (ConversionError, OSError, ValueError) as exc:
        ok = False
        outcome = "xfailed" if expect_all or expectations.get(0) else "failed"
        result.results.append(CommandResult(0, 0, "convert", outcome, ok, str(exc)))
        return result
    run, session_error = None, ""
    run_reads_text = getattr(adapter, "reads_text", False)
    try:
        with time_limit(timeout):
            session = adapter.session(spec or SessionSpec(mode, script.suite, script.pin))
        run = ScriptRun(session, folder, adapter.merges_malformed_invalid,
                        getattr(adapter, "checked_messages", Adapter.checked_messages))
        run.script_name = script.path.name
        run.reads_text = getattr(adapter, "reads_text", False)
        run.reworded = spec.reworded if spec is not None else ()
    except AdapterError as err:
        session_error = f"no session: {err.message}"
    except CommandTimeout:
        session_error = f"no session: timed out after {timeout:g} s"
    for index, cmd in enumerate(commands):
        line = cmd.get("line", 0)
        expect = expectations.get(line) or expect_all
        kind = str(cmd.get("type"))
        if _is_text_form(cmd) and not run_reads_text:
            result.results.append(CommandResult(index, line, kind, "text", False,
                                                "text-form module (tests a text parser)"))
            continue
        if expect and expect[0] == "skip":
            if kind in ("module", "module_instance") and run is not None:
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
