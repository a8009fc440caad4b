"""wasmtime-py's conventions (issue 16 item 5) and host exceptions (issue 12 item 5).

Error hierarchy (Trap beside EngineError), trap codes and frames, store ownership, value-equal
types, import/export types, errors that name the import / function / offset, host
exceptions that keep their type, and range checks of raw host results; in every mode.
"""

from __future__ import annotations

import pytest
from test_api import MODES, instantiate, wat
from text_suites import strip_name_sections

from engine import (
    CompileError,
    Config,
    Engine,
    EngineError,
    ExhaustionError,
    ExportType,
    Func,
    FuncType,
    Global,
    GlobalType,
    ImportType,
    Instance,
    InvalidError,
    Limits,
    Linker,
    LinkError,
    MalformedError,
    Memory,
    MemoryType,
    Module,
    Store,
    StoreMismatchError,
    Table,
    TableType,
    Trap,
    TrapCode,
    ValType,
    WasmError,
)


@pytest.fixture(params=MODES)
def store(request: pytest.FixtureRequest) -> Store:
    return Store(Engine(Config(compilation_mode=request.param)))


def wat_named(text: str) -> bytes:
    """Assemble with a name section (module, function and local names from identifiers):
    ``engine.wat2wasm`` writes one whenever something is named."""
    return wat(text)


# -- the error hierarchy ----------------------------------------------------------------


def test_trap_is_a_sibling_of_engine_errors() -> None:
    assert not issubclass(Trap, EngineError) and not issubclass(EngineError, Trap)
    for cls in (CompileError, MalformedError, InvalidError, LinkError, StoreMismatchError):
        assert issubclass(cls, EngineError)
    assert issubclass(Trap, WasmError) and issubclass(EngineError, WasmError)
    assert issubclass(ExhaustionError, Trap)


def test_except_engine_error_lets_a_trapping_start_through(store: Store) -> None:
    module = Module(store.engine, wat("(module (func $s unreachable) (start $s))"))
    with pytest.raises(Trap) as info:
        try:
            Instance(store, module, [])
        except EngineError:  # must not catch the trap
            pytest.fail("a trap was caught as an EngineError")
    assert info.value.trap_code is TrapCode.UNREACHABLE_CODE_REACHED


# -- trap codes -------------------------------------------------------------------------

TRAPS = """(module
  (type $v (func))
  (table 2 funcref)
  (memory 1)
  (func $i64 (result i64) i64.const 0)
  (elem (i32.const 1) $i64)
  (func (export "unreachable") unreachable)
  (func (export "div0") (result i32) i32.const 1 i32.const 0 i32.div_u)
  (func (export "divs0") (result i32) i32.const 1 i32.const 0 i32.div_s)
  (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
  (func (export "conv") (result i32) f32.const nan i32.trunc_f32_s)
  (func (export "oob") (result i32) i32.const 65536 i32.load)
  (func (export "undefined") i32.const 5 call_indirect (type $v))
  (func (export "null") i32.const 0 call_indirect (type $v))
  (func (export "signature") i32.const 1 call_indirect (type $v))
  (func $deep (export "deep") call $deep)
)"""


@pytest.mark.parametrize(("name", "code", "text"), [
    ("unreachable", TrapCode.UNREACHABLE_CODE_REACHED, "unreachable"),
    ("div0", TrapCode.INTEGER_DIVISION_BY_ZERO, "integer divide by zero"),
    ("divs0", TrapCode.INTEGER_DIVISION_BY_ZERO, "integer divide by zero"),
    ("overflow", TrapCode.INTEGER_OVERFLOW, "integer overflow"),
    ("conv", TrapCode.BAD_CONVERSION_TO_INTEGER, "invalid conversion to integer"),
    ("oob", TrapCode.MEMORY_OUT_OF_BOUNDS, "out of bounds memory access"),
    ("undefined", TrapCode.TABLE_OUT_OF_BOUNDS, "undefined element"),
    ("null", TrapCode.INDIRECT_CALL_TO_NULL, "uninitialized element"),
    ("signature", TrapCode.BAD_SIGNATURE, "indirect call type mismatch"),
    ("deep", TrapCode.STACK_OVERFLOW, "call stack exhausted"),
])
def test_trap_codes(store: Store, name: str, code: TrapCode, text: str) -> None:
    ex = instantiate(store, TRAPS).exports(store)
    with pytest.raises(Trap) as info:
        ex[name](store)
    assert info.value.trap_code is code
    assert info.value.message.startswith(text) and str(info.value) == info.value.message


def test_wasmtime_alias_and_host_traps() -> None:
    assert TrapCode.UNREACHABLE is TrapCode.UNREACHABLE_CODE_REACHED
    assert Trap("my own reason").trap_code is None
    assert Trap("all fuel consumed").trap_code is TrapCode.OUT_OF_FUEL
    assert Trap("interrupt").trap_code is TrapCode.INTERRUPT


# -- frames -------------------------------------------------------------------------------

FRAMES = """(module $demo
  (import "h" "cb" (func $cb))
  (func $inner (param i32) (result i32) local.get 0 unreachable)
  (func $middle (export "middle") (result i32) i32.const 7 call $inner)
  (func $outer (export "outer") (result i32) call $middle i32.const 1 i32.add)
  (func $recurse (export "recurse") call $recurse)
  (func $calls_host (export "calls_host") call $cb)
)"""


def test_frames_name_functions_innermost_first(store: Store) -> None:
    data = wat_named(FRAMES)
    host = Func(store, FuncType([], []), lambda: None)
    ex = Instance(store, Module(store.engine, data), [host]).exports(store)
    with pytest.raises(Trap) as info:
        ex["outer"](store)
    frames = info.value.frames
    assert [f.func_index for f in frames] == [1, 2, 3]  # import 0 is the host function
    assert [f.func_name for f in frames] == ["inner", "middle", "outer"]
    assert {f.module_name for f in frames} == {"demo"}
    offsets = [f.module_offset for f in frames]
    assert all(isinstance(o, int) and 0 < o < len(data) for o in offsets)
    assert offsets == sorted(offsets)  # inner is defined first: its body comes first


def test_frames_without_name_section(store: Store) -> None:
    host = Func(store, FuncType([], []), lambda: None)
    data = strip_name_sections(wat(FRAMES))
    assert b"\x04name" not in data and len(data) < len(wat(FRAMES))
    ex = Instance(store, Module(store.engine, data), [host]).exports(store)
    with pytest.raises(Trap) as info:
        ex["middle"](store)
    assert [(f.func_index, f.func_name, f.module_name) for f in info.value.frames] == [
        (1, None, None), (2, None, None)]


def test_exhaustion_frames_survive_the_unwinding(store: Store) -> None:
    host = Func(store, FuncType([], []), lambda: None)
    ex = Instance(store, Module(store.engine, wat_named(FRAMES)), [host]).exports(store)
    with pytest.raises(ExhaustionError) as info:
        ex["recurse"](store)
    frames = info.value.frames
    assert len(frames) > 100 and {f.func_name for f in frames} == {"recurse"}


def test_host_trap_frames_cross_the_host(store: Store) -> None:
    def cb() -> None:
        raise Trap("host says no")

    ex = Instance(store, Module(store.engine, wat_named(FRAMES)),
                  [Func(store, FuncType([], []), cb)]).exports(store)
    with pytest.raises(Trap, match="host says no") as info:
        ex["calls_host"](store)
    assert info.value.trap_code is None
    assert [f.func_name for f in info.value.frames] == ["calls_host"]


# -- stores ---------------------------------------------------------------------------------


IMPORTS_ALL = """(module
  (import "env" "log" (func (param i32)))
  (import "env" "mem" (memory 1))
  (import "env" "tab" (table 1 funcref))
  (import "env" "g" (global i32)))"""


def test_objects_of_another_store_are_refused() -> None:
    a, b = Store(), Store()
    module = Module(a.engine, wat(IMPORTS_ALL))
    log = Func(a, FuncType([ValType.i32()], []), lambda x: None)
    mem = Memory(a, MemoryType(Limits(1)))
    tab = Table(a, TableType(ValType.funcref(), Limits(1)), None)
    glob = Global(a, GlobalType(ValType.i32(), False), 1)
    Instance(a, module, [log, mem, tab, glob])  # the owning store: fine
    own_b = [Func(b, FuncType([ValType.i32()], []), lambda x: None), Memory(b, MemoryType(
        Limits(1))), Table(b, TableType(ValType.funcref(), Limits(1)), None),
        Global(b, GlobalType(ValType.i32(), False), 1)]
    for k, foreign in enumerate([log, mem, tab, glob]):
        imports = list(own_b)
        imports[k] = foreign
        with pytest.raises(StoreMismatchError, match="env::"):
            Instance(b, module, imports)
    with pytest.raises(StoreMismatchError):
        log(b, 1)
    with pytest.raises(StoreMismatchError):
        log.call_bits(b, [1])
    with pytest.raises(StoreMismatchError):
        own_b[2].set(b, 0, Func(a, FuncType([], []), lambda: None))
    with pytest.raises(StoreMismatchError):
        Table(b, TableType(ValType.funcref(), Limits(1)), log)
    fglob = Global(b, GlobalType(ValType.funcref(), True), None)
    with pytest.raises(StoreMismatchError):
        fglob.set_value(b, log)
    with pytest.raises(StoreMismatchError, match="`env::log`"):
        Linker(b.engine).define(b, "env", "log", log)


def test_store_free_linker_functions_serve_every_store() -> None:
    linker = Linker(Engine())
    seen: list[int] = []
    linker.define_func("env", "log", FuncType([ValType.i32()], []), seen.append)
    text = '(module (import "env" "log" (func $l (param i32))) (func (export "go") i32.const 3 call $l))'
    for s in (Store(linker.engine), Store(linker.engine)):
        linker.instantiate(s, Module(linker.engine, wat(text))).exports(s)["go"](s)
    assert seen == [3, 3]


def test_wasm_funcs_belong_to_their_instance_store() -> None:
    a, b = Store(), Store()
    f = instantiate(a, '(module (func (export "f")))').exports(a)["f"]
    f(a)
    with pytest.raises(StoreMismatchError):
        f(b)


# -- types ------------------------------------------------------------------------------------


def test_types_are_hashable_and_equal_by_value() -> None:
    i32, f64 = ValType.i32(), ValType.f64()
    assert i32 == ValType.i32() == "i32" and hash(i32) == hash("i32") and i32 != f64
    assert isinstance(i32, ValType) and repr(i32) == "ValType.i32()"
    a = FuncType([i32, f64], [i32])
    b = FuncType((ValType.i32(), ValType.f64()), [ValType.i32()])
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1 and {a: 1}[b] == 1
    assert a != FuncType([f64, i32], [i32])
    assert a.params == ("i32", "f64")
    for x, y in [(GlobalType(i32, True), GlobalType(ValType.i32(), True)),
                 (TableType(ValType.funcref(), Limits(1, 2)), TableType("funcref", Limits(1, 2))),
                 (MemoryType(Limits(1)), MemoryType(Limits(1, None)))]:
        assert x == y and hash(x) == hash(y) and len({x, y}) == 1
    assert GlobalType(i32, True) != GlobalType(i32, False)
    assert TableType("funcref", Limits(1)).element == "funcref"


def test_import_and_export_types(store: Store) -> None:
    text = """(module
      (import "env" "log" (func (param i32)))
      (import "env" "mem" (memory 1 2))
      (import "env" "g" (global (mut i64)))
      (table $t 3 funcref)
      (func $f (result f32) f32.const 0)
      (global $h f64 (f64.const 0))
      (export "f" (func $f)) (export "t" (table $t)) (export "h" (global $h))
      (export "mem" (memory 0)) (export "log" (func 0)))"""
    module = Module(store.engine, wat(text))
    assert module.imports == [
        ImportType("env", "log", FuncType(["i32"], []), "func"),
        ImportType("env", "mem", MemoryType(Limits(1, 2)), "memory"),
        ImportType("env", "g", GlobalType("i64", True), "global"),
    ]
    assert [(e.name, e.type) for e in module.exports] == [
        ("f", FuncType([], ["f32"])), ("t", TableType("funcref", Limits(3))),
        ("h", GlobalType("f64", False)), ("mem", MemoryType(Limits(1, 2))),
        ("log", FuncType(["i32"], []))]
    assert all(isinstance(e, ExportType) for e in module.exports)


# -- errors that name things -------------------------------------------------------------------


def test_link_errors_name_the_import(store: Store) -> None:
    module = Module(store.engine, wat('(module (import "env" "log" (func (param i32))))'))
    with pytest.raises(LinkError, match="unknown import: `env::log` has not been defined"):
        Linker(store.engine).instantiate(store, module)
    wrong = Func(store, FuncType([], []), lambda: None)
    with pytest.raises(LinkError) as info:
        Instance(store, module, [wrong])
    assert str(info.value) == ("incompatible import type for `env::log`: expected func [i32] -> [],"
                               " got func [] -> []")
    with pytest.raises(LinkError, match=r"`env::log`: expected func \[i32\] -> \[\], got memory 1"):
        Instance(store, module, [Memory(store, MemoryType(Limits(1)))])


def test_link_error_escapes_module_names(store: Store) -> None:
    module = Module(store.engine, wat('(module (import "a\\0a\\22b" "x" (func)))'))
    with pytest.raises(LinkError) as info:
        Linker(store.engine).instantiate(store, module)
    assert "\n" not in str(info.value) and "a\\n\"b::x" in str(info.value)


INVALID_BODY = """(module
  (func (result i32) i32.const 1)
  (func (export "bad") (result i32) i64.const 1))"""


def test_invalid_body_names_function_and_offset(store: Store) -> None:
    data = wat(INVALID_BODY, check=False)
    with pytest.raises(InvalidError) as info:
        Module(store.engine, data).compile_all()
    err = info.value
    assert err.message == "type mismatch" and "type mismatch" in str(err)
    assert err.func_index == 1 and isinstance(err.offset, int) and 0 < err.offset < len(data)
    assert str(err) == f"type mismatch (in function 1, body at byte offset {err.offset:#x})"
    # The body is where the offset says: its first byte is the body's local-group count.
    assert data[err.offset] == 0


def test_malformed_body_names_function(store: Store) -> None:
    good = wat('(module (func (export "f") nop))')
    # Replace `nop` (0x01) in the body by an unknown opcode.
    body_at = good.rindex(b"\x01\x0b")
    data = good[:body_at] + b"\xff" + good[body_at + 1:]
    with pytest.raises(MalformedError) as info:
        Module(store.engine, data).compile_all()
    assert info.value.func_index == 0 and info.value.offset is not None
    assert "in function 0" in str(info.value)


def test_module_level_errors_have_no_location(store: Store) -> None:
    with pytest.raises(InvalidError) as info:
        Module(store.engine, wat("(module (start 0) (func (param i32)))", check=False))
    assert info.value.func_index is None and str(info.value) == info.value.message
