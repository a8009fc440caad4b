"""The public API end to end, on real modules written in WAT, in every compilation mode."""

from __future__ import annotations

import functools
import sys

import pytest

from engine import (
    Config,
    Engine,
    EngineError,
    ExhaustionError,
    Func,
    FuncType,
    Global,
    GlobalType,
    Instance,
    Limits,
    Linker,
    LinkError,
    Memory,
    MemoryAccessError,
    MemoryType,
    Module,
    Store,
    Table,
    TableType,
    Trap,
    ValType,
    WasmError,
    wat2wasm,
)

MODES = ["eager", "lazy-translation", "lazy"]


@functools.cache
def wat(text: str, check: bool = True) -> bytes:
    """Assemble WAT text with the engine's own text front end (``engine.wat2wasm``, which
    the text cross-check tests compare with wasm-tools). It never validates, so ``check``
    (kept for callers that build invalid bodies on purpose) changes nothing."""
    return wat2wasm(text)


@pytest.fixture(params=MODES)
def store(request: pytest.FixtureRequest) -> Store:
    return Store(Engine(Config(compilation_mode=request.param)))


def instantiate(store: Store, text: str, imports: list | tuple = ()) -> Instance:
    return Instance(store, Module(store.engine, wat(text)), list(imports))


ADD = """(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "id64") (param i64) (result i64) local.get 0)
  (func (export "idf32") (param f32) (result f32) local.get 0)
  (func (export "idf64") (param f64) (result f64) local.get 0)
  (func (export "swap") (param i32 i32) (result i32 i32) local.get 1 local.get 0)
  (func (export "nothing"))
  (memory (export "mem") 1 3)
  (table (export "tab") 2 funcref)
  (global (export "g") (mut i32) (i32.const -5))
)"""


def test_exports_and_python_values(store: Store) -> None:
    ex = Instance(store, Module(store.engine, wat(ADD))).exports(store)
    assert list(ex) == ["add", "id64", "idf32", "idf64", "swap", "nothing", "mem", "tab", "g"]
    assert ex["add"](store, 2, 3) == 5
    assert ex["add"](store, 0xFFFFFFFF, 0) == -1  # unsigned in, signed out
    assert ex["add"](store, -2, 1) == -1
    assert ex["id64"](store, 2**64 - 1) == -1
    assert ex["idf32"](store, 0.1) == pytest.approx(0.1, rel=1e-7) and ex["idf32"](store, 0.1) != 0.1
    assert ex["idf64"](store, 0.1) == 0.1
    assert ex["swap"](store, 1, 2) == [2, 1]
    assert ex["nothing"](store) is None
    assert ex["add"].type(store) == FuncType(("i32", "i32"), ("i32",))
    with pytest.raises(TypeError):
        ex["add"](store, 1)


def test_export_identity(store: Store) -> None:
    inst = Instance(store, Module(store.engine, wat(ADD)))
    a, b = inst.exports(store), inst.exports(store)
    for name in a:
        assert a[name] is b[name]
    assert isinstance(a["mem"], Memory) and isinstance(a["tab"], Table)
    assert isinstance(a["g"], Global) and isinstance(a["add"], Func)


def test_call_bits_is_bit_exact(store: Store) -> None:
    ex = Instance(store, Module(store.engine, wat(ADD))).exports(store)
    assert ex["idf32"].call_bits(store, [0x7FA00001]) == [0x7FA00001]  # signalling NaN payload
    assert ex["idf32"].call_bits(store, [0xFF800000]) == [0xFF800000]
    assert ex["idf64"].call_bits(store, [0x7FF0000000000001]) == [0x7FF0000000000001]
    assert ex["add"].call_bits(store, [0xFFFFFFFF, 2]) == [1]
    assert ex["swap"].call_bits(store, [1, 2]) == [2, 1]


IMPORTER = """(module
  (import "a" "add" (func $add (param i32 i32) (result i32)))
  (import "a" "mem" (memory 1))
  (import "a" "tab" (table 1 funcref))
  (import "a" "g" (global (mut i32)))
  (func (export "add3") (param i32) (result i32) local.get 0 i32.const 3 call $add)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "bump") global.get 0 i32.const 1 i32.add global.set 0)
  (export "add" (func $add))
  (export "mem" (memory 0))
  (export "tab" (table 0))
  (export "g" (global 0))
)"""


def test_imports_across_instances(store: Store) -> None:
    a = Instance(store, Module(store.engine, wat(ADD))).exports(store)
    imports = [a["add"], a["mem"], a["tab"], a["g"]]
    b = instantiate(store, IMPORTER, imports).exports(store)
    assert b["add3"](store, 4) == 7
    for name in ("add", "mem", "tab", "g"):
        assert b[name] is a[name]  # re-export keeps identity
    a["mem"].write(store, b"\x01\x02\x00\x00", 8)
    assert b["load"](store, 8) == 0x0201
    b["bump"](store)
    assert a["g"].value(store) == -4


def test_linker(store: Store) -> None:
    linker = Linker(store.engine)
    a = Instance(store, Module(store.engine, wat(ADD)))
    linker.define_instance(store, "a", a)
    b = linker.instantiate(store, Module(store.engine, wat(IMPORTER)))
    assert b.exports(store)["add3"](store, 1) == 4
    with pytest.raises(LinkError, match="defined twice"):
        linker.define(store, "a", "add", a.exports(store)["add"])
    missing = '(module (import "nope" "f" (func)))'
    with pytest.raises(LinkError, match="^unknown import: `nope::f` has not been defined$"):
        linker.instantiate(store, Module(store.engine, wat(missing)))


def test_incompatible_imports(store: Store) -> None:
    a = Instance(store, Module(store.engine, wat(ADD))).exports(store)
    good = [a["add"], a["mem"], a["tab"], a["g"]]
    module = Module(store.engine, wat(IMPORTER))
    for pos, wrong in [(0, a["nothing"]), (0, a["mem"]), (1, a["tab"]), (3, a["mem"])]:
        bad = list(good)
        bad[pos] = wrong
        with pytest.raises(LinkError, match="incompatible import type"):
            Instance(store, module, bad)
    immutable = Global(store, GlobalType(ValType.i32(), False), 0)
    with pytest.raises(LinkError, match="incompatible import type"):
        Instance(store, module, good[:3] + [immutable])
    with pytest.raises(LinkError):
        Instance(store, module, good[:3])
    # limits subtyping: an import of (memory 1 2) rejects a memory without a maximum
    bounded = Module(store.engine, wat('(module (import "a" "m" (memory 1 2)))'))
    with pytest.raises(LinkError, match="incompatible import type"):
        Instance(store, bounded, [Memory(store, MemoryType(Limits(1)))])
    Instance(store, bounded, [Memory(store, MemoryType(Limits(2, 2)))])


HOSTCALL = """(module
  (import "h" "twice" (func $twice (param i32) (result i32)))
  (import "h" "pair" (func $pair (result i32 f64)))
  (func (export "quad") (param i32) (result i32) local.get 0 call $twice call $twice)
  (func (export "pair") (result i32 f64) call $pair)
)"""


def test_host_functions(store: Store) -> None:
    seen = []

    def twice(x: int) -> int:
        seen.append(x)
        return x * 2

    i32 = ValType.i32()
    twice_f = Func(store, FuncType([i32], [i32]), twice)
    pair_f = Func(store, FuncType([], [i32, ValType.f64()]), lambda: (-1, 2.5))
    ex = instantiate(store, HOSTCALL, [twice_f, pair_f]).exports(store)
    assert ex["quad"](store, -3) == -12
    assert seen == [-3, -6]  # host receives signed Python ints
    assert ex["pair"](store) == [-1, 2.5]
    assert ex["pair"].call_bits(store, []) == [0xFFFFFFFF, 0x4004000000000000]
    raw = Func.from_raw(store, FuncType([i32], [i32]), lambda x: (x * 2) & 0xFFFFFFFF)
    assert raw.ftype is twice_f.ftype  # interned
    ex2 = instantiate(store, HOSTCALL, [raw, pair_f]).exports(store)
    assert ex2["quad"].call_bits(store, [0xFFFFFFFF]) == [0xFFFFFFFC]


def test_memory_api(store: Store) -> None:
    mem = Memory(store, MemoryType(Limits(1, 2)))
    assert mem.size(store) == 1 and mem.data_len(store) == 65536
    assert mem.write(store, b"abc", 10) == 3
    assert mem.read(store, 10, 13) == b"abc"
    assert mem.grow(store, 1) == 1 and mem.size(store) == 2
    with pytest.raises(EngineError):
        mem.grow(store, 1)
    # wasmtime-py's read: list slicing (clipped bounds, negative from the end), a bytearray
    assert mem.read(store, 2 * 65536 - 1, 2 * 65536 + 1) == bytearray(1)
    assert mem.read(store, -65536 * 2 + 10, 13) == b"abc"
    assert mem.read(store, 13, 10) == bytearray()
    assert isinstance(mem.read(store, 10, 13), bytearray)
    # ... and write: an IndexError (MemoryAccessError) out of bounds, nothing written
    with pytest.raises(IndexError):
        mem.write(store, b"xy", 2 * 65536 - 1)
    with pytest.raises(MemoryAccessError):
        mem.write(store, b"", 2 * 65536)
    assert mem.read(store, -1) == bytearray(1)
    assert mem.write(store, b"z", -1) == 1 and mem.read(store, -1) == b"z"
    assert mem.type(store) == MemoryType(Limits(2, 2))
    text = """(module (import "m" "mem" (memory 1))
      (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"""
    ex = instantiate(store, text, [mem]).exports(store)
    assert ex["grow"](store, 1) == -1  # at maximum
    assert ex["grow"](store, 0) == 2


def test_memory_grow_failure_is_minus_one(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    mem = Memory(store, MemoryType(Limits(1)))

    class Boom(bytearray):
        def extend(self, _: object) -> None:
            raise MemoryError

    mem._mem.data = Boom(mem._mem.data)
    assert mem._mem.grow(1) == -1
    with pytest.raises(WasmError):
        mem.grow(store, 1)


TABLE = """(module
  (import "t" "tab" (table 2 10 funcref))
  (type $v_i (func (result i32)))
  (func $seven (result i32) i32.const 7)
  (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $v_i))
  (func (export "ref") (result funcref) ref.func $seven)
  (elem (table 0) (i32.const 1) func $seven)
)"""


def test_table_api(store: Store) -> None:
    tab = Table(store, TableType(ValType.funcref(), Limits(2, 10)), None)
    assert tab.size(store) == 2 and tab.get(store, 0) is None
    ex = instantiate(store, TABLE, [tab]).exports(store)
    seven = tab.get(store, 1)
    assert isinstance(seven, Func) and seven(store) == 7
    assert ex["ref"](store) is seven  # one Func per function: ref.func and elem agree
    assert ex["call"](store, 1) == 7
    with pytest.raises(Trap, match="uninitialized element"):
        ex["call"](store, 0)
    tab.set(store, 0, Func(store, FuncType([], ["i32"]), lambda: 42))
    assert ex["call"](store, 0) == 42
    tab.set(store, 0, Func(store, FuncType([], ["i64"]), lambda: 42))
    with pytest.raises(Trap, match="indirect call type mismatch"):
        ex["call"](store, 0)
    assert tab.grow(store, 3, seven) == 2 and tab.size(store) == 5
    assert ex["call"](store, 4) == 7
    with pytest.raises(EngineError):
        tab.grow(store, 6, None)
    with pytest.raises(TypeError):
        tab.set(store, 0, "not a func")
    assert tab.get(store, 5) is None and tab.get(store, -1) is None  # wasmtime-py: None
    with pytest.raises(EngineError, match="out of bounds"):
        tab.set(store, 5, None)


def test_global_api(store: Store) -> None:
    g = Global(store, GlobalType(ValType.f32(), True), 1.5)
    assert g.value(store) == 1.5 and g.bits(store) == 0x3FC00000
    g.set_bits(store, 0x7FA00001)
    assert g.bits(store) == 0x7FA00001
    c = Global(store, GlobalType(ValType.i64(), False), -1)
    assert c.value(store) == -1 and c.bits(store) == 2**64 - 1
    with pytest.raises(WasmError):
        c.set_value(store, 3)
    text = """(module (import "g" "x" (global $x i64))
      (global (export "y") i64 (global.get $x))
      (func (export "get") (result i64) global.get 1))"""
    ex = instantiate(store, text, [c]).exports(store)
    assert ex["y"].value(store) == -1 and ex["get"](store) == -1


def test_traps(store: Store) -> None:
    text = """(module (func (export "boom") unreachable)
      (memory 1) (func (export "oob") (result i32) i32.const 65535 i32.load))"""
    ex = instantiate(store, text).exports(store)
    with pytest.raises(Trap, match="unreachable"):
        ex["boom"](store)
    with pytest.raises(Trap, match="out of bounds memory access"):
        ex["oob"](store)


RECURSE = """(module
  (func $down (export "down") (param i32) (result i32)
    local.get 0 i32.eqz
    if (result i32) i32.const 0
    else local.get 0 i32.const 1 i32.sub call $down i32.const 1 i32.add end)
  (func $forever (export "forever") call $forever)
)"""


def test_exhaustion_then_continued_use(store: Store) -> None:
    ex = instantiate(store, RECURSE).exports(store)
    limit = sys.getrecursionlimit()
    with pytest.raises(ExhaustionError, match="call stack exhausted"):
        ex["forever"](store)
    assert sys.getrecursionlimit() == limit  # restored after the outermost entry
    assert ex["down"](store, 100) == 100
    with pytest.raises(ExhaustionError):
        ex["forever"](store)
    assert ex["down"](store, 50) == 50


def test_max_call_depth() -> None:
    shallow = Store(Engine(Config(max_call_depth=300)))
    ex = instantiate(shallow, RECURSE).exports(shallow)
    assert ex["down"](shallow, 50) == 50
    with pytest.raises(ExhaustionError):
        ex["down"](shallow, 5000)
    deep = Store(Engine(Config(max_call_depth=20000)))
    assert instantiate(deep, RECURSE).exports(deep)["down"](deep, 3000) == 3000


def test_host_exhaustion_inside_reentry(store: Store) -> None:
    """A host callback re-entering wasm that exhausts: the trap crosses the host frame."""
    text = """(module (import "h" "cb" (func $cb))
      (func (export "enter") call $cb)
      (func $forever (export "forever") call $forever))"""
    holder: dict = {}
    cb = Func(store, FuncType([], []), lambda: holder["forever"](store))
    ex = instantiate(store, text, [cb]).exports(store)
    holder["forever"] = ex["forever"]
    with pytest.raises(ExhaustionError):
        ex["enter"](store)
    assert ex["enter"] is ex["enter"]


SEGMENTS = """(module
  (import "t" "tab" (table 3 funcref))
  (import "m" "mem" (memory 1))
  (func $f (result i32) i32.const 1)
  (elem (i32.const 0) $f)
  (elem (i32.const 2) $f $f)
  (data (i32.const 0) "hi")
)"""


def test_segment_trap_keeps_earlier_writes(store: Store) -> None:
    tab = Table(store, TableType(ValType.funcref(), Limits(3)), None)
    mem = Memory(store, MemoryType(Limits(1)))
    with pytest.raises(Trap, match="out of bounds table access"):
        instantiate(store, SEGMENTS, [tab, mem])
    assert tab.get(store, 0) is not None and tab.get(store, 0)(store) == 1  # first segment kept
    assert tab.get(store, 2) is None  # the trapping segment wrote nothing
    assert mem.read(store, 0, 2) == b"\0\0"  # data segments not reached
    data_oob = """(module (import "m" "mem" (memory 1))
      (data (i32.const 0) "ok") (data (i32.const 65535) "no"))"""
    with pytest.raises(Trap, match="out of bounds memory access"):
        instantiate(store, data_oob, [mem])
    assert mem.read(store, 0, 2) == b"ok"


def test_start_function_and_passive_segments(store: Store) -> None:
    text = """(module
      (global $g (export "g") (mut i32) (i32.const 0))
      (func $start i32.const 9 global.set $g)
      (start $start)
      (func $f)
      (elem declare func $f)
      (elem $p funcref (ref.func $f) (ref.null func))
      (memory 1) (data $d "xyz"))"""
    inst = instantiate(store, text)
    assert inst.exports(store)["g"].value(store) == 9
    rt = inst._rt
    assert rt.elems[0] == () and len(rt.elems[1]) == 2 and rt.elems[1][1] is None
    assert rt.elems[1][0] is rt.func_refs[1]
    assert rt.datas == [b"xyz"]
    with pytest.raises(Trap, match="unreachable"):
        instantiate(store, '(module (func $s unreachable) (start $s))')


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        Config(compilation_mode="jit")
    config = Config()
    assert config.compilation_mode == "lazy-translation"
    config.compilation_mode = "eager"
    assert Engine(config).code_map.mode == "eager"
