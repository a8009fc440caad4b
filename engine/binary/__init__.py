"""The binary decoder: bytes -> ModuleInfo (``decode_module``), body bytes -> Body
(``decode_body``). Raises :class:`engine.errors.MalformedError` with the spec's wording."""

from .instructions import MAX_LOCALS, decode_body, read_const_expr, read_instrs
from .module import Body, ModuleInfo
from .sections import decode_module

__all__ = [
    "MAX_LOCALS",
    "Body",
    "ModuleInfo",
    "decode_body",
    "decode_module",
    "read_const_expr",
    "read_instrs",
]
