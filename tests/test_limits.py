"""Store limits (issue 12 item 2): ``Store.set_limits`` as wasmtime-py, and memories that are
not paid for before they are touched."""

from __future__ import annotations

import platform
import resource
import sys

import pytest
from test_api import MODES, instantiate, wat

from engine import (
    Config,
    Engine,
    EngineError,
    Func,
    FuncType,
    Instance,
    Limits,
    Memory,
    MemoryType,
    Module,
    ResourceLimitError,
    Store,
    Table,
    TableType,
    ValType,
)
from engine.runtime.memory import MMAP_RESIZABLE

PAGE = 65536
HUGE = "(module (memory (export \"mem\") 65536))"  # 4 GiB declared minimum
GROW = """(module
  (memory (export "mem") 1)
  (table (export "tab") 1 funcref)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "tgrow") (param i32) (result i32) ref.null func local.get 0 table.grow 0)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load))"""
SMALL = "(module (func (export \"one\") (result i32) i32.const 1))"


@pytest.fixture(params=MODES)
def store(request: pytest.FixtureRequest) -> Store:
    return Store(Engine(Config(compilation_mode=request.param)))


def test_limits_refuse_a_4gib_memory_and_leave_the_store_usable(store: Store) -> None:
    store.set_limits(memory_size=16 * PAGE)
    module = Module(store.engine, wat(HUGE))
    with pytest.raises(ResourceLimitError) as info:
        Instance(store, module, [])
    assert str(info.value) == ("memory minimum size of 65536 pages exceeds memory limits "
                               "(1048576 bytes)")
    assert isinstance(info.value, EngineError)
    assert store.limits.num_instances == 0 and store.limits.num_memories == 0  # nothing kept
    assert instantiate(store, SMALL).exports(store)["one"](store) == 1
    ex = instantiate(store, GROW).exports(store)
    assert ex["grow"](store, 15) == 1  # up to the limit exactly: 16 pages
    assert ex["grow"](store, 1) == -1  # past it: memory.grow fails, nothing traps
    assert ex["mem"].size(store) == 16
    ex["store"](store, 16 * PAGE - 4, 0x01020304)
    assert ex["load"](store, 16 * PAGE - 4) == 0x01020304


def test_host_api_growth_respects_limits(store: Store) -> None:
    store.set_limits(memory_size=2 * PAGE, table_elements=3)
    mem = Memory(store, MemoryType(Limits(1)))
    assert mem.grow(store, 1) == 1
    with pytest.raises(EngineError, match="failed to grow memory"):
        mem.grow(store, 1)
    with pytest.raises(ResourceLimitError, match="memory minimum size of 3 pages"):
        Memory(store, MemoryType(Limits(3)))
    tab = Table(store, TableType(ValType.funcref(), Limits(1)), None)
    assert tab.grow(store, 2) == 1
    with pytest.raises(EngineError, match="failed to grow table"):
        tab.grow(store, 1)
    with pytest.raises(ResourceLimitError, match="table minimum size of 4 elements"):
        Table(store, TableType(ValType.funcref(), Limits(4)), None)


def test_table_limits(store: Store) -> None:
    store.set_limits(table_elements=10)
    with pytest.raises(ResourceLimitError, match="table minimum size of 11 elements exceeds"):
        instantiate(store, "(module (table 11 funcref))")
    ex = instantiate(store, GROW).exports(store)
    assert ex["tgrow"](store, 9) == 1
    assert ex["tgrow"](store, 1) == -1
    assert ex["tab"].size(store) == 10


def test_instance_count_limit(store: Store) -> None:
    store.set_limits(instances=2)
    module = Module(store.engine, wat(SMALL))
    Instance(store, module, [])
    Instance(store, module, [])
    with pytest.raises(ResourceLimitError, match="instance count too high at 3"):
        Instance(store, module, [])
    other = Store(store.engine)  # limits are per store
    Instance(other, module, [])


def test_memory_and_table_count_limits(store: Store) -> None:
    store.set_limits(memories=1, tables=1)
    instantiate(store, GROW)  # one memory, one table
    with pytest.raises(ResourceLimitError, match="memory count too high at 2"):
        Memory(store, MemoryType(Limits(0)))
    with pytest.raises(ResourceLimitError, match="table count too high at 2"):
        Table(store, TableType(ValType.funcref(), Limits(0)), None)
    with pytest.raises(ResourceLimitError, match="count too high"):
        instantiate(store, "(module (memory 0))")
    assert store.limits.num_instances == 1  # refused instantiations are not counted
    instantiate(store, SMALL)  # no memory, no table: fine


def test_negative_leaves_a_limit_and_later_limits_apply_to_existing_memories(store: Store) -> None:
    ex = instantiate(store, GROW).exports(store)
    store.set_limits(memory_size=3 * PAGE)
    store.set_limits(table_elements=5)  # memory_size=-1 (default) keeps the previous value
    assert store.limits.memory_size == 3 * PAGE and store.limits.table_elements == 5
    assert ex["grow"](store, 3) == -1 and ex["grow"](store, 2) == 1
    with pytest.raises(TypeError):
        store.set_limits(memory_size=1.5)  # type: ignore[arg-type]


def test_limits_are_checked_before_imports_resolve_to_allocation(store: Store) -> None:
    """An imported memory is the exporter's: only defined memories count here."""
    store.set_limits(memories=1)
    mem = Memory(store, MemoryType(Limits(1)))
    text = '(module (import "m" "mem" (memory 1)) (func (export "f")))'
    instantiate(store, text, [mem])
    assert store.limits.num_memories == 1


def test_growth_keeps_the_buffer_identity(store: Store) -> None:
    """Translated code binds ``memories[0].data`` once; growth must keep that object."""
    inst = instantiate(store, GROW)
    ex = inst.exports(store)
    data = ex["mem"].data
    assert ex["grow"](store, 2) == 1
    assert ex["mem"].data is data and len(data) == 3 * PAGE
    ex["store"](store, 3 * PAGE - 4, 77)
    assert ex["load"](store, 3 * PAGE - 4) == 77 and data[3 * PAGE - 4] == 77
    assert bytes(ex["mem"].read(store, PAGE, PAGE + 8)) == bytes(8)  # new pages are zero


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


@pytest.mark.skipif(not MMAP_RESIZABLE, reason="no resizable anonymous mmap on this platform: "
                    "memories are bytearrays, paid for at creation (bound them with limits)")
def test_a_4gib_memory_is_not_paid_for_before_it_is_touched(store: Store) -> None:
    before = _peak_rss_bytes()
    ex = instantiate(store, HUGE).exports(store)
    mem = ex["mem"]
    assert mem.size(store) == 65536 and mem.data_len(store) == 1 << 32
    mem.write(store, b"end", (1 << 32) - 3)
    assert mem.read(store, -3) == b"end"
    assert _peak_rss_bytes() - before < 256 << 20  # far below the 4 GiB declared
    del ex, mem


def test_host_function_in_limited_store_still_works(store: Store) -> None:
    store.set_limits(memory_size=0, instances=10)
    host = Func(store, FuncType([], []), lambda: None)
    text = '(module (import "h" "f" (func $f)) (func (export "go") call $f))'
    instantiate(store, text, [host]).exports(store)["go"](store)
    with pytest.raises(ResourceLimitError):
        instantiate(store, "(module (memory 1))")
    instantiate(store, "(module (memory 0))")  # zero bytes fit a zero limit


@pytest.mark.skipif(platform.python_implementation() == "PyPy",
                    reason="PyPy's memoryview does not pin a buffer's size: growth succeeds")
def test_growth_with_a_live_view_fails_cleanly(store: Store) -> None:
    """A memoryview pins the buffer (mmap and bytearray alike): memory.grow gives -1."""
    ex = instantiate(store, GROW).exports(store)
    view = memoryview(ex["mem"].data)
    try:
        assert ex["grow"](store, 1) == -1
        with pytest.raises(EngineError, match="failed to grow memory"):
            ex["mem"].grow(store, 1)
    finally:
        view.release()
    assert ex["grow"](store, 1) == 1


def test_a_refused_host_object_is_not_counted(store: Store) -> None:
    store.set_limits(memories=1, tables=1)
    with pytest.raises(EngineError, match="invalid memory type"):
        Memory(store, MemoryType(Limits(2, 1)))
    with pytest.raises(EngineError, match="invalid table type"):
        Table(store, TableType(ValType.funcref(), Limits(2, 1)), None)
    Memory(store, MemoryType(Limits(1)))
    Table(store, TableType(ValType.funcref(), Limits(1)), None)
    assert (store.limits.num_memories, store.limits.num_tables) == (1, 1)
