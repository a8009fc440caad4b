"""br_table lowering against wasmtime: switches whose exits are inlined at the br_table.

``engine/compile/switch.py`` emits the code after a block's end directly in the br_table's
dispatch leaf when only that br_table reaches the end and the code ends unconditionally.
The cases here are the shapes that could break it: labels to many depths, values carried
to blocks with results, operands below the switch that one case's code spills and another
reads, switches inside loops (the vm dispatch shape), nested switches, large and
duplicated tables, a case in an ``if``'s then-arm, blocks also targeted by other branches,
traps inside cases. Every case runs in every compilation mode, structured and flat, and
must match wasmtime; fuel consumed must equal the flat form's (the cost model is static).
The generated source is checked too, so each case is known to reach the inline path.
"""

from __future__ import annotations

import importlib

import pytest

from tests.differential import harness

pytestmark = harness.needs_tools()

WAT = r"""
(module
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $leaf (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))

  ;; a C switch: each case returns (function 628 of big.wasm)
  (func (export "sw_ret") (param $a i32) (param $b i32) (result i32)
    (block $d
      (block $c3
        (block $c2
          (block $c1
            (block $c0
              (br_table $c0 $c1 $c2 $c3 $d
                (i32.rem_u (i32.xor (local.get $a) (local.get $b)) (i32.const 6))))
            (return (i32.and (i32.sub (local.get $b) (local.get $a)) (i32.const 0xFFFF))))
          (return (i32.shl (local.get $a) (i32.const 20))))
        (return (i32.mul (local.get $b) (i32.const 1593835520))))
      (return (i32.and (local.get $b) (local.get $a))))
    (i32.add (local.get $a) (i32.const 1000)))

  ;; values carried to blocks with results; the default is the outermost
  (func (export "sw_vals") (param $k i32) (param $x i32) (result i32)
    (block $o (result i32)
      (block $m (result i32)
        (block $i (result i32)
          (i32.mul (local.get $x) (i32.const 7))
          (br_table $i $m $m $o $i (local.get $k)))
        (local.set $x (i32.const 1))
        (return (i32.add (i32.const 100) (local.get $x))))
      (return (i32.sub (i32.const 200))))
    (i32.xor (i32.const 0x55)))

  ;; an operand below the switch read by one case after another case overwrote its local
  (func (export "sw_below") (param $k i32) (param $acc i32) (result i32)
    (local.get $acc)
    (block $b0
      (block $b1
        (block $b2
          (br_table $b2 $b1 $b0 (local.get $k)))
        (local.set $acc (i32.const 5))
        (return (local.get $acc)))
      (local.set $acc (i32.const 9))
      (return (i32.mul (local.get $acc) (i32.const 3))))
    (local.set $acc (i32.const 100))
    (i32.add (local.get $acc)))

  ;; the vm shape: a dispatch loop, cases continue the loop, leave it or return
  (func (export "sw_loop") (param $n i32) (param $seed i32) (result i32)
    (local $acc i32) (local $i i32)
    (local.set $acc (local.get $seed))
    (block $exit
      (loop $top
        (block $next
          (block $c4
            (block $c3
              (block $c2
                (block $c1
                  (block $c0
                    (br_table $c0 $c1 $c2 $c3 $c4 $c0 $c1
                      (i32.rem_u (i32.add (local.get $i) (local.get $acc)) (i32.const 7))))
                  (local.set $acc (i32.add (local.get $acc) (i32.const 3)))
                  (br $next))
                (local.set $acc (i32.mul (local.get $acc) (i32.const 31)))
                (br_if $exit (i32.gt_u (local.get $acc) (i32.const 0x7FFF0000)))
                (br $next))
              (local.set $acc (i32.xor (local.get $acc) (i32.shl (local.get $acc) (i32.const 5))))
              (br $top))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $top))
          (if (i32.eq (local.get $i) (i32.const 1000)) (then (return (i32.const -7))))
          (br $next))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $top (i32.lt_u (local.get $i) (local.get $n)))))
    (i32.add (local.get $acc) (local.get $i)))

  ;; nested switches; an inner case has a loop and leaves it to the outer loop
  (func (export "sw_nested") (param $a i32) (param $b i32) (result i32)
    (local $r i32)
    (loop $again
      (block $x1
        (block $x0
          (br_table $x0 $x1 (local.get $a)))
        (block $y2
          (block $y1
            (block $y0
              (br_table $y0 $y1 $y2 (local.get $b)))
            (loop $spin
              (local.set $r (i32.add (local.get $r) (local.get $b)))
              (local.set $b (i32.sub (local.get $b) (i32.const 1)))
              (br_if $spin (i32.gt_s (local.get $b) (i32.const 0))))
            (local.set $a (i32.const 1))
            (br $again))
          (return (i32.add (local.get $r) (i32.const 11))))
        (return (i32.add (local.get $r) (i32.const 22))))
      (return (i32.sub (local.get $r) (local.get $a))))
    (unreachable))

  ;; more than 16 runs, labels alternating (each case's code once), default in the table
  (func (export "sw_big") (param $k i32) (result i32)
    (block $d
      (block $c2
        (block $c1
          (block $c0
            (br_table $c0 $c1 $c0 $c1 $c2 $c0 $c1 $c2 $c0 $c1 $c2 $c0 $c1 $c0 $c2 $c1 $c0
                      $c1 $c2 $c0 $d $c1 $c0 $c2 $c1 (local.get $k)))
          (return (i32.const 10)))
        (return (i32.const 20)))
      (return (i32.const 30)))
    (i32.const 40))

  ;; few runs but a duplicated label: still one copy of each case's code
  (func (export "sw_dup") (param $k i32) (result i32)
    (block $c1
      (block $c0
        (br_table $c0 $c1 $c0 (local.get $k)))
      (return (i32.const 5)))
    (i32.const 6))

  ;; a switch in an if's then-arm; its outer case ends there
  (func (export "sw_if") (param $k i32) (param $v i32) (result i32)
    (if (result i32) (local.get $v)
      (then
        (block $c1
          (block $c0
            (br_table $c0 $c1 (local.get $k)))
          (return (i32.const 1)))
        (return (i32.const 2)))
      (else (i32.const 3))))

  ;; a block also targeted by a br_if, its code too large to copy (not inlined), next to
  ;; inlined ones
  (func (export "sw_mixed") (param $k i32) (param $z i32) (result i32)
    (block $shared
      (block $c1
        (block $c0
          (br_if $shared (local.get $z))
          (br_table $c0 $c1 $shared (local.get $k)))
        (return (i32.const 100)))
      (return (i32.const 200)))
    (block $q (br_if $q (local.get $k)) (local.set $z (i32.const 5)))
    (i32.add (local.get $z) (i32.const 300)))

  ;; a br_if's exit inlined; its fall-through path reads operands the exit's code spilled
  (func (export "brif_keep") (param $k i32) (param $x i32) (result i32)
    (local.get $x)
    (block $out (result i32)
      (block $b (result i32)
        (i32.add (local.get $x) (i32.const 1))
        (br_if $b (local.get $k))
        (local.set $x (i32.const 50))
        (drop)
        (br $out (i32.add (local.get $x) (i32.const 7))))
      (local.set $x (i32.const 1000))
      (i32.add (local.get $x))
      (br $out))
    (i32.add))

  ;; clang's if/else: br_if to a block whose code falls into the end of the outer one
  (func (export "brif_else") (param $a i32) (param $b i32) (result i32) (local $r i32)
    (block $join
      (block $else
        (br_if $else (i32.lt_s (local.get $a) (local.get $b)))
        (local.set $r (i32.sub (local.get $a) (local.get $b)))
        (br $join))
      (local.set $r (i32.mul (local.get $b) (i32.const 3))))
    (local.get $r))

  ;; the exit's branch inside an if's arm; its code falls into a block's end
  (func (export "brif_in_if") (param $a i32) (param $b i32) (result i32)
    (block $done (result i32)
      (block $neg
        (if (local.get $a) (then (br_if $neg (i32.lt_s (local.get $b) (i32.const 0)))))
        (br $done (i32.const 1)))
      (i32.const -1)))

  ;; traps inside cases, a call and memory in another
  (func (export "sw_trap") (param $k i32) (param $d i32) (result i32)
    (block $c3
      (block $c2
        (block $c1
          (block $c0
            (br_table $c0 $c1 $c2 $c3 (local.get $k)))
          (return (i32.div_s (i32.const 100) (local.get $d))))
        (unreachable))
      (i32.store (local.get $d) (i32.const 77))
      (return (call $leaf (i32.load (local.get $d)))))
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (global.get $g))

  ;; a case falling through into the next one
  (func (export "sw_fall") (param $k i32) (result i32) (local $r i32)
    (block $c1
      (block $c0
        (br_table $c0 $c1 (local.get $k)))
      (local.set $r (i32.const 4)))
    (i32.add (local.get $r) (i32.const 1)))

  ;; an exit's code ends in a load falling into the end of a block whose code is inlined
  ;; in turn (copied: a branch names it too) and stores there: the load comes first
  (func (export "fall_load") (param $k i32) (result i32)
    (block $p (result i32)
      (block $f
        (br_if $f (local.get $k))
        (br $p (i32.const 5)))
      (i32.load (i32.const 0)))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 99)))
    (i32.load (i32.const 0))
    (i32.add))

  ;; branches from a loop to the block around it skip the loop's tail (code between the two
  ;; ends, reading an operand pushed before the loop), copied at the loop's exit instead
  (func (export "loop_tail") (param $n i32) (param $m i32) (result i32)
    (local $i i32) (local $r i32)
    block $a
      local.get $n
      loop $l
        local.get $i i32.const 1 i32.add local.set $i
        local.get $i local.get $m i32.eq br_if $a
        block $x
          local.get $i i32.const 1 i32.and br_if $x
          local.get $i local.get $n i32.lt_u br_if $l
          br $a
        end
        local.get $r i32.const 100 i32.add local.set $r
      end
      local.get $i i32.mul local.get $r i32.add local.set $r
    end
    local.get $r local.get $i i32.add)

  ;; the same with the loop falling through its end (the tail copied there)
  (func (export "loop_tail2") (param $n i32) (result i32) (local $i i32) (local $r i32)
    (block $a
      (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 3)))
        (br_if $a (i32.gt_u (local.get $i) (i32.const 50)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
      (local.set $r (i32.mul (local.get $i) (i32.const 7))))
    (i32.add (local.get $r) (local.get $i)))
)
"""

CASES: dict[str, list[tuple]] = {
    "sw_ret": [(a, b) for a in (0, 1, 2, 5, 0xFFFFFFFF) for b in (0, 3, 4, 7, 0x80000000)],
    "sw_vals": [(k, x) for k in (0, 1, 2, 3, 4, 5, 0xFFFFFFFF) for x in (0, 9, 0x7FFFFFFF)],
    "sw_below": [(k, acc) for k in (0, 1, 2, 3, 99) for acc in (0, 12, 0xFFFFFFFF)],
    "sw_loop": [(n, s) for n in (0, 1, 5, 50, 3000) for s in (0, 1, 6, 0xDEADBEEF)],
    "sw_nested": [(a, b) for a in (0, 1, 2) for b in (0, 1, 2, 3, 9)],
    "sw_big": [(k,) for k in (*range(27), 0xFFFFFFFF)],
    "sw_dup": [(k,) for k in (0, 1, 2, 3, 0x80000000)],
    "sw_if": [(k, v) for k in (0, 1, 2) for v in (0, 1)],
    "sw_mixed": [(k, z) for k in (0, 1, 2, 3) for z in (0, 1)],
    "brif_keep": [(k, x) for k in (0, 1) for x in (0, 3, 0xFFFFFFFF)],
    "brif_else": [(a, b) for a in (0, 5, 0x80000000) for b in (0, 5, 0xFFFFFFFF)],
    "brif_in_if": [(a, b) for a in (0, 1) for b in (0, 1, 0xFFFFFFFF)],
    "sw_trap": [(k, d) for k in (0, 1, 2, 3, 4) for d in (0, 1, 8, 65535, 65536)],
    "sw_fall": [(k,) for k in (0, 1, 2)],
    "fall_load": [(k,) for k in (0, 1, 1, 0)],
    "loop_tail": [(n, m) for n in (0, 1, 2, 6, 9) for m in (0, 1, 2, 4, 5, 8)],
    "loop_tail2": [(n,) for n in (0, 1, 3, 4, 30, 49, 50, 51, 100)],
}

#: Exported functions and their function indexes ($leaf is 0).
INDEXES = {name: i + 1 for i, name in enumerate(CASES)}


def _wasm() -> bytes:
    return harness.wat_to_wasm(WAT)


def _wasmtime_results(wasm: bytes) -> dict[str, list[tuple]]:
    import wasmtime

    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    types = harness.export_types(wasm)
    out = {}
    for name, arg_list in CASES.items():
        ft = types[name]
        out[name] = [harness._wt_call(store, inst.exports(store)[name], ft.params, ft.results,
                                      list(args)) for args in arg_list]
    return out


def _our_results(wasm: bytes, mode: str, fuel: bool = False) -> dict[str, list[tuple]]:
    """Each call's outcome, and with ``fuel`` the fuel it consumed appended."""
    from engine import Config, Engine, Instance, Module, Store, WasmError

    config = Config()
    config.compilation_mode = mode
    config.consume_fuel = fuel
    store = Store(Engine(config))
    exports = Instance(store, Module(store.engine, wasm), []).exports(store)
    out: dict[str, list[tuple]] = {}
    for name, arg_list in CASES.items():
        results = out[name] = []
        for args in arg_list:
            if fuel:
                store.set_fuel(10**7)
            try:
                got = ("ok", tuple(exports[name].call_bits(store, list(args))))
            except WasmError as exc:
                got = harness._our_failure(exc)
            results.append((*got, 10**7 - store.get_fuel()) if fuel else got)
    return out


def _compare(ours: dict, theirs: dict) -> list[str]:
    return [f"{name}{args}: ours {o} wasmtime {t}"
            for name in CASES
            for args, o, t in zip(CASES[name], ours[name], theirs[name])
            if o != t]


@pytest.mark.parametrize("flat", [False, True], ids=["structured", "flat"])
@pytest.mark.parametrize("mode", harness.MODES)
def test_switches_agree_with_wasmtime(mode: str, flat: bool, monkeypatch) -> None:
    monkeypatch.setattr(importlib.import_module("engine.compile.translate"), "FORCE_FLAT", flat)
    wasm = _wasm()
    theirs = _wasmtime_results(wasm)
    bad = _compare(_our_results(wasm, mode), theirs)
    assert not bad, "\n".join(bad)
    kinds = {r[1] if r[0] == "trap" else "ok" for rs in theirs.values() for r in rs}
    assert {"ok", "memory", "div0", "unreachable"} <= kinds


@pytest.mark.parametrize("mode", harness.MODES)
def test_switches_agree_with_wasmtime_under_fuel(mode: str, monkeypatch) -> None:
    """Fuel on: the same outcomes, and the same fuel consumed as by the flat form (which
    inlines nothing), call by call."""
    translate = importlib.import_module("engine.compile.translate")
    wasm = _wasm()
    structured = _our_results(wasm, mode, fuel=True)
    monkeypatch.setattr(translate, "FORCE_FLAT", True)
    flat = _our_results(wasm, mode, fuel=True)
    bad = [f"{name}{args}: structured {s} flat {f}"
           for name in CASES for args, s, f in zip(CASES[name], structured[name], flat[name])
           if s != f]
    assert not bad, "\n".join(bad)
    theirs = _wasmtime_results(wasm)
    bad = _compare({n: [r[:-1] for r in rs] for n, rs in structured.items()}, theirs)
    assert not bad, "\n".join(bad)
    assert any(r[-1] > 0 for rs in structured.values() for r in rs)


def _sources() -> dict[str, str]:
    from engine.binary import decode_body, decode_module

    T = importlib.import_module("engine.compile.translate")
    info = decode_module(_wasm())
    return {n: T.translate_source(info, i, decode_body(info, i)) for n, i in INDEXES.items()}


def test_switches_reach_the_inline_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """No label variable and no Python loop for the blocks whose exits are inlined."""
    # The struct forms (the typed-view forms of aligned addresses: test_views.py).
    monkeypatch.setattr(importlib.import_module("engine.compile.visit_memory"), "VIEWS", False)
    src = _sources()
    for name in ("sw_ret", "sw_vals", "sw_below", "sw_big", "sw_dup", "sw_if", "sw_trap"):
        assert "lab" not in src[name] and "while True" not in src[name], name
    assert "while True" not in src["fall_load"] and src["fall_load"].count("P32(") == 2
    for name in ("loop_tail", "loop_tail2"):  # the block and the loop remain, no label
        assert "lab" not in src[name] and src[name].count("while True") == 2, name
    for name in ("brif_keep", "brif_else", "brif_in_if"):
        assert "lab" not in src[name] and src[name].count("while True") <= 1, name
    # sw_loop: $exit and the loop remain; $c0..$c4 are inlined and $next's code is copied
    # at its three branches (it leaves the loop with a plain break).
    assert src["sw_loop"].count("while True") == 2 and "lab" not in src["sw_loop"]
    assert src["sw_loop"].count("if (l3 < l0):") == 3
    # sw_nested: only the outer loop and the inner case's loop
    assert src["sw_nested"].count("while True") == 2
    # sw_mixed: $shared (and $q after it) stay loops, the two others are inlined
    assert src["sw_mixed"].count("while True") == 2 and "lab" not in src["sw_mixed"]
    # sw_fall: the case falling through into $c1's end: $c1's code is copied after it
    assert "while True" not in src["sw_fall"] and src["sw_fall"].count("return (") == 2
    # sw_big / sw_dup: each case's code once
    assert src["sw_big"].count("return 10") == 1 and src["sw_dup"].count("return 5") == 1


def _guards(n: int) -> str:
    """``n`` guard clauses in a row: each exit's code (the rest of the body) is inlined in
    the previous one's, nesting deeper than CPython's 100 indentation levels."""
    blocks = "".join(f"(block (br_if 0 (i32.ne (local.get 0) (i32.const {k})))"
                     f" (return (i32.const {1000 + k})))" for k in range(n))
    return f'(module (func (export "g") (param i32) (result i32) {blocks} (i32.const -1)))'


def _deep_stack(n: int, blocks: int) -> str:
    """``n`` operands under nested inline exits: saving them at each would be quadratic."""
    body = "(i32.const 1) " * n + "(block (br 0)) " * blocks + "(drop) " * (n - 1)
    return f'(module (func (export "g") (result i32) {body}))'


@pytest.mark.parametrize("mode", harness.MODES)
def test_inline_exits_beyond_limits_fall_back(mode: str) -> None:
    """Bodies whose inline exits would exceed CPython's nesting or the copy budget are
    translated without them (then flat), with the same results."""
    from engine import Config, Engine, Instance, Module, Store

    engine = Engine(Config(compilation_mode=mode))
    store = Store(engine)
    g = Instance(store, Module(engine, harness.wat_to_wasm(_guards(130))), []).exports(store)["g"]
    assert [g(store, x) for x in (0, 7, 129, 130, -1)] == [1000, 1007, 1129, -1, -1]
    g = Instance(store, Module(engine, harness.wat_to_wasm(_deep_stack(3000, 150))), [])
    g = g.exports(store)["g"]
    assert g(store) == 1


def test_inline_copy_budget_is_enforced() -> None:
    """The structured translation with inline exits refuses the quadratic case."""
    from engine.binary import decode_body, decode_module
    from engine.compile import switch

    T = importlib.import_module("engine.compile.translate")
    info = decode_module(harness.wat_to_wasm(_deep_stack(3000, 150)))
    with pytest.raises(switch.InlineBudget):
        T.translate_source(info, 0, decode_body(info, 0))


def _deep_switch(n: int) -> str:
    """A switch of ``n`` cases in a loop: ``n`` nested blocks, beyond the structured form's
    17 Python loops unless the cases are inlined (as vm.O2's dispatch)."""
    labels = " ".join(f"$c{k}" for k in range(n))
    inner = f"(br_table {labels} $done (i32.rem_u (local.get $i) (i32.const {n + 1})))"
    for k in range(n):
        inner = (f"(block $c{k} {inner}) (local.set $acc (i32.add (i32.mul (local.get $acc)"
                 f" (i32.const {k + 3})) (i32.const {k}))) (br $next)")
    return f"""(module (func (export "g") (param $n i32) (result i32) (local $i i32) (local $acc i32)
      (block $done (loop $top (block $next {inner})
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $top (i32.lt_u (local.get $i) (local.get $n)))))
      (local.get $acc)))"""


@pytest.mark.parametrize("mode", harness.MODES)
def test_deep_switch_is_structured(mode: str) -> None:
    """Counted without its inlined blocks, a 24-case switch stays in the structured form
    (no ``pc`` dispatch) and agrees with wasmtime."""
    import wasmtime

    from engine import Config, Engine, Instance, Module, Store
    from engine.binary import decode_body, decode_module

    wasm = harness.wat_to_wasm(_deep_switch(24))
    T = importlib.import_module("engine.compile.translate")
    info = decode_module(wasm)
    src = T.translate(info, 0, decode_body(info, 0)) and T.translate_source(
        info, 0, decode_body(info, 0))
    # $done, $top and $next stay Python loops; the 24 case blocks do not
    assert "pc <=" not in src and src.count("while True") == 3
    store = Store(Engine(Config(compilation_mode=mode)))
    g = Instance(store, Module(store.engine, wasm), []).exports(store)["g"]
    wt = wasmtime.Store()
    wg = wasmtime.Instance(wt, wasmtime.Module(wt.engine, wasm), []).exports(wt)["g"]
    for n in (0, 1, 5, 24, 25, 26, 100):
        assert g(store, n) == wg(wt, n), n
