"""Function names from a module's ``name`` custom section, and wasm backtraces of traps.

The Python traceback of a trap already says which wasm functions were active: translated
code objects carry their function index (``errors.frame_sources`` reads it).
"""

from __future__ import annotations

from types import TracebackType
from typing import NamedTuple

from ..binary.module import ModuleInfo
from ..binary.reader import read_bytes, read_u32
from ..errors import MalformedError, frame_sources

_FUNCTION_NAMES = 1  # subsection id of the function name map


def function_names(info: ModuleInfo) -> dict[int, str]:
    """Function index -> name from the ``name`` section ({} if absent or malformed: a
    custom section never makes a module fail)."""
    for name, offset, length in info.customs:
        if name != "name":
            continue
        try:
            return _parse_names(info.data, offset, offset + length)
        except (MalformedError, UnicodeDecodeError):
            return {}
    return {}


def _parse_names(data: bytes, pos: int, end: int) -> dict[int, str]:
    names: dict[int, str] = {}
    while pos < end:
        sub_id = data[pos]
        size, pos = read_u32(data, pos + 1)
        if sub_id == _FUNCTION_NAMES:
            count, p = read_u32(data, pos)
            for _ in range(count):
                index, p = read_u32(data, p)
                raw, p = read_bytes(data, p)
                names[index] = raw.decode("utf-8")
        pos += size
    return names


class Frame(NamedTuple):
    """One wasm frame of a backtrace (innermost first)."""

    func_index: int
    name: str | None


def wasm_frames(exc: BaseException, names: dict[int, str]) -> list[Frame]:
    """The wasm functions active when ``exc`` was raised, innermost first. For "call stack
    exhausted" the frames are those of the RecursionError it replaced."""
    frames = _frames(exc.__traceback__, names)
    if not frames and exc.__context__ is not None:
        frames = _frames(exc.__context__.__traceback__, names)
    return frames


def _frames(tb: TracebackType | None, names: dict[int, str]) -> list[Frame]:
    return [Frame(ref.func_index, names.get(ref.func_index)) for ref in frame_sources(tb)]


def format_backtrace(frames: list[Frame], limit: int = 40) -> list[str]:
    """Backtrace lines in wasmtime's shape: ``   0: func[12] name``; long ones elided
    in the middle."""
    shown = list(enumerate(frames))
    if len(shown) > limit:
        half = limit // 2
        skipped = len(shown) - limit
        head, tail = shown[:half], shown[-half:]
        lines = [_line(i, f) for i, f in head]
        lines.append(f"      ... {skipped} frames elided ...")
        return lines + [_line(i, f) for i, f in tail]
    return [_line(i, f) for i, f in shown]


def _line(i: int, frame: Frame) -> str:
    label = f"func[{frame.func_index}]"
    return f"  {i:>3}: {label}" + (f" {frame.name}" if frame.name else "")
