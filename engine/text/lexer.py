"""Tokens of the WebAssembly text format (spec: Text Format > Lexical Format).

The source is validated as UTF-8 once, then split by one regular expression into tokens in a
single left-to-right pass (linear in the input). Tokens live in parallel lists (kind, text,
position) rather than objects: the testsuite has a few million of them. Each ``(`` records
the index of its matching ``)`` so a parser can skip a whole field in O(1) (used by the first
pass that collects identifiers).
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

from .errors import TextError

# Token kinds.
LPAREN = 0  # "(" ; text is "(" or "(@name" for an annotation start
RPAREN = 1
KEYWORD = 2  # starts with a lower-case letter
ID = 3  # $name; text is the name without "$" (a quoted id's bytes decoded)
NUM = 4  # starts with a digit, "+" or "-" (checked when a number is wanted)
STRING = 5  # text is the decoded bytes as a latin-1 str (one char per byte)
RESERVED = 6  # any other run of idchars / strings
ANNOT = 7  # "(@name": text is the annotation name

_IDCHARS = r"0-9A-Za-z!#$%&'*+\-./:<=>?@\\^_`|~"
_STRING = r'"(?:[^"\\]|\\.)*"'
#: One match per token: the whitespace and line comments before it, then the token. A plain
#: run of idchars (the common case) is its own group; runs mixing strings or reserved
#: characters ("word") are classified by _classify.
_SCANNER = re.compile(
    r"[ \t\n\r]*(?:;;[^\n\r]*[ \t\n\r]*)*"
    r"(?:(?P<lp>\((?![;@]))"
    r"|(?P<rp>\))"
    rf"|(?P<plain>[{_IDCHARS}]+)(?![{_IDCHARS}\"\[\]{{}},]|;(?!;))"
    r"|(?P<bc>\(;)"
    r"|(?P<annot>\(@)"
    rf"|(?P<word>(?:[{_IDCHARS}]|{_STRING}|[,\[\]{{}}]|;(?!;))+)"
    r'|(?P<ustr>")'
    r"|(?P<eof>\Z)"
    r"|(?P<bad>.))",
    re.DOTALL,
)
_PLAIN_IDCHARS = re.compile(rf"[{_IDCHARS}]+\Z")
_ESCAPE = re.compile(r"\\(?:u\{([0-9A-Fa-f_]*)\}|([0-9A-Fa-f]{2})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"t": b"\t", "n": b"\n", "r": b"\r", '"': b'"', "'": b"'", "\\": b"\\"}


class Tokens(NamedTuple):
    """The token lists of one source; ``match[i]`` is the closing index of a ``(`` at i."""

    kinds: list[int]
    texts: list[str]
    starts: list[int]
    match: list[int]
    source: str
    line_starts: list[int]

    def where(self, index: int) -> tuple[int, int]:
        """(line, column) of token ``index`` (the end of input for an index past the end)."""
        pos = self.starts[index] if index < len(self.starts) else len(self.source)
        return position(self.line_starts, pos)


def position(line_starts: list[int], pos: int) -> tuple[int, int]:
    """1-based (line, column) of character offset ``pos``."""
    line = bisect.bisect_right(line_starts, pos)
    return line, pos - line_starts[line - 1] + 1


def decode_source(text: str | bytes) -> str:
    """The source as str; bytes must be UTF-8 ("malformed UTF-8 encoding" otherwise)."""
    if isinstance(text, str):
        return text
    try:
        return bytes(text).decode("utf-8")
    except UnicodeDecodeError as err:
        starts = _line_starts(bytes(text).decode("latin-1"))
        line, col = position(starts, err.start)
        raise TextError("malformed UTF-8 encoding", line, col) from None


def _line_starts(source: str) -> list[int]:
    starts = [0]
    find = source.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


def decode_string(body: str, fail: callable) -> str:
    """The bytes a string literal's body (between the quotes) denotes, as a latin-1 str.

    ``fail(message, offset)`` raises the error for a bad escape or character.
    """
    for i, ch in enumerate(body):
        if ch < " " or ch == "\x7f":
            fail("illegal character", i)
    if "\\" not in body:
        return body.encode("utf-8").decode("latin-1") if not body.isascii() else body
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(body):
        out += body[pos:m.start()].encode("utf-8")
        pos = m.end()
        uni, hexb, simple = m.groups()
        if hexb is not None:
            out.append(int(hexb, 16))
        elif uni is not None:
            digits = uni.replace("_", "")
            if not digits or uni.startswith("_") or uni.endswith("_") or "__" in uni:
                fail("malformed escape", m.start())
            code = int(digits, 16)
            if code >= 0x110000 or 0xD800 <= code < 0xE000:
                fail("malformed escape", m.start())
            out += chr(code).encode("utf-8")
        elif simple in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[simple]
        else:
            fail("illegal escape", m.start())
    out += body[pos:].encode("utf-8")
    return out.decode("latin-1")


def tokenize(text: str | bytes) -> Tokens:
    """Split ``text`` into tokens; comments and whitespace are dropped."""
    source = decode_source(text)
    line_starts = _line_starts(source)

    def fail(message: str, pos: int) -> None:
        line, col = position(line_starts, pos)
        raise TextError(message, line, col)

    kinds: list[int] = []
    texts: list[str] = []
    starts: list[int] = []
    match: list[int] = []
    open_stack: list[int] = []
    annotations = 0  # open annotations (inside one, "(@" without a name is "(" and "@")
    pos = 0
    scan = _SCANNER.match
    while True:
        m = scan(source, pos)
        group = m.lastgroup
        start = m.start(group)
        pos = m.end()
        if group == "plain":
            tok = m.group(group)
            first = tok[0]
            if "a" <= first <= "z":
                kind = KEYWORD
            elif first == "$":
                if len(tok) == 1:
                    fail("empty identifier", start)
                kind, tok = ID, tok[1:]
            elif "0" <= first <= "9" or first == "+" or first == "-":
                kind = NUM
            else:
                kind = RESERVED
        elif group == "lp":
            open_stack.append(len(kinds))
            kind, tok = LPAREN, "("
        elif group == "rp":
            if not open_stack:
                fail("unexpected token", start)
            opened = open_stack.pop()
            match[opened] = len(kinds)
            if kinds[opened] == ANNOT:
                annotations -= 1
            kind, tok = RPAREN, ")"
        elif group == "eof":
            break
        elif group == "bc":
            pos = _skip_block_comment(source, start, fail)
            continue
        elif group == "annot":
            open_stack.append(len(kinds))
            if annotations and _ANNOT_NAME.match(source, pos) is None:
                kind, tok = LPAREN, "("
                pos -= 1
            else:
                kind, tok, pos = ANNOT, *_annotation_name(source, pos, fail)
                annotations += 1
        elif group == "word":
            kind, tok = _classify(m.group(group), start, fail)
        else:
            ch = m.group(group)
            fail("unclosed string" if ch == '"' else "illegal character", start)
        kinds.append(kind)
        texts.append(tok)
        starts.append(start)
        match.append(-1)
    if open_stack:
        first = open_stack[-1]
        if kinds[first] == ANNOT:
            fail("unclosed annotation", starts[first])
        fail("unexpected end of input", len(source))  # an unclosed "("
    return Tokens(kinds, texts, starts, match, source, line_starts)


def _annotation_name(source: str, pos: int, fail: callable) -> tuple[str, int]:
    """The name after "(@" (idchars or a string) and the position after it."""
    m = _ANNOT_NAME.match(source, pos)
    if m is None:
        fail("empty annotation id", pos)
    name = m.group()
    if name.startswith('"'):
        raw = decode_string(name[1:-1], lambda msg, off: fail("empty annotation id", pos))
        try:
            name = raw.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            fail("malformed UTF-8 encoding", pos)
        if not name:
            fail("empty annotation id", pos)
    return name, m.end()


def _classify(word: str, start: int, fail: callable) -> tuple[int, str]:
    """The kind and value of a run of idchars/strings."""
    first = word[0]
    if first == '"':
        if len(word) >= 2 and word.endswith('"') and _STRING_RE.fullmatch(word):
            return STRING, decode_string(word[1:-1], lambda msg, off: fail(msg, start + 1 + off))
        return RESERVED, word
    if _PLAIN_IDCHARS.match(word) is None:
        if first == "$" and _STRING_RE.fullmatch(word, 1):
            # the reference interpreter reads a "$" without a valid name after it as an
            # empty identifier, whatever is wrong in the quoted part
            raw = decode_string(word[2:-1], lambda msg, off: fail("empty identifier", start))
            try:
                name = raw.encode("latin-1").decode("utf-8")
            except UnicodeDecodeError:
                fail("malformed UTF-8 encoding", start)
            if not name:
                fail("empty identifier", start)
            return ID, name
        return RESERVED, word
    if first == "$":
        if len(word) == 1:
            fail("empty identifier", start)
        return ID, word[1:]
    if "a" <= first <= "z":
        return KEYWORD, word
    if "0" <= first <= "9" or first in "+-":
        return NUM, word
    return RESERVED, word


_STRING_RE = re.compile(_STRING, re.DOTALL)
_ANNOT_NAME = re.compile(rf"[{_IDCHARS}]+|{_STRING}", re.DOTALL)


def _skip_block_comment(source: str, pos: int, fail: callable) -> int:
    """Skip a (possibly nested) block comment starting at ``pos``; returns the position after.

    Each search result is reused until passed, so the cost stays linear in the comment.
    """
    depth = 0
    i = pos
    opener = source.find("(;", i)
    closer = source.find(";)", i)
    while closer >= 0:
        if 0 <= opener < closer:
            depth += 1
            i = opener + 2
            opener = source.find("(;", i)
            if closer < i:  # "(;)" : the ")" is not a closer of this opener
                closer = source.find(";)", i)
        else:
            depth -= 1
            i = closer + 2
            if depth == 0:
                return i
            closer = source.find(";)", i)
            if 0 <= opener < i:
                opener = source.find("(;", i)
    fail("unclosed comment", pos)
    return len(source)


_BRANCH_HINT = "metadata.code.branch_hint"


def strip_annotations(tokens: Tokens, keep: frozenset[str] = frozenset({"custom"})) -> Tokens:
    """The tokens without annotations (``(@name ...)`` spans), except those named in
    ``keep``, which stay whole for the module parser (``@custom`` becomes a custom section)."""
    kinds, texts, starts, match = tokens.kinds, tokens.texts, tokens.starts, tokens.match
    if ANNOT not in kinds:
        return tokens
    new_kinds: list[int] = []
    new_texts: list[str] = []
    new_starts: list[int] = []
    new_match: list[int] = []
    open_stack: list[int] = []
    i, n = 0, len(kinds)
    while i < n:
        kind = kinds[i]
        if kind == ANNOT and texts[i] not in keep:
            after = match[i] + 1
            if (texts[i] == _BRANCH_HINT and after < n and kinds[after] == ANNOT
                    and texts[after] == _BRANCH_HINT):
                # Custom annotations appendix: at most one branch hint per instruction.
                raise TextError(f"@{_BRANCH_HINT} annotation: duplicate annotation",
                                *tokens.where(after))
            i = after
            continue
        if kind == LPAREN or kind == ANNOT:
            open_stack.append(len(new_kinds))
        elif kind == RPAREN:
            new_match[open_stack.pop()] = len(new_kinds)
        new_kinds.append(kind)
        new_texts.append(texts[i])
        new_starts.append(starts[i])
        new_match.append(-1)
        i += 1
    return Tokens(new_kinds, new_texts, new_starts, new_match, tokens.source, tokens.line_starts)
