"""Unpacked v128 values: lane kinds, the stack entries that hold lanes, per-lane templates.

A v128 value is a 128-bit ``int`` at every boundary (locals of other kinds, slots at merges,
calls, globals, the API). Between SIMD instructions the translator may instead hold it as a
:class:`LaneEntry`: one Python expression per lane (floats for ``f64x2``; unsigned ints of
the lane width for the integer kinds), so a chain of lane-wise instructions compiles to the
same inline arithmetic as the scalar build (``(a0 * b0)``), with no ``int`` <-> ``bytes``
round trip per instruction. Its ``expr`` is the packed ``int`` form, so every consumer that
knows nothing of lanes stays correct.

Measured before this existed (CPython 3.11, ``benchmarks.macro.profile``): nbody.O3simd
spent 53% of its time in SIMD helpers (f64x2 mul/add/sub), another 12% in their int<->bytes
conversions; matrix.O3simd 49% + 12%.

Rules that keep lanes exact and in program order:

- Lane expressions are pure: they read variables (locals, temporaries) and never trap or read
  memory; an effectful scalar operand (a load, a call result) is spilled first, and a memory
  source is unpacked by a statement (``t_0, t_1 = v_ld_f64x2(M0, ea)``) at its program point.
  So lanes may be evaluated in any order, any number of times (only atoms are duplicated).
  The one exception is an *effectful* entry (``eff``, ``loads``): a full 64-bit-lane load
  read through its view inside the lanes (``MemEntry.inline_lanes``). The stack keeps it in
  program order like any effectful entry; its consumers evaluate all its lanes before any
  write (or write only the items it read, each after reading it) and spill it whole before
  reading only some lanes (``spill_dropping``), so its trap is never lost or late.
- f64 lanes are Python floats: struct ``'d'`` and float moves keep NaN payloads, and the lane
  arithmetic is the scalar f64 templates' (``+``, ``fdiv``, ``fmin`` ...). f32x4 has no lane
  kind (its rounding and NaN rules go through the helpers of simd.py).
- Integer lanes hold the unsigned lane value; every template masks its result.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import NamedTuple

from .stack import NO_READS, Entry


class Kind(NamedTuple):
    """A lane interpretation of a v128: ``n`` lanes of ``width`` bits."""

    name: str  # "f64x2", "i32x4", ...
    n: int
    width: int
    fmt: str  # struct code of one lane (unsigned for the integer kinds)
    is_float: bool

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1

    @property
    def zero(self) -> str:
        return "0.0" if self.is_float else "0"

    def pack(self, lanes: list[str]) -> str:
        """The int form of ``lanes``."""
        return f"v_pk_{self.name}({', '.join(lanes)})"


KINDS = {
    "f64x2": Kind("f64x2", 2, 64, "d", True),
    "i64x2": Kind("i64x2", 2, 64, "Q", False),
    "i32x4": Kind("i32x4", 4, 32, "I", False),
    "i16x8": Kind("i16x8", 8, 16, "H", False),
    "i8x16": Kind("i8x16", 16, 8, "B", False),
}

_ATOM = re.compile(r"[A-Za-z_]\w*|\(?-?\d[\d.]*(e[+-]?\d+)?\)?")


def is_atom(text: str) -> bool:
    """A name or numeric literal: free to evaluate more than once."""
    return _ATOM.fullmatch(text) is not None


class LaneEntry(Entry):
    """A v128 stack entry held as lane expressions (see the module docstring)."""

    __slots__ = ("kind", "lanes", "loads", "ring")

    def __init__(self, kind: Kind, lanes: list[str], reads: frozenset = NO_READS,
                 eff: bool = False, depth: int = 1, ring: list[str] | None = None) -> None:
        super().__init__(kind.pack(lanes), reads, eff, depth)
        self.kind = kind
        self.lanes = lanes
        # Integer add/sub/mul of masked operands: each lane before its final mask (the ring
        # ops commute with reduction mod 2**w, so a consumer add/sub/mul may use it and mask
        # once; one level only, so the unmasked ints stay under 2w + 1 bits).
        self.ring = ring
        # The loads read inside the lanes (MemEntry.inline_lanes): (view, address, index
        # variable) each; None for lanes that read no memory (or not only such loads).
        self.loads: frozenset | None = None

    def spilled(self, t: str) -> tuple[str, Entry]:
        """Spill lane by lane into ``t_0 .. t_<n-1>``: the lanes stay unpacked."""
        names = [f"{t}_{i}" for i in range(self.kind.n)]
        code = assign(names, self.lanes)
        return code, LaneEntry(self.kind, names, frozenset(names))


class MemEntry(Entry):
    """A v128 load: its int form calls the simd.py helper ``fn``; a lane consumer unpacks
    straight from memory instead (``source``: ``"full"`` or the bit width of a splat load;
    ``mem``/``ea``: the buffer and offset expressions).

    Spilled, it becomes lanes of ``kind`` when the translator knows the shape that will
    consume it (``load_groups.simd_kind_after``: one unpacking call at its program point,
    measured on nbody.O3simd's inner loop, 0.9x of its time); else it keeps its bytes (``t =
    v_raw16(M0, ea)[0]``, a ``bytes`` snapshot taken at its program point) and stays a
    MemEntry over that buffer at offset 0, so a later lane consumer still unpacks once.
    """

    __slots__ = ("ea", "fn", "kind", "mem", "source", "view")

    def __init__(self, fn: str, reads: frozenset, depth: int, source: str, mem: str,
                 ea: str, eff: bool = True, kind: Kind | None = None,
                 view: str | None = None) -> None:
        super().__init__(f"{fn}({mem}, {ea})", reads, eff, depth)
        self.fn = fn
        self.source = source
        self.mem = mem
        self.ea = ea
        self.kind = kind
        # The typed view (runtime/memory.py) that reads this load's lanes of ``kind``: its
        # address is known aligned to a lane (visit_simd.load_view); None: struct.
        self.view = view

    def view_lanes(self, names: list[str], kind: Kind) -> str | None:
        """The statement reading this load's lanes of ``kind`` into ``names`` through its
        view (a splat: one read, every name bound to it; measured: a view read 16 ns, a
        struct unpack 45 ns), or None."""
        if self.view is None or kind is not self.kind:
            return None
        shift = (kind.width // 8).bit_length() - 1
        if self.source != "full":
            return f"{' = '.join(names)} = {self.view}[({self.ea}) >> {shift}]"
        if self.ea.isdigit():  # a constant address: the item indexes are literals
            k = int(self.ea) >> shift
            return f"{', '.join(names)} = {', '.join(f'{self.view}[{k + i}]' for i in range(kind.n))}"
        first = f"{self.view}[({names[0]} := ({self.ea}) >> {shift})]"
        rest = ", ".join(f"{self.view}[{names[0]} + {i}]" for i in range(1, kind.n))
        return f"{', '.join(names)} = {first}, {rest}"

    def inline_lanes(self, kind: Kind, t: str) -> tuple[str, LaneEntry] | None:
        """This full load's two 64-bit lanes of ``kind`` as view reads inside the lane
        expressions: the statement computing their item index into ``t`` (pure: the
        address is taken at the load's program point) and an *effectful* entry reading
        ``V[t]``, ``V[t + 1]``, which records the load (``LaneEntry.loads``). Its consumers
        evaluate every lane before any write, or store to the same items
        (visit_simd._view_store), and evaluate it whole before dropping a lane
        (``spill_dropping``), so a trap of the load still happens before anything is
        written. None when there is no view or not two lanes of the view's kind."""
        if self.view is None or kind is not self.kind or kind.n != 2 or self.source != "full":
            return None
        lanes = [f"{self.view}[{t}]", f"{self.view}[{t} + 1]"]
        e = LaneEntry(kind, lanes, self.reads | {t}, True, self.depth + 1)
        e.loads = frozenset(((self.view, self.ea, t),))
        return f"{t} = ({self.ea}) >> 3", e

    def lanes_of(self, t: str, kind: Kind) -> tuple[str, LaneEntry] | None:
        """The statement unpacking this load into lanes of ``kind`` (temporaries named
        after ``t``) and the entry reading them; None when its width is not ``kind``'s. A
        splat is one name repeated (measured with a use of both lanes: 92 ns with a ``* 2``
        tuple and its unpacking, 63 ns this way)."""
        if self.source == "full":
            names = [f"{t}_{i}" for i in range(kind.n)]
            code = (self.view_lanes(names, kind)
                    or f"{', '.join(names)} = v_ld_{kind.name}({self.mem}, {self.ea})")
            return code, LaneEntry(kind, names, frozenset(names))
        if int(self.source) == kind.width:
            code = (self.view_lanes([t], kind)
                    or f"{t}, = {lane_loader(kind)}({self.mem}, {self.ea})")
            return code, LaneEntry(kind, [t] * kind.n, frozenset((t,)))
        return None

    def spilled(self, t: str) -> tuple[str, Entry]:
        unpacked = self.lanes_of(t, self.kind) if self.kind is not None else None
        if unpacked is not None:
            return unpacked
        nbytes = 16 if self.source == "full" else int(self.source) // 8
        code = f"{t} = v_raw{nbytes}({self.mem}, {self.ea})[0]"
        return code, MemEntry(self.fn, frozenset((t,)), 1, self.source, t, "0", eff=False)


_NAME = re.compile(r"[A-Za-z_]\w*")
#: Whether :func:`assign` splits assignments of four or more lanes.
SPLIT = True


def assign(names: list[str], exprs: list[str]) -> str:
    """The statement assigning ``exprs`` to ``names`` at once. Four or more lanes as
    separate assignments on one line when no expression reads a name assigned before it
    (a tuple assignment of four or more builds and unpacks a tuple, 2 and 3 only swap;
    measured in-process: matrix.O3simd's i32x4 accumulators, 0.95x of its time)."""
    if len(names) >= 4 and SPLIT:
        before: set[str] = set()
        for n, e in zip(names, exprs):
            if before and any(w in before for w in _NAME.findall(e)):
                break
            before.add(n)
        else:
            return "; ".join(f"{n} = {e}" for n, e in zip(names, exprs))
    return f"{', '.join(names)} = {', '.join(exprs)}"


def lane_loader(kind: Kind) -> str:
    """The global unpacking one lane of ``kind`` from memory (returns a 1-tuple)."""
    return "v_ldf64" if kind.is_float else f"v_ld{kind.width}"


# Globals of the generated code (all prefixed v_/V, added to simd.SIMD_HELPERS).

def _helpers() -> dict[str, object]:
    out: dict[str, object] = {}
    for k in KINDS.values():
        st = struct.Struct(f"<{k.n}{k.fmt}")
        out[f"v_ld_{k.name}"] = st.unpack_from  # (mem, ea) -> lanes
        out[f"v_st_{k.name}"] = st.pack_into  # (mem, ea, *lanes)
        out[f"v_uk_{k.name}"] = _unpacker(st)
        out[f"v_pk_{k.name}"] = _packer(st)
        out[f"v_b_{k.name}"] = st.pack  # (*lanes) -> the 16 bytes
    for w, code in ((8, "B"), (16, "H"), (32, "I"), (64, "Q")):
        st = struct.Struct("<" + code)
        out[f"v_ld{w}"] = st.unpack_from
        out[f"v_st{w}"] = st.pack_into
    for n in (4, 8, 16):
        out[f"v_raw{n}"] = struct.Struct(f"<{n}s").unpack_from
    out["v_st_raw16"] = struct.Struct("<16s").pack_into
    out["v_ldf64"] = struct.Struct("<d").unpack_from
    out["v_stf64"] = struct.Struct("<d").pack_into
    return out


def _unpacker(st: struct.Struct) -> Callable:
    unpack = st.unpack

    def unpack_int(v: int) -> tuple:
        return unpack(v.to_bytes(16, "little"))
    return unpack_int


def _packer(st: struct.Struct) -> Callable:
    pack = st.pack
    from_bytes = int.from_bytes

    def pack_int(*lanes: object) -> int:
        return from_bytes(pack(*lanes), "little")
    return pack_int


LANE_HELPERS = _helpers()


def literal_lanes(kind: Kind, value: int) -> list:
    """The lane values of the constant ``value`` (floats or ints)."""
    st = struct.Struct(f"<{kind.n}{kind.fmt}")
    return list(st.unpack(value.to_bytes(16, "little")))


#: Integer lane ops that commute with the reduction mod 2**width: op -> unmasked template.
RING = {"add": "({x} + {y})", "sub": "({x} - {y})", "mul": "({x} * {y})"}

# Per-lane templates: {x}, {y} lanes of the operands, {k} a constant scalar operand.
# Each placeholder occurs once (so compound lanes may be inlined), except where a table
# entry says ``atoms``.

class LaneOp(NamedTuple):
    kind: str  # operand kind
    tpl: str  # per-lane template
    nargs: int  # v128 operands
    out: str = ""  # result kind if not the operand kind
    atoms: bool = False  # operands used more than once per lane: lanes must be atoms


def _lane_ops() -> dict[str, LaneOp]:
    ops: dict[str, LaneOp] = {}
    f = "f64x2"
    for name, tpl in (("add", "({x} + {y})"), ("sub", "({x} - {y})"), ("mul", "({x} * {y})"),
                      ("div", "fdiv({x}, {y})"), ("min", "fmin({x}, {y})"),
                      ("max", "fmax({x}, {y})"), ("relaxed_min", "fmin({x}, {y})"),
                      ("relaxed_max", "fmax({x}, {y})")):
        ops[f"{f}.{name}"] = LaneOp(f, tpl, 2)
    ops[f"{f}.pmin"] = LaneOp(f, "({y} if {y} < {x} else {x})", 2, atoms=True)
    ops[f"{f}.pmax"] = LaneOp(f, "({y} if {x} < {y} else {x})", 2, atoms=True)
    for name, tpl in (("neg", "(-{x})"), ("abs", "fabs({x})"), ("sqrt", "fsqrt({x})"),
                      ("ceil", "fceil({x})"), ("floor", "ffloor({x})"),
                      ("trunc", "ftrunc({x})"), ("nearest", "fnearest({x})")):
        ops[f"{f}.{name}"] = LaneOp(f, tpl, 1)
    m64 = (1 << 64) - 1
    for name, op in (("eq", "=="), ("ne", "!="), ("lt", "<"), ("gt", ">"), ("le", "<="),
                     ("ge", ">=")):
        ops[f"{f}.{name}"] = LaneOp(f, f"({m64} if {{x}} {op} {{y}} else 0)", 2, out="i64x2")
    for shape, k in KINDS.items():
        if k.is_float:
            continue
        m, h = k.mask, 1 << (k.width - 1)
        ops[f"{shape}.add"] = LaneOp(shape, f"(({{x}} + {{y}}) & {m})", 2)
        ops[f"{shape}.sub"] = LaneOp(shape, f"(({{x}} - {{y}}) & {m})", 2)
        ops[f"{shape}.neg"] = LaneOp(shape, f"(-{{x}} & {m})", 1)
        if k.width >= 16:
            ops[f"{shape}.mul"] = LaneOp(shape, f"(({{x}} * {{y}}) & {m})", 2)
        ops[f"{shape}.eq"] = LaneOp(shape, f"({m} if {{x}} == {{y}} else 0)", 2)
        ops[f"{shape}.ne"] = LaneOp(shape, f"({m} if {{x}} != {{y}} else 0)", 2)
        for name, op in (("lt", "<"), ("gt", ">"), ("le", "<="), ("ge", ">=")):
            ops[f"{shape}.{name}_s"] = LaneOp(
                shape, f"({m} if ({{x}} ^ {h}) {op} ({{y}} ^ {h}) else 0)", 2)
            if k.width < 64:
                ops[f"{shape}.{name}_u"] = LaneOp(shape, f"({m} if {{x}} {op} {{y}} else 0)", 2)
        # shifts by a constant count (others use simd.py's SWAR helpers)
        ops[f"{shape}.shl"] = LaneOp(shape, f"(({{x}} << {{k}}) & {m})", 1)
        ops[f"{shape}.shr_u"] = LaneOp(shape, "({x} >> {k})", 1)
        ops[f"{shape}.shr_s"] = LaneOp(shape, f"(((({{x}} ^ {h}) - {h}) >> {{k}}) & {m})", 1)
    return ops


LANE_OPS = _lane_ops()

#: Whole-vector bitwise ops: lane-wise on any integer kind.
BITWISE = {
    "v128.and": ("({x} & {y})", 2),
    "v128.or": ("({x} | {y})", 2),
    "v128.xor": ("({x} ^ {y})", 2),
    "v128.andnot": ("({x} & ({y} ^ {m}))", 2),
    "v128.not": ("({x} ^ {m})", 1),
}
