"""The type sections of the Wasm 3.0 testsuite's GC scripts through the GC type decoder and
canonicalizer: every module the scripts expect to be valid canonicalizes, and every module
they expect to be invalid with "sub type" is rejected with it.

Needs ``WASM_TESTSUITE_3`` (the 193e551 pin) and wasm-tools (json-from-wast).
"""

from __future__ import annotations

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


def commands(script: str) -> tuple[list[dict], Path]:
    """The commands of a 193e551 script and the folder of its modules, converted as the
    runner does (wasm-tools, or the own converter where it is not installed)."""
    return suite.commands_3(suite.root_3() / f"{script}.wast")


@pytest.mark.parametrize("script", SCRIPTS)
def test_type_sections_of_gc_scripts(script):
    valid = invalid = 0
    cmds, folder = commands(script)
    for cmd in cmds:
        ctype, filename = cmd["type"], cmd.get("filename", "")
        if not filename.endswith(".wasm") or cmd.get("module_type", "binary") != "binary":
            continue
        wasm = (folder / filename).read_bytes()
        if ctype == "module":
            canonicalize(type_groups(wasm))
            valid += 1
        elif ctype == "assert_invalid" and cmd["text"] == "sub type":
            with pytest.raises(InvalidError, match="sub type"):
                canonicalize(type_groups(wasm))
            invalid += 1
    assert valid + invalid > 0
