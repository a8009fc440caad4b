"""Trap frames: which wasm function a translated Python frame runs, and its names.

The runtime tags each translated function's globals with a :class:`FrameSource` (under
``engine.errors.FRAME_SOURCE``) when the code map hands it a new translation;
``Trap.frames`` then reads the Python traceback. Names come from the ``name`` custom section
(module name, function names), parsed only when a frame is asked for (once per function); a
damaged name section gives no names, never an error (custom sections are advisory).
"""

from __future__ import annotations

from typing import Any

from ..binary.module import ModuleInfo
from ..binary.reader import read_name, read_u32
from ..compile.codeobj import with_const
from ..errors import FRAME_SOURCE, Frame


class FrameSource:
    """What a translated function's frame is: function ``func_index`` of module ``info``."""

    __slots__ = ("_frame", "func_index", "info")

    #: Marks a frame source among a code object's constants (``errors.frame_sources``).
    is_frame_source = True

    def __init__(self, info: ModuleInfo, func_index: int) -> None:
        self.info = info
        self.func_index = func_index
        self._frame: Frame | None = None

    def frame(self) -> Frame:
        """The Frame record of this function (built on first use)."""
        if self._frame is None:
            info, index = self.info, self.func_index
            module_name, func_name = names_of(info, index)
            defined = index - info.num_imported_funcs
            offsets = info.code_offsets
            offset = offsets[defined] if 0 <= defined < len(offsets) else None
            self._frame = Frame(index, func_name, module_name, offset)
        return self._frame


def tag(factory: Any, info: ModuleInfo, func_index: int) -> None:
    """Mark a new translation with its frame source (first function wins when the code map
    shares one translation among identical bodies): as the last constant of a compact
    factory's code (its globals are shared by every function), else in its globals."""
    source = FrameSource(info, func_index)
    if with_const(factory, source):
        return
    namespace = getattr(factory, "__globals__", None)
    if isinstance(namespace, dict):
        namespace.setdefault(FRAME_SOURCE, source)


def names_of(info: ModuleInfo, func_index: int) -> tuple[str | None, str | None]:
    """(module name, name of ``func_index``) from the last ``name`` section, else None."""
    for name, offset, length in reversed(info.customs):
        if name == "name":
            try:
                return _parse_names(info.data, offset, offset + length, func_index)
            except Exception:  # noqa: BLE001 - advisory section: a bad one gives no names
                return None, None
    return None, None


def _parse_names(data: bytes, pos: int, end: int, want: int) -> tuple[str | None, str | None]:
    """Subsection 0 (module name) and the entry ``want`` of subsection 1 (function names)."""
    module_name: str | None = None
    func_name: str | None = None
    while pos < end:
        sub_id = data[pos]
        size, pos = read_u32(data, pos + 1)
        sub_end = pos + size
        if sub_end > end:
            break
        if sub_id == 0:
            module_name, _ = read_name(data, pos)
        elif sub_id == 1:
            count, p = read_u32(data, pos)
            for _ in range(count):
                index, p = read_u32(data, p)
                name, p = read_name(data, p)
                if index == want:
                    func_name = name
        pos = sub_end
    return module_name, func_name
