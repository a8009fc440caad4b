"""Judge the text-form assert_malformed / assert_invalid modules of the pins through
``Module(engine, text)``: how many are rejected as the script says, and why the others are
not. ``python tests/text_judge.py`` prints the figures per pin."""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from text_suites import scripts

from engine import Engine, InvalidError, MalformedError, Module, WasmError
from engine.text.errors import TextError
from spectest.wast import convert_script


def judge(wat: bytes, kind: str, text: str) -> str:
    """The outcome of compiling one text module expected to be ``kind`` with ``text``."""
    try:
        source = wat.decode("utf-8")
    except UnicodeDecodeError:
        source = None
    try:
        if source is None:
            from engine.text import wat2wasm
            Module(Engine(), wat2wasm(wat))
        else:
            Module(Engine(), source).compile_all()
    except TextError as err:
        if kind != "assert_malformed":
            return "text parser rejects an invalid module"
        return "right" if str(err).startswith(text) else f"malformed, other text: {err.message}"
    except MalformedError as err:
        return "right" if kind == "assert_malformed" else f"decoder rejects: {str(err)[:50]}"
    except InvalidError as err:
        if kind == "assert_invalid":
            return "right"
        return f"validator rejects a malformed module: {str(err)[:40]}"
    except WasmError as err:
        return f"other error {type(err).__name__}"
    return "accepted"


def main() -> None:
    for pin in sorted({s.parent for s in scripts()}):
        outcomes: Counter = Counter()
        with tempfile.TemporaryDirectory() as tmp:
            for script in sorted(pin.glob("*.wast")):
                out = Path(tmp) / script.stem / f"{script.stem}.json"
                convert_script(script, out)
                for cmd in json.loads(out.read_text())["commands"]:
                    if cmd["type"] in ("assert_malformed", "assert_invalid") \
                            and cmd.get("module_type") == "text":
                        wat = (out.parent / cmd["filename"]).read_bytes()
                        result = judge(wat, cmd["type"], cmd["text"])
                        outcomes[(cmd["type"], result)] += 1
        print(pin.name, sum(outcomes.values()))
        for (kind, result), n in sorted(outcomes.items(), key=lambda x: -x[1]):
            print(f"  {n:5d} {kind}: {result}")


if __name__ == "__main__":
    main()
