"""Typed memory views (runtime/memory.py) and the alignment analysis that chooses them
(engine/compile/align.py), against wasmtime and against the spec's rules.

An access whose address is known to be ``k`` modulo its size reads ``view[a >> s]`` from the
view of phase ``k``, a closure cell that ``memory.grow`` renews. These tests run random
programs that move pointers by aligned and unaligned steps, through branches, loops and
reused locals (an aligned value on one path, an unaligned one on another), with bases near
the end of memory, and compare results, traps and memory with wasmtime in every mode; a
guard checks that they reach views of every kind and phase and ``struct`` accesses; other
tests grow the memory under live views (from wasm, from the host, from a call inside an
address) and check the analysis on small bodies.
"""

from __future__ import annotations

import importlib
import random
import re

import pytest

from engine import Engine, Instance, Module, Store, Trap
from engine.binary import decode_body, decode_module
from engine.text import wat2wasm
from tests.differential.harness import needs_tools
from tests.wasm_pairs import fresh_each, instance, run_and_sum

T = importlib.import_module("engine.compile.translate")
A = importlib.import_module("engine.compile.align")
VM = importlib.import_module("engine.compile.visit_memory")
MODES = ("eager", "lazy-translation", "lazy")
#: Bases of the pointers: aligned and not, inside the page, near its end (some accesses
#: trap) and past it.
BASES = (0, 3, 64, 1000, 4093, 65536 - 96, 65536 - 40, 65536 - 13, 65536 - 8, 70000)

LOADS = ("i32.load", "i64.load", "f64.load", "i64.load32_u")
STORES = ("i32.store", "i64.store", "f64.store", "i64.store32")
#: A checksum of the first 64 KiB of memory, exported by the random programs here.
SUM = """(func (export "sum") (result i64) (local $a i32) (local $s i64)
        (loop (local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 1))
                                     (i64.load (local.get $a))))
              (br_if 0 (i32.ne (local.tee $a (i32.add (local.get $a) (i32.const 8)))
                               (i32.const 65536))))
        (local.get $s))"""


def _ptr_value(rng: random.Random) -> str:
    """A new value for a pointer local: aligned (a product, a shift, a literal, a masked
    base) or not (an odd step, the raw base)."""
    r = rng.randrange(7)
    if r == 0:
        return (f"(i32.mul (local.get {rng.choice(('$i', '$j'))}) "
                f"(i32.const {rng.choice((4, 8, 12, 24, 3, 6))}))")
    if r == 1:
        return (f"(i32.shl (local.get {rng.choice(('$i', '$j'))}) "
                f"(i32.const {rng.choice((1, 2, 3, 4))}))")
    if r == 2:
        return f"(i32.const {rng.choice((0, 8, 16, 24, 40, 2, 5, 7))})"
    if r == 3:
        return f"(i32.and (local.get $n) (i32.const {rng.choice((-8, -4, -2, -16))}))"
    if r == 4:
        return f"(i32.add (local.get $p) (i32.const {rng.choice((4, 8, 16, -8, 1, 2, 6))}))"
    if r == 5:
        return "(local.get $n)"
    return f"(i32.add (local.get $q) (i32.const {rng.choice((8, 3))}))"


def _access(rng: random.Random) -> str:
    ptr = rng.choice(("$p", "$q"))
    off = rng.choice((0, 0, 1, 2, 4, 8, 12))
    if rng.random() < 0.55:
        load = rng.choice(LOADS)
        x = f"({load} offset={off} (local.get {ptr}))"
        if load == "f64.load":
            x = f"(i64.reinterpret_f64 {x})"
        elif load == "i32.load":
            x = f"(i64.extend_i32_u {x})"
        return f"(local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 7)) {x}))"
    store = rng.choice(STORES)
    v = "(local.get $acc)"
    if store == "i32.store":
        v = "(i32.wrap_i64 (local.get $acc))"
    elif store == "f64.store":
        v = "(f64.reinterpret_i64 (local.get $acc))"
    return f"({store} offset={off} (local.get {ptr}) {v})"


def _items(rng: random.Random, depth: int) -> str:
    out = []
    for _ in range(rng.randrange(3, 8)):
        r = rng.random()
        if r < 0.25:
            out.append(f"(local.set {rng.choice(('$p', '$q'))} {_ptr_value(rng)})")
        elif r < 0.35 and depth < 2:  # one path aligned, the other maybe not
            out.append(f"(if (i32.wrap_i64 (i64.and (local.get $acc) (i64.const 1))) "
                       f"(then (local.set $p {_ptr_value(rng)}) {_items(rng, depth + 1)}) "
                       f"(else (local.set $p {_ptr_value(rng)})))")
        elif r < 0.45 and depth < 2:  # a short loop whose body moves the pointers
            i = ("$i", "$j")[depth]  # its own counter: an inner loop must not reset it
            out.append(f"(local.set {i} (i32.const 0)) (block (loop "
                       f"(br_if 1 (i32.ge_u (local.get {i}) (i32.const {rng.randrange(1, 5)}))) "
                       f"{_items(rng, depth + 1)} "
                       f"(local.set {i} (i32.add (local.get {i}) (i32.const 1))) (br 0)))")
        else:
            out.append(_access(rng))
    return " ".join(out)


def _module(seed: int) -> str:
    rng = random.Random(seed)
    data = "".join(f"\\{rng.randrange(256):02x}" for _ in range(256))
    return f"""(module (memory 1)
      (data (i32.const 0) "{data}")
      (data (i32.const 65280) "{data}")
      (func (export "run") (param $n i32) (result i64)
        (local $p i32) (local $q i32) (local $i i32) (local $j i32) (local $acc i64)
        (local.set $p (local.get $n))
        (local.set $q (i32.and (local.get $n) (i32.const -8)))
        (local.set $acc (i64.const 0x0123456789abcdef))
        {_items(rng, 0)}
        (local.get $acc))
      {SUM})"""


@needs_tools()
@pytest.mark.parametrize("seed", range(60))
def test_random_pointer_programs_equal_wasmtime(seed: int) -> None:
    wasm = wat2wasm(_module(seed))
    assert fresh_each(wasm, MODES[seed % 3], BASES) == fresh_each(wasm, None, BASES)


def test_random_programs_reach_views_and_struct() -> None:
    """Guard: the random programs above read and write through views of every kind, at
    phases other than 0 too, and keep ``struct`` for addresses of unknown alignment."""
    if not VM.VIEWS:
        pytest.skip("typed views are CPython's (PyPy's JIT inlines struct access)")
    kinds: set[str] = set()
    phases: set[str] = set()
    struct_calls = stores = 0
    for seed in range(60):
        info = decode_module(wat2wasm(_module(seed)))
        src = T.translate_source(info, 0, decode_body(info, 0))
        for kind, phase in re.findall(r"\bV0([IQd])(\d)\[", src):
            kinds.add(kind)
            phases.add(phase)
        stores += len(re.findall(r"^\s*V0[IQd]\d\[.*\] = ", src, re.MULTILINE))
        struct_calls += len(re.findall(r"\b(?:U32|U64|UF64|P32|P64|PF64)\(M0", src))
    assert kinds == {"I", "Q", "d"}, kinds
    assert phases > {"0"}, phases
    assert stores >= 20 and struct_calls >= 20, (stores, struct_calls)


# -- memory.grow under live views ----------------------------------------------------------

GROW = """(module (memory (export "mem") 1)
  (func $grow (param $d i32) (result i32) (drop (memory.grow (local.get $d))) (i32.const 65536))
  (func $grown_value (result i64) (drop (memory.grow (i32.const 1))) (i64.const 77))
  (func (export "grow") (param $d i32) (result i32) (memory.grow (local.get $d)))
  (func (export "put") (param $a i32) (param $v i64)
    (i64.store (i32.and (local.get $a) (i32.const -8)) (local.get $v)))
  (func (export "get") (param $a i32) (result i64)
    (i64.load (i32.and (local.get $a) (i32.const -8))))
  (func (export "get32") (param $a i32) (result i32)
    (i32.load offset=4 (i32.and (local.get $a) (i32.const -8))))
  ;; the address is a call that grows the memory: the access sees the new page
  (func (export "load_after_grow") (result i32) (i32.load (call $grow (i32.const 1))))
  ;; the stored value is a call that grows the memory: the store lands in the new page
  (func (export "store_after_grow")
    (i64.store (i32.const 131072) (call $grown_value)))
  ;; grow inside a loop that keeps accessing through the view
  (func (export "loop_grow") (param $k i32) (result i64) (local $i i32) (local $s i64)
    (loop
      (i64.store (i32.shl (local.get $i) (i32.const 3)) (i64.extend_i32_u (local.get $i)))
      (if (i32.eq (local.get $i) (local.get $k)) (then (drop (memory.grow (i32.const 1)))))
      (local.set $s (i64.add (local.get $s)
        (i64.load (i32.add (i32.const 65528) (i32.shl (memory.size) (i32.const 3))))))
      (br_if 0 (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                         (i32.const 16))))
    (local.get $s)))"""


def _grow_instance(mode: str = "eager"):
    from engine import Config

    store = Store(Engine(Config(compilation_mode=mode)))
    inst = Instance(store, Module(store.engine, wat2wasm(GROW)), [])
    return store, inst.exports(store)


@pytest.mark.parametrize("mode", MODES)
def test_views_follow_memory_grow(mode: str) -> None:
    store, ex = _grow_instance(mode)
    ex["put"](store, 65528, 0x1122334455667788)
    with pytest.raises(Trap, match="out of bounds"):
        ex["get"](store, 65536)
    assert ex["grow"](store, 2) == 1
    ex["put"](store, 3 * 65536 - 8, 5)
    assert ex["get"](store, 3 * 65536 - 8) == 5
    assert ex["get"](store, 65528) == 0x1122334455667788
    assert ex["get32"](store, 65528) == 0x11223344
    with pytest.raises(Trap, match="out of bounds"):
        ex["get"](store, 3 * 65536)
    # From the host: the same views are renewed.
    mem = ex["mem"]
    assert mem.grow(store, 1) == 3
    ex["put"](store, 4 * 65536 - 8, 9)
    assert ex["get"](store, 4 * 65536 - 8) == 9


@pytest.mark.parametrize("mode", MODES)
def test_grow_inside_address_and_value(mode: str) -> None:
    store, ex = _grow_instance(mode)
    assert ex["load_after_grow"](store) == 0  # page 2 exists once the address is computed
    ex["store_after_grow"](store)  # the value's call makes page 3
    assert ex["get"](store, 131072) == 77


@pytest.mark.parametrize("mode", MODES)
def test_grow_inside_a_loop_using_views(mode: str) -> None:
    store, ex = _grow_instance(mode)
    # Before the grow the loop reads 0 at memory.size*8 + 65528 (= page 1's last word, then
    # past it: the grow at i == 3 makes that address valid).
    with pytest.raises(Trap, match="out of bounds"):
        ex["loop_grow"](store, 100)  # never grows: reads past the end
    store, ex = _grow_instance(mode)
    assert ex["loop_grow"](store, 0) == 0


def test_a_host_view_pins_the_memory_and_views_still_work() -> None:
    """A host's live memoryview makes growth fail (memory.grow returns -1, as before views);
    translated code's views keep working, and growth works once the host lets go."""
    from engine.compat import PYPY

    store, ex = _grow_instance()
    ex["put"](store, 8, 42)
    pinned = memoryview(ex["mem"].data)
    # PyPy's bytearray memories are not pinned by a view: there the memory grows.
    assert ex["grow"](store, 1) == (1 if PYPY else -1)
    assert ex["get"](store, 8) == 42
    pinned.release()
    assert ex["grow"](store, 1) == (2 if PYPY else 1)
    assert ex["get"](store, 8) == 42


def test_empty_and_one_byte_page_memories() -> None:
    """A memory of no pages has empty views (every access traps) until it grows; a memory
    of 1-byte pages (custom page sizes) ends inside an item: the view covers the items that
    fit, the one across the end traps."""
    store = Store(Engine())
    wasm = wat2wasm("""(module (memory 0)
      (func (export "grow") (result i32) (memory.grow (i32.const 1)))
      (func (export "get") (param $a i32) (result i32)
        (i32.load (i32.and (local.get $a) (i32.const -4)))))""")
    ex = Instance(store, Module(store.engine, wasm), []).exports(store)
    with pytest.raises(Trap, match="out of bounds"):
        ex["get"](store, 0)
    assert ex["grow"](store) == 0
    assert ex["get"](store, 65532) == 0
    wasm = wat2wasm("""(module (memory 10 (pagesize 1))
      (func (export "get") (param $a i32) (result i32)
        (i32.load (i32.and (local.get $a) (i32.const -4))))
      (func (export "get_odd") (param $a i32) (result i32)
        (i32.load offset=2 (i32.and (local.get $a) (i32.const -4)))))""")
    ex = Instance(store, Module(store.engine, wasm), []).exports(store)
    assert ex["get"](store, 4) == 0
    assert ex["get_odd"](store, 4) == 0  # bytes 6..9: the last four
    with pytest.raises(Trap, match="out of bounds"):
        ex["get"](store, 8)  # bytes 8..11 of 10
    with pytest.raises(Trap, match="out of bounds"):
        ex["get_odd"](store, 8)


# -- the analysis ----------------------------------------------------------------------------


def _tz(text: str) -> list[int]:
    """The address bounds of every load and store of function 0, in order."""
    info = decode_module(wat2wasm(text))
    body = decode_body(info, 0)
    found = A.address_tz(body.instrs, len(info.func_type(0).params), VM._VIEW_NAMES)
    return [found.get(i) for i, (op, _) in enumerate(body.instrs) if op.name in VM._VIEW_NAMES]


def test_tz_of_address_arithmetic() -> None:
    assert _tz("""(module (memory 1) (func (param $a i32) (result i32)
      (i32.load (i32.mul (local.get $a) (i32.const 12)))
      (i32.load (i32.add (i32.shl (local.get $a) (i32.const 3)) (i32.const 1024)))
      (i32.load (i32.and (local.get $a) (i32.const -16)))
      (i32.load (i32.or (i32.shl (local.get $a) (i32.const 4)) (i32.const 2)))
      (i32.load (local.get $a))
      (i32.load (i32.const 0))
      drop drop drop drop drop))""") == [2, 3, 4, 1, 0, 64]


def test_tz_is_flow_sensitive_for_reused_locals() -> None:
    """A local reused for an index and an address: each access sees the value that reaches
    it; after a merge of an aligned and an unaligned value, the smaller bound."""
    assert _tz("""(module (memory 1) (func (param $n i32) (result i32) (local $x i32)
      (local.set $x (i32.add (local.get $n) (i32.const 1)))
      (i32.load (local.get $x))
      (local.set $x (i32.mul (local.get $x) (i32.const 8)))
      (i32.load (local.get $x))
      (if (local.get $n) (then (local.set $x (i32.const 6))))
      (i32.load (local.get $x))
      drop drop))""") == [0, 3, 1]


def test_tz_of_loop_carried_pointers() -> None:
    """``p += 8`` keeps p's alignment around the loop; ``p += 2`` lowers it at the loop's
    entry on the second visit."""
    assert _tz("""(module (memory 1) (func (param $n i32) (result i64) (local $p i32)
      (local.set $p (i32.const 64))
      (loop (drop (i64.load (local.get $p)))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br_if 0 (local.get $n)))
      (loop (drop (i64.load (local.get $p)))
            (local.set $p (i32.add (local.get $p) (i32.const 2)))
            (br_if 0 (local.get $n)))
      (i64.const 0)))""") == [3, 1]


def test_tz_gives_up_on_exception_handling() -> None:
    """A try_table (a throw reaches its handler from anywhere in it): nothing is known."""
    assert _tz("""(module (memory 1) (tag $t) (func (param $n i32) (result i32) (local $x i32)
      (local.set $x (i32.const 8))
      (i32.load (local.get $x))
      (block $h (try_table (catch $t $h) (local.set $x (i32.const 3))))
      drop (i32.const 0)))""") == [None]


def test_shared_memory_and_tail_calls_keep_struct() -> None:
    """No views for a shared memory (another thread could grow it) nor in a function whose
    factory runs its source (tail calls): codeobj would bind a view's cell as a value."""
    if not VM.VIEWS:
        pytest.skip("typed views are CPython's")
    for index, text in ((0, """(module (memory 1 1 shared) (func (result i32)
                                (i32.load (i32.const 64))))"""),
                        (1, """(module (memory 1) (func $g (result i32) (i32.const 0))
                                (func (result i32) (drop (i32.load (i32.const 64)))
                                  (return_call $g)))""")):
        info = decode_module(wat2wasm(text))
        src = T.translate_source(info, index, decode_body(info, index))
        assert "V0I" not in src and "U32(M0" in src, src
    info = decode_module(wat2wasm("(module (memory 1) (func (result i32) "
                                  "(i32.load (i32.const 64))))"))
    assert "V0I0[" in T.translate_source(info, 0, decode_body(info, 0))


# -- view indexes from linear addresses (visit_memory.view_index) ------------------------------

#: Values of the index local: small, near 2**30 and 2**32 (``i * 4 + k`` wraps to a small
#: address, which is in bounds) and in between.
INDEXES = (0, 5, 255, 0x3FFFFFF0, 0x40000005, 0xFFFFFF00, 0xFFFFFFFF, 0xC0000010, 0x80000001)


def _linear_address(rng: random.Random) -> str:
    """An aligned-looking linear address over ``$i``: scales, shifts and literal terms,
    added and subtracted in either order (some wrap past 2**32)."""
    # the operand: the index, or an effectful one (a load; a call that grows the memory,
    # evaluated before the view is read)
    x = rng.choice(("(local.get $i)", "(local.get $i)",
                    "(i32.xor (local.get $i) (i32.load8_u offset=3 (i32.const 0)))",
                    "(call $grow_id (local.get $i))"))
    for _ in range(rng.randrange(1, 4)):
        r = rng.randrange(5)
        if r == 0:
            x = f"(i32.mul {x} (i32.const {rng.choice((4, 8, 12, 16, -4, -8, 24))}))"
        elif r == 1:
            x = f"(i32.shl {x} (i32.const {rng.choice((2, 3, 4, 34, 31))}))"
        elif r == 2:
            x = f"(i32.add {x} (i32.const {rng.choice((0, 4, 8, 1024, 4096, -8, -1024, 6))}))"
        elif r == 3:
            x = f"(i32.add (i32.const {rng.choice((16, 2048, -16, 3))}) {x})"
        else:
            x = (f"(i32.sub (i32.const {rng.choice((4096, 8, 0))}) {x})" if rng.random() < 0.5
                 else f"(i32.sub {x} (i32.const {rng.choice((8, 1024, -4096, 12))}))")
    return f"(i32.and {x} (i32.const 0xFFFF))" if rng.random() < 0.3 else x


def _linear_module(seed: int) -> str:
    rng = random.Random(seed)
    body = []
    for _ in range(8):
        addr = _linear_address(rng)
        off = rng.choice((0, 0, 4, 8, 16, 3))
        kind = rng.choice(("i32", "i64", "f64"))
        if rng.random() < 0.5:
            load = f"({kind}.load offset={off} {addr})"
            if kind == "f64":
                load = f"(i64.reinterpret_f64 {load})"
            elif kind == "i32":
                load = f"(i64.extend_i32_u {load})"
            body.append(f"(local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 5)) "
                        f"{load}))")
        else:
            v = {"i32": "(i32.wrap_i64 (local.get $acc))", "i64": "(local.get $acc)",
                 "f64": "(f64.reinterpret_i64 (local.get $acc))"}[kind]
            body.append(f"({kind}.store offset={off} {addr} {v})")
    return f"""(module (memory 1 3)
      (func $grow_id (param $i i32) (result i32)
        (drop (memory.grow (i32.const 1))) (local.get $i))
      (func (export "run") (param $i i32) (result i64) (local $acc i64)
        (local.set $acc (i64.const 0x0123456789abcdef))
        {" ".join(body)}
        (local.get $acc))
      {SUM})"""


@needs_tools()
@pytest.mark.parametrize("seed", range(40))
def test_linear_view_indexes_equal_wasmtime(seed: int) -> None:
    wasm = wat2wasm(_linear_module(seed))
    ours = run_and_sum(instance(wasm, MODES[seed % 3]), INDEXES)
    assert ours == run_and_sum(instance(wasm, None), INDEXES)


def test_linear_programs_reach_linear_indexes() -> None:
    """Guard for the test above: its accesses index views from linear forms, with scales,
    literal terms and offsets."""
    if not VM.VIEWS:
        pytest.skip("typed views are CPython's")
    forms: set[str] = set()
    for seed in range(40):
        info = decode_module(wat2wasm(_linear_module(seed)))
        src = T.translate_source(info, 1, decode_body(info, 1))
        for index in re.findall(r"\bV0[IQd]\d\[(.*?% (?:1073741824|536870912)\)[^\]]*)\]", src):
            forms.add("scale" if " * " in index else "plain")
            forms.add("offset" if re.search(r"\) \+ \d+$", index) else "no offset")
            forms.add("term" if re.search(r" \+ \d+\) %", index) else "no term")
            forms.add("temporary" if re.match(r"\(+t\d", index) else "local")
    assert forms == {"scale", "plain", "offset", "no offset", "term", "no term", "temporary",
                     "local"}, forms
