"""Visitors of linear-memory instructions: loads, stores, size/grow and bulk memory.

Forwarding (measured on the -O0 macro builds, whose locals live in the shadow stack: a value
stored at ``l3 + 40`` is loaded back twice a few instructions later, each load a ~60 ns
``struct`` call): along straight-line code (:data:`MEM_STRAIGHT`: no call, merge point,
memory.grow, bulk or atomic operation; a ``br_if`` only falls through there) an access at
``local + offset`` or at a literal address remembers the value there in a variable
(:class:`Known`), and a later load of the same width at the same place reads the variable
instead. Exact because nothing else can write memory there, memory never shrinks (the
earlier access proved the address in bounds) and the value round-trips (i32/i64 as the same
unsigned int, f64 as the same double, NaN payloads included). A store through another base,
or to an address of another shape, may alias anything: it forgets everything; a write of
the base local or of the local holding the value forgets what depends on it. A value is
kept in a variable only when a matching load follows within :data:`LOOKAHEAD` instructions.

Grouping: load_groups.py.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

from ..binary.module import MEMORY
from ..compat import PYPY
from ..types import MemoryType
from . import entry_guard as EG
from . import forward
from .align import address_tz, ctz
from .codeobj import CELLS
from .entry_guard import GUARD_BITS, guard_line, guarded_global
from .load_groups import SCALAR_CODES, GroupedLoads
from .ops import LOADS, STORES
from .pypy_helpers import HELPERS as PYPY_HELPERS
from .stack import Entry, lit, var
from .visit_variables import STRAIGHT

#: Loads that may be forwarded (bytes accessed), and the load each store forwards to.
FWD_LOADS = {"i32.load": 4, "i64.load": 8, "f64.load": 8}
FWD_STORES = {"i32.store": "i32.load", "i64.store": "i64.load", "f64.store": "f64.load"}
#: Bytes each store writes (for what a store to the same base overwrites).
STORE_BYTES = {name: 1 if "store8" in name else 2 if "store16" in name else
               4 if name in ("i32.store", "f32.store", "i64.store32") else 8 for name in STORES}
#: What may lie between an access and the load it forwards to: besides the local and numeric
#: instructions of straight-line code, the entry of a ``block`` or of an ``if``'s then-arm
#: and a ``br_if`` (its fall-through), which are reached from the code before them only.
#: Merges (``end``, ``else``, ``loop``) and everything that may write memory are not.
MEM_STRAIGHT = STRAIGHT | set(LOADS) | set(STORES) | {
    "local.tee", "drop", "block", "if", "br_if"}
LOOKAHEAD = 48
_ADDR_CONSTS = ("i32.const", "i64.const")

#: Accesses that may go through a typed view (``runtime/memory.typed_views``) when their
#: address is known aligned (align.py): the view's item code and log2 of its size. Not on
#: PyPy (its JIT inlines struct access) nor on a big-endian host (the views are native).
VIEW_OPS = {"i32.load": ("I", 2), "i64.load": ("Q", 3), "f64.load": ("d", 3),
            "i64.load32_u": ("I", 2), "i32.store": ("I", 2), "i64.store": ("Q", 3),
            "f64.store": ("d", 3), "i64.store32": ("I", 2)}
VIEWS = not PYPY and sys.byteorder == "little" and CELLS
#: Whether view indexes come from an address's linear form (``view_index``; A/B flag).
LINEAR = True
#: The accesses whose address alignment the analysis records (v128 ones: visit_simd.py).
_VIEW_NAMES = frozenset((*VIEW_OPS, "v128.load", "v128.load32_splat", "v128.load64_splat",
                         "v128.store", "v128.store32_lane", "v128.store64_lane"))


class Known(NamedTuple):
    """A memory value known to the translator: ``load`` of ``base + offset`` in memory
    ``mem`` is ``value`` (a variable or a literal), since instruction ``since``."""

    since: int
    size: int
    value: str


class MemoryVisitors(GroupedLoads):
    """Mixin of the generator: memory instructions."""

    def mem(self, i: int = 0) -> str:
        """The bytearray of memory ``i``, bound once per factory as ``M<i>``."""
        return self.bind(f"M{i}", f"rt.memories[{i}].data")

    def mem_type(self, i: int) -> MemoryType:
        """The declared type of memory ``i`` (imports first)."""
        types = getattr(self, "_mem_types", None)
        if types is None:
            types = self._mem_types = [imp.desc for imp in self.info.imported(MEMORY)]
            types += self.info.mems
        return types[i]

    # -- forwarding ---------------------------------------------------------------------------

    def _mem_window(self, start: int, stop: int) -> bool:
        """True when instructions ``start < i < stop`` are all :data:`MEM_STRAIGHT`."""
        bars = getattr(self, "_mem_bars", None)
        if bars is None:
            bars = self._mem_bars = [0]
            for op, _ in self.instrs:
                bars.append(bars[-1] + (op.name not in MEM_STRAIGHT))
            self._known: dict[tuple[int, str, int, str], Known] = {}
        return bars[stop] == bars[start + 1]

    @staticmethod
    def _base_of(a: Entry, offset: int) -> tuple[str, int] | None:
        """An address operand as ``(local, offset)`` when it is a local (``l<i>``), or as
        ``("", address)`` when it is a literal; None otherwise."""
        e = a.expr
        if a.const:
            return "", int(e) + offset
        if not a.depth and e[:1] == "l" and e[1:].isdigit():
            return e, offset
        return None

    def _reloaded(self, idx: int, base: str, offset: int, load: str, mem: int) -> bool:
        """Whether a load ``load`` of ``base + offset`` (``local.get base; load offset`` or,
        for a literal address, ``iNN.const c; load o`` with ``c + o`` the address) follows
        within the straight-line code."""
        instrs = self.instrs
        k = int(base[1:]) if base else -1
        for j in range(idx + 1, min(idx + LOOKAHEAD, len(instrs) - 1)):
            op, imm = instrs[j]
            name = op.name
            if name not in MEM_STRAIGHT or (name in ("local.set", "local.tee") and imm == k):
                return False
            if (name == "local.get" and imm == k) or (not base and name in _ADDR_CONSTS):
                nop, nimm = instrs[j + 1]
                if nop.name == load and nimm[2] == mem and (
                        nimm[1] == offset if base else imm + nimm[1] == offset):
                    return True
        return False

    _into: tuple[int, Known, tuple[int, str, int, str]] | None = None

    def loaded_into(self, imm: int) -> None:
        """Local ``imm`` was just set: when to a load that is reloaded later (``h_load``),
        it is where the value is known to be."""
        into = self._into
        if into is not None:
            self._into = None
            if into[0] == imm:
                self._known[into[2]] = into[1]

    def forget_var(self, name: str) -> None:
        """Local ``name`` is about to be written: forget what reads it."""
        known = getattr(self, "_known", None)
        if known:
            for key in [k for k, v in known.items() if k[1] == name or v.value == name]:
                del known[key]

    def _forget_stored(self, mem: int, base: str | None, offset: int, size: int) -> None:
        """A store of ``size`` bytes at ``base + offset``: forget what it may overwrite."""
        known = self._known
        for key in list(known):
            kmem, kbase, koff, _ = key
            if base is None or kmem != mem or kbase != base or (
                    koff < offset + size and offset < koff + known[key].size):
                del known[key]

    def ea(self, base: Entry, offset: int) -> str:
        # No wrap-around: base + offset beyond the memory (even past 2**64) is out of bounds.
        if base.const:
            return str(int(base.expr) + offset)
        e = base.expr
        if base.raw is not None and not PYPY and e == f"({base.raw} & 0xFFFFFFFF)":
            # An address is small: its reduction by `%` returns the product itself where `&`
            # (chosen for products of unbounded i32s) builds a new int (measured: the
            # matmul kernel's ``(l2 + (l7 * l0 + l6) * 8)``, 50 -> 40 ns). Not on PyPy,
            # whose `%` is a division and `&` one machine op.
            e = f"({base.raw} % 4294967296)"
        return f"{e} + {offset}" if offset else e

    # -- typed views (align.py) --------------------------------------------------------------

    def addr_tz(self) -> dict[int, int]:
        """Known trailing zero bits of each viewable access's address, computed once."""
        found = getattr(self, "_addr_tz", None)
        if found is None:
            # The body as decoded: ``self.instrs`` may hold ``for`` pseudo-instructions
            # (loops.py), one for one with the instructions they replace.
            instrs = self.body.instrs
            g = guarded_global(instrs, self.global_types) if self.entry_guard and EG.ENABLED \
                else None
            self.guard_global = g
            found = self._addr_tz = address_tz(instrs, len(self.ftype.params), _VIEW_NAMES,
                                               GUARD_BITS if g is not None else 0)
        return found

    def add_entry_guard(self) -> None:
        """Start the function with its entry guard (entry_guard.py) when a typed view was
        chosen on what the guard checks."""
        g = getattr(self, "guard_global", None)
        needs = getattr(self, "view_needs", None)
        if g is None or not needs:
            return
        # Only when a view rests on the guard: a global read first and written, that is not
        # a stack pointer (a counter), would fail the guard most of the time.
        plain = address_tz(self.body.instrs, len(self.ftype.params), _VIEW_NAMES)
        if any(plain.get(idx, 0) < shift for idx, shift in needs):
            self.bind("funcs", "rt.funcs")
            self.prologue.insert(0, guard_line(self.global_cell(g), self.func_index,
                                               len(self.ftype.params)))

    def views_ok(self) -> bool:
        """Whether this function may read typed views: on CPython (not with i64 locals in
        signed form, visit_signed64.py), when its factory closes over the memory's view
        cells (not when it is made by running its source, codeobj: a tail-calling
        function, or GC binds)."""
        ok = getattr(self, "_views_ok", None)
        if ok is None:
            ok = self._views_ok = VIEWS and not self.slocals and not self.has_tail_calls() \
                and not any(op.prefix == 0xFB for op, _ in self.instrs)
        return ok

    def aligned_view(self, idx: int, imm: tuple[int, int, int], a: Entry, code: str,
                     shift: int) -> str | None:
        """The typed view of ``code`` (items of ``1 << shift`` bytes) that the access at
        ``idx`` with address ``a`` and memarg ``imm`` reads, bound once per factory, when
        views apply and the address is known to be a multiple of the item size (the
        offset then picks the view's phase); else None."""
        if self.mem_type(imm[2]).shared or not self.views_ok():
            return None
        tz = ctz(int(a.expr)) if a.const else self.addr_tz().get(idx, 0)
        if tz < shift:
            return None
        if not a.const:  # what add_entry_guard checks
            needs = getattr(self, "view_needs", None)
            if needs is None:
                needs = self.view_needs = []
            needs.append((idx, shift))
        phase = imm[1] & ((1 << shift) - 1)
        return self.bind(f"V{imm[2]}{code}{phase}", f"rt.memories[{imm[2]}].v{code}{phase}")

    def view_template(self, idx: int, name: str, imm: tuple[int, int, int]) -> str | None:
        """The access at ``idx`` through a typed view, when its address (on the operand
        stack: the top for a load, under the value for a store) is known to be a multiple
        of the item size: a template with ``{ea}`` (and ``{v}`` for a store), whose value
        Python evaluates before the address. An effectful address is evaluated into a
        temporary first: a call in it could grow the memory after the view was read.
        None for a ``struct`` access."""
        spec = VIEW_OPS.get(name)
        if spec is None:
            return None
        code, shift = spec
        pos = len(self.stack) - (1 if name in LOADS else 2)
        a = self.stack[pos]
        view = self.aligned_view(idx, imm, a, code, shift)
        if view is None:
            return None
        if a.eff:
            if self.linear_ok(a.lin, imm, shift):
                # Only the linear form's operand holds the effects: evaluate it alone, and
                # index from the temporary (crc_b64's table lookups ``T[(c ^ M[p]) * 4]``).
                self.flush_effects_to(pos)
                t = self.temp()
                self.emit(f"{t} = {a.lin[0]}")  # type: ignore[index]
                new = var(t)
                new.lin = (t, a.lin[1], a.lin[2])  # type: ignore[index]
                self.set_entry(pos, new)
            else:
                self.spill(pos)
        index = self.view_index(self.stack[pos], imm, shift)
        access = f"{view}[{index if index is not None else f'({{ea}}) >> {shift}'}]"
        if name in LOADS:
            return access
        return access + " = {v}" + (" & 0xFFFFFFFF" if name == "i64.store32" else "")

    def linear_ok(self, lin: tuple[str, int, int] | None, imm: tuple[int, int, int],
                  shift: int) -> bool:
        """Whether ``view_index`` applies to an address of linear form ``lin``."""
        if lin is None or not LINEAR or self.mem_type(imm[2]).is_64:
            return False
        size = 1 << shift
        return not (lin[1] % size or lin[2] % size) and 0 < lin[1] < 1 << 16

    def view_index(self, a: Entry, imm: tuple[int, int, int], shift: int) -> str | None:
        """The view index of an aligned access at ``a + offset`` in a 32-bit memory from
        ``a``'s linear form ``x * s + k`` (visit_numeric.linear) when ``s`` and ``k`` are
        multiples of the item size: ``(x * (s >> shift) + (k >> shift)) % 2**(32 - shift)``
        plus the offset's items (the offset adds past the wrap, and its low bits are the
        view's phase). clang's ``base + i * 4`` becomes ``(i + base / 4) % 2**30``: two
        operations fewer than reducing the address and shifting it. None otherwise."""
        lin = a.lin
        if not self.linear_ok(lin, imm, shift):
            return None
        x, s, k = lin  # type: ignore[misc]
        s, k = s >> shift, k >> shift
        if not x.isidentifier():
            x = f"({x})"  # whatever operator the operand's text ends with (parentheses are free)
        term = x if s == 1 else f"({x} * {s})"
        index = f"(({term} + {k}) % {1 << (32 - shift)})" if k else \
            f"({term} % {1 << (32 - shift)})"
        return f"{index} + {imm[1] >> shift}" if imm[1] >> shift else index

    # -- frame slots (forward.py) -------------------------------------------------------------

    def fwd_plan(self) -> forward.Plan:
        """The function's frame-slot forwarding plan (forward.py), computed once. Not on
        PyPy (not measured there), with several memories, nor for a shared memory (other
        threads write it)."""
        p = getattr(self, "_fwd_plan", None)
        if p is None:
            types = self.info.all_mems()
            # One memory only: two imported memory indexes may be one memory, whose stores
            # through one index the slots of the other would not see.
            mems = frozenset() if PYPY or len(types) != 1 else frozenset(
                i for i, t in enumerate(types) if not t.shared)
            guarded = frozenset(i for i in mems if not types[i].is_64)
            p = self._fwd_plan = forward.plan(self.body.instrs, self.info, mems,
                                              len(self.ftype.results), guarded)
        return p

    def slot_assign(self, name: str, e: Entry) -> Entry:
        """Evaluate ``e`` into slot variable ``name`` (after the folded values and stack
        entries reading its old value); the entry reading it."""
        self.materialise_if(name)
        self.stmt(f"{name} = {e.expr}", e.eff, (name,))
        return var(name)

    def h_load(self, idx: int, op: Any, imm: tuple[int, int, int]) -> None:
        m = self.mem(imm[2])
        plan = self.fwd_plan()
        if plan.reads:
            v = plan.reads.get(idx)
            if v is not None:  # an eliminated load: its slot's variable
                (a,) = self.take(1)
                if a.eff:
                    self.stmt(a.expr, True)
                self.stack.append(var(v))
                return
        slot = plan.writes.get(idx)
        if op.name in SCALAR_CODES and not PYPY:
            hit = self.grouped(idx, imm[2])
            if hit is not None:
                self.take(1)  # the address, pure (local + literal): its value is in the group
                e = var(hit[1][0])
                self.stack.append(self.slot_assign(slot, e) if slot else e)
                return
        view = self.view_template(idx, op.name, imm)
        (a,) = self.take(1)
        if slot is not None:
            tpl = view or LOADS[op.name]
            if m != "M0":
                tpl = tpl.replace("M0", m)
            self.push(tpl.format(ea=self.ea(a, imm[1])), [a], eff=True)
            self.stack.append(self.slot_assign(slot, self.stack.pop()))
            return
        place = None
        if op.name in FWD_LOADS:
            place = self._base_of(a, imm[1])
        if place is not None and self._mem_window(idx, idx):
            base, off = place
            key = (imm[2], base, off, op.name)
            known = self._known.get(key)
            if known is not None and self._mem_window(known.since, idx):
                v = known.value
                self.stack.append(var(v) if v[0] in "lt" else lit(v))
                return
        tpl = view or LOADS[op.name]
        if m != "M0":
            tpl = tpl.replace("M0", m)
        ea = self.ea(a, imm[1])
        self.push(tpl.format(ea=ea), [a], eff=True)
        if op.name.endswith(("8_u", "16_u")):
            self.stack[-1].bits = 8 if op.name.endswith("8_u") else 16
        if self.slocals and op.name.startswith("i64"):
            # PyPy (visit_signed64.py): the signed form instead of forwarding (the two are
            # not combined: a known value is the unsigned form).
            self.signed_load(op.name, tpl, ea)
            return
        if place is not None and self._reloaded(idx, base, off, op.name, imm[2]):
            nop, nimm = self.instrs[idx + 1]
            if nop.name in ("local.set", "local.tee") and not (
                    nop.name == "local.set" and self.foldable(nimm, self.stack[-1])):
                # The local the value goes to holds it (no temporary): ``loaded_into``.
                self._into = (nimm, Known(idx, FWD_LOADS[op.name], f"l{nimm}"), key)
                return
            self.spill(len(self.stack) - 1)
            self._known[key] = Known(idx, FWD_LOADS[op.name], self.stack[-1].expr)

    def h_store(self, idx: int, op: Any, imm: tuple[int, int, int]) -> None:
        m = self.mem(imm[2])
        tpl, reordered = STORES[op.name]
        if m != "M0":
            tpl = tpl.replace("M0", m)
        view = self.view_template(idx, op.name, imm)
        if view is not None:
            tpl, reordered = view, True
        a, v = self.take(2, ordered=reordered)
        place = self._base_of(a, imm[1])
        self._mem_window(idx, idx)
        base, off = place if place is not None else (None, 0)
        self._forget_stored(imm[2], base, off, STORE_BYTES[op.name])
        load = FWD_STORES.get(op.name)
        slot = self.fwd_plan().writes.get(idx)
        if slot is not None:
            if a.eff:  # the address is evaluated before the value
                t = self.temp()
                self.stmt(f"{t} = {a.expr}", True)
                a = var(t)
            v = self.slot_assign(slot, v)
        elif base is not None and load is not None and self._reloaded(idx, base, off, load,
                                                                      imm[2]):
            if v.depth or (v.reads and v.expr[0] not in "lt"):
                t = self.temp()
                self.stmt(f"{t} = {v.expr}", v.eff)
                v = var(t)
            self._known[(imm[2], base, off, load)] = Known(idx, FWD_LOADS[load], v.expr)
        value = v.expr
        if op.name.endswith(("store8", "store16", "store32")):
            # Drop the value's truncation when it is a no-op (measured: sieve's inner loop,
            # one `&` less per store).
            bits = int(op.name.rsplit("store", 1)[1])
            if v.const:
                v = lit(str(int(v.expr) & ((1 << bits) - 1)))
                value = v.expr
            if v.const or 0 < v.bits <= bits and (v.raw is None or "-" not in v.raw):
                tpl = tpl.replace(f" & {(1 << bits) - 1:#X}".replace("0X", "0x"), "")
            elif v.raw is not None and v.bits <= 160 and not PYPY:
                # The truncation keeps low bits that a ring chain's unreduced form shares
                # (``&`` reads a negative one as two's complement): one reduction less
                # (strings' ``((c - 32) % 4294967296) & 0xFF``, crc_b64's stores of i - 3).
                value = v.raw
        if v.sexpr is not None:  # PyPy: an i64 in signed form (visit_signed64.py)
            tpl, value = self.signed_store(op.name, tpl, v)
        guard = self.fwd_plan().guards.get(idx)
        if guard is not None:
            self.guarded_store(guard, m, tpl, a, imm[1], value, STORE_BYTES[op.name])
            return
        self.stmt(tpl.format(ea=self.ea(a, imm[1]), v=value), True)

    def guarded_store(self, guard: forward.Guard, m: str, tpl: str, a: Entry, offset: int,
                      value: str, size: int) -> None:
        """A store to another address that keeps the frame slots of ``guard``: when its
        bytes ``[t, t + size)`` overlap a cluster ``[base + lo, base + hi)`` of them, their
        variables are loaded again (they were accessed before on every path: in bounds)."""
        if a.depth or a.eff or offset or a.const or a.expr[:1] != "l":
            t = self.temp()
            self.stmt(f"{t} = {self.ea(a, offset)}", a.eff)
        else:
            t = a.expr  # a local (neither the store nor the reloads write it)
        self.stmt(tpl.format(ea=t, v=value), True)
        base = f"l{guard.base}"
        for cluster in guard.clusters:
            for name, _, _ in cluster.slots:
                self.materialise_if(name)
                self.before_write(name)
        for cluster in guard.clusters:
            low = cluster.lo - size
            low = f"{base} + {low}" if low > 0 else f"{base} - {-low}" if low else base
            mark = self.open(f"if {low} < {t} < {base} + {cluster.hi}:")
            for name, off, load in cluster.slots:
                ea = f"{base} + {off}" if off else base
                self.emit(f"{name} = {LOADS[load].replace('M0', m).format(ea=ea)}")
            self.close(mark)

    def h_memory_size(self, idx: int, op: Any, imm: int) -> None:
        shift = self.mem_type(imm).page_size_log2
        size = f"len({self.mem(imm)})"
        self.stack.append(Entry(f"({size} >> {shift})" if shift else size, eff=True, depth=1))

    def h_memory_grow(self, idx: int, op: Any, imm: int) -> None:
        self.mem(imm)
        m = self.bind(f"MEM{imm}", f"rt.memories[{imm}]")
        mask = "0xFFFFFFFFFFFFFFFF" if self.mem_type(imm).is_64 else "0xFFFFFFFF"
        (a,) = self.take(1)
        self.push(f"({m}.grow({a.expr}) & {mask})", [a], eff=True)

    def bulk(self, helper: str, *mems: int) -> str:
        """The helper of a bulk memory op on ``mems``: on PyPy the ``memmove`` variant of
        pypy_helpers.py (16-60x faster there) unless a memory is shared."""
        raw = helper + "_raw"
        if raw in PYPY_HELPERS and not any(self.mem_type(i).shared for i in mems):
            return raw
        return helper

    def h_memory_fill(self, idx: int, op: Any, imm: int) -> None:
        d, v, n = self.take(3)
        fill = self.bulk("mem_fill", imm)
        self.stmt(f"{fill}({self.mem(imm)}, {d.expr}, {v.expr}, {n.expr})", True)

    def h_memory_copy(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        d, s, n = self.take(3)
        dst, src = self.mem(imm[0]), self.mem(imm[1])
        copy = self.bulk("mem_copy", *imm)
        self.stmt(f"{copy}({dst}, {src}, {d.expr}, {s.expr}, {n.expr})", True)

    def h_memory_init(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        d, s, n = self.take(3)
        datas = self.bind("DATAS", "rt.datas")
        init = self.bulk("mem_init", imm[1])
        self.stmt(
            f"{init}({self.mem(imm[1])}, {datas}[{imm[0]}], {d.expr}, {s.expr}, {n.expr})",
            True,
        )

    def h_data_drop(self, idx: int, op: Any, imm: int) -> None:
        datas = self.bind("DATAS", "rt.datas")
        self.stmt(f'{datas}[{imm}] = b""', True)



HANDLERS = {
    "memory.size": "h_memory_size",
    "memory.grow": "h_memory_grow",
    "memory.init": "h_memory_init",
    "data.drop": "h_data_drop",
    "memory.copy": "h_memory_copy",
    "memory.fill": "h_memory_fill",
}
HANDLERS.update({name: "h_load" for name in LOADS})
HANDLERS.update({name: "h_store" for name in STORES})
