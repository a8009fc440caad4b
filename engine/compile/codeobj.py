"""From generated factory source to a compact factory: what a compiled function retains.

The translator's source has the shape ``def make(rt): <binds>; def f(...): ...; return f``.
Executing it per function, as a module, kept per function: a copy of the helper namespace
(a dict of 70 to 300 entries, the largest single cost), the code objects of ``make`` and of
the module, full line/column tables, and private copies of common numeric constants. Here
each function keeps only:

- the code object of ``f`` (bytecode, with a minimal line table on CPython 3.11+: every
  instruction on one line). Its filename is the one shared ``errors.WASM_FILE`` and its
  first line number is the wasm function index (a traceback reads
  ``File "<wasm>", line 12, in f`` for function 12; ``errors.frame_sources`` reads it);
- its constants and its tuple of global names, deduplicated against the other compiled
  functions (``_canon``, ``_canon_names``);
- a ``Factory`` (three slots) whose call builds ``f``'s closure cells straight from the
  instance's runtime record, following a *recipe* read from the binds (``rt.a``,
  ``rt.a[i]``, ``rt.a[i].b``); ``make`` itself is never run and not kept;
- the shared helper namespace as globals: one dict per process (one more once SIMD is used),
  never one per function. Constants that are not helpers (``K0``, ``FT0``, ...) become
  closure cells of ``f`` too, so no per-function dict remains.

A source whose binds have another shape, or an interpreter without ``types.CellType``,
falls back to running ``make`` (with a globals dict of its own, the old cost). The runtime's
trap-frame tag (``runtime/frames.tag``) rides in ``f``'s constants (``with_const``). The
speed of ``f`` is unchanged: the same bytecode reads binds and constants from cells
(``LOAD_DEREF``) and helpers from a dict (``LOAD_GLOBAL``).
"""

from __future__ import annotations

import math
import re
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import WASM_FILE

try:  # CPython 3.8+; PyPy may lack a callable cell type
    _CellType: Any = types.CellType
    _CELLS = _CellType(1).cell_contents == 1
except (AttributeError, TypeError):  # pragma: no cover - interpreter dependent
    _CellType, _CELLS = None, False

#: Whether factories close over cells they are given (typed memory views need it).
CELLS = _CELLS

#: A bind expression the recipe understands: ``rt.a``, ``rt.a[i]`` or ``rt.a[i].b``.
_VIEW_BIND = re.compile(r"\.v[A-Za-z]\d+\Z")
_BIND = re.compile(r"rt\.([A-Za-z_]\w*)(?:\[(\d+)\])?(?:\.([A-Za-z_]\w*))?\Z")

#: 3.11+ line table: "no column" entries (code 13), 8 code units each, line delta 0.
_FLAT_LINES = sys.implementation.name == "cpython" and sys.version_info >= (3, 11)
_ENTRY = 0x80 | (13 << 3)

#: Canonical numeric constants shared by every compiled function; cleared when full, so
#: memory stays bounded (sharing is an optimisation, never needed for correctness).
_INTS: dict[int, int] = {}
_FLOATS: dict[float, float] = {}
_CANON_MAX = 1 << 14

_SELF = ("", None, None)

#: Shared flat line tables by bytecode length in code units, same policy.
_LINES: dict[int, bytes] = {}

#: Canonical ``co_names`` tuples, same policy.
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}

#: Canonical recipes (tuples of steps), same policy.
_RECIPES: dict[tuple[Any, ...], tuple[Any, ...]] = {}

#: The local and free-variable names translated code uses most (``l<i>`` locals, ``t<i>``
#: temporaries, ``s<i>`` stack slots, ``G<i>``/``M<i>`` globals and memories), interned once
#: per process and kept: ``compile`` then reuses these strings, so a function's names cost
#: its ``co_localsplusnames`` slots only. Without the table a string is freed with the last
#: code that names it, and a module alone in the process paid for its names (measured:
#: 25.7 KB of the 77 KB that hash.O0's compiled code retained, 175 locals in one function).
#: ``_<i>`` renames the other locals (``_numbered_locals``). About 70 KB once per process.
_POSITIONAL = tuple(sys.intern(f"_{i}") for i in range(512))
_KEPT = frozenset((*(sys.intern(f"{prefix}{i}") for prefix, count in
                     (("l", 512), ("t", 256), ("s", 64), ("G", 64), ("M", 4))
                     for i in range(count)), *_POSITIONAL))


def _flat_linetable(code: types.CodeType) -> bytes:
    """A valid 3.11+ line table mapping every instruction to ``co_firstlineno``; it depends
    on the bytecode's length only, so code objects of one length share it."""
    units = len(code.co_code) // 2
    table = _LINES.get(units)
    if table is None:
        full, rest = divmod(units, 8)
        table = bytes((_ENTRY | 7, 0)) * full
        if rest:
            table += bytes((_ENTRY | (rest - 1), 0))
        if len(_LINES) >= _CANON_MAX:
            _LINES.clear()
        _LINES[units] = table
    return table


def _canon(value: Any) -> Any:
    """The shared object equal to ``value``: ints by value, floats by value except 0.0 and
    NaN (where equality is not identity of meaning); other constants are returned as is.
    The tables key by the value itself, so a shared constant costs one dict entry."""
    t = type(value)
    if t is int:
        if -5 <= value <= 256:  # CPython caches these already
            return value
        table = _INTS
    elif t is float and value != 0.0 and not math.isnan(value):
        table = _FLOATS
    else:
        return value
    found = table.get(value)
    if found is None:
        if len(table) >= _CANON_MAX:
            table.clear()
        table[value] = found = value
    return found


def _canon_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The shared tuple equal to ``names``: the global names code reads repeat across
    functions (55 distinct tuples over 2,560 functions of a big module)."""
    found = _NAMES.get(names)
    if found is None:
        if len(_NAMES) >= _CANON_MAX:
            _NAMES.clear()
        _NAMES[names] = found = names
    return found


def shrink(code: types.CodeType, first_line: int) -> types.CodeType:
    """``code`` (and nested code objects) with shared constants and global-name tuples,
    ``co_firstlineno`` = ``first_line`` (the wasm function index: how a traceback names the
    function without a filename per function; a line table that is not flat, before CPython
    3.11 and on PyPy, counts its lines from there, so read the index from ``co_firstlineno``,
    not from a traceback's line number) and, on CPython 3.11+, a flat line table, the short
    qualified name (``f``, not ``make.<locals>.f``) and shared local names."""
    consts = tuple(shrink(c, first_line) if isinstance(c, types.CodeType) else _canon(c)
                   for c in code.co_consts)
    names = _canon_names(code.co_names)
    if not _FLAT_LINES:
        return code.replace(co_consts=consts, co_names=names, co_firstlineno=first_line)
    # The bytecode is unchanged by the replacement, so its line table is computed from it.
    return code.replace(co_consts=consts, co_names=names, co_qualname=code.co_name,
                        co_varnames=_numbered_locals(code.co_varnames),
                        co_firstlineno=first_line, co_linetable=_flat_linetable(code))


def _numbered_locals(varnames: tuple[str, ...]) -> tuple[str, ...]:
    """``varnames`` with each name outside the kept table (the lane variables of SIMD code,
    ``l22_314_0``: one string per function each) renamed ``_<position>``. Bytecode reads
    locals by position, so only ``locals()`` and debuggers see the new names; translated
    code calls no function by keyword. Measured: 8.4 of the 15.6 KB that compiling
    crc_b64.O3simd added were such names."""
    if all(name in _KEPT for name in varnames):
        return varnames
    return tuple(name if name in _KEPT or i >= len(_POSITIONAL) else _POSITIONAL[i]
                 for i, name in enumerate(varnames))


def _step(expr: str) -> tuple[Any, ...] | None:
    """A bind expression as ``(attr, index or None, attr or None)``, or None."""
    m = _BIND.match(expr)
    if m is None:
        return None
    attr, index, sub = m.groups()
    return (sys.intern(attr), None if index is None else int(index),
            None if sub is None else sys.intern(sub))


def namespace(items: Mapping[str, Any]) -> dict[str, Any]:
    """A globals dict holding ``items``, made as a module's namespace: PyPy gives those a
    dict strategy whose entries its JIT reads as constants (measured, PyPy 7.3.11: the
    hash64 kernel 8 -> 0.35 ms with the same code; a plain dict's globals are looked up on
    every access). On CPython it is a plain dict either way."""
    ns = types.ModuleType("wasm_helpers").__dict__
    ns.update(items)
    return ns


class Factory:
    """``factory(rt) -> f``: ``f``'s code with its closure cells read from ``rt``.

    ``recipe`` has one entry per free variable of ``code``, in ``co_freevars`` order:
    ``(attr, index, sub)`` reads ``rt.attr[index].sub`` (index/sub optional),
    ``(None, value, None)`` is a constant and ``("", None, None)`` is ``f`` itself.
    A value that is a cell is the cell itself (``runtime/memory.MemoryInst.view_cells``:
    one cell per memory view, its contents renewed when the memory grows).
    """

    __slots__ = ("code", "globals", "recipe")

    def __init__(self, code: types.CodeType, globals_: dict[str, Any],
                 recipe: tuple[Any, ...]) -> None:
        self.code = code
        self.globals = globals_
        self.recipe = recipe

    def __call__(self, rt: Any) -> Callable[..., Any]:
        cells = []
        own = None
        for attr, index, sub in self.recipe:
            if attr is None:
                value = index
            elif not attr:  # f itself: a directly recursive function calls f
                own = _CellType()
                cells.append(own)
                continue
            else:
                value = getattr(rt, attr)
                if index is not None:
                    value = value[index]
                if sub is not None:
                    value = getattr(value, sub)
                if type(value) is _CellType:  # shared with other functions (a view)
                    cells.append(value)
                    continue
            cells.append(_CellType(value))
        fn = types.FunctionType(self.code, self.globals, None, None,
                                tuple(cells) if cells else None)
        if own is not None:
            own.cell_contents = fn
        return fn


def _inner_code(code: types.CodeType, name: str) -> types.CodeType | None:
    for c in code.co_consts:
        if isinstance(c, types.CodeType) and c.co_name == name:
            return c
    return None


def build_factory(source: str, func_index: int, binds: Mapping[str, str],
                  consts: Mapping[str, Any], shared: dict[str, Any]) -> Callable[[Any], Any]:
    """Compile the factory ``source`` of function ``func_index`` (binds as ``make``'s
    first statements, constants named by
    ``consts`` read as globals) into a compact factory; ``shared`` is the helper namespace,
    used as the globals of every function and never modified.

    Constants that ``shared`` already holds (the same object) cost nothing; the others
    become closure cells (compiled as locals of ``make``, so free variables of ``f``).
    """
    filename = WASM_FILE
    own = {k: v for k, v in consts.items() if shared.get(k, shared) is not v}
    steps = {name: _step(expr) for name, expr in binds.items()}
    # make returns f itself; a function that tail-calls also defines f_tail and sets
    # f.tail (see tail.py): only the plain shape gets a recipe.
    plain = "\n    def f_tail(" not in source
    if _CELLS and plain and None not in steps.values():
        if own:
            head, sep, rest = source.partition("\n")
            source = head + sep + "".join(f"    {k} = None\n" for k in own) + rest
        make = _inner_code(compile(source, filename, "exec"), "make")
        f = _inner_code(make, "f") if make is not None else None
        if f is not None:
            recipe = _recipe(f.co_freevars, steps, own)
            if recipe is not None:
                return Factory(shrink(f, func_index), shared, recipe)
        raise AssertionError(f"unexpected factory source shape in {filename}")
    # Fallback: run make itself, with its own globals (the runtime tags them per function).
    if any(_VIEW_BIND.search(expr) for expr in binds.values()):
        # make would bind a view's cell as a value: the translator must not ask for views
        # here (visit_memory.view_template).
        raise AssertionError(f"typed memory views in a make-based factory: {filename}")
    make = _inner_code(compile(source, filename, "exec"), "make")
    if make is None:
        raise AssertionError(f"unexpected factory source shape in {filename}")
    return types.FunctionType(shrink(make, func_index), namespace({**shared, **own}))


def _recipe(freevars: tuple[str, ...], steps: Mapping[str, tuple[Any, ...] | None],
            own: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """One recipe entry per free variable of ``f`` (None if one is neither)."""
    out: list[tuple[Any, ...]] = []
    for name in freevars:
        if name in own:
            out.append((None, own[name], None))
        elif name == "f":
            out.append(_SELF)
        elif steps.get(name) is not None:
            out.append(steps[name])  # type: ignore[arg-type]
        else:
            return None
    recipe = tuple(out)
    if own:  # constants make the recipe private to this function
        return recipe
    found = _RECIPES.get(recipe)
    if found is None:
        if len(_RECIPES) >= _CANON_MAX:
            _RECIPES.clear()
        _RECIPES[recipe] = found = recipe
    return found


def with_const(factory: Any, value: Any) -> bool:
    """Append ``value`` to the constants of a compact factory's code (so a frame of ``f``
    reaches it through ``f_code.co_consts[-1]``); False for a make-based factory."""
    if not isinstance(factory, Factory):
        return False
    factory.code = factory.code.replace(co_consts=factory.code.co_consts + (value,))
    return True


def renamed(factory: Any, name: str) -> bool:
    """Give a compact factory's ``f`` the code name ``name`` (``errors.UNGUARDED`` marks
    the translation a failed entry guard runs); False for a make-based factory."""
    if not isinstance(factory, Factory):
        return False
    factory.code = factory.code.replace(co_name=name)
    return True
