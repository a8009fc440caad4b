"""Self-test of the conformance runner: it must catch wrong values and wrong error kinds.

Scripts are written here (not copied from the testsuite) and converted with wast2json.
They run through the wasmtime adapter and through a fake adapter that lies in controlled
ways, so the test does not depend on the state of our engine.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from spectest.adapters import AdapterError, get_adapter
from spectest.manifest import Manifest
from spectest.runner import ScriptResult, run_script
from spectest.suites import Script
from spectest.values import ExternRef, lanes_to_int, matches

GOOD = """
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (global (export "g") f64 (f64.const -0.5))
)
(register "M")
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "nan") (f32.const nan:canonical))
(assert_return (invoke "id" (ref.extern 7)) (ref.extern 7))
(assert_return (get "g") (f64.const -0.5))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_malformed (module binary "\\00asm\\02\\00\\00\\00") "unknown binary version")
(assert_malformed (module quote "(func") "unexpected token")
(assert_unlinkable (module (import "M" "nope" (func))) "unknown import")
"""
GOOD_PRESENT = 11  # 2 modules/registers + 9 assertions


def write(tmp_path: Path, name: str, text: str) -> Script:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return Script(f"own/{name}", path, "own")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECTEST_CACHE", str(tmp_path / "cache"))


def check_sums(result: ScriptResult) -> dict[str, int]:
    counts = result.counts()
    assert counts["present"] == sum(counts[k] for k in
                                    ("passed", "failed", "xfailed", "skipped", "text"))
    return counts


wasmtime = pytest.importorskip("wasmtime")


def test_good_script_passes_with_wasmtime(tmp_path: Path) -> None:
    result = run_script(write(tmp_path, "good.wast", GOOD), "eager", get_adapter("wasmtime"))
    counts = check_sums(result)
    assert counts["present"] == GOOD_PRESENT
    assert counts["failed"] == 0, [f.detail for f in result.failures()]
    assert counts["text"] == 1  # the quoted module tests a text parser: never "passed"
    assert counts["passed"] == GOOD_PRESENT - 1


@pytest.mark.parametrize("old,new,needle", [
    ("(i32.const 3))", "(i32.const 4))", "expected (i32:4)"),
    ("(f32.const nan:canonical)", "(f32.const 0)", "expected (f32:0)"),
    ("(f64.const -0.5))", "(f64.const 0.5))", "expected (f64:"),
    ("(ref.extern 7)) (ref.extern 7))", "(ref.extern 7)) (ref.extern 8))",
     "expected (externref:8)"),
    ('"integer divide by zero"', '"integer overflow"', "expected trap 'integer overflow'"),
])
def test_altered_expectation_is_a_failure(tmp_path: Path, old: str, new: str,
                                          needle: str) -> None:
    assert old in GOOD
    script = write(tmp_path, "bad.wast", GOOD.replace(old, new, 1))
    result = run_script(script, "eager", get_adapter("wasmtime"))
    counts = check_sums(result)
    assert counts["failed"] == 1
    (failure,) = result.failures()
    assert needle in failure.detail
    assert failure.line > 0


class LyingSession:
    """Wraps a real session and rejects modules with a chosen (wrong) error kind."""

    def __init__(self, inner, compile_kind: str | None, trap_message: str | None) -> None:
        self.inner, self.compile_kind, self.trap_message = inner, compile_kind, trap_message

    def compile(self, data: bytes, check_all: bool = False):
        try:
            return self.inner.compile(data, check_all)
        except AdapterError as err:
            raise AdapterError(self.compile_kind or err.kind, err.message) from None

    def invoke(self, instance, field, args, types):
        try:
            return self.inner.invoke(instance, field, args, types)
        except AdapterError as err:
            raise AdapterError(err.kind, self.trap_message or err.message) from None

    def __getattr__(self, name):
        return getattr(self.inner, name)


class LyingAdapter:
    name = "liar"
    checked_messages = frozenset({"trap", "exhaustion"})  # wasmtime's

    def __init__(self, compile_kind: str | None = None, trap_message: str | None = None):
        self.real = get_adapter("wasmtime")
        # wasmtime cannot tell malformed from invalid; a forced kind can
        self.merges_malformed_invalid = compile_kind is None
        self.compile_kind, self.trap_message = compile_kind, trap_message

    def session(self, spec):
        return LyingSession(self.real.session(spec), self.compile_kind, self.trap_message)


def test_wrong_compile_error_kind_is_a_failure(tmp_path: Path) -> None:
    # Every rejected module is reported "malformed": the assert_invalid must fail, the
    # assert_malformed passes, and an accepted module is unaffected.
    result = run_script(write(tmp_path, "kinds.wast", GOOD), "eager",
                        LyingAdapter(compile_kind="malformed"))
    check_sums(result)
    assert [(f.type, "expected invalid" in f.detail) for f in result.failures()] == \
        [("assert_invalid", True)]
    # ... and "invalid" everywhere: now the binary assert_malformed fails.
    result = run_script(write(tmp_path, "kinds.wast", GOOD), "eager",
                        LyingAdapter(compile_kind="invalid"))
    assert [f.type for f in result.failures()] == ["assert_malformed"]


def test_wrong_trap_message_is_a_failure(tmp_path: Path) -> None:
    result = run_script(write(tmp_path, "trap.wast", GOOD), "eager",
                        LyingAdapter(trap_message="out of bounds memory access"))
    (failure,) = result.failures()
    assert failure.type == "assert_trap" and "integer divide by zero" in failure.detail


class BrokenAdapter:
    """An engine that cannot even make a store: every command must fail, none pass."""

    name = "broken"
    merges_malformed_invalid = False

    def session(self, spec):
        raise AdapterError("crash", "no engine")


def test_broken_engine_fails_every_command_but_text(tmp_path: Path) -> None:
    counts = check_sums(run_script(write(tmp_path, "g.wast", GOOD), "lazy", BrokenAdapter()))
    assert counts == {"present": GOOD_PRESENT, "passed": 0, "failed": GOOD_PRESENT - 1,
                      "xfailed": 0, "skipped": 0, "text": 1}


def test_manifest_xfail_skip_and_strict_xpass(tmp_path: Path) -> None:
    script = write(tmp_path, "m.wast", GOOD.replace("(i32.const 3))", "(i32.const 4))", 1))
    first = run_script(script, "eager", get_adapter("wasmtime"))
    (bad,) = first.failures()
    bad_line = bad.line
    trap_line = next(c.line for c in first.results if c.type == "assert_trap")
    manifest_path = tmp_path / "manifest.yaml"
    manifest_path.write_text(textwrap.dedent(f"""\
        modes: [eager, lazy]
        expected:
          wasmtime:
          - {{script: own/m.wast, lines: [{bad_line}], modes: all, reason: known}}
          - {{script: own/m.wast, lines: [{trap_line}], modes: [eager], action: skip,
             reason: hangs}}
        """))
    manifest = Manifest(manifest_path)
    result = run_script(script, "eager", get_adapter("wasmtime"),
                        manifest.expectations("wasmtime", "eager", script.id))
    counts = check_sums(result)
    assert (counts["xfailed"], counts["skipped"], counts["failed"]) == (1, 1, 0)
    # The same expectation on the unaltered script passes: strict XPASS is a failure.
    good = write(tmp_path, "m.wast", GOOD)
    result = run_script(good, "lazy", get_adapter("wasmtime"),
                        manifest.expectations("wasmtime", "lazy", good.id))
    (failure,) = result.failures()
    assert failure.detail.startswith("XPASS(strict)")
    # --update-manifest drops the passing entry in the mode that ran, keeps the rest.
    manifest.update("wasmtime", [result])
    again = Manifest(manifest_path)
    assert again.expectations("wasmtime", "lazy", good.id) == {}
    assert again.expectations("wasmtime", "eager", good.id) == {
        bad_line: ("xfail", "known"), trap_line: ("skip", "hangs")}


def test_update_manifest_keeps_reasons_and_adds_defaults(tmp_path: Path) -> None:
    script = write(tmp_path, "u.wast", GOOD.replace("(i32.const 3))", "(i32.const 4))", 1)
                   .replace('"integer divide by zero"', '"nope"', 1))
    manifest_path = tmp_path / "manifest.yaml"
    first = run_script(script, "eager", get_adapter("wasmtime"))
    lines = sorted(f.line for f in first.failures())
    manifest_path.write_text(f"modes: [eager]\nexpected:\n  wasmtime:\n"
                             f"  - {{script: own/u.wast, lines: [{lines[0]}], reason: mine}}\n")
    manifest = Manifest(manifest_path)
    assert manifest.update("wasmtime", [first]) == 2
    slot = Manifest(manifest_path).expectations("wasmtime", "eager", script.id)
    assert slot[lines[0]] == ("xfail", "mine")
    assert slot[lines[1]][1].startswith("not implemented yet: ")


def test_engine_adapter_catches_an_altered_value(tmp_path: Path) -> None:
    engine = pytest.importorskip("engine")
    if not hasattr(engine, "Linker"):
        pytest.skip("engine public API not there yet")
    script = write(tmp_path, "e.wast", GOOD.replace("(i32.const 3))", "(i32.const 4))", 1))
    for mode in ("eager", "lazy-translation", "lazy"):
        result = run_script(script, mode, get_adapter("engine"))
        check_sums(result)
        assert any("expected (i32:4), got (3)" in f.detail for f in result.failures())


def test_values_bit_exact() -> None:
    f32 = {"type": "f32", "value": "nan:arithmetic"}
    assert matches(f32, 0x7FC00001) and matches(f32, 0xFFC00000)
    assert not matches(f32, 0x7F800001)  # a signalling NaN is not arithmetic
    assert matches({"type": "f32", "value": "nan:canonical"}, 0xFFC00000)
    assert not matches({"type": "f32", "value": "nan:canonical"}, 0x7FC00001)
    assert not matches({"type": "f64", "value": "0"}, 1 << 63)  # -0.0 is not +0.0
    v = {"type": "v128", "lane_type": "f32", "value": ["nan:canonical", "0", "1", "2"]}
    assert matches(v, lanes_to_int("i32", ["2143289344", "0", "1", "2"]))
    assert not matches(v, lanes_to_int("i32", ["2143289345", "0", "1", "2"]))
    assert matches({"type": "externref", "value": "3"}, ExternRef.of(3))
    assert not matches({"type": "externref", "value": "3"}, ExternRef(3))  # identity
    assert not matches({"type": "i32", "value": "1"}, True)
    assert matches({"type": "funcref", "value": "null"}, None)


def test_conversion_is_cached(tmp_path: Path) -> None:
    from spectest.convert import choose, convert
    from spectest.runner import DEFAULT_CONVERTERS

    script = write(tmp_path, "c.wast", GOOD).path
    conv = choose(DEFAULT_CONVERTERS)  # wast2json, or a fallback where wabt is absent
    first = convert(script, converter=conv)
    mtime = first.stat().st_mtime_ns
    assert convert(script, converter=conv) == first and first.stat().st_mtime_ns == mtime
    script.write_text(GOOD + "\n(module)\n")
    assert convert(script, converter=conv) != first


class HangingAdapter(LyingAdapter):
    """Every call loops forever: the hang guard must fail the command and move on."""

    def session(self, spec):
        session = super().session(spec)

        def hang(*args):
            while True:
                pass

        session.invoke = hang
        return session


def test_hang_guard_fails_the_command(tmp_path: Path) -> None:
    result = run_script(write(tmp_path, "h.wast", GOOD), "eager", HangingAdapter(), timeout=0.2)
    counts = check_sums(result)
    assert counts["failed"] == 4  # the 4 invokes; the get, modules and the rest still pass
    assert all("timed out" in f.detail for f in result.failures())
