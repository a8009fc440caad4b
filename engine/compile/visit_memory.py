"""Visitors of linear-memory instructions: loads, stores, size/grow and bulk memory."""

from __future__ import annotations

from typing import Any

from ..binary.module import MEMORY
from ..types import MemoryType
from .ops import LOADS, STORES
from .pypy_helpers import HELPERS as PYPY_HELPERS
from .stack import Entry, lit


class MemoryVisitors:
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

    def ea(self, base: Entry, offset: int) -> str:
        # No wrap-around: base + offset beyond the memory (even past 2**64) is out of bounds.
        return f"{base.expr} + {offset}" if offset else base.expr

    def h_load(self, idx: int, op: Any, imm: tuple[int, int, int]) -> None:
        m = self.mem(imm[2])
        (a,) = self.take(1)
        tpl = LOADS[op.name]
        if m != "M0":
            tpl = tpl.replace("M0", m)
        if op.name != "f32.load":
            self.uses_try = True
        ea = self.ea(a, imm[1])
        self.push(tpl.format(ea=ea), [a], eff=True)
        if op.name.endswith(("8_u", "16_u")):
            self.stack[-1].bits = 8 if op.name.endswith("8_u") else 16
        if self.slocals and op.name.startswith("i64"):
            self.signed_load(op.name, tpl, ea)  # PyPy (visit_signed64.py)

    def h_store(self, idx: int, op: Any, imm: tuple[int, int, int]) -> None:
        m = self.mem(imm[2])
        tpl, reordered = STORES[op.name]
        if m != "M0":
            tpl = tpl.replace("M0", m)
        a, v = self.take(2, ordered=reordered)
        if op.name != "f32.store":
            self.uses_try = True
        if op.name.endswith(("store8", "store16", "store32")):
            # Drop the value's truncation when it is a no-op (measured: sieve's inner loop,
            # one `&` less per store).
            bits = int(op.name.rsplit("store", 1)[1])
            if v.const:
                v = lit(str(int(v.expr) & ((1 << bits) - 1)))
            if v.const or 0 < v.bits <= bits and (v.raw is None or "-" not in v.raw):
                tpl = tpl.replace(f" & {(1 << bits) - 1:#X}".replace("0X", "0x"), "")
        value = v.expr
        if v.sexpr is not None:  # PyPy: an i64 in signed form (visit_signed64.py)
            tpl, value = self.signed_store(op.name, tpl, v)
        self.stmt(tpl.format(ea=self.ea(a, imm[1]), v=value), True)

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
