"""Frame-slot forwarding (engine/compile/forward.py) against wasmtime.

clang -O0 keeps C locals in a frame of linear memory (``local L + offset``); the translator
replaces a load of such a slot by a variable when every path to it has accessed exactly
those bytes through the same L with nothing that may write them between. The cases here are
the ways that could go wrong: stores of other widths overlapping a slot, stores through
another base that may alias it, stores that trap, memory.grow / bulk operations / calls
between, writes of the base local (also while its old value is an operand), merges where
only one path stores, loops whose back edge clobbers, br_if / br_table paths, block
parameters, NaN payloads. After each call the memory checksum is compared too (stores are
never dropped, also when a later instruction traps). Every case runs in every compilation
mode, structured and flat; the generated source is checked to take the forwarded path.
"""

from __future__ import annotations

import importlib

import pytest

from tests.differential import harness

pytestmark = harness.needs_tools()

WAT = r"""
(module
  (memory (export "mem") 1 3)
  (global $sp (mut i32) (i32.const 1024))
  (func $clobber (param $p i32) (i32.store (local.get $p) (i32.const 77)))
  ;; -O0 leaves: spill the argument into a frame of their own below $sp (leaf.py)
  (func $spill (param $x i32) (result i32) (local $a i32) (local $f i32)
    (local.set $a (global.get $sp))
    (local.set $f (i32.sub (local.get $a) (i32.const 16)))
    (i32.store offset=12 (local.get $f) (local.get $x))
    (i32.store8 offset=3 (local.get $f) (local.get $x))
    (i32.add (i32.load offset=12 (local.get $f)) (i32.const 1)))
  ;; writes one byte past its 16 (at $sp itself): no summary
  (func $spill_over (param $x i32) (local $f i32)
    (local.set $f (i32.sub (global.get $sp) (i32.const 16)))
    (i32.store8 offset=16 (local.get $f) (local.get $x)))
  (func $pure (param $x i32) (result i32) (i32.mul (local.get $x) (local.get $x)))
  (func $sets_sp (param $x i32)
    (global.set $sp (i32.add (global.get $sp) (i32.const 4)))
    (i32.store offset=12 (i32.sub (global.get $sp) (i32.const 16)) (local.get $x)))

  ;; a counted loop over frame slots: i at fp+0, f64 accumulator at fp+8, i64 at fp+16
  (func (export "loop3") (param $fp i32) (param $n i32) (result i64)
    (i32.store (local.get $fp) (i32.const 0))
    (f64.store offset=8 (local.get $fp) (f64.const 0.5))
    (i64.store offset=16 (local.get $fp) (i64.const 1))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (i32.load (local.get $fp)) (local.get $n)))
        (f64.store offset=8 (local.get $fp)
          (f64.add (f64.mul (f64.load offset=8 (local.get $fp)) (f64.const 1.5))
                   (f64.convert_i32_u (i32.load (local.get $fp)))))
        (i64.store offset=16 (local.get $fp)
          (i64.add (i64.mul (i64.load offset=16 (local.get $fp)) (i64.const 0x100000001b3))
                   (i64.extend_i32_u (i32.load (local.get $fp)))))
        (i32.store (local.get $fp) (i32.add (i32.load (local.get $fp)) (i32.const 1)))
        (br $top)))
    (i64.xor (i64.load offset=16 (local.get $fp))
             (i64.reinterpret_f64 (f64.load offset=8 (local.get $fp)))))

  ;; narrower and wider stores overlapping a slot
  (func (export "widths") (param $fp i32) (param $v i32) (result i32)
    (local $r i32)
    (i32.store offset=4 (local.get $fp) (local.get $v))
    (local.set $r (i32.load offset=4 (local.get $fp)))
    (i32.store8 offset=5 (local.get $fp) (i32.const 0xAB))
    (local.set $r (i32.add (local.get $r) (i32.load offset=4 (local.get $fp))))
    (i32.store16 offset=2 (local.get $fp) (i32.const 0x1234))
    (local.set $r (i32.xor (local.get $r) (i32.load offset=4 (local.get $fp))))
    (i32.store offset=4 (local.get $fp) (local.get $r))
    (i64.store (local.get $fp) (i64.const 0x1122334455667788))
    (local.set $r (i32.add (local.get $r) (i32.load offset=4 (local.get $fp))))
    (i32.store offset=4 (local.get $fp) (local.get $r))
    (f32.store offset=6 (local.get $fp) (f32.const -2.5))
    (local.set $r (i32.sub (local.get $r) (i32.load offset=4 (local.get $fp))))
    (i32.store offset=4 (local.get $fp) (local.get $r))
    (i64.store32 offset=3 (local.get $fp) (i64.const 0xCAFEBABE))
    (i32.add (local.get $r) (i32.load offset=4 (local.get $fp))))

  ;; a store through another base that may be the same address
  (func (export "alias") (param $fp i32) (param $p i32) (result i32)
    (local $i i32) (local $r i32)
    (i32.store offset=8 (local.get $fp) (i32.const 5))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.load offset=8 (local.get $fp))))
        (i32.store (local.get $p) (i32.add (local.get $i) (i32.const 100)))
        (local.set $r (i32.mul (local.get $r) (i32.load offset=8 (local.get $fp))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $r))

  ;; a store that traps after frame stores: the memory keeps what was stored before
  (func (export "trap_store") (param $fp i32) (param $far i32) (result i32)
    (i32.store (local.get $fp) (i32.const 11))
    (i32.store offset=4 (local.get $fp) (i32.add (i32.load (local.get $fp)) (i32.const 1)))
    (i32.store (local.get $far) (i32.const 99))
    (i32.store (local.get $fp) (i32.add (i32.load offset=4 (local.get $fp)) (i32.const 1)))
    (i32.load (local.get $fp)))

  ;; the first access traps (fp near the end), the repeated ones would be forwarded
  (func (export "trap_first") (param $fp i32) (result i32)
    (local $r i32)
    (local.set $r (i32.load offset=8 (local.get $fp)))
    (i32.store (i32.const 0) (local.get $r))
    (i32.add (local.get $r) (i32.load offset=8 (local.get $fp))))

  ;; memory.grow, memory.fill and memory.copy between a store and its reload
  (func (export "bulk") (param $fp i32) (param $k i32) (result i32)
    (local $r i32)
    (i32.store (local.get $fp) (i32.const 3))
    (drop (memory.grow (i32.const 0)))
    (local.set $r (i32.load (local.get $fp)))
    (memory.fill (local.get $k) (i32.const 0x41) (i32.const 8))
    (local.set $r (i32.add (local.get $r) (i32.load (local.get $fp))))
    (i32.store (local.get $fp) (i32.const 9))
    (memory.copy (local.get $fp) (i32.const 200) (i32.mul (local.get $k) (i32.const 0)))
    (memory.copy (local.get $k) (i32.const 64) (i32.const 4))
    (i32.add (local.get $r) (i32.load (local.get $fp))))

  ;; a call between (the callee writes the frame slot or not)
  (func (export "calls") (param $fp i32) (param $p i32) (result i32)
    (local $r i32)
    (i32.store offset=12 (local.get $fp) (i32.const 21))
    (local.set $r (i32.load offset=12 (local.get $fp)))
    (call $clobber (local.get $p))
    (i32.add (local.get $r) (i32.load offset=12 (local.get $fp))))

  ;; the base local written, also while its old value is the store's address operand
  (func (export "rebase") (param $fp i32) (result i32)
    (local $r i32)
    (i32.store (local.get $fp) (i32.const 1))
    (i32.store offset=4 (local.get $fp) (i32.const 2))
    (local.get $fp)
    (local.set $fp (i32.add (local.get $fp) (i32.const 4)))
    (i32.store (i32.const 7))
    (local.set $r (i32.load (local.get $fp)))
    (i32.store (local.get $fp) (i32.const 5))
    (local.tee $fp (i32.sub (local.get $fp) (i32.const 4)))
    (i32.load)
    (local.get $r)
    (i32.add)
    (i32.load (local.get $fp))
    (i32.mul))

  ;; merges: a store on one path only, stores of different values on both paths
  (func (export "merge") (param $fp i32) (param $c i32) (result i32)
    (local $r i32)
    (i32.store (local.get $fp) (i32.const 10))
    (if (i32.and (local.get $c) (i32.const 1))
      (then (i32.store (local.get $fp) (i32.const 20))))
    (local.set $r (i32.load (local.get $fp)))
    (if (i32.and (local.get $c) (i32.const 2))
      (then (i32.store (local.get $fp) (i32.const 30)))
      (else (i32.store (local.get $fp) (i32.const 40))))
    (local.set $r (i32.add (i32.mul (local.get $r) (i32.const 100)) (i32.load (local.get $fp))))
    (if (i32.and (local.get $c) (i32.const 4))
      (then (i32.store8 (local.get $fp) (i32.const 1)))
      (else (i32.store (local.get $fp) (i32.const 50))))
    (i32.add (i32.mul (local.get $r) (i32.const 1000)) (i32.load (local.get $fp))))

  ;; br_if / br_table paths reaching a block end with different states
  (func (export "paths") (param $fp i32) (param $k i32) (result i32)
    (i32.store (local.get $fp) (i32.const 1))
    (block $b2
      (block $b1
        (block $b0
          (br_table $b0 $b1 $b2 (local.get $k)))
        (i32.store (local.get $fp) (i32.const 2))
        (br_if $b2 (i32.eq (local.get $k) (i32.const 0)))
        (i32.store16 (local.get $fp) (i32.const 3)))
      (i32.store offset=2 (local.get $fp) (i32.load (local.get $fp))))
    (i32.load (local.get $fp)))

  ;; a loop whose back edge passes a store through a loaded pointer (may be the slot)
  (func (export "clobber_loop") (param $fp i32) (param $n i32) (result i32)
    (i32.store (local.get $fp) (i32.const 0))
    (i32.store offset=4 (local.get $fp) (i32.const 1))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (i32.load (local.get $fp)) (local.get $n)))
        (i32.store offset=4 (local.get $fp)
          (i32.mul (i32.load offset=4 (local.get $fp)) (i32.const 3)))
        (i32.store (i32.load offset=8 (local.get $fp))
          (i32.add (i32.load offset=4 (local.get $fp)) (i32.const 1)))
        (i32.store (local.get $fp) (i32.add (i32.load (local.get $fp)) (i32.const 1)))
        (br $top)))
    (i32.add (i32.load offset=4 (local.get $fp)) (i32.load (local.get $fp))))

  ;; a loop with a parameter, dead code after br, NaN payloads through an f64 slot
  (func (export "params") (param $fp i32) (param $bits i64) (result i64)
    (local $k i32)
    (f64.store (local.get $fp) (f64.reinterpret_i64 (local.get $bits)))
    (i32.const 3)
    (block $out (param i32) (result i32)
      (loop $top (param i32) (result i32)
        (f64.store (local.get $fp) (f64.neg (f64.load (local.get $fp))))
        (i32.sub (i32.const 1))
        (local.tee $fp (local.get $fp))
        (drop)
        (local.tee $k)
        (br_if $top (local.get $k))
        (br $out)
        (f64.store (local.get $fp) (f64.const 0))
        (drop)))
    (i64.extend_i32_u)
    (i64.add (i64.reinterpret_f64 (f64.load (local.get $fp)))))

  ;; stores of each width through another address around the slots' edges, and through a
  ;; literal address (guarded: the slots are reloaded only when the bytes overlap)
  (func (export "guard_edges") (param $fp i32) (param $p i32) (result i64)
    (local $r i64)
    (i32.store offset=4 (local.get $fp) (i32.const 0x01020304))
    (f64.store offset=8 (local.get $fp) (f64.const 2.5))
    (i64.store (local.get $p) (i64.const -1))
    (local.set $r (i64.extend_i32_u (i32.load offset=4 (local.get $fp))))
    (local.set $r (i64.add (local.get $r)
                           (i64.reinterpret_f64 (f64.load offset=8 (local.get $fp)))))
    (i32.store8 offset=3 (local.get $p) (i32.const 0x55))
    (local.set $r (i64.xor (local.get $r) (i64.extend_i32_u (i32.load offset=4 (local.get $fp)))))
    (i32.store16 (i32.const 300) (i32.const 0x7777))
    (local.set $r (i64.xor (local.get $r) (i64.extend_i32_u (i32.load offset=4 (local.get $fp)))))
    (f32.store offset=1 (local.get $p) (f32.const -1))
    (i64.add (local.get $r) (i64.reinterpret_f64 (f64.load offset=8 (local.get $fp)))))

  ;; calls of leaves: the frame's slots survive a leaf writing below $sp == $fp and a leaf
  ;; writing no memory ...
  (func (export "leaf_ok") (param $fp i32) (param $x i32) (result i32)
    (local $r i32)
    (global.set $sp (local.get $fp))
    (i32.store (local.get $fp) (local.get $x))
    (i32.store offset=4 (local.get $fp) (i32.const 5))
    (local.set $r (call $spill (i32.load (local.get $fp))))
    (local.set $r (i32.add (local.get $r) (call $pure (i32.load offset=4 (local.get $fp)))))
    (local.set $r (i32.add (local.get $r) (i32.load (local.get $fp))))
    (drop (call $spill (local.get $r)))
    (i32.add (local.get $r) (i32.load offset=4 (local.get $fp))))
  ;; ... not a leaf writing at $sp itself (one byte past its frame) ...
  (func (export "leaf_over") (param $fp i32) (param $x i32) (result i32)
    (global.set $sp (local.get $fp))
    (i32.store (local.get $fp) (local.get $x))
    (call $spill_over (i32.const 0x99))
    (i32.load (local.get $fp)))
  ;; ... nor one moving $sp ...
  (func (export "leaf_moves_sp") (param $fp i32) (param $x i32) (result i32)
    (global.set $sp (local.get $fp))
    (i32.store (local.get $fp) (local.get $x))
    (call $sets_sp (i32.const 0x77))
    (global.set $sp (local.get $fp))
    (i32.load (local.get $fp)))
  ;; ... nor a leaf called with $sp set from something else than the frame's local ...
  (func (export "leaf_other_sp") (param $fp i32) (param $x i32) (result i32)
    (global.set $sp (i32.add (local.get $fp) (i32.const 8)))
    (i32.store offset=4 (local.get $fp) (local.get $x))
    (drop (call $spill (i32.const 0x55)))
    (i32.load offset=4 (local.get $fp)))
  ;; ... nor after $sp was set again (from something else)
  (func (export "leaf_sp_reset") (param $fp i32) (param $x i32) (result i32)
    (global.set $sp (local.get $fp))
    (global.set $sp (i32.add (local.get $fp) (i32.const 8)))
    (i32.store offset=4 (local.get $fp) (local.get $x))
    (drop (call $spill (i32.const 0x55)))
    (i32.load offset=4 (local.get $fp)))
  ;; ... nor after the frame's local changed since it set $sp
  (func (export "leaf_rebased") (param $fp i32) (param $x i32) (result i32)
    (global.set $sp (local.get $fp))
    (local.set $fp (i32.sub (local.get $fp) (i32.const 16)))
    (i32.store offset=12 (local.get $fp) (local.get $x))
    (drop (call $spill (i32.const 0x66)))
    (i32.load offset=12 (local.get $fp)))

  ;; the checksum of the first 512 bytes
  (func (export "ck") (result i32)
    (local $i i32) (local $h i32)
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (i32.const 512)))
        (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31))
                               (i32.load (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $top)))
    (local.get $h))
)
"""

_END = 65536
CASES: dict[str, list[tuple]] = {
    "loop3": [(fp, n) for fp in (16, 200, _END - 24, _END - 23, 0xFFFFFFF0) for n in (0, 1, 7)],
    "widths": [(fp, v) for fp in (0, 40, _END - 8, _END - 7) for v in (0, 0xDEADBEEF)],
    "alias": [(fp, p) for fp in (32, _END - 12) for p in (0, 40, 41, 36, _END - 4, _END)],
    "trap_store": [(fp, far) for fp in (64, _END - 8, _END - 4) for far in (0, 64, _END)],
    "trap_first": [(fp,) for fp in (0, 100, _END - 12, _END - 11, 0xFFFFFFFC)],
    "bulk": [(fp, k) for fp in (80, 100) for k in (0, 78, 84, 100, _END - 2)],
    "calls": [(fp, p) for fp in (120, _END - 16) for p in (0, 132, 133, _END - 4, _END)],
    "rebase": [(fp,) for fp in (0, 140, _END - 8, _END - 4, 0xFFFFFFFC)],
    "merge": [(fp, c) for fp in (160, _END - 4, _END) for c in range(8)],
    "paths": [(fp, k) for fp in (180, _END - 4, _END - 3) for k in (0, 1, 2, 3)],
    "clobber_loop": [(fp, n) for fp in (200,) for n in (0, 1, 5)],
    "params": [(fp, b) for fp in (220, _END - 8, _END - 7) for b in (
        0, 0x7FF0000000000001, 0xFFF4000000000123, 0x3FF0000000000000)],
    **{name: [(fp, x) for fp in (256, 300, 4, 16, 17, _END - 8, _END - 4)
              for x in (0, 0x01020304)]
       for name in ("leaf_ok", "leaf_over", "leaf_moves_sp", "leaf_other_sp", "leaf_sp_reset",
                    "leaf_rebased")},
    "guard_edges": [(fp, fp + d) for fp in (296, 400, _END - 16) for d in (
        -9, -8, -7, -5, -4, -3, -1, 0, 3, 4, 8, 9, 11, 12, 15, 16, 17)],
}
#: The exported functions in the module's order (after the five helpers).
ORDER = ("loop3", "widths", "alias", "trap_store", "trap_first", "bulk", "calls", "rebase",
         "merge", "paths", "clobber_loop", "params", "guard_edges", "leaf_ok", "leaf_over",
         "leaf_moves_sp", "leaf_other_sp", "leaf_sp_reset", "leaf_rebased")
#: clobber_loop's pointer slot (fp + 8) is set by the caller before the calls.
POINTERS = {"clobber_loop": (208, (200, 204, 212))}


def _wasm() -> bytes:
    return harness.wat_to_wasm(WAT)


def _run(call, name: str, args: tuple, ck, poke) -> tuple:
    outcome = call(name, args)
    return (*outcome, ck())


def _outcomes(call, ck, poke) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for name, arg_list in CASES.items():
        rows = out[name] = []
        targets = POINTERS.get(name)
        for args in arg_list:
            for target in (targets[1] if targets else (None,)):
                if target is not None:
                    poke(targets[0], target)
                rows.append(_run(call, name, args, ck, poke))
    return out


def _wasmtime_results(wasm: bytes) -> dict[str, list[tuple]]:
    import wasmtime

    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    types = harness.export_types(wasm)
    exports = inst.exports(store)
    mem = exports["mem"]

    def call(name: str, args: tuple) -> tuple:
        ft = types[name]
        return harness._wt_call(store, exports[name], ft.params, ft.results, list(args))

    def poke(addr: int, value: int) -> None:
        mem.write(store, value.to_bytes(4, "little"), addr)

    return _outcomes(call, lambda: exports["ck"](store) & 0xFFFFFFFF, poke)


def _our_results(wasm: bytes, mode: str) -> dict[str, list[tuple]]:
    from engine import Config, Engine, Instance, Module, Store, WasmError

    store = Store(Engine(Config(compilation_mode=mode)))
    exports = Instance(store, Module(store.engine, wasm), []).exports(store)
    mem = exports["mem"]

    def call(name: str, args: tuple) -> tuple:
        try:
            return ("ok", tuple(exports[name].call_bits(store, list(args))))
        except WasmError as exc:
            return harness._our_failure(exc)

    def poke(addr: int, value: int) -> None:
        mem.write(store, value.to_bytes(4, "little"), addr)

    return _outcomes(call, lambda: exports["ck"](store) & 0xFFFFFFFF, poke)


@pytest.mark.parametrize("flat", [False, True], ids=["structured", "flat"])
@pytest.mark.parametrize("mode", harness.MODES)
def test_frame_slots_agree_with_wasmtime(mode: str, flat: bool, monkeypatch) -> None:
    monkeypatch.setattr(importlib.import_module("engine.compile.translate"), "FORCE_FLAT", flat)
    wasm = _wasm()
    theirs = _wasmtime_results(wasm)
    ours = _our_results(wasm, mode)
    bad = [f"{name}: ours {o} wasmtime {t}" for name in CASES
           for o, t in zip(ours[name], theirs[name]) if o != t]
    assert not bad, "\n".join(bad)
    kinds = {r[1] if r[0] == "trap" else "ok" for rs in theirs.values() for r in rs}
    assert {"ok", "memory"} <= kinds


def _sources() -> dict[str, str]:
    from engine.binary import decode_body, decode_module

    T = importlib.import_module("engine.compile.translate")
    info = decode_module(_wasm())
    first = 5  # $clobber, $spill, $spill_over, $pure, $sets_sp come first
    order = [n for n in ORDER]
    return {name: T.translate_source(info, first + i, decode_body(info, first + i))
            for i, name in enumerate(order)}


def test_frame_slots_take_the_forwarded_path() -> None:
    """The slot variables appear where forwarding is exact, and loads stay where not."""
    src = _sources()
    # loop3: every load in the loop and after it reads a variable
    assert "mv" in src["loop3"] and "U32(" not in src["loop3"] and "UF64(" not in src["loop3"]
    # alias: the store through $p keeps the slot, reloaded when it overlaps its 4 bytes
    assert "if l0 + 4 < l1 < l0 + 12:" in src["alias"] and src["alias"].count("U32(") == 1
    # calls: the reload after the call stays
    assert src["calls"].count("U32(") == 1
    # merge: only the load after the one-sided store8 stays
    assert src["merge"].count("U32(") == 1
    # clobber_loop: the store through a loaded pointer keeps both frame slots (guarded)
    assert "if l0 - 4 < t1 < l0 + 8:" in src["clobber_loop"]
    assert src["clobber_loop"].count("U32(") == 3 and "if (mv0 >= l1)" in src["clobber_loop"]
    assert src["guard_edges"].count("UF64(") == 4 and "P64(M0, l1, " in src["guard_edges"]
    # leaf_ok: the slots survive the calls of $spill and $pure; the others reload
    assert "U32(" not in src["leaf_ok"] and "funcs[1](mv0)" in src["leaf_ok"]
    for name in ("leaf_over", "leaf_moves_sp", "leaf_other_sp", "leaf_sp_reset", "leaf_rebased"):
        assert src[name].count("U32(") == 1, name
