"""Visitor of SIMD instructions: lane-wise code for unpacked values (simd_lanes.py), the
templates of simd.py (imported on first use) for everything else."""

from __future__ import annotations

import importlib
import re
from typing import Any

from ..compat import PYPY
from ..types import V128
from . import signed64
from .load_groups import V128_MEMBERS, simd_kind_after
from .simd_lanes import (
    BITWISE,
    KINDS,
    LANE_OPS,
    RING,
    Kind,
    LaneEntry,
    MemEntry,
    lane_loader,
)
from .simd_locals import LaneVisitors
from .stack import Entry, lit, var

_simd: Any = None


def simd_module() -> Any:
    global _simd
    if _simd is None:
        try:
            _simd = importlib.import_module(".simd", __package__)
        except ImportError as exc:  # pragma: no cover - only before the SIMD work lands
            raise NotImplementedError("SIMD instructions need engine/compile/simd.py") from exc
    return _simd


#: v128 stores of lanes through the typed views (visit_memory.aligned_view) when their
#: address is known aligned: of two 64-bit lanes (two item stores; measured in-process:
#: nbody.O3simd 0.97x of its time), of one lane of 32 or 64 bits (``store*_lane``).
VIEW_STORES = True

#: Runs of v128 stores of one value at offsets 16 apart as one mem_init (_store_run).
STORE_RUNS = True
_LOCAL = re.compile(r"l\d+")

#: A v128 load stored into a local kept as lanes takes that local's lane kind (_kind_after).
KIND_FROM_LOCAL = True

#: Loads whose value a lane consumer unpacks straight from memory (MemEntry.source).
_MEM_SOURCES = {"v128.load": "full", "v128.load32_splat": "32", "v128.load64_splat": "64"}


class SimdVisitors(LaneVisitors):
    """Mixin of the generator: every 0xFD-prefixed instruction."""

    _covered: set[int] | None = None  # v128.stores a run wrote (_store_run)

    def simd(self, idx: int, op: Any, imm: Any) -> None:
        plan = self.lane_plan
        if plan is not None and idx in plan.skip:
            return  # the operation a reuse of a loop's value replaces (simd_exits.py)
        if self._covered and idx in self._covered:
            self.take(2)  # a store of a run that _store_run wrote at once
            return
        mod = simd_module()
        for name, obj in mod.SIMD_HELPERS.items():
            self.consts.setdefault(name, obj)
        if self.lane_simd(idx, op.name, imm) or self.grouped_v128(idx, op.name, imm):
            return
        tpl = mod.SIMD_EXPR.get(op.name)
        if tpl is None:
            raise NotImplementedError(f"SIMD instruction {op.name} has no translation")
        if op.params is not None:
            n = len(op.params)
        else:
            n = sum(1 for p in ("{a}", "{b}", "{c}") if p in tpl)
        has_mem = "{ea}" in tpl
        ops = self.take(n)
        fields: dict[str, Any] = {"imm": repr(imm)}
        if has_mem:
            memarg = imm[0] if op.imm == "memarg_lane" else imm
            fields["mem"] = self.mem(memarg[2])
            fields["ea"] = self.ea(ops[0], memarg[1])
            rest = ops[1:]
            for key, o in zip("bc", rest):
                fields[key] = o.expr
        else:
            for key, o in zip("abc", ops):
                fields[key] = o.expr
        expr = tpl.format(**fields)
        results = op.results if op.results is not None else (() if "store" in op.name else (V128,))
        if not results:
            self.stmt(expr, True)
        elif op.name in _MEM_SOURCES:
            a = ops[0]
            fn = expr.partition("(")[0]
            kind = self._kind_after(idx)
            self.stack.append(MemEntry(fn, a.reads, a.depth + 1, _MEM_SOURCES[op.name],
                                       fields["mem"], fields["ea"], kind=kind,
                                       view=self.load_view(idx, op.name, imm, a, kind)))
        elif op.name == "v128.const":
            self.stack.append(lit(expr))
        else:
            # Only memory access traps or reads mutable state; the other helpers are pure.
            self.push(expr, ops, eff=has_mem)

    def _kind_after(self, idx: int) -> Kind | None:
        """The lane kind a v128 load at ``idx`` will be read as: that of the local kept as
        lanes it is stored into right away (so it is unpacked once, through a view when
        aligned; measured: nbody.O3simd's per-body vectors, ...), else the kind of the next
        shaped instruction (load_groups.simd_kind_after)."""
        nxt = self.instrs[idx + 1][0].name if idx + 1 < len(self.instrs) else ""
        if nxt in ("local.set", "local.tee") and KIND_FROM_LOCAL:
            got = self._lanes_plan().defs.get(idx + 1)
            if got is not None:
                return got[0]
        return simd_kind_after(self.instrs, idx)

    def load_view(self, idx: int, name: str, imm: Any, a: Any, kind: Any) -> str | None:
        """The typed view (visit_memory.view_template) that a v128 load consumed as lanes
        of ``kind`` reads, when its lanes are 64-bit (a full load: two reads beat one
        unpack; four do not) or it is a splat of the lane width, and its address is pure
        and known aligned to a lane; else None."""
        if kind is None or kind.fmt not in ("d", "Q", "I") or a.eff:
            return None
        full = name == "v128.load"
        if (kind.n != 2) if full else _MEM_SOURCES[name] != str(kind.width):
            return None
        return self.aligned_view(idx, imm, a, kind.fmt, (kind.width // 8).bit_length() - 1)

    # -- lane-wise translation -------------------------------------------------------------

    def lane_simd(self, idx: int, name: str, imm: Any) -> bool:
        """Translate ``name`` on lanes when its operands are (or cheaply become) lanes."""
        lop = LANE_OPS.get(name)
        if lop is not None:
            return self.lane_arith(lop, name)
        if name in BITWISE:
            return self.lane_bitwise(name)
        if name == "i8x16.shuffle":
            return self.lane_shuffle(imm)
        if name == "v128.bitselect" or name.endswith(".relaxed_laneselect"):
            return self.lane_bitselect()
        shape, _, what = name.partition(".")
        kind = KINDS.get(shape)
        if kind is not None:
            if what == "splat":
                return self.lane_splat(kind)
            if what == "replace_lane":
                return self.lane_replace(kind, imm)
            if what.startswith("extract_lane"):
                return self.lane_extract(kind, imm, what.endswith("_s"))
            return False
        if name == "v128.store":
            return self.lane_store(idx, imm)
        if name.startswith("v128.load") and name.endswith("_lane"):
            return self.lane_load_lane(idx, int(name[9:-5]), imm)
        if name.startswith("v128.store") and name.endswith("_lane"):
            return self.lane_store_lane(idx, int(name[10:-5]), imm)
        return False

    def _is_lanes(self, e: Entry, kind: Kind | None = None) -> bool:
        return isinstance(e, LaneEntry) and (kind is None or e.kind is kind)

    def _push_lanes(self, kind: Kind, lanes: list[str], ops: list[Entry],
                    ring: list[str] | None = None) -> None:
        reads = frozenset().union(*(o.reads for o in ops)) if ops else frozenset()
        depth = max((o.depth for o in ops), default=0) + 1
        e = LaneEntry(kind, lanes, reads, any(o.eff for o in ops), depth, ring)
        if e.eff and all(not o.eff or getattr(o, "loads", None) for o in ops):
            e.loads = frozenset().union(*(o.loads for o in ops if o.eff))
        self.stack.append(e)

    def lane_arith(self, lop: Any, name: str) -> bool:
        kind = KINDS[lop.kind]
        stack = self.stack
        shift = "{k}" in lop.tpl
        nv = lop.nargs
        first = len(stack) - nv - (1 if shift else 0)
        vecs = range(first, first + nv)
        if shift and not stack[-1].const:
            return False
        if not kind.is_float and not any(
                self._is_lanes(stack[p], kind) or isinstance(stack[p], MemEntry) for p in vecs):
            return False  # the SWAR helpers of simd.py beat converting int operands
        for p in vecs:
            self.as_lanes(p, kind, lop.atoms)
        k = ""
        if shift:
            k = str(int(stack[-1].expr) % kind.width)
            self.take(1)
        ops = self.take(nv)
        op = name.partition(".")[2]
        if not kind.is_float and op in RING:
            if signed64.ENABLED:
                # PyPy: every lane masked (an unmasked sum of products passes 2**63 and
                # leaves the machine word), an i32 product wrapped at 64 bits (same low 32
                # bits; measured: matrix.O3simd on PyPy 500 -> 2.2 ms)
                tpl = "imul({x}, {y})" if op == "mul" and kind.width == 32 else RING[op]
                x, y = ops[0].lanes, ops[1].lanes
                lanes = [f"({tpl.format(x=x[i], y=y[i])} & {kind.mask})" for i in range(kind.n)]
                self._push_lanes(kind, lanes, ops)
                return True
            # measured: matrix.O3simd's i32x4 mul+add chains, one mask per lane less
            x = ops[0].ring or ops[0].lanes
            y = ops[1].ring or ops[1].lanes
            ring = [RING[op].format(x=x[i], y=y[i]) for i in range(kind.n)]
            lanes = [f"({r} & {kind.mask})" for r in ring]
            self._push_lanes(kind, lanes, ops, ring if x is ops[0].lanes and
                             y is ops[1].lanes else None)
            return True
        x = ops[0].lanes
        y = ops[1].lanes if nv == 2 else x
        lanes = [lop.tpl.format(x=x[i], y=y[i], k=k) for i in range(kind.n)]
        self._push_lanes(KINDS[lop.out or lop.kind], lanes, ops)
        return True

    def lane_bitwise(self, name: str) -> bool:
        tpl, nv = BITWISE[name]
        stack = self.stack
        kind = next((stack[p].kind for p in range(len(stack) - nv, len(stack))
                     if self._is_lanes(stack[p]) and not stack[p].kind.is_float), None)
        if kind is None:
            return False
        for p in range(len(stack) - nv, len(stack)):
            self.as_lanes(p, kind)
        ops = self.take(nv)
        x = ops[0].lanes
        y = ops[-1].lanes
        lanes = [tpl.format(x=x[i], y=y[i], m=kind.mask) for i in range(kind.n)]
        self._push_lanes(kind, lanes, ops)
        return True

    def lane_bitselect(self) -> bool:
        """Bits of a where c is 1, else of b: lane-wise on integer lanes (c an atom, it
        occurs twice; measured: crc_b64.O3simd's CRC step, eq masks selecting xors)."""
        stack = self.stack
        base = len(stack) - 3
        kind = next((stack[p].kind for p in range(base, base + 3)
                     if self._is_lanes(stack[p]) and not stack[p].kind.is_float), None)
        if kind is None:
            return False
        for p in range(base, base + 3):
            self.as_lanes(p, kind, atomic=p == base + 2)
        a, b, c = self.take(3)
        lanes = [f"(({x} & {z}) | ({y} & ~{z}))" for x, y, z in zip(a.lanes, b.lanes, c.lanes)]
        self._push_lanes(kind, lanes, [a, b, c])
        return True

    def _atom_scalar(self) -> Entry:
        """Pop the scalar operand on top, first evaluated into a temporary unless it is a
        pure name or literal (a lane expression may repeat it and must not trap)."""
        top = self.stack[-1]
        if top.eff or top.depth:
            self.spill(len(self.stack) - 1)
        return self.take(1)[0]

    def lane_splat(self, kind: Kind) -> bool:
        x = self._atom_scalar()
        v = x.expr
        if not kind.is_float and kind.width < 32:
            t = self.temp()
            self.emit(f"{t} = ({v} & {kind.mask})")
            v, x = t, Entry(t, frozenset((t,)))
        self._push_lanes(kind, [v] * kind.n, [x])
        return True

    def lane_replace(self, kind: Kind, lane: int) -> bool:
        vec = self.stack[-2]
        if not (self._is_lanes(vec, kind) or isinstance(vec, MemEntry) or vec.const):
            return False
        self.as_lanes(len(self.stack) - 2, kind)
        self.spill_dropping(len(self.stack) - 2)
        if self.stack[-1].eff:
            self.spill(len(self.stack) - 1)
        v, x = self.take(2)
        val = x.expr
        if not kind.is_float and kind.width < 32:
            val = f"({val} & {kind.mask})"
        lanes = list(v.lanes)
        lanes[lane] = val
        self._push_lanes(kind, lanes, [v, x])
        return True

    def lane_extract(self, kind: Kind, lane: int, signed: bool) -> bool:
        vec = self.stack[-1]
        if not (self._is_lanes(vec, kind) or isinstance(vec, MemEntry) or vec.const):
            return False
        self.as_lanes(len(self.stack) - 1, kind)
        self.spill_dropping(len(self.stack) - 1)
        (v,) = self.take(1)
        expr = v.lanes[lane]
        if signed:
            expr = f"v_sext{kind.width}({expr})"
        self.push(expr, [v])
        return True

    def lane_shuffle(self, imm: tuple) -> bool:
        stack = self.stack
        a, b = stack[-2], stack[-1]
        kind = a.kind if self._is_lanes(a) else b.kind if self._is_lanes(b) else None
        if kind is None:
            return False
        wb = kind.width // 8
        plan = []  # per output lane: (operand, lane) or None (bytes of several lanes)
        for j in range(kind.n):
            src = imm[j * wb:(j + 1) * wb]
            s = src[0]
            if s % wb == 0 and tuple(src) == tuple(range(s, s + wb)):
                plan.append((s // 16, (s % 16) // wb))
            else:
                plan.append(None)
        if None in plan and kind.is_float:
            return False
        used = {i // 16 for i in imm}
        base = len(stack) - 2
        for which in (0, 1):
            if which in used:
                self.as_lanes(base + which, kind, atomic=True)
        ops = self.take(2)
        for which in (0, 1):
            if which not in used and ops[which].eff:
                self.stmt(ops[which].expr, True)
        lanes = []
        for j, p in enumerate(plan):
            if p is not None:
                lanes.append(ops[p[0]].lanes[p[1]])
                continue
            src = imm[j * wb:(j + 1) * wb]
            if len(set(src)) == 1:  # one byte repeated (clang's "any lane": index 0)
                s = src[0]
                lane = ops[s // 16].lanes[(s % 16) // wb]
                rep = sum(1 << (8 * k) for k in range(wb))
                lanes.append(f"((({lane} >> {8 * (s % wb)}) & 255) * {rep})")
                continue
            parts = []
            for k in range(wb):
                s = imm[j * wb + k]
                src = ops[s // 16].lanes[(s % 16) // wb]
                if src == "0":  # a zero lane's bytes (a demand stand-in, a literal) add none
                    continue
                byte = f"({src} >> {8 * (s % wb)})" if s % wb else src
                parts.append(f"(({byte} & 255) << {8 * k})" if k else f"({byte} & 255)")
            lanes.append("(" + " | ".join(parts) + ")" if parts else "0")
        self._push_lanes(kind, lanes, [o for i, o in enumerate(ops) if i in used])
        return True

    def _view_store(self, idx: int, imm: tuple, kind: Kind) -> bool:
        """A v128.store of two 64-bit lanes through the typed view of their kind, when its
        address is known 8-aligned: the high lane first, so a store that runs past the
        end traps before it writes anything (the view covers whole items: if the high
        one is in it, so is the low one)."""
        a = self.stack[-2]
        view = self.aligned_view(idx, imm, a, kind.fmt, 3)
        if view is None:
            return False
        if a.eff:  # a call in it could grow the memory after the view was read
            self.spill(len(self.stack) - 2)
        a, v = self.take(2)
        lo, hi = v.lanes
        ea = self.ea(a, imm[1])
        same = v.eff and v.loads and all(lv == view and le == ea for lv, le, _ in v.loads)
        if same:  # a read-modify-write: the lanes read only the items written, each before
            t = next(iter(v.loads))[2]  # (their index, computed at the load)
            hi_at, lo_at = f"{view}[{t} + 1]", f"{view}[{t}]"
        elif a.const:
            k = (int(a.expr) + imm[1]) >> 3
            hi_at, lo_at = f"{view}[{k + 1}]", f"{view}[{k}]"
        else:
            t = self.temp()
            hi_at, lo_at = f"{view}[({t} := ({ea}) >> 3) + 1]", f"{view}[{t}]"
        if v.eff and not same:  # lanes that read memory: all of it before either write
            self.stmt(f"{hi_at}, {lo_at} = {hi}, {lo}", True)
        else:
            self.stmt(f"{hi_at} = {hi}; {lo_at} = {lo}", True)
        return True

    def _store_run(self, idx: int, imm: tuple) -> bool:
        """A run of v128.stores of one local's value (read by the ``local.get``/``tee``
        before each) through one address (a local or a literal) at offsets 16 apart,
        downwards: one ``mem_init`` of the value's bytes repeated (clang's unrolled memset,
        strings.O3simd's Horspool table: 63 stores). Exact with its bounds check first:
        the first store is the highest, so a run that leaves the memory traps before it
        writes anything, as its first store would. The other stores pop their operands."""
        instrs = self.instrs
        a, v = self.stack[-2], self.stack[-1]
        vop, vloc = instrs[idx - 1] if idx else (None, None)
        if vop is None or vop.name not in ("local.get", "local.tee") or v.eff or a.eff:
            return False
        if not ((a.const and a.expr.isdigit()) or _LOCAL.fullmatch(a.expr)):
            return False
        offs = [imm[1]]
        k = idx + 1
        while k + 2 < len(instrs):
            (op1, i1), (op2, i2), (op3, i3) = instrs[k:k + 3]
            same = (op1.name == "local.get" and not a.const and a.expr == f"l{i1}") or (
                op1.name in ("i32.const", "i64.const") and a.const and int(a.expr) == i1)
            if not (same and op2.name == "local.get" and i2 == vloc and op3.name == "v128.store"
                    and i3[2] == imm[2] and i3[1] == offs[-1] - 16):
                break
            offs.append(i3[1])
            k += 3
        n = len(offs)
        if n < 4 or offs[-1] < 0:
            return False
        if v.const:
            pattern = self.const(int(v.expr).to_bytes(16, "little") * n, "VB")
        elif self._is_lanes(v):
            pattern = f"v_b_{v.kind.name}({', '.join(v.lanes)}) * {n}"
        else:
            pattern = f'({v.expr}).to_bytes(16, "little") * {n}'
        a, v = self.take(2)
        self.stmt(f"mem_init({self.mem(imm[2])}, {pattern}, {self.ea(a, offs[-1])}, 0, "
                  f"{16 * n})", True)
        if self._covered is None:
            self._covered = set()
        self._covered.update(range(idx + 3, k, 3))
        return True

    def lane_store(self, idx: int, imm: tuple) -> bool:
        """v128.store of lanes packs them straight into memory; of a v128.load (a copy) or a
        constant, moves 16 bytes (measured: 4x / 3x cheaper than the int helpers; clang's
        inlined memcpy/memset in lz77 and strings); of an int, its bytes."""
        if STORE_RUNS and self._store_run(idx, imm):
            return True
        v = self.stack[-1]
        if self._is_lanes(v):
            if VIEW_STORES and v.kind.n == 2 and self._view_store(idx, imm, v.kind):
                return True
            a, v = self.take(2)
            value = f"v_st_{v.kind.name}({{m}}, {{ea}}, {', '.join(v.lanes)})"
        elif isinstance(v, MemEntry) and v.source == "full" or v.const:
            a, v = self.take(2)
            raw = (self.const(int(v.expr).to_bytes(16, "little"), "VB") if v.const
                   else f"v_raw16({v.mem}, {v.ea})[0]")
            value = f"v_st_raw16({{m}}, {{ea}}, {raw})"
        else:  # an int: its 16 bytes (v128 ints are in [0, 2**128))
            a, v = self.take(2)
            value = f'v_st_raw16({{m}}, {{ea}}, ({v.expr}).to_bytes(16, "little"))'
        self.stmt(value.format(m=self.mem(imm[2]), ea=self.ea(a, imm[1])), True)
        return True

    def _lane_kind_of_width(self, vec: Entry, width: int) -> Kind | None:
        if self._is_lanes(vec):
            return vec.kind if vec.kind.width == width else None
        if isinstance(vec, MemEntry) or vec.const:
            return KINDS[f"i{width}x{128 // width}"]
        return None

    def lane_load_lane(self, idx: int, width: int, imm: tuple) -> bool:
        kind = self._lane_kind_of_width(self.stack[-1], width)
        if kind is None:
            return False
        self.as_lanes(len(self.stack) - 1, kind)
        self.spill_dropping(len(self.stack) - 1)
        memarg, lane = imm
        hit = None if PYPY else self.grouped(idx, memarg[2], kind.fmt)
        a, v = self.take(2)
        if hit is not None:  # load_groups.py: the address is pure, its value in the group
            x = var(hit[1][0])
        else:
            load = f"{lane_loader(kind)}({self.mem(memarg[2])}, {self.ea(a, memarg[1])})[0]"
            self.stack.append(Entry(load, a.reads, True, a.depth + 1))
            self.spill(len(self.stack) - 1)
            (x,) = self.take(1)
        lanes = list(v.lanes)
        lanes[lane] = x.expr
        self._push_lanes(kind, lanes, [v, x])
        return True

    def grouped_v128(self, idx: int, name: str, imm: tuple) -> bool:
        """A v128.load or splat load in a group (load_groups.py): its lanes are the group's
        names, in the lane kind the group chose (a consumer of another kind converts)."""
        if PYPY or name not in V128_MEMBERS or name.endswith("_lane"):
            return False
        hit = self.grouped(idx, imm[2])
        if hit is None:
            return False
        self.take(1)  # the address, pure (local + literal): its value is in the group
        member, names = hit
        kind = member.kind
        lanes = names if member.count == kind.n else names * kind.n  # a splat: repeated
        self.stack.append(LaneEntry(kind, list(lanes), frozenset(names)))
        return True

    def lane_store_lane(self, idx: int, width: int, imm: tuple) -> bool:
        v = self.stack[-1]
        if not (self._is_lanes(v) and v.kind.width == width):
            return False
        self.spill_dropping(len(self.stack) - 1)
        v = self.stack[-1]
        memarg, lane = imm
        if VIEW_STORES and width >= 32:
            a = self.stack[-2]
            shift = width.bit_length() - 4
            view = self.aligned_view(idx, memarg, a, v.kind.fmt, shift)
            if view is not None:  # one item: in the view or out of bounds
                if a.eff:
                    self.spill(len(self.stack) - 2)
                a, v = self.take(2)
                self.stmt(f"{view}[({self.ea(a, memarg[1])}) >> {shift}] = {v.lanes[lane]}",
                          True)
                return True
        a, v = self.take(2)
        store = "v_stf64" if v.kind.is_float else f"v_st{width}"
        self.stmt(f"{store}({self.mem(memarg[2])}, {self.ea(a, memarg[1])}, {v.lanes[lane]})",
                  True)
        return True
