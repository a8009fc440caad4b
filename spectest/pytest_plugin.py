"""pytest plugin: one item per (script, mode), a report aggregated across xdist workers.

Items are collected from ``spectest/manifest.yaml`` (listed in ``testpaths``), with ids like
``spec/i32.wast[lazy]`` and ``own/<name>.wast[eager]``. Each item's counts travel to the
controlling process in the test report's ``user_properties`` (pytest-xdist forwards them), so
the controller writes one report (``--spectest-report PATH``) for the whole session.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spectest import report as rep
from spectest.adapters import Adapter, get_adapter
from spectest.convert import wabt_version
from spectest.manifest import MANIFEST_PATH, Manifest
from spectest.runner import ScriptResult, run_script
from spectest.suites import Script, SuiteNotFound, pin_of, select, testsuite_root

MAX_SHOWN = 60
_PROP = "spectest"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("spectest", "WebAssembly conformance")
    group.addoption("--spectest-engine", default=os.environ.get("SPECTEST_ENGINE", "engine"),
                    choices=["engine", "wasmtime"], help="adapter to run the scripts with")
    group.addoption("--spectest-mode", default=os.environ.get("SPECTEST_MODE", "all"),
                    help="eager, lazy-translation, lazy, a comma list, or all (default)")
    group.addoption("--spectest-scripts", default=None,
                    help="comma list of script names, ids, globs or substrings")
    group.addoption("--spectest-suite", default=None,
                    help="comma list of suites (default: the manifest's default_suites)")
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


class SpecManifest(pytest.File):
    """The manifest as a pytest file: its items are the (script, mode) pairs."""

    def collect(self) -> Iterator[pytest.Item]:
        config = self.config
        manifest = Manifest(self.path)
        suites_opt = config.getoption("spectest_suite")
        suites = suites_opt.split(",") if suites_opt else manifest.default_suites
        patterns = config.getoption("spectest_scripts")
        patterns = patterns.split(",") if patterns else None
        scripts: list[Script] = []
        for suite in suites:
            try:
                scripts.extend(manifest.scripts([suite]))
            except SuiteNotFound as exc:
                yield SpecMissing.from_parent(self, name=f"{suite}[testsuite-missing]",
                                              message=str(exc))
        # Biggest scripts first: xdist hands out items in order, so the long ones start early.
        scripts = sorted(select(scripts, patterns), key=lambda s: (-s.path.stat().st_size, s.id))
        for script in scripts:
            for mode in _modes(config, manifest):
                yield SpecItem.from_parent(self, name=f"{script.id}[{mode}]", script=script,
                                           mode=mode, manifest=manifest)


class SpecMissing(pytest.Item):
    """Stands for a suite that is not on this machine: skipped with how to get it."""

    def __init__(self, *, message: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.message = message

    def runtest(self) -> None:
        pytest.skip(self.message)


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
        result = run_script(
            self.script, self.mode, _ADAPTERS[engine],
            self.manifest.expectations(engine, self.mode, self.script.id),
            self.manifest.timeout if timeout is None else timeout,
            self.manifest.flags(self.script.suite))
        self.user_properties.append(
            (_PROP, json.dumps([self.script.id, self.mode, result.counts()])))
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
    """Gathers the items' counts (on the controller under xdist) and writes the report."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, dict[str, int]]] = []

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for key, value in report.user_properties:
            if key == _PROP:
                script, mode, counts = json.loads(value)
                self.entries.append((script, mode, counts))

    def build(self, config: pytest.Config) -> dict[str, Any] | None:
        if not self.entries:
            return None
        manifest = Manifest(MANIFEST_PATH)
        try:
            pin = pin_of(testsuite_root())
        except SuiteNotFound:
            pin = manifest.pin
        if manifest.pin.startswith(pin):  # a short folder name: report the full commit
            pin = manifest.pin
        modes = sorted({m for _, m, _ in self.entries}, key=lambda m: (
            manifest.modes.index(m) if m in manifest.modes else 99, m))
        return rep.build(config.getoption("spectest_engine"), pin, wabt_version(), modes,
                         self.entries)


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        config.pluginmanager.register(Collector(), "spectest-collector")


def pytest_sessionfinish(session: pytest.Session) -> None:
    collector = session.config.pluginmanager.get_plugin("spectest-collector")
    path = session.config.getoption("spectest_report")
    if collector is None or not path:
        return
    report = collector.build(session.config)
    if report is not None:
        rep.write(report, path)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    collector = config.pluginmanager.get_plugin("spectest-collector")
    if collector is None:
        return
    report = collector.build(config)
    if report is None:
        return
    terminalreporter.section("WebAssembly conformance")
    terminalreporter.write_line(rep.table(report))
    path = config.getoption("spectest_report")
    if path:
        terminalreporter.write_line(f"report: {path}")
