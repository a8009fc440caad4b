"""A position in a token list with the small reading steps every parser here shares."""

from __future__ import annotations

from .errors import TextError
from .lexer import ID, KEYWORD, LPAREN, NUM, RESERVED, RPAREN, STRING, Tokens

#: Keywords of the grammar other than instruction names: an unexpected one is an
#: "unexpected token", any other unknown word an "unknown operator" (as the reference
#: interpreter's lexer reports words it does not know).
SYNTAX_WORDS = frozenset(["module", "type", "func", "param", "result", "local", "global", "table", "memory", "elem", "data", "start", "import", "export", "offset", "item", "declare", "mut", "then", "else", "end", "rec", "sub", "final", "struct", "array", "field", "tag", "ref", "null", "funcref", "externref", "anyref", "eqref", "i31ref", "structref", "arrayref", "exnref", "nullref", "nullfuncref", "nullexternref", "nullexnref", "func", "extern", "any", "eq", "i31", "exn", "noexn", "nofunc", "noextern", "none", "i32", "i64", "f32", "f64", "v128", "i8", "i16", "shared", "pagesize", "binary", "quote", "definition", "instance", "register", "invoke", "get", "assert_return", "assert_trap", "assert_exhaustion", "assert_invalid", "assert_malformed", "assert_unlinkable", "assert_uninstantiable", "assert_exception", "either", "catch", "catch_ref", "catch_all", "catch_all_ref", "do", "i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2", "exact", "describes", "descriptor", "nan:canonical", "nan:arithmetic"])


class Cursor:
    """Reads tokens ``[i, end)``; ``fail`` raises a TextError located at a token."""

    def __init__(self, tokens: Tokens, start: int = 0, end: int | None = None) -> None:
        self.tokens = tokens
        self.kinds = tokens.kinds
        self.texts = tokens.texts
        self.match = tokens.match
        self.i = start
        self.end = len(tokens.kinds) if end is None else end

    # -- errors -----------------------------------------------------------------------------
    def fail(self, message: str, index: int | None = None) -> TextError:
        """A TextError at token ``index`` (default: the current one), to be raised."""
        line, col = self.tokens.where(self.i if index is None else index)
        return TextError(message, line, col)

    def unexpected(self, index: int | None = None) -> TextError:
        """The error for a token that does not fit here: unknown words are unknown operators."""
        i = self.i if index is None else index
        if i < self.end and is_unknown_word(self.kinds[i], self.texts[i]):
            return self.fail(f"unknown operator {self.texts[i]}", i)
        return self.fail("unexpected token", i)

    # -- peeking -----------------------------------------------------------------------------
    def at_end(self) -> bool:
        return self.i >= self.end

    def kind(self) -> int:
        return self.kinds[self.i] if self.i < self.end else -1

    def peek_open(self, word: str | None = None) -> bool:
        """Is the next token "(" (followed by keyword ``word``, if given)?"""
        i = self.i
        if i >= self.end or self.kinds[i] != LPAREN:
            return False
        if word is None:
            return True
        return i + 1 < self.end and self.kinds[i + 1] == KEYWORD and self.texts[i + 1] == word

    def open_word(self) -> str | None:
        """The keyword after a "(" at the cursor, else None."""
        i = self.i
        if i + 1 < self.end and self.kinds[i] == LPAREN and self.kinds[i + 1] == KEYWORD:
            return self.texts[i + 1]
        return None

    def peek_word(self, word: str) -> bool:
        i = self.i
        return i < self.end and self.kinds[i] == KEYWORD and self.texts[i] == word

    # -- taking ------------------------------------------------------------------------------
    def open(self, word: str) -> int:
        """Consume "(" ``word``; returns the index of the matching ")"."""
        if not self.peek_open(word):
            raise self.unexpected(self.i + 1 if self.peek_open() else self.i)
        close = self.match[self.i]
        self.i += 2
        return close

    def close(self) -> None:
        """Consume ")"."""
        if self.i >= self.end or self.kinds[self.i] != RPAREN:
            raise self.unexpected()
        self.i += 1

    def word(self, word: str | None = None) -> str:
        """Consume a keyword (``word`` if given)."""
        i = self.i
        if i >= self.end or self.kinds[i] != KEYWORD or (word is not None and self.texts[i] != word):
            raise self.unexpected()
        self.i += 1
        return self.texts[i]

    def take_word(self, word: str) -> bool:
        if self.peek_word(word):
            self.i += 1
            return True
        return False

    def id(self) -> str | None:
        """Consume an identifier if one is next; its name, else None."""
        i = self.i
        if i < self.end and self.kinds[i] == ID:
            self.i += 1
            return self.texts[i]
        return None

    def string(self) -> str:
        """Consume a string; its bytes as a latin-1 str."""
        i = self.i
        if i >= self.end or self.kinds[i] != STRING:
            raise self.unexpected()
        self.i += 1
        return self.texts[i]

    def utf8_string(self) -> str:
        """Consume a string that must be valid UTF-8 (a name); returned as latin-1 bytes-str."""
        i = self.i
        raw = self.string()
        try:
            raw.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("malformed UTF-8 encoding", i) from None
        return raw

    def num_text(self) -> str:
        """Consume a number token; its text."""
        i = self.i
        if i >= self.end or self.kinds[i] != NUM:
            raise self.unexpected()
        self.i += 1
        return self.texts[i]

    def peek_num(self) -> bool:
        return self.i < self.end and self.kinds[self.i] == NUM

    def peek_index(self) -> bool:
        """Is the next token a (numeric or symbolic) index?"""
        return self.i < self.end and self.kinds[self.i] in (NUM, ID)


def is_unknown_word(kind: int, text: str) -> bool:
    """Is a token a word the grammar does not know (reported as "unknown operator")?"""
    if kind == RESERVED:
        return True
    if kind != KEYWORD:
        return False
    from ..opcodes import BY_NAME

    if text in SYNTAX_WORDS or text in BY_NAME:
        return False
    return not text.startswith(("offset=", "align="))


__all__ = ["ID", "KEYWORD", "LPAREN", "NUM", "RESERVED", "RPAREN", "STRING", "Cursor"]
