"""Visitor of SIMD instructions: templates of simd.py (imported on first use)."""

from __future__ import annotations

import importlib
from typing import Any

from ..types import V128

_simd: Any = None


def simd_module() -> Any:
    global _simd
    if _simd is None:
        try:
            _simd = importlib.import_module(".simd", __package__)
        except ImportError as exc:  # pragma: no cover - only before the SIMD work lands
            raise NotImplementedError("SIMD instructions need engine/compile/simd.py") from exc
    return _simd



class SimdVisitors:
    """Mixin of the generator: every 0xFD-prefixed instruction."""

    def simd(self, op: Any, imm: Any) -> None:
        mod = simd_module()
        tpl = mod.SIMD_EXPR.get(op.name)
        if tpl is None:
            raise NotImplementedError(f"SIMD instruction {op.name} has no translation")
        for name, obj in mod.SIMD_HELPERS.items():
            self.consts.setdefault(name, obj)
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
        if results:
            self.push(expr, ops, eff=True)
        else:
            self.stmt(expr, True)

