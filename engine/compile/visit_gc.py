"""Visitors of the GC instructions: structs, arrays, i31, ref.eq, casts, conversions.

Generated code follows :mod:`engine.gcobjects` (a struct is ``[rtt, field...]``) and calls
the ``gc_*`` helpers of :mod:`engine.compile.gc_helpers` (in the exec globals). The
canonical type of module type index ``x`` is bound once per instance as ``T<x> =
rt.gc_types[x]``; ``ref.test`` / ``ref.cast`` bind their test / cast function the same way.
Allocation with known field values is an inline list display; a struct field read of a
local variable is inline (``l0[2] if l0 is not None else gc_null_struct()``).
"""

from __future__ import annotations

from typing import Any

from ..gcobjects import default_value
from ..gctypes import Exact, RefType
from .stack import Entry

_MASK = {"i8": "0xFF", "i16": "0xFFFF"}
_SEXT = {"i8": "gc_sext8", "i16": "gc_sext16"}


def _packed(storage: Any, expr: str) -> str:
    m = _MASK.get(storage)
    return f"({expr} & {m})" if m is not None else expr


def _is_var(e: Entry) -> bool:
    """A plain local / temporary name: safe to evaluate twice."""
    return e.depth == 0 and not e.const and e.expr.isidentifier()


class GcVisitors:
    """Mixin of the generator: the GC instructions (``self.gc_types`` is the module's
    canonical type list, known at translation time for the static layout of fields)."""

    def rtt(self, x: int) -> str:
        return self.bind(f"T{x}", f"rt.gc_types[{x}]")

    def _fields(self, x: int) -> Any:
        return self.gc_types[x].comp.fields

    def _elem_storage(self, x: int) -> Any:
        return self.gc_types[x].comp.field.storage

    # -- structs --------------------------------------------------------------------------

    def h_struct_new(self, idx: int, op: Any, imm: int) -> None:
        fields = self._fields(imm)
        vals = self.take(len(fields), ordered=True)
        items = [self.rtt(imm)] + [_packed(f.storage, v.expr) for f, v in zip(fields, vals)]
        self.push(f"[{', '.join(items)}]", vals)

    def h_struct_new_default(self, idx: int, op: Any, imm: int) -> None:
        items = [self.rtt(imm)] + [repr(default_value(f.storage)) for f in self._fields(imm)]
        self.stack.append(Entry(f"[{', '.join(items)}]", depth=1))

    def h_struct_get(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        x, i = imm
        (s,) = self.take(1)
        if _is_var(s):
            expr = f"({s.expr}[{i + 1}] if {s.expr} is not None else gc_null_struct())"
        else:
            expr = f"gc_struct_get({s.expr}, {i})"
        if op.name == "struct.get_s":
            expr = f"{_SEXT[self._fields(x)[i].storage]}({expr})"
        self.push(expr, [s], eff=True)

    def h_struct_set(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        x, i = imm
        s, v = self.take(2, ordered=True)
        val = _packed(self._fields(x)[i].storage, v.expr)
        self.stmt(f"gc_struct_put({s.expr}, {i + 1}, {val})", True)

    # -- arrays ---------------------------------------------------------------------------

    def h_array_new(self, idx: int, op: Any, imm: int) -> None:
        v, n = self.take(2, ordered=True)
        self.push(f"gc_array_new({self.rtt(imm)}, {v.expr}, {n.expr})", [v, n], eff=True)

    def h_array_new_default(self, idx: int, op: Any, imm: int) -> None:
        (n,) = self.take(1)
        self.push(f"gc_array_new_default({self.rtt(imm)}, {n.expr})", [n], eff=True)

    def h_array_new_fixed(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        x, count = imm
        vals = self.take(count, ordered=True)
        args = "".join(f", {v.expr}" for v in vals)
        self.push(f"gc_array_new_fixed({self.rtt(x)}{args})", vals, eff=True)

    def h_array_new_data(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        s, n = self.take(2, ordered=True)
        datas = self.bind("DATAS", "rt.datas")
        self.push(f"gc_array_new_data({self.rtt(imm[0])}, {datas}[{imm[1]}], {s.expr}, "
                  f"{n.expr})", [s, n], eff=True)

    def h_array_new_elem(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        s, n = self.take(2, ordered=True)
        elems = self.bind("ELEMS", "rt.elems")
        self.push(f"gc_array_new_elem({self.rtt(imm[0])}, {elems}[{imm[1]}], {s.expr}, "
                  f"{n.expr})", [s, n], eff=True)

    def h_array_get(self, idx: int, op: Any, imm: int) -> None:
        a, i = self.take(2, ordered=True)
        if _is_var(a) and (_is_var(i) or i.const):
            # Inline: one attribute load and a bounds test instead of a call.
            expr = (f"({a.expr}.data[{i.expr}] if {a.expr} is not None and "
                    f"{i.expr} < len({a.expr}.data) else gc_array_fault({a.expr}))")
        else:
            expr = f"gc_array_get({a.expr}, {i.expr})"
        if op.name == "array.get_s":
            expr = f"{_SEXT[self._elem_storage(imm)]}({expr})"
        self.push(expr, [a, i], eff=True)

    def h_array_set(self, idx: int, op: Any, imm: int) -> None:
        a, i, v = self.take(3, ordered=True)
        val = _packed(self._elem_storage(imm), v.expr)
        if _is_var(a) and (_is_var(i) or i.const) and not v.eff:
            # The value has no effect to order against the check: test, then store inline.
            self.stmt(f"if {a.expr} is None or {i.expr} >= len({a.expr}.data): "
                      f"gc_array_fault({a.expr})", True)
            self.stmt(f"{a.expr}.data[{i.expr}] = {val}", True)
            return
        self.stmt(f"gc_array_put({a.expr}, {i.expr}, {val})", True)

    def h_array_len(self, idx: int, op: Any, imm: Any) -> None:
        (a,) = self.take(1)
        if _is_var(a):
            expr = f"(len({a.expr}.data) if {a.expr} is not None else gc_array_fault(None))"
        else:
            expr = f"gc_array_len({a.expr})"
        self.push(expr, [a], eff=True)

    def h_array_fill(self, idx: int, op: Any, imm: int) -> None:
        a, d, v, n = self.take(4, ordered=True)
        val = _packed(self._elem_storage(imm), v.expr)
        self.stmt(f"gc_array_fill({a.expr}, {d.expr}, {val}, {n.expr})", True)

    def h_array_copy(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        a, d, b, s, n = self.take(5, ordered=True)
        self.stmt(f"gc_array_copy({a.expr}, {d.expr}, {b.expr}, {s.expr}, {n.expr})", True)

    def h_array_init_data(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        a, d, s, n = self.take(4, ordered=True)
        datas = self.bind("DATAS", "rt.datas")
        self.stmt(f"gc_array_init_data({a.expr}, {d.expr}, {datas}[{imm[1]}], {s.expr}, "
                  f"{n.expr})", True)

    def h_array_init_elem(self, idx: int, op: Any, imm: tuple[int, int]) -> None:
        a, d, s, n = self.take(4, ordered=True)
        elems = self.bind("ELEMS", "rt.elems")
        self.stmt(f"gc_array_init_elem({a.expr}, {d.expr}, {elems}[{imm[1]}], {s.expr}, "
                  f"{n.expr})", True)

    # -- i31, ref.eq, casts, conversions ----------------------------------------------------

    def h_ref_i31(self, idx: int, op: Any, imm: Any) -> None:
        (v,) = self.take(1)
        self.push(f"({v.expr} & 0x7FFFFFFF)", [v])

    def h_i31_get(self, idx: int, op: Any, imm: Any) -> None:
        (r,) = self.take(1)
        signed = op.name == "i31.get_s"
        if _is_var(r):
            value = f"(({r.expr} ^ 0x40000000) - 0x40000000) & 0xFFFFFFFF" if signed else r.expr
            expr = f"({value} if {r.expr} is not None else gc_i31_get_u(None))"
        else:
            expr = f"{'gc_i31_get_s' if signed else 'gc_i31_get_u'}({r.expr})"
        self.push(expr, [r], eff=True)

    def h_ref_eq(self, idx: int, op: Any, imm: Any) -> None:
        a, b = self.take(2, ordered=True)
        self.push(f"gc_ref_eq({a.expr}, {b.expr})", [a, b])

    def _heap_expr(self, rt: RefType) -> str:
        h = rt.heap
        if type(h) is Exact:
            return f"gc_Exact({self.rtt(h.heap)})"
        return self.rtt(h) if type(h) is int else repr(h)

    def _bound_fn(self, kind: str, rt: RefType) -> str:
        h = rt.heap
        if type(h) is Exact:
            key = f"E{h.heap}"
        else:
            key = f"T{h}" if type(h) is int else h
        name = f"{kind.upper()}_{key}_{'N' if rt.nullable else 'NN'}"
        return self.bind(name, f"gc_make_{kind}({self._heap_expr(rt)}, {rt.nullable})")

    def h_ref_test(self, idx: int, op: Any, imm: RefType) -> None:
        (v,) = self.take(1)
        self.push_cond(f"{self._bound_fn('test', imm)}({v.expr})", [v])

    def h_ref_cast(self, idx: int, op: Any, imm: RefType) -> None:
        (v,) = self.take(1)
        self.push(f"{self._bound_fn('cast', imm)}({v.expr})", [v], eff=True)

    def h_br_on_cast(self, idx: int, op: Any, imm: tuple[int, RefType, RefType]) -> None:
        label, _, target = imm
        self.spill(len(self.stack) - 1)  # the operand stays on the stack on both paths
        self.flush_effects()
        test = f"{self._bound_fn('test', target)}({self.stack[-1].expr})"
        self._branch_on(test, op.name.endswith("_fail"), label)

    def _branch_on(self, test: str, fail: bool, label: int) -> None:
        """Branch to ``label`` when ``test`` holds (when it fails, for the ``_fail`` forms)."""
        mark = self.open(f"if not {test}:" if fail else f"if {test}:")
        self.branch(label)
        self.close(mark)

    # -- custom descriptors (a described struct is ``[rtt, field..., descriptor]``) ------------

    def h_struct_new_desc(self, idx: int, op: Any, imm: int) -> None:
        fields = self._fields(imm)
        vals = self.take(len(fields) + 1, ordered=True)
        items = [self.rtt(imm)] + [_packed(f.storage, v.expr) for f, v in zip(fields, vals)]
        items.append(f"gc_check_desc({vals[-1].expr})")
        self.push(f"[{', '.join(items)}]", vals, eff=True)

    def h_struct_new_default_desc(self, idx: int, op: Any, imm: int) -> None:
        (d,) = self.take(1)
        self.push(f"gc_struct_new_default_desc({self.rtt(imm)}, {d.expr})", [d], eff=True)

    def h_ref_get_desc(self, idx: int, op: Any, imm: int) -> None:
        (s,) = self.take(1)
        self.push(f"gc_get_desc({s.expr})", [s], eff=True)

    def h_ref_cast_desc_eq(self, idx: int, op: Any, imm: RefType) -> None:
        v, d = self.take(2, ordered=True)
        self.push(f"gc_cast_desc({v.expr}, {d.expr}, {imm.nullable})", [v, d], eff=True)

    def h_br_on_cast_desc_eq(self, idx: int, op: Any,
                             imm: tuple[int, RefType, RefType]) -> None:
        label, _, target = imm
        # The operand stays on the stack on both paths; the descriptor is consumed.
        self.spill(len(self.stack) - 2)
        self.spill(len(self.stack) - 1)
        self.flush_effects()
        (d,) = self.take(1)
        test = f"gc_desc_matches({self.stack[-1].expr}, {d.expr}, {target.nullable})"
        self._branch_on(test, op.name.endswith("_fail"), label)

    def h_convert(self, idx: int, op: Any, imm: Any) -> None:
        (v,) = self.take(1)
        fn = "gc_any_convert_extern" if op.name == "any.convert_extern" else "gc_extern_convert_any"
        self.push(f"{fn}({v.expr})", [v])


HANDLERS = {
    "struct.new": "h_struct_new",
    "struct.new_default": "h_struct_new_default",
    "struct.get": "h_struct_get",
    "struct.get_s": "h_struct_get",
    "struct.get_u": "h_struct_get",
    "struct.set": "h_struct_set",
    "array.new": "h_array_new",
    "array.new_default": "h_array_new_default",
    "array.new_fixed": "h_array_new_fixed",
    "array.new_data": "h_array_new_data",
    "array.new_elem": "h_array_new_elem",
    "array.get": "h_array_get",
    "array.get_s": "h_array_get",
    "array.get_u": "h_array_get",
    "array.set": "h_array_set",
    "array.len": "h_array_len",
    "array.fill": "h_array_fill",
    "array.copy": "h_array_copy",
    "array.init_data": "h_array_init_data",
    "array.init_elem": "h_array_init_elem",
    "ref.i31": "h_ref_i31",
    "i31.get_s": "h_i31_get",
    "i31.get_u": "h_i31_get",
    "ref.eq": "h_ref_eq",
    "ref.test": "h_ref_test",
    "ref.test_null": "h_ref_test",
    "ref.cast": "h_ref_cast",
    "ref.cast_null": "h_ref_cast",
    "br_on_cast": "h_br_on_cast",
    "br_on_cast_fail": "h_br_on_cast",
    "struct.new_desc": "h_struct_new_desc",
    "struct.new_default_desc": "h_struct_new_default_desc",
    "ref.get_desc": "h_ref_get_desc",
    "ref.cast_desc_eq": "h_ref_cast_desc_eq",
    "ref.cast_desc_eq_null": "h_ref_cast_desc_eq",
    "br_on_cast_desc_eq": "h_br_on_cast_desc_eq",
    "br_on_cast_desc_eq_fail": "h_br_on_cast_desc_eq",
    "any.convert_extern": "h_convert",
    "extern.convert_any": "h_convert",
}
