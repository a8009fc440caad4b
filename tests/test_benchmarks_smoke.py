"""Smoke test of the benchmark suite: every benchmark once at --quick size, checksums
agreeing across engines, so none of the benchmarks rots. No timing is asserted.

Our engine and the hand-written Python always run; pywasm and wasmtime columns are skipped
when those packages are not installed.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import cli, compile_bench, execution, runners, wasmgen
from benchmarks.suite import KERNELS

ENGINE_PACKAGES = {"ours": None, "pywasm": "pywasm", "wasmtime": "wasmtime"}


@pytest.mark.parametrize("engine", list(ENGINE_PACKAGES))
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_kernel_checksum_agrees(kernel, engine):
    if ENGINE_PACKAGES[engine]:
        pytest.importorskip(ENGINE_PACKAGES[engine])
    opts = execution.Options(quick=True, engines=(engine,))
    result = execution.run_kernel(kernel, opts)
    py, cell = result.cells["python"], result.cells[engine]
    assert py.status == "ok", py.message
    if engine in kernel.unsupported_by:  # e.g. pywasm has no memory64: reported as n/a
        assert cell.status == "n/a" and cell.seconds is None
        return
    assert cell.status == "ok", f"{engine}: {cell.status}: {cell.message}"
    assert cell.checksum == py.checksum
    assert cell.seconds is not None and cell.seconds >= 0


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_handwritten_twin_matches_wasm_at_two_sizes(kernel):
    """The Python twin is the reference, so check it against a native engine directly."""
    pytest.importorskip("wasmtime")
    run = runners.load_wasmtime(kernel.wasm_bytes())
    for n in (kernel.quick_size, kernel.quick_size + 3):
        assert runners.normalise(kernel.result, run(n)) == \
            runners.normalise(kernel.result, kernel.python(n))


def test_crc32_kernel_is_real_crc32():
    import zlib

    from benchmarks import handwritten
    assert handwritten.crc32(1000) == zlib.crc32(bytes(handwritten.crc32_buffer(1000)))


def test_wrong_checksum_fails_loudly(monkeypatch, capsys):
    kernel = KERNELS[0]
    bad = type(kernel)(**{**vars(kernel), "python": lambda n: 12345})
    monkeypatch.setattr(execution, "KERNELS", (bad,))
    pytest.importorskip("wasmtime")
    results = execution.run_all(execution.Options(quick=True, engines=("wasmtime",)))
    assert results[0].cells["wasmtime"].status == "wrong"
    assert execution.problems(results)
    assert cli.main(["--quick", "--only", kernel.name, "--no-ours", "--no-pywasm"]) == 1
    assert "WRONG" in capsys.readouterr().out


def test_missing_engine_is_na_not_crash(monkeypatch):
    def missing(wasm):
        raise runners.Unavailable("not installed")
    monkeypatch.setitem(runners.WASM_ENGINES, "pywasm", missing)
    monkeypatch.setitem(execution.WASM_ENGINES, "pywasm", missing)
    result = execution.run_kernel(KERNELS[0], execution.Options(quick=True, engines=("pywasm",)))
    assert result.cells["pywasm"].status == "n/a"
    assert not execution.problems([result])
    assert "n/a" in execution.table([result])


def test_generated_modules_are_valid():
    wasmtime = pytest.importorskip("wasmtime")
    engine = wasmtime.Engine()
    for data in (wasmgen.realistic_module(40), wasmgen.empty_module(10)):
        wasmtime.Module.validate(engine, data)
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, wasmtime.Module(engine, wasmgen.realistic_module(40)), [])
    assert inst.exports(store)["f1"](store, 10) == 56


def test_leb128_writer():
    assert wasmgen.uleb(624485) == bytes([0xE5, 0x8E, 0x26])
    assert wasmgen.sleb(-123456) == bytes([0xC0, 0xBB, 0x78])
    assert wasmgen.sleb(64) == bytes([0xC0, 0x00])
    assert wasmgen.sleb(-1) == b"\x7f"


def test_compile_benchmark_quick_all_modes():
    rows = compile_bench.run_all(quick=True, runs=1)
    assert {(r.kind, r.mode) for r in rows} == {
        (k, m) for k in ("realistic", "empty") for m in compile_bench.MODES}
    for r in rows:
        assert r.status == "ok", f"{r.kind} {r.functions} {r.mode}: {r.message}"
        assert r.module_s is not None and r.instance_s is not None
        assert r.module_bpf is not None and r.instance_bpf is not None
    assert "realistic" in compile_bench.table(rows)
    assert len(compile_bench.targets(rows)) == 5


def test_cli_quick_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = cli.main(["--quick", "--only", "loop,dispatch", "--json", str(out),
                     "--conformance"])  # conformance never runs with --quick
    text = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert code == 0, data["problems"]
    assert [e["kernel"] for e in data["execution"]] == ["loop", "dispatch"]
    assert "conformance" not in data and "Conformance" not in text
    assert "| loop" in text and "geometric mean" in text


def test_committed_binaries_match_sources():
    from benchmarks import build
    tool = build.wat2wasm_path()
    if tool is None:
        pytest.skip("wat2wasm not installed")
    assert build.stale_kernels(tool) == []


def test_conformance_entry_times_one_script(monkeypatch):
    """The conformance benchmark's plumbing, on one small script (the full run is long)."""
    import os
    from pathlib import Path

    from benchmarks import conformance
    from spectest import suites
    if "WASM_TESTSUITE" not in os.environ and Path(conformance.DEFAULT_SUITE).is_dir():
        monkeypatch.setenv("WASM_TESTSUITE", conformance.DEFAULT_SUITE)
    try:
        suites.testsuite_root()
    except suites.SuiteNotFound:
        pytest.skip("WebAssembly testsuite not available")
    row = conformance.run_mode("lazy", 120, ("fac",))
    assert row.returncode == 0, row.summary
    assert row.seconds is not None and row.summary.startswith("passed ")


def test_simd_section_quick(capsys):
    """The SIMD colleague's benchmark runs through ``python -m benchmarks --only simd``."""
    pytest.importorskip("benchmarks.simd_vs_scalar")
    assert cli.main(["--quick", "--only", "simd"]) == 0
    assert "SIMD" in capsys.readouterr().out
