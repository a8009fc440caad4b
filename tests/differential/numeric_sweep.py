"""Every scalar numeric instruction, called on edge-value operands in our engine and wasmtime.

smith's functions rarely read their parameters, so this sweep covers the numeric semantics
argument by argument. Results must match bit for bit, except NaN results: there both must be
NaN and ours must obey the spec's NaN rule (canonical when every NaN operand is canonical,
else arithmetic, i.e. quiet bit set), except abs/neg/copysign and reinterprets, which are exact.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.differential import harness

_INT_BIN = [
    "add",
    "sub",
    "mul",
    "div_s",
    "div_u",
    "rem_s",
    "rem_u",
    "and",
    "or",
    "xor",
    "shl",
    "shr_s",
    "shr_u",
    "rotl",
    "rotr",
    "eq",
    "ne",
    "lt_s",
    "lt_u",
    "gt_s",
    "gt_u",
    "le_s",
    "le_u",
    "ge_s",
    "ge_u",
]
_FLOAT_BIN = [
    "add",
    "sub",
    "mul",
    "div",
    "min",
    "max",
    "copysign",
    "eq",
    "ne",
    "lt",
    "gt",
    "le",
    "ge",
]
_FLOAT_UN = ["abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest"]
_CMP = {
    "eq",
    "ne",
    "lt",
    "gt",
    "le",
    "ge",
    "lt_s",
    "lt_u",
    "gt_s",
    "gt_u",
    "le_s",
    "le_u",
    "ge_s",
    "ge_u",
}
_EXACT = {"abs", "neg", "copysign"}


def _ops() -> list[tuple[str, list[str], str]]:
    """(instruction, params, result) for every scalar numeric instruction."""
    ops: list[tuple[str, list[str], str]] = []
    for t in ("i32", "i64"):
        ops += [(f"{t}.{o}", [t, t], "i32" if o in _CMP else t) for o in _INT_BIN]
        ops += [(f"{t}.{o}", [t], t) for o in ("clz", "ctz", "popcnt", "extend8_s", "extend16_s")]
        ops.append((f"{t}.eqz", [t], "i32"))
    ops.append(("i64.extend32_s", ["i64"], "i64"))
    for t in ("f32", "f64"):
        ops += [(f"{t}.{o}", [t, t], "i32" if o in _CMP else t) for o in _FLOAT_BIN]
        ops += [(f"{t}.{o}", [t], t) for o in _FLOAT_UN]
    for i, f in itertools.product(("i32", "i64"), ("f32", "f64")):
        for s in ("s", "u"):
            ops += [
                (f"{i}.trunc_{f}_{s}", [f], i),
                (f"{i}.trunc_sat_{f}_{s}", [f], i),
                (f"{f}.convert_{i}_{s}", [i], f),
            ]
    ops += [
        ("i32.wrap_i64", ["i64"], "i32"),
        ("i64.extend_i32_s", ["i32"], "i64"),
        ("i64.extend_i32_u", ["i32"], "i64"),
        ("f32.demote_f64", ["f64"], "f32"),
        ("f64.promote_f32", ["f32"], "f64"),
        ("i32.reinterpret_f32", ["f32"], "i32"),
        ("i64.reinterpret_f64", ["f64"], "i64"),
        ("f32.reinterpret_i32", ["i32"], "f32"),
        ("f64.reinterpret_i64", ["i64"], "f64"),
    ]
    return ops


def sweep_module() -> tuple[bytes, list[tuple[str, list[str], str]]]:
    """One module exporting each instruction as a function named after it."""
    ops = _ops()
    funcs = []
    for name, params, result in ops:
        ps = " ".join(params)
        gets = " ".join(f"local.get {i}" for i in range(len(params)))
        funcs.append(f'  (func (export "{name}") (param {ps}) (result {result}) {gets} {name})')
    return harness.wat_to_wasm("(module\n" + "\n".join(funcs) + "\n)"), ops


def _canonical(t: str, bits: int) -> bool:
    return (bits & ~(1 << 31 if t == "f32" else 1 << 63)) == (
        0x7FC00000 if t == "f32" else 0x7FF8000000000000
    )


def _quiet(t: str, bits: int) -> bool:
    return bool(bits & (1 << 22 if t == "f32" else 1 << 51))


def nan_ok(op: str, params: list[str], args: list[int], result_t: str, ours: int) -> bool:
    """The spec's NaN rule for ``ours``, a NaN result of ``op`` on ``args``."""
    nan_args = [(t, a) for t, a in zip(params, args) if harness.is_nan_bits(t, a)]
    if all(_canonical(t, a) for t, a in nan_args):
        return _canonical(result_t, ours)
    return _quiet(result_t, ours)


def run_sweep(per_type: int = 12) -> list[str]:
    """All disagreements (as text) between our engine and wasmtime over the sweep."""
    import wasmtime

    from engine import Engine, Instance, Module, Store, WasmError

    wasm, ops = sweep_module()
    store = Store(Engine())
    ours = Instance(store, Module(store.engine, wasm), []).exports(store)
    wstore = wasmtime.Store()
    theirs = wasmtime.Instance(wstore, wasmtime.Module(wstore.engine, wasm), []).exports(wstore)
    problems = []
    for name, params, result in ops:
        pools = [harness._EDGE[t][:per_type] for t in params]
        for args in itertools.product(*pools):
            try:
                o: Any = ("ok", tuple(ours[name].call_bits(store, list(args))))
            except WasmError as exc:
                o = harness._our_failure(exc)
            except Exception as exc:  # noqa: BLE001 - an escaping exception is a finding
                o = ("crash", type(exc).__name__, str(exc))
            t = harness._wt_call(wstore, theirs[name], params, [result], list(args))
            if o == t:
                continue
            if (
                o[0] == t[0] == "ok"
                and name.split(".")[1] not in _EXACT
                and harness.is_nan_bits(result, o[1][0])
                and harness.is_nan_bits(result, t[1][0])
                and nan_ok(name, params, list(args), result, o[1][0])
            ):
                continue
            problems.append(f"{name}{tuple(hex(a) for a in args)}: ours {o} wasmtime {t}")
    return problems


if __name__ == "__main__":
    for line in run_sweep():
        print(line)
