"""The text-form ``assert_malformed`` / ``assert_invalid`` modules of both pins, judged for
real through ``Module(engine, text)``: each must be rejected as the script says (malformed:
a MalformedError whose message starts with the script's text; invalid: an InvalidError).

Allowed otherwise, and only so: a module using an instruction that is not yet a row of
engine/opcodes.py (the parser reports "unknown operator <name>": counted, not listed), and
the cases listed in EXPECTED with their reason (a listed case that comes right fails too).

``python tests/test_text_judge.py`` prints the figures per pin.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from text_suites import pin_of, scripts

from engine import Config, Engine, InvalidError, MalformedError, Module, WasmError
from engine.config import wasm_2_0_features
from engine.opcodes import BY_NAME
from engine.text import wat2wasm
from engine.text.errors import TextError
from spectest.wast import convert_script

_WORDING_2_0 = ("the Wasm 2.0 pin's wording; 193e551 expects 'i8 constant out of range' / "
                "'unexpected token' for these lane texts and we follow the current spec")
#: (pin, script) -> {line: reason}
EXPECTED = {
    ("d76759e", "simd_lane"): dict.fromkeys(
        [*range(415, 429), 521, 525, 604, 608, 612, 616, 620], _WORDING_2_0),
}


#: Wasm 3.0 instruction names (tail calls, typed references, GC, exceptions) that may not be
#: rows of engine/opcodes.py yet. Names only: encodings come from the table alone.
WASM3_INSTRUCTIONS = frozenset(["return_call", "return_call_indirect", "return_call_ref", "call_ref", "ref.as_non_null", "br_on_null", "br_on_non_null", "ref.eq", "throw", "throw_ref", "try_table", "struct.new", "struct.new_default", "struct.get", "struct.get_s", "struct.get_u", "struct.set", "array.new", "array.new_default", "array.new_fixed", "array.new_data", "array.new_elem", "array.get", "array.get_s", "array.get_u", "array.set", "array.len", "array.fill", "array.copy", "array.init_data", "array.init_elem", "ref.test", "ref.cast", "br_on_cast", "br_on_cast_fail", "any.convert_extern", "extern.convert_any", "ref.i31", "i31.get_s", "i31.get_u"])


def _engine(pin: str) -> Engine:
    """An engine with the pin's feature set (the 2.0 pin: every post-2.0 feature off, as the
    conformance manifest runs it)."""
    config = Config()
    if pin == "d76759e":
        config.features.update(wasm_2_0_features())
    return Engine(config)


def judge(wat: bytes, kind: str, text: str, pin: str = "193e551") -> str:
    """"right", or what happened instead, for one text module expected ``kind`` / ``text``."""
    try:
        Module(_engine(pin), wat2wasm(wat)).compile_all()
    except TextError as err:
        if kind == "assert_malformed" and err.message.startswith(text):
            return "right"
        if err.message.startswith("unknown operator "):
            word = err.message.split(" ", 2)[2]
            if word not in BY_NAME and word in WASM3_INSTRUCTIONS:  # a row yet to land
                return f"missing instruction {word}"
        if kind != "assert_malformed":
            return f"text parser rejects an invalid module: {err.message}"
        return f"malformed, other text: {err}"
    except MalformedError as err:
        return "right" if kind == "assert_malformed" else f"decoder rejects: {err}"
    except InvalidError as err:
        return "right" if kind == "assert_invalid" else f"validator rejects: {err}"
    except WasmError as err:
        return f"other error {type(err).__name__}: {err}"
    return "accepted"


def judge_script(script: Path, work: Path) -> list[tuple[int, str, str]]:
    """(line, command kind, outcome) of each text-form malformed/invalid module."""
    out = work / f"{script.stem}.json"
    convert_script(script, out)
    results = []
    for cmd in json.loads(out.read_text())["commands"]:
        if cmd["type"] in ("assert_malformed", "assert_invalid") \
                and cmd.get("module_type") == "text":
            outcome = judge((out.parent / cmd["filename"]).read_bytes(), cmd["type"],
                            cmd["text"], pin_of(script))
            results.append((cmd["line"], cmd["type"], outcome))
    return results


@pytest.mark.parametrize("script", scripts(), ids=lambda s: f"{pin_of(s)}/{s.stem}")
def test_text_assertions(script: Path, tmp_path: Path) -> None:
    expected = EXPECTED.get((pin_of(script), script.stem), {})
    problems = []
    for line, kind, outcome in judge_script(script, tmp_path):
        if outcome.startswith("missing instruction"):
            continue
        if line in expected:
            if outcome == "right":
                problems.append(f"line {line}: listed ({expected[line]}) but now right")
            elif kind == "assert_malformed" and not outcome.startswith("malformed"):
                problems.append(f"line {line}: {outcome}")
        elif outcome != "right":
            problems.append(f"line {line} {kind}: {outcome}")
    assert not problems, "\n".join(problems)


def main() -> None:
    for pin in sorted({s.parent for s in scripts()}):
        outcomes: Counter = Counter()
        with tempfile.TemporaryDirectory() as tmp:
            for i, script in enumerate(sorted(pin.glob("*.wast"))):
                work = Path(tmp) / str(i)
                for _line, kind, outcome in judge_script(script, work):
                    outcomes[(kind, outcome.split(":")[0])] += 1
        print(pin.name, sum(outcomes.values()))
        for (kind, outcome), n in sorted(outcomes.items(), key=lambda x: -x[1]):
            print(f"  {n:5d} {kind}: {outcome}")


if __name__ == "__main__":
    main()
