"""Visitors of table and reference instructions."""

from __future__ import annotations

from typing import Any

from .stack import Entry, lit


class TableVisitors:
    """Mixin of the generator: table.*, elem.drop, ref.*."""

    def elems(self, t: int) -> str:
        return self.bind(f"E{t}", f"rt.tables[{t}].elements")

    def h_table_get(self, idx: int, op: Any, imm: int) -> None:
        (i,) = self.take(1)
        self.push(f"table_get({self.elems(imm)}, {i.expr})", [i], eff=True)

    def h_table_set(self, idx: int, op: Any, imm: int) -> None:
        i, v = self.take(2)
        self.stmt(f"table_set({self.elems(imm)}, {i.expr}, {v.expr})", True)

    def h_table_size(self, idx: int, op: Any, imm: int) -> None:
        self.stack.append(Entry(f"len({self.elems(imm)})", eff=True, depth=1))

    def h_table_grow(self, idx: int, op: Any, imm: int) -> None:
        tab = self.bind(f"TB{imm}", f"rt.tables[{imm}]")
        self.elems(imm)
        init, n = self.take(2, ordered=True)
        is_64 = self.info.all_tables()[imm].is_64  # table64: the result is an i64
        mask = "0xFFFFFFFFFFFFFFFF" if is_64 else "0xFFFFFFFF"
        self.push(f"({tab}.grow({n.expr}, {init.expr}) & {mask})", [init, n], eff=True)

    def h_table_fill(self, idx: int, op: Any, imm: int) -> None:
        i, v, n = self.take(3)
        self.stmt(f"table_fill({self.elems(imm)}, {i.expr}, {v.expr}, {n.expr})", True)

    def h_table_copy(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        d, s, n = self.take(3)
        dst, src = self.elems(imm[0]), self.elems(imm[1])
        self.stmt(f"table_copy({dst}, {src}, {d.expr}, {s.expr}, {n.expr})", True)

    def h_table_init(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        d, s, n = self.take(3)
        segs = self.bind("ELEMS", "rt.elems")
        tab = self.elems(imm[1])
        self.stmt(f"table_init({tab}, {segs}[{imm[0]}], {d.expr}, {s.expr}, {n.expr})", True)

    def h_elem_drop(self, idx: int, op: Any, imm: int) -> None:
        segs = self.bind("ELEMS", "rt.elems")
        self.stmt(f"{segs}[{imm}] = ()", True)

    def h_ref_null(self, idx: int, op: Any, imm: Any) -> None:
        self.stack.append(lit("None"))

    def h_ref_is_null(self, idx: int, op: Any, imm: Any) -> None:
        (a,) = self.take(1)
        self.push_cond(f"({a.expr} is None)", [a])

    def h_ref_func(self, idx: int, op: Any, imm: int) -> None:
        refs = self.bind("FREFS", "rt.func_refs")
        self.stack.append(Entry(f"{refs}[{imm}]", depth=1))



HANDLERS = {
    "table.get": "h_table_get",
    "table.set": "h_table_set",
    "table.init": "h_table_init",
    "elem.drop": "h_elem_drop",
    "table.copy": "h_table_copy",
    "table.grow": "h_table_grow",
    "table.size": "h_table_size",
    "table.fill": "h_table_fill",
    "ref.null": "h_ref_null",
    "ref.is_null": "h_ref_is_null",
    "ref.func": "h_ref_func",
}
