"""The WebAssembly text format: ``wat2wasm(text) -> bytes`` (spec: Text Format).

The pipeline's first stage: text -> binary. Standard library only; the binary it produces is
read by ``engine.binary`` like any other. Errors are ``TextError`` (a ``MalformedError``) with
the specification's wording and a line:column.
"""

from __future__ import annotations

from typing import NamedTuple

from .cursor import Cursor
from .errors import TextError
from .lexer import ANNOT, KEYWORD, LPAREN, Tokens, strip_annotations, tokenize
from .module import ModuleParser

__all__ = ["ModuleForm", "TextError", "read_module_form", "wat2wasm", "wat_tokens"]


class ModuleForm(NamedTuple):
    """A ``(module ...)`` form of a script or file, not yet turned into a binary.

    ``kind`` is "text" (fields in ``[start, end)``), "binary" (``data`` holds the bytes) or
    "quote" (``data`` holds the quoted source).
    """

    kind: str
    name: str | None
    definition: bool
    data: bytes
    start: int
    end: int


def wat_tokens(text: str | bytes) -> Tokens:
    """The tokens of a source, annotations other than ``@custom`` removed."""
    return strip_annotations(tokenize(text))


def read_module_form(cur: Cursor) -> ModuleForm:
    """Read ``(module definition? $id? (binary|quote)? ...)`` at the cursor (consumed)."""
    close = cur.open("module")
    definition = cur.take_word("definition")
    name = cur.id()
    if cur.peek_word("binary") or cur.peek_word("quote"):
        kind = cur.word()
        parts = []
        while cur.i < close:
            parts.append(cur.string().encode("latin-1"))
        cur.i = close + 1
        data = b" ".join(parts) if kind == "quote" else b"".join(parts)
        return ModuleForm(kind, name, definition, data, close, close)
    start = cur.i
    cur.i = close + 1
    return ModuleForm("text", name, definition, b"", start, close)


def encode_fields(tokens: Tokens, start: int, end: int, name: str | None = None) -> bytes:
    """The binary module of the module fields in tokens ``[start, end)``."""
    return ModuleParser(Cursor(tokens, start, end), name).parse()


def module_from_form(tokens: Tokens, form: ModuleForm) -> bytes:
    """The binary a module form denotes (a quoted source is parsed now)."""
    if form.kind == "binary":
        return form.data
    if form.kind == "quote":
        return wat2wasm(form.data)
    return encode_fields(tokens, form.start, form.end, form.name)


def wat2wasm(text: str | bytes) -> bytes:
    """The binary encoding of a module in the text format.

    ``text`` is a ``(module ...)`` form or a bare sequence of module fields (the text format's
    abbreviation). Raises TextError for anything malformed.
    """
    tokens = wat_tokens(text)
    cur = Cursor(tokens)
    if cur.peek_open("module"):
        form = read_module_form(cur)
        if not cur.at_end():
            raise cur.unexpected()
        return module_from_form(tokens, form)
    if cur.kind() == KEYWORD or (cur.kind() != LPAREN and not cur.at_end() and cur.kind() != ANNOT):
        raise cur.unexpected()
    return encode_fields(tokens, 0, len(tokens.kinds))
