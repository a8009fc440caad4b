"""Trap frames: which wasm function a translated Python frame runs, and its names.

When the code map hands out a new translation the runtime tags it: a compact factory's code
gets its module's :class:`ModuleTag` as last constant (one object per module, so a function
pays one tuple slot) and already carries its function index as ``co_firstlineno``
(``compile.codeobj``); a factory that runs ``make`` gets a :class:`~engine.errors.FrameRef`
in its own globals. ``Trap.frames`` then reads the Python traceback
(``errors.frame_sources``). Names come from the ``name`` custom section (module name,
function names), parsed only when a frame is asked for (once per function); a damaged name
section gives no names, never an error (custom sections are advisory).
"""

from __future__ import annotations

import weakref
from typing import Any

from ..binary.module import ModuleInfo
from ..binary.reader import read_name, read_u32
from ..compile.codeobj import with_const
from ..errors import FRAME_SOURCE, Frame, FrameRef


class ModuleTag:
    """The frames of one module's functions: ``frame(func_index)``, built on first use."""

    __slots__ = ("__weakref__", "_frames", "info")

    #: Marks a tag among a code object's constants (``errors.frame_sources``).
    is_frame_tag = True

    def __init__(self, info: ModuleInfo) -> None:
        self.info = info
        self._frames: dict[int, Frame] = {}

    def frame(self, index: int) -> Frame:
        """The Frame record of function ``index`` of this module."""
        found = self._frames.get(index)
        if found is None:
            info = self.info
            module_name, func_name = names_of(info, index)
            defined = index - info.num_imported_funcs
            offsets = info.code_offsets
            offset = offsets[defined] if 0 <= defined < len(offsets) else None
            found = self._frames[index] = Frame(index, func_name, module_name, offset)
        return found


def module_tag(info: ModuleInfo) -> ModuleTag:
    """The one tag of ``info`` while any of its code lives. The module record refers to it
    weakly: a strong reference back would make a cycle through code objects, which the
    cyclic collector cannot see into (a module would then outlive one ``gc.collect()``)."""
    ref = info.frame_tag
    found = ref() if ref is not None else None
    if found is None:
        found = ModuleTag(info)
        info.frame_tag = weakref.ref(found)
    return found


def tag(factory: Any, info: ModuleInfo, func_index: int) -> None:
    """Mark a new translation with its frame source (first function wins when the code map
    shares one translation among identical bodies): its module's tag as the last constant of
    a compact factory's code (its globals are shared by every function), else a
    ``FrameRef`` in its own globals."""
    source = module_tag(info)
    if with_const(factory, source):
        return
    namespace = getattr(factory, "__globals__", None)
    if isinstance(namespace, dict):
        namespace.setdefault(FRAME_SOURCE, FrameRef(source, func_index))


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
