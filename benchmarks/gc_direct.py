"""Run a GC kernel's functions through the translator directly (no validation, no public
API), for the GC benchmark while the decoder and validator do not yet take GC modules.

The module's type section is decoded with the GC type decoder and canonicalized; each
body's locals are decoded with GC value types and its instructions with the normal
decoder; every function is translated by ``engine.compile.translate`` and bound to a
minimal instance record (``gc_types``, ``funcs``). Only for kernels whose bodies avoid
reference-typed block results and ``ref.null`` of a defined type (see kernels/gc/*.wat).
"""

from __future__ import annotations

import types as pytypes
from array import array
from collections.abc import Callable
from typing import Any

from engine.binary.gc_immediates import read_gc_valtype, read_rec_group
from engine.binary.instructions import read_instrs
from engine.binary.module import Body, ModuleInfo
from engine.binary.reader import read_len, read_name, read_u32
from engine.compile.control import scan
from engine.compile.translate import NO_METERING, _compile
from engine.gctypes import canonicalize
from engine.types import FuncType


def _sections(wasm: bytes) -> dict[int, tuple[int, int]]:
    out = {}
    pos = 8
    while pos < len(wasm):
        sid = wasm[pos]
        size, pos = read_u32(wasm, pos + 1)
        out[sid] = (pos, pos + size)
        pos += size
    return out


def _vector(wasm: bytes, pos: int, item: Callable[[bytes, int], tuple[Any, int]]) -> list:
    n, pos = read_len(wasm, pos)
    out = []
    for _ in range(n):
        v, pos = item(wasm, pos)
        out.append(v)
    return out


def _body(wasm: bytes, pos: int) -> tuple[Body, int]:
    size, pos = read_u32(wasm, pos)
    end = pos + size
    n, p = read_len(wasm, pos)
    decls = []
    for _ in range(n):
        count, p = read_u32(wasm, p)
        t, p = read_gc_valtype(wasm, p)
        decls.append((count, t))
    instrs, _ = read_instrs(wasm, p)
    return Body(decls, instrs), end


def _export(wasm: bytes, pos: int) -> tuple[tuple[str, int], int]:
    name, pos = read_name(wasm, pos)
    pos += 1  # kind byte (functions only in these kernels)
    idx, pos = read_u32(wasm, pos)
    return (name, idx), pos


def load(wasm: bytes) -> Callable[[int], int]:
    """The exported ``run`` of a GC kernel, translated directly."""
    sec = _sections(wasm)
    gc_types = canonicalize(_vector(wasm, sec[1][0], read_rec_group))
    func_types = [FuncType(t.comp.params, t.comp.results) if t.kind == "func"
                  else FuncType((), ()) for t in gc_types]
    funcs = _vector(wasm, sec[3][0], read_u32)
    info = ModuleInfo(data=wasm, types=func_types, funcs=array("I", funcs))
    info.gc_types = gc_types
    bodies = _vector(wasm, sec[10][0], _body)
    exports = dict(_vector(wasm, sec[7][0], _export))
    rt = pytypes.SimpleNamespace(gc_types=gc_types, funcs=[], datas=[], elems=[])
    rt.funcs.extend(_compile(info, i, body, False, scan(body.instrs), NO_METERING)(rt) for i, body in enumerate(bodies))
    return rt.funcs[exports["run"]]
