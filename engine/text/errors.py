"""The text front end's error: a MalformedError that knows where in the source it arose."""

from __future__ import annotations

from ..errors import MalformedError


class TextError(MalformedError):
    """The text is not a well-formed module (or script).

    ``message`` is the specification's wording (the testsuite's ``assert_malformed`` texts such
    as "unknown operator" or "unexpected token"); ``line`` and ``column`` (1-based) say where.
    ``str(error)`` starts with the wording so a prefix match on the testsuite's text works.
    """

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        self.message = message
        self.line = line
        self.column = column
        where = f" at {line}:{column}" if line else ""
        super().__init__(f"{message}{where}")
