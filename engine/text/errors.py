"""The text front end's error: a MalformedError that knows where in the source it arose."""

from __future__ import annotations

from ..errors import MalformedError


class TextError(MalformedError):
    """The text is not a well-formed module (or script).

    ``message`` is the specification's wording alone (the testsuite's ``assert_malformed``
    texts such as "unknown operator" or "unexpected token"); ``line`` and ``column`` (1-based)
    say where. ``str(error)`` is the wording followed by " at line:column", so a prefix match
    on the testsuite's text works.
    """

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        if self.line:
            return f"{self.message} at {self.line}:{self.column}"
        return self.message
