"""Our own ``.wast`` reader: a script -> the JSON command list ``wasm-tools json-from-wast``
writes, and the module files beside it, using the engine's text front end (engine.text).

The output follows wasm-tools' schema exactly (checked command by command against it by
tests/test_text_crosscheck.py): modules are written as ``<stem>.<n>.wasm`` (binary) or
``<stem>.<n>.wat`` (``module quote``, with ``binary_filename`` when the quoted text parses),
numbered in order of appearance. A text module our parser rejects is written as ``.wat``
(``module_type`` "text") so that the runner judges it through ``Module(engine, text)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.text import ModuleForm, module_from_form, read_module_form, wat_tokens
from engine.text.cursor import Cursor
from engine.text.errors import TextError
from engine.text.lexer import ANNOT, ID, KEYWORD, NUM, RPAREN
from engine.text.module import FIELDS as _FIELDS
from engine.text.numbers import F32, F64, parse_float, parse_int

_SHAPES = {"i8x16": (16, 8), "i16x8": (8, 16), "i32x4": (4, 32), "i64x2": (2, 64),
           "f32x4": (4, 32), "f64x2": (2, 64)}
_NULL_TYPES = {
    "func": "funcref", "extern": "externref", "any": "anyref", "exn": "exnref",
    "eq": "eqref", "struct": "structref", "array": "arrayref", "i31": "i31ref",
    "none": "nullref", "nofunc": "nullfuncref", "noextern": "nullexternref",
    "noexn": "nullexnref",
}
_REF_RESULTS = {"ref.func": "funcref", "ref.extern": "externref", "ref.any": "anyref",
                "ref.eq": "eqref", "ref.i31": "i31ref", "ref.struct": "structref",
                "ref.array": "arrayref", "ref.exn": "exnref", "ref.host": "anyref"}
_MODULE_ASSERTIONS = {"assert_malformed", "assert_invalid", "assert_unlinkable",
                      "assert_malformed_custom", "assert_invalid_custom"}
_UNPARSED_QUOTES = {"assert_malformed", "assert_malformed_custom"}  # left to the consumer


class ScriptWriter:
    """Converts one script; ``commands`` is the JSON list, files go to ``out_dir``."""

    def __init__(self, source: bytes, stem: str, out_dir: Path) -> None:
        self.tokens = wat_tokens(source)
        self.cur = Cursor(self.tokens)
        self.stem = stem
        self.out_dir = out_dir
        self.count = 0
        self.commands: list[dict[str, Any]] = []

    def line(self, index: int) -> int:
        return self.tokens.where(index)[0]

    def run(self) -> list[dict[str, Any]]:
        cur = self.cur
        if cur.open_word() in _FIELDS or cur.kind() == ANNOT:
            # a script may be one module written as bare fields
            form = ModuleForm("text", None, False, b"", 0, len(cur.kinds))
            self.commands.append({"type": "module", "line": self.line(0), **self.write_module(form)})
            return self.commands
        while not cur.at_end():
            word = cur.open_word()
            if word is None:
                raise cur.unexpected()
            self.commands.append(self.command(word))
        return self.commands

    # -- commands -----------------------------------------------------------------------------
    def command(self, word: str) -> dict[str, Any]:
        cur = self.cur
        at = cur.i
        line = self.line(at + 1)
        if word == "module":
            return self.module_command(line)
        if word == "register":
            cur.open("register")
            as_name = cur.utf8_string()
            name = cur.id()
            cur.close()
            out: dict[str, Any] = {"type": "register", "line": line}
            if name is not None:
                out["name"] = name
            out["as"] = _text(as_name)
            return out
        if word in ("invoke", "get"):
            return {"type": "action", "line": line, "action": self.action()}
        if word == "assert_return":
            close = cur.open(word)
            line = self.line(cur.i + 1)
            action = self.action()
            expected = []
            while cur.i < close:
                expected.append(self.result())
            cur.close()
            return {"type": word, "line": line, "action": action, "expected": expected}
        if word in ("assert_trap", "assert_exhaustion", "assert_exception"):
            cur.open(word)
            line = self.line(cur.i + 1)
            if cur.peek_open("module"):
                return self.module_assertion("assert_uninstantiable", line)
            action = self.action()
            out = {"type": word, "line": line, "action": action}
            if word != "assert_exception":
                out["text"] = _text(cur.string())
            cur.close()
            return out
        if word in _MODULE_ASSERTIONS:
            cur.open(word)
            line = self.line(cur.i + 1)
            return self.module_assertion(word, line)
        raise cur.unexpected(at + 1)

    def module_command(self, line: int) -> dict[str, Any]:
        cur = self.cur
        at = cur.i
        if cur.texts[at + 2:at + 3] == ["instance"] and cur.kinds[at + 2] == KEYWORD:
            cur.open("module")
            cur.word("instance")
            instance = cur.id()
            module = cur.id()
            cur.close()
            out: dict[str, Any] = {"type": "module_instance", "line": line}
            if instance is not None:
                out["instance"] = instance
            if module is not None:
                out["module"] = module
            return out
        form = read_module_form(cur)
        out = {"type": "module_definition" if form.definition else "module", "line": line}
        if form.name is not None:
            out["name"] = form.name
        out.update(self.write_module(form))
        return out

    def module_assertion(self, kind: str, line: int) -> dict[str, Any]:
        cur = self.cur
        form = read_module_form(cur)
        text = _text(cur.string())
        cur.close()
        out: dict[str, Any] = {"type": kind, "line": line}
        out.update(self.write_module(form, parse_quote=kind not in _UNPARSED_QUOTES))
        out["text"] = text
        return out

    def write_module(self, form: ModuleForm, parse_quote: bool = True) -> dict[str, Any]:
        """Write a module's file(s); the JSON fields naming them. A quoted module is also
        encoded (``binary_filename``) when it parses, except under assert_malformed, where
        wasm-tools leaves it to the consumer."""
        base = f"{self.stem}.{self.count}"
        self.count += 1
        if form.kind == "quote":
            (self.out_dir / f"{base}.wat").write_bytes(form.data)
            out = {"filename": f"{base}.wat", "module_type": "text"}
            if not parse_quote:
                return out
            try:
                binary = module_from_form(self.tokens, form)
            except TextError:
                return out
            (self.out_dir / f"{base}.wasm").write_bytes(binary)
            out["binary_filename"] = f"{base}.wasm"
            return out
        try:
            binary = module_from_form(self.tokens, form)
        except TextError:
            source = self.tokens.source
            start = self.tokens.starts[form.start]
            end = self.tokens.starts[form.end]
            (self.out_dir / f"{base}.wat").write_text(source[start:end], encoding="utf-8")
            return {"filename": f"{base}.wat", "module_type": "text"}
        (self.out_dir / f"{base}.wasm").write_bytes(binary)
        return {"filename": f"{base}.wasm", "module_type": "binary"}

    # -- actions and values ---------------------------------------------------------------------
    def action(self) -> dict[str, Any]:
        cur = self.cur
        word = cur.open_word()
        if word not in ("invoke", "get"):
            raise cur.unexpected(cur.i + 1 if word else cur.i)
        close = cur.open(word)
        module = cur.id()
        field = _text(cur.utf8_string())
        out: dict[str, Any] = {"type": word}
        if module is not None:
            out["module"] = module
        out["field"] = field
        if word == "invoke":
            args = []
            while cur.i < close:
                args.append(self.value(result=False))
            out["args"] = args
        cur.close()
        return out

    def result(self) -> dict[str, Any]:
        cur = self.cur
        if cur.peek_open("either"):
            close = cur.open("either")
            values = []
            while cur.i < close:
                values.append(self.value(result=True))
            cur.close()
            return {"type": "either", "values": values}
        return self.value(result=True)

    def value(self, result: bool) -> dict[str, Any]:
        cur = self.cur
        word = cur.open_word()
        if word is None:
            raise cur.unexpected()
        cur.open(word)
        if word in ("i32.const", "i64.const"):
            bits = 32 if word[1:3] == "32" else 64
            out = {"type": word[:3], "value": str(_signed(self._int(bits), bits))}
        elif word in ("f32.const", "f64.const"):
            out = {"type": word[:3], "value": self._float(word[:3], result)}
        elif word == "v128.const":
            out = self._v128(result)
        elif word == "ref.null":
            if cur.kind() == RPAREN:
                out = {"type": "refnull"}
            else:
                heap = cur.texts[cur.i]
                cur.i += 1
                out = {"type": _NULL_TYPES.get(heap, "refnull")}
                if heap in ("func", "extern", "any", "exn", "eq", "struct", "array", "i31"):
                    out["value"] = "null"
        elif word in _REF_RESULTS:
            out = {"type": _REF_RESULTS[word]}
            if cur.kind() in (NUM, ID):
                out["value"] = cur.texts[cur.i]
                cur.i += 1
        else:
            raise cur.unexpected(cur.i - 1)
        cur.close()
        return out

    def _int(self, bits: int) -> int:
        cur = self.cur
        at = cur.i
        try:
            return parse_int(cur.num_text(), bits)
        except ValueError as err:
            raise cur.fail(str(err), at) from None

    def _float(self, ty: str, result: bool) -> str:
        cur = self.cur
        at = cur.i
        text = cur.texts[at]
        cur.i += 1
        if result and text in ("nan:canonical", "nan:arithmetic"):
            return text
        try:
            return str(parse_float(text, F32 if ty == "f32" else F64))
        except ValueError as err:
            raise cur.fail(str(err), at) from None

    def _v128(self, result: bool) -> dict[str, Any]:
        cur = self.cur
        shape = cur.word()
        if shape not in _SHAPES:
            raise cur.unexpected(cur.i - 1)
        count, bits = _SHAPES[shape]
        lanes = []
        for _ in range(count):
            if shape[0] == "f":
                lanes.append(self._float(shape[:3], result))
            else:
                lanes.append(str(_signed(self._int(bits), bits)))
        return {"type": "v128", "lane_type": shape[:3].rstrip("x"), "value": lanes}


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >> (bits - 1) else value


def _text(raw: str) -> str:
    """A script string (bytes as a latin-1 str) as JSON text (UTF-8 decoded)."""
    return raw.encode("latin-1").decode("utf-8", errors="replace")


def convert_script(script: Path, out_json: Path) -> None:
    """Convert ``script`` to ``out_json`` plus module files in its folder (wasm-tools' schema;
    the files are named after ``out_json``'s stem)."""
    out_json = Path(out_json)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    writer = ScriptWriter(Path(script).read_bytes(), out_json.stem, out_json.parent)
    commands = writer.run()
    doc = {"source_filename": str(script), "commands": commands}
    out_json.write_text(json.dumps(doc), encoding="utf-8")


def source_version() -> str:
    """A digest of the front end's sources: the conversion cache's key changes with them."""
    import hashlib

    digest = hashlib.sha256()
    here = Path(__file__).resolve()
    for path in sorted((here.parent.parent / "engine" / "text").glob("*.py")) + [here]:
        digest.update(path.read_bytes())
    return "own " + digest.hexdigest()[:16]


def _register() -> None:
    """Register as the runner's converter "own" when the tree has a converter registry
    (spectest.convert.register_converter); without one, convert_script is used directly."""
    try:
        from spectest.convert import ConversionError, Converter, register_converter
    except ImportError:
        return

    class OwnConverter(Converter):  # type: ignore[misc, valid-type]
        """This module: the engine's own text front end; writes wasm-tools' schema."""

        name = "own"
        schema = "wasm-tools"

        def version(self) -> str:
            return source_version()

        def run(self, script: Path, out_json: Path, flags: Any = ()) -> None:
            try:
                convert_script(script, out_json)
            except TextError as err:
                raise ConversionError(f"own converter failed on {script}: {err}") from err

    register_converter(OwnConverter())


_register()
