"""The macro benchmark programs (benchmarks/macro): our engine's results equal wasmtime's.

Every program at every clang build (-O2, -O0, -O3 -msimd128) in every compilation mode, at
small sizes, including n = 0 (the set-up code alone). These are C compilers' code shapes
(shadow stack in linear memory at -O0, auto-vectorised loops at -O3, br_table dispatch,
64-bit rotate chains), so they keep the optimised translation paths exact. wasmtime is the
reference; the whole file is skipped, with that reason, only if wasmtime is not importable.
"""

from __future__ import annotations

import pytest

from benchmarks.macro import harness
from benchmarks.macro.build import BUILDS
from benchmarks.macro.programs import PROGRAMS, SRC_DIR, Program
from benchmarks.runners import load_ours, load_wasmtime

wasmtime = pytest.importorskip("wasmtime", reason="wasmtime is the reference engine")

MODES = ("eager", "lazy-translation", "lazy")
SIZES = (0, 1, 3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("build", list(BUILDS))
@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.name)
def test_results_equal_wasmtime(prog: Program, build: str, mode: str) -> None:
    wasm = prog.wasm(build)
    ours, ref = load_ours(wasm, mode), load_wasmtime(wasm)
    for n in SIZES:
        want = prog.normalise(ref(n))
        assert prog.normalise(ours(n)) == want, f"{prog.name}.{build} {mode} n={n}"
    # a second call on the same instance must not depend on state left by the first
    assert prog.normalise(ours(SIZES[-1])) == prog.normalise(ref(SIZES[-1]))


def test_every_source_has_every_build_committed() -> None:
    sources = {p.stem for p in SRC_DIR.glob("*.c")}
    assert sources == {p.name for p in PROGRAMS}
    for prog in PROGRAMS:
        for build in BUILDS:
            assert prog.path(build).is_file(), f"{prog.path(build)} missing: run build.py"
            assert set(prog.pywasm_sizes) == set(BUILDS)


def test_self_checks_do_not_fail() -> None:
    """The programs return -1 when an internal round trip fails (lz77, sort, crc_b64,
    strings): a result of -1 at a real size would mean the C (or an engine) is wrong."""
    for prog in PROGRAMS:
        got = prog.normalise(load_wasmtime(prog.wasm("O2"))(prog.quick_size))
        assert got != prog.normalise(-1), prog.name


def test_harness_quick_run_checks_against_wasmtime() -> None:
    """One program through the harness: ours and wasmtime ok, checksums equal, memory
    figure positive; a wrong reference is reported as WRONG, not ok."""
    opts = harness.Options(quick=True, engines=("ours", "wasmtime"), programs=("mandel",),
                           builds=("O2",))
    [res] = harness.run_all(opts)
    assert res.reference == "wasmtime"
    assert {c.status for c in res.cells.values()} == {"ok"}
    assert res.cells["ours"].checksum == res.cells["wasmtime"].checksum
    assert res.retained is not None and res.retained > 0 and res.body_bytes > 0
    assert not harness.problems([res])
    bad = harness._measure(res.program, "ours", 2, lambda: (lambda n: 12345), 1,
                           lambda n: 7)
    assert bad.status == "wrong" and "12345" in bad.message
    assert "mandel" in harness.table([res])


def test_harness_interleaves_the_engines_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The timed calls alternate between engines (one of each per round), each engine
    stops at its own number of runs, and a failing engine is an error cell."""
    calls: list[str] = []

    def loader(name: str, value: int):
        def run(n: int) -> int:
            calls.append(name)
            if name == "bad" and len(calls) > 5:
                raise RuntimeError("boom")
            return value
        return lambda: run

    prog = next(p for p in harness.PROGRAMS if p.name == "mandel")
    monkeypatch.setattr(harness, "SAMPLE_SECONDS", 0.0)  # one call per sample
    timed = {"a": harness._Timed(2, loader("a", 5), 3), "b": harness._Timed(2, loader("b", 5), 2)}
    cells = harness._measure_together(prog, timed, lambda n: 5)
    # A warm-up and a calibrating call each, then rounds.
    assert calls == ["a", "a", "b", "b", "a", "b", "a", "b", "a"]
    assert cells["a"].status == cells["b"].status == "ok"
    calls.clear()
    timed = {"a": harness._Timed(2, loader("a", 5), 3), "bad": harness._Timed(2, loader("bad", 5), 3)}
    cells = harness._measure_together(prog, timed, lambda n: 5)
    assert cells["bad"].status == "error" and "boom" in cells["bad"].message
    assert cells["a"].status == "ok"
