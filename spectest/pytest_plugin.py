"""pytest plugin: one item per (script, mode), a report aggregated across xdist workers.

Items are collected from ``spectest/manifest.yaml`` (listed in ``testpaths``), with ids like
``spec/i32.wast[lazy]`` (pin d76759e), ``spec3/i32.wast[eager]`` (pin 193e551) and
``own/<name>.wast[eager]``. A suite whose testsuite is configured but missing (a variable
pointing nowhere, an empty submodule, a missing sub-suite folder) is one *failing* item with
the reason, never a skip. Each item's counts travel to the controlling process in the test
report's ``user_properties`` (pytest-xdist forwards them), so the controller writes one
report (``--spectest-report PATH``) for the whole session.

Message summaries: any test may record ``record_property("spectest_messages", json)`` with
``{"kind": ..., "checked": n, "matched": m, "mismatches": [...]}``; the controller merges
them over all workers, prints the totals and fails the session on a mismatch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spectest import report as rep
from spectest.adapters import Adapter, SessionSpec, get_adapter
from spectest.manifest import MANIFEST_PATH, Manifest
from spectest.runner import ScriptResult, run_script
from spectest.suites import Script, SuiteNotFound, select, unmatched

MAX_SHOWN = 60
_PROP = "spectest"
MESSAGES_PROP = "spectest_messages"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("spectest", "WebAssembly conformance")
    group.addoption("--spectest-engine", default=os.environ.get("SPECTEST_ENGINE", "engine"),
                    help="adapter to run the scripts with (engine, wasmtime, pywasm, or one "
                         "registered under lazywasm.spectest_engines)")
    group.addoption("--spectest-mode", default=os.environ.get("SPECTEST_MODE", "all"),
                    help="eager, lazy-translation, lazy, a comma list, or all (default)")
    group.addoption("--spectest-scripts", default=None,
                    help="comma list of script names/ids (exact, .wast optional) or globs")
    group.addoption("--spectest-suite", default=os.environ.get("SPECTEST_SUITE"),
                    help="comma list of suites (default: the manifest's default_suites)")
    group.addoption("--spectest-pin", default=os.environ.get("SPECTEST_PIN"),
                    help="only the suites of these pins (comma list, e.g. 193e551)")
    group.addoption("--spectest-report", default=None, metavar="PATH",
                    help="write the conformance report (JSON) here")
    group.addoption("--spectest-timeout", type=float, default=None,
                    help="per-command time limit in seconds (hang guard; 0 = none)")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.resolve() == MANIFEST_PATH:
        return SpecManifest.from_parent(parent, path=file_path)
    return None


def _modes(config: pytest.Config, manifest: Manifest) -> list[str]:
    text = config.getoption("spectest_mode")
    if text == "all":
        return list(manifest.modes)
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in manifest.modes]
    if bad:
        raise pytest.UsageError(f"unknown --spectest-mode {bad}; choose from {manifest.modes}")
    return modes


def _suites(config: pytest.Config, manifest: Manifest) -> list[str]:
    suites_opt = config.getoption("spectest_suite")
    pins_opt = config.getoption("spectest_pin")
    try:
        if suites_opt:
            return [manifest.suite(s).name for s in suites_opt.split(",")]
        if pins_opt:
            return [s for p in pins_opt.split(",") for s in manifest.suites_of_pin(p)]
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from exc
    return list(manifest.default_suites)


class SpecManifest(pytest.File):
    """The manifest as a pytest file: its items are the (script, mode) pairs."""

    def collect(self) -> Iterator[pytest.Item]:
        config = self.config
        manifest = Manifest(self.path)
        patterns = config.getoption("spectest_scripts")
        patterns = patterns.split(",") if patterns else None
        scripts: list[Script] = []
        for suite in _suites(config, manifest):
            try:
                scripts.extend(manifest.scripts([suite]))
            except SuiteNotFound as exc:
                yield SpecMissing.from_parent(self, name=f"{suite}[testsuite-missing]",
                                              message=str(exc))
        missing = unmatched(scripts, patterns)
        if missing and scripts:
            raise pytest.UsageError(f"--spectest-scripts: no script matches {missing}")
        # Biggest scripts first: xdist hands out items in order, so the long ones start early.
        scripts = sorted(select(scripts, patterns), key=lambda s: (-s.path.stat().st_size, s.id))
        for script in scripts:
            for mode in _modes(config, manifest):
                yield SpecItem.from_parent(self, name=f"{script.id}[{mode}]", script=script,
                                           mode=mode, manifest=manifest)


class SpecMissing(pytest.Item):
    """Stands for a suite that is configured but not on this machine: fails with how to get
    it (a missing testsuite must never turn into skips)."""

    def __init__(self, *, message: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.message = message

    def runtest(self) -> None:
        pytest.fail(self.message, pytrace=False)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.name


class SpecFailure(Exception):
    """Some commands of a script failed."""

    def __init__(self, result: ScriptResult) -> None:
        super().__init__(result.script)
        self.result = result


_ADAPTERS: dict[str, Adapter] = {}


class SpecItem(pytest.Item):
    """One script in one mode."""

    def __init__(self, *, script: Script, mode: str, manifest: Manifest, **kw: Any) -> None:
        super().__init__(**kw)
        self.script = script
        self.mode = mode
        self.manifest = manifest

    def runtest(self) -> None:
        engine = self.config.getoption("spectest_engine")
        if engine not in _ADAPTERS:
            _ADAPTERS[engine] = get_adapter(engine)
        timeout = self.config.getoption("spectest_timeout")
        suite = self.script.suite
        spec = SessionSpec(self.mode, suite, self.script.pin, self.manifest.features(suite),
                           self.manifest.reworded(self.script.pin))
        result = run_script(
            self.script, self.mode, _ADAPTERS[engine],
            self.manifest.expectations(engine, self.mode, self.script.id),
            self.manifest.timeout if timeout is None else timeout,
            self.manifest.flags(suite), self.manifest.converters(suite), spec)
        entry = rep.Entry(self.script.id, suite, self.script.pin, self.mode, result.counts(),
                          result.converter)
        self.user_properties.append((_PROP, json.dumps(entry.to_json())))
        if result.failures():
            raise SpecFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, SpecFailure):
            r = excinfo.value.result
            c = r.counts()
            lines = [(f"{r.script} [{r.mode}]: {c['failed']} of {c['present']} commands failed"
                     f" ({c['passed']} passed, {c['xfailed']} xfailed, {c['skipped']} skipped,"
                     f" {c['text']} text)")]
            for f in r.failures()[:MAX_SHOWN]:
                lines.append(f"  {r.script}:{f.line}: {f.detail[:500]}")
            if len(r.failures()) > MAX_SHOWN:
                lines.append(f"  ... and {len(r.failures()) - MAX_SHOWN} more")
            return "\n".join(lines)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.script.path, None, f"{self.script.id}[{self.mode}]"


class Collector:
    """Gathers the items' counts and message summaries (on the controller under xdist) and
    writes the report."""

    def __init__(self) -> None:
        self.entries: list[rep.Entry] = []
        self.messages: dict[str, dict[str, Any]] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for key, value in report.user_properties:
            if key == _PROP:
                self.entries.append(rep.Entry.from_json(json.loads(value)))
            elif key == MESSAGES_PROP:
                self._merge_messages(json.loads(value))

    def _merge_messages(self, data: dict[str, Any]) -> None:
        slot = self.messages.setdefault(data["kind"], {"checked": 0, "matched": 0,
                                                       "mismatches": []})
        slot["checked"] += int(data.get("checked", 0))
        slot["matched"] += int(data.get("matched", 0))
        slot["mismatches"].extend(data.get("mismatches", []))

    def build(self, config: pytest.Config) -> dict[str, Any] | None:
        if not self.entries:
            return None
        manifest = Manifest(MANIFEST_PATH)
        pins = {name: rep.PinInfo(name, p.commit, p.title, p.date)
                for name, p in manifest.pins.items()}
        modes = sorted({e.mode for e in self.entries}, key=lambda m: (
            manifest.modes.index(m) if m in manifest.modes else 99, m))
        # the manifest's order of pins and suites, not the order items finished in
        pin_order = {name: i for i, name in enumerate(manifest.pins)}
        suite_order = {name: i for i, name in enumerate(manifest.suites)}
        entries = sorted(self.entries, key=lambda e: (
            pin_order.get(e.pin, 99), suite_order.get(e.suite, 99), e.script, e.mode))
        return rep.build(config.getoption("spectest_engine"), modes, entries, pins)


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        config.pluginmanager.register(Collector(), "spectest-collector")


def pytest_sessionfinish(session: pytest.Session) -> None:
    collector = session.config.pluginmanager.get_plugin("spectest-collector")
    if collector is None:
        return
    if any(slot["mismatches"] for slot in collector.messages.values()) \
            and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    path = session.config.getoption("spectest_report")
    if not path:
        return
    report = collector.build(session.config)
    if report is not None:
        rep.write(report, path)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    collector = config.pluginmanager.get_plugin("spectest-collector")
    if collector is None:
        return
    for kind, slot in sorted(collector.messages.items()):
        terminalreporter.section(f"{kind} messages (merged over all workers)")
        terminalreporter.write_line(f"{kind}: {slot['matched']}/{slot['checked']} messages "
                                    f"contain the testsuite's expected text")
        for m in slot["mismatches"][:50]:
            terminalreporter.write_line(f"  mismatch: {m}")
    report = collector.build(config)
    if report is None:
        return
    terminalreporter.section("WebAssembly conformance")
    terminalreporter.write_line(rep.table(report))
    path = config.getoption("spectest_report")
    if path:
        terminalreporter.write_line(f"report: {path}")
