"""Every scalar numeric instruction, called on edge-value operands in our engine and wasmtime.

smith's functions rarely read their parameters, so this sweep covers the numeric semantics
argument by argument. Results must match bit for bit, except NaN results: there both must be
NaN and ours must obey the spec's NaN rule (canonical when every NaN operand is canonical,
else arithmetic, i.e. quiet bit set), except abs/neg/copysign and reinterprets, which are exact.
"""

from __future__ import annotations

import itertools
from typing import Any

from engine.opcodes import ALL_OPS
from tests.differential import harness

_SCALARS = ("i32", "i64", "f32", "f64")
_EXACT = {"abs", "neg", "copysign"}


def _ops() -> list[tuple[str, list[str], str]]:
    """(instruction, params, result) for every scalar numeric instruction.

    Read from the engine's opcode table: every row without immediates whose fixed signature
    takes and gives scalar numbers (so a new numeric row is swept without editing this).
    """
    return [
        (op.name, list(op.params), op.results[0])
        for op in ALL_OPS
        if op.prefix in (0, 0xFC)
        and not op.imm
        and op.params
        and op.results is not None
        and len(op.results) == 1
        and all(t in _SCALARS for t in (*op.params, *op.results))
    ]


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


#: Literal right operands of the constant-operand sweep: counts around the width (rotates and
#: shifts mask them), single bits, masks and values with the sign bit set.
_CONSTS = {
    "i32": [0, 1, 7, 13, 31, 32, 33, 63, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF],
    "i64": [0, 1, 13, 31, 32, 33, 63, 64, 65, 0xFFFFFFFF, 1 << 63, (1 << 64) - 1,
            0x9E3779B97F4A7C15],
}


def _const_ops() -> list[tuple[str, str]]:
    """(instruction, type) for each two-operand integer instruction of one type."""
    return [(name, params[0]) for name, params, result in _ops()
            if len(params) == 2 and params[0] == params[1] == result and result in _CONSTS]


def const_module() -> tuple[bytes, list[tuple[str, str, int, bool]]]:
    """Each integer binary instruction with a literal right operand, on a plain local and on
    a compound left operand (``x ^ y``): the translator's constant-operand forms (inline
    rotates, shifts, masks, folded ring chains) against the same instruction in wasmtime."""
    funcs, cases = [], []
    for name, t in _const_ops():
        for k in _CONSTS[t]:
            for compound in (False, True):
                fname = f"{name}/{k:#x}/{'c' if compound else 'a'}"
                left = (f"local.get 0 local.get 1 {t}.xor" if compound else "local.get 0")
                funcs.append(f'  (func (export "{fname}") (param {t} {t}) (result {t}) '
                             f"{left} {t}.const {k} {name})")
                cases.append((fname, t, k, compound))
    return harness.wat_to_wasm("(module\n" + "\n".join(funcs) + "\n)"), cases


def run_const_sweep(per_type: int = 8) -> list[str]:
    """All disagreements between our engine and wasmtime over the constant-operand sweep."""
    import wasmtime

    from engine import Engine, Instance, Module, Store, WasmError

    wasm, cases = const_module()
    store = Store(Engine())
    ours = Instance(store, Module(store.engine, wasm), []).exports(store)
    wstore = wasmtime.Store()
    theirs = wasmtime.Instance(wstore, wasmtime.Module(wstore.engine, wasm), []).exports(wstore)
    problems = []
    for fname, t, _k, compound in cases:
        pool = harness._EDGE[t][:per_type]
        for args in itertools.product(pool, pool[:3] if compound else pool[:1]):
            try:
                o: Any = ("ok", tuple(ours[fname].call_bits(store, list(args))))
            except WasmError as exc:
                o = harness._our_failure(exc)
            except Exception as exc:  # noqa: BLE001 - an escaping exception is a finding
                o = ("crash", type(exc).__name__, str(exc))
            w = harness._wt_call(wstore, theirs[fname], [t, t], [t], list(args))
            if o != w:
                problems.append(f"{fname}{tuple(hex(a) for a in args)}: ours {o} wasmtime {w}")
    return problems


if __name__ == "__main__":
    for line in run_sweep() + run_const_sweep():
        print(line)
