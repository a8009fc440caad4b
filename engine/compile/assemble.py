"""Assemble a generated body into the factory source, and compile it into a factory.

Shape of the generated source (one code object per wasm function)::

    def make(rt):                    # the factory: binds an instance's runtime record
        funcs = rt.funcs; M0 = rt.memories[0].data; G1 = rt.globals[1]; ...
        def f(l0, l1):               # the wasm function, internal calling convention
            l2 = 0
            ...body...
        return f

No handler in ``f``: an inline memory access or integer division traps by raising
``struct.error``/``IndexError``/``ZeroDivisionError``/``OverflowError`` right in ``f``'s
frame, and the call boundary (``runtime.calls``) turns exactly those into traps. A
``try``/``except`` per function cost about 85 bytes of bytecode and exception table each
(measured: 6.63 -> 6.29 bytes retained per byte of body on the big macro module).
"""

from __future__ import annotations

import builtins
import math
import re
import struct
import sys
from collections.abc import Callable
from typing import Any

from ..errors import Trap
from ..types import F32, F64, V128
from . import (
    atomics,
    pypy_helpers,
    signed64,
    tail,
    visit_exceptions,
    visit_legacy,
    visit_refs,
    wide,
)
from . import numerics as N
from .codeobj import build_factory, namespace
from .gc_helpers import GC_HELPERS

Factory = Callable[[Any], Callable[..., Any]]

def base_globals() -> dict[str, Any]:
    g: dict[str, Any] = {"__builtins__": builtins}
    for name in ["f32r", "f32_from_bits", "f32_to_bits", "f64_from_bits", "f64_to_bits", "div_s32", "rem_s32", "div_s64", "rem_s64", "rotl32", "rotr32", "rotl64", "rotr64", "ctz32", "ctz64", "fdiv", "f32div", "fsqrt", "f32sqrt", "fmin", "fmax", "fceil", "ffloor", "ftrunc", "fnearest", "fpromote", "fdemote", "f32_convert_i64_s", "f32_convert_i64_u", "trunc_i32_s", "trunc_i32_u", "trunc_i64_s", "trunc_i64_u", "trunc_sat_i32_s", "trunc_sat_i32_u", "trunc_sat_i64_s", "trunc_sat_i64_u", "load_f32", "store_f32", "mem_fill", "mem_copy", "mem_init", "table_get", "table_set", "table_fill", "table_copy", "table_init", "indirect", "indirect_gc", "crange", "fuel_range", "fuel_refund", "refuel", "epoch_range", "NAN", "INF", "NINF"]:
        g[name] = getattr(N, name)
    g.update(atomics.HELPERS)
    g.update(wide.HELPERS)
    g.update(pypy_helpers.HELPERS)
    g.update(signed64.HELPERS)
    g.update(tail.HELPERS)
    g.update(visit_refs.HELPERS)
    g.update(visit_exceptions.HELPERS)
    g.update(visit_legacy.HELPERS)
    g.update(GC_HELPERS)
    g.update(copysign=math.copysign, fabs=math.fabs, Trap=Trap)
    for name, fmt in (("32", "I"), ("64", "Q"), ("F64", "d"), ("8", "b"), ("16", "H")):
        s = struct.Struct("<" + fmt)
        g["U" + name] = s.unpack_from
        g["P" + name] = s.pack_into
    g["S8"] = struct.Struct("<b").unpack_from
    g["S16"] = struct.Struct("<h").unpack_from
    g["S32"] = struct.Struct("<i").unpack_from
    return g


BASE = namespace(base_globals())

_ZERO = {F32: "0.0", F64: "0.0", "i32": "0", "i64": "0", V128: "0"}


def assemble(gen: Any) -> str:
    """Wrap the generated body into the factory source.

    A function with tail calls gets two variants of its body (see ``tail.py``): ``f``, what
    callers call, which runs a tail call's chain in place (``trampoline``), and ``f_tail``,
    what a tail call runs, which returns the next ``TailCall`` marker instead.
    """
    out = ["def make(rt):"]
    for name, expr in gen.binds.items():
        out.append(f"    {name} = {expr}")
    body = [line for chunk in gen.lines for line in chunk.split("\n")]
    if not gen.has_tail_calls():
        out.extend(_function("f", gen, body))
        out.append("    return f")
        return "\n".join(out) + "\n"
    if getattr(gen, "tail_in_try", False):
        # A tail call inside a try_table must leave the handler before the callee runs
        # (its exceptions are not the caller's to catch): the entry runs the tail variant
        # in a trampoline, whose ``return TailCall(...)`` exits the ``try`` (one frame more,
        # only for such functions).
        params = ", ".join(f"l{i}" for i in range(len(gen.ftype.params)))
        out.append(f"    def f({params}):")
        out.append(f"        return trampoline(f_tail, ({params}{',' if params else ''}))")
    else:
        out.extend(_function("f", gen, [tail.in_entry(line) for line in body]))
    out.extend(_function("f_tail", gen, [tail.in_body(line) for line in body]))
    out.append("    f.tail = f_tail")
    out.append("    return f")
    return "\n".join(out) + "\n"


_LOCAL = re.compile(r"\bl\d+\b")
_SET_LOCAL = re.compile(r"(\s*)(l\d+) = ")


def _read_locals(*parts: list[str]) -> set[str]:
    """The wasm locals (``l<i>``) that may be read before the body writes them: only those
    need their zero before the body runs. -O0 code declares many locals that folding and
    forwarding leave write-only or unused (hash.O0's rotate zeroed 16 locals per call to
    use one, which it writes first). Conservative and linear, one pass over the text:

    - a name that occurs only as the target of plain ``l<i> = ...`` lines is never read;
    - a name first written by such a line in the straight-line start of the body (before
      the first line that opens a block or is indented deeper), and not read before it, is
      written before any read.
    """
    uses: dict[str, int] = {}
    sets: dict[str, int] = {}
    seen: set[str] = set()
    first_written: set[str] = set()
    straight, base = True, None
    for lines in parts:
        for line in lines:
            names = _LOCAL.findall(line)
            for name in names:
                uses[name] = uses.get(name, 0) + 1
            m = _SET_LOCAL.match(line)
            target = m.group(2) if m is not None else None
            if target is not None:
                sets[target] = sets.get(target, 0) + 1
            if straight:
                indent = len(line) - len(line.lstrip())
                base = indent if base is None else base
                straight = indent == base and not line.rstrip().endswith(":")
            if straight and target is not None and target not in seen \
                    and names.count(target) == 1:
                first_written.add(target)
            seen.update(names)
    return {name for name, n in uses.items()
            if n > sets.get(name, 0) and name not in first_written}


def _function(name: str, gen: Any, body: list[str]) -> list[str]:
    """The ``def`` of one variant: parameters, zeroed locals, the body (in a try when it may
    raise an exception to map)."""
    ft = gen.ftype
    nparams = len(ft.params)
    out = [f"    def {name}({', '.join(f'l{i}' for i in range(nparams))}):"]
    locals_ = gen.body.local_types(ft.params)[nparams:]
    read = _read_locals(gen.prologue, body)
    groups: dict[str, list[str]] = {}
    for i, t in enumerate(locals_, nparams):
        if f"l{i}" in read:
            groups.setdefault(_ZERO.get(t, "None"), []).append(f"l{i}")
    for zero, names in groups.items():
        for k in range(0, len(names), 200):
            out.append(f"        {' = '.join(names[k : k + 200])} = {zero}")
    if gen.uses_lab:
        out.append("        lab = 0")
    if gen.flat:
        out.append("        pc = -1")
    if gen.flat:
        body = ["            while True:", *body, '                raise Trap("unreachable")']
        body = gen.with_flat_handlers(body)  # legacy try regions (visit_legacy)
    body = ["            " + line for line in gen.prologue] + body  # function-entry fuel
    if gen.delegates_to_caller():  # a legacy delegate to the caller (visit_legacy)
        out.append("        try:")
        out.extend(body)
        out.append("        except Delegation as d:")
        out.append("            raise rethrow(d.exc) from None")
    else:  # no handler needed: dedent the body out of the try
        out.extend(line[4:] for line in body)
    return out


def compile_factory(gen: Any, func_index: int) -> Factory:
    """Compile the generator's source into a compact factory ``factory(rt) -> callable``
    (``codeobj.build_factory``: shared helper globals, closure cells from a recipe)."""
    return build_factory(assemble(gen), func_index, gen.binds, gen.consts,
                         _shared_globals(gen.consts))


_BASE_SIMD: dict[str, Any] | None = None


def _shared_globals(consts: dict[str, Any]) -> dict[str, Any]:
    """The process-wide namespace a function's code runs with, never one per function:
    the base helpers, plus the SIMD helpers (``simd.SIMD_HELPERS``) once a function uses
    them (the SIMD visitors list them among the function's constants)."""
    global _BASE_SIMD
    simd = sys.modules.get(f"{__package__}.simd")
    helpers = getattr(simd, "SIMD_HELPERS", None)
    if not helpers or not any(name in helpers for name in consts):
        return BASE
    if _BASE_SIMD is None:
        _BASE_SIMD = namespace({**BASE, **helpers})
    return _BASE_SIMD
