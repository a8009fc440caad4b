"""Visitors of linear-memory instructions: loads, stores, size/grow and bulk memory."""

from __future__ import annotations

from typing import Any

from .ops import LOADS, STORES
from .stack import Entry, lit


class MemoryVisitors:
    """Mixin of the generator: memory instructions."""

    def mem(self) -> str:
        return self.bind("M0", "rt.memories[0].data")

    def ea(self, base: Entry, offset: int) -> str:
        return f"{base.expr} + {offset}" if offset else base.expr

    def h_load(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        self.mem()
        (a,) = self.take(1)
        tpl = LOADS[op.name]
        if op.name != "f32.load":
            self.uses_try = True
        self.push(tpl.format(ea=self.ea(a, imm[1])), [a], eff=True)
        if op.name.endswith(("8_u", "16_u")):
            self.stack[-1].bits = 8 if op.name.endswith("8_u") else 16

    def h_store(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        self.mem()
        tpl, reordered = STORES[op.name]
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
        self.stmt(tpl.format(ea=self.ea(a, imm[1]), v=v.expr), True)

    def h_memory_size(self, idx: int, op: Any, imm: Any) -> None:
        self.stack.append(Entry(f"(len({self.mem()}) >> 16)", eff=True, depth=1))

    def h_memory_grow(self, idx: int, op: Any, imm: Any) -> None:
        self.mem()
        m = self.bind("MEM0", "rt.memories[0]")
        (a,) = self.take(1)
        self.push(f"({m}.grow({a.expr}) & 0xFFFFFFFF)", [a], eff=True)

    def h_memory_fill(self, idx: int, op: Any, imm: Any) -> None:
        d, v, n = self.take(3)
        self.stmt(f"mem_fill({self.mem()}, {d.expr}, {v.expr}, {n.expr})", True)

    def h_memory_copy(self, idx: int, op: Any, imm: Any) -> None:
        d, s, n = self.take(3)
        m = self.mem()
        self.stmt(f"mem_copy({m}, {m}, {d.expr}, {s.expr}, {n.expr})", True)

    def h_memory_init(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        d, s, n = self.take(3)
        datas = self.bind("DATAS", "rt.datas")
        self.stmt(
            f"mem_init({self.mem()}, {datas}[{imm[0]}], {d.expr}, {s.expr}, {n.expr})", True
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
