"""A tiny Wasm binary writer that generates large modules for the compile/instantiate
benchmarks directly (wat2wasm is far too slow for 100,000 functions).

``realistic_module(n)`` cycles through four small body shapes -- arithmetic with locals, a
counting loop, calls under if/else, and memory load/store -- so validation and translation
see ordinary code. ``empty_module(n)`` has n functions ``() -> ()`` with empty bodies, the
code-map budget case.
"""

from __future__ import annotations

PAGE = 65536
I32 = 0x7F
FUNC_TYPE = 0x60
BLOCK_EMPTY = 0x40

# opcodes used by the generated bodies
BLOCK, LOOP, IF, ELSE, END, BR, BR_IF, CALL = 0x02, 0x03, 0x04, 0x05, 0x0B, 0x0C, 0x0D, 0x10
LOCAL_GET, LOCAL_SET, LOCAL_TEE = 0x20, 0x21, 0x22
I32_LOAD, I32_STORE, I32_CONST = 0x28, 0x36, 0x41
I32_EQZ, I32_ADD, I32_SUB, I32_MUL, I32_AND, I32_XOR, I32_SHR_U = (
    0x45, 0x6A, 0x6B, 0x6C, 0x71, 0x73, 0x76)


def uleb(n: int) -> bytes:
    """Unsigned LEB128."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(n: int) -> bytes:
    """Signed LEB128."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if (n == 0 and not byte & 0x40) or (n == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def vec(items: list[bytes]) -> bytes:
    """A length-prefixed vector of already-encoded items."""
    return uleb(len(items)) + b"".join(items)


def name(s: str) -> bytes:
    raw = s.encode("utf-8")
    return uleb(len(raw)) + raw


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


def functype(params: list[int], results: list[int]) -> bytes:
    return bytes([FUNC_TYPE]) + uleb(len(params)) + bytes(params) + uleb(len(results)) + \
        bytes(results)


def code_entry(locals_: list[tuple[int, int]], instrs: bytes) -> bytes:
    """One code-section entry: size, run-length locals, expression (must end with END)."""
    body = vec([uleb(count) + bytes([t]) for count, t in locals_]) + instrs
    return uleb(len(body)) + body


def module(types: list[bytes], func_types: list[int], bodies: list[bytes],
           exports: list[tuple[str, int]], memory_pages: int | None = None) -> bytes:
    """Assemble a module from encoded types, per-function type indices and code entries."""
    out = [b"\x00asm", b"\x01\x00\x00\x00", section(1, vec(types)),
           section(3, vec([uleb(t) for t in func_types]))]
    if memory_pages is not None:
        out.append(section(5, vec([b"\x00" + uleb(memory_pages)])))
    out.append(section(7, vec([name(n) + b"\x00" + uleb(i) for n, i in exports])))
    out.append(section(10, uleb(len(bodies)) + b"".join(bodies)))
    return b"".join(out)


# types: 0 = (i32 i32) -> i32, 1 = (i32) -> i32
_TYPES = [functype([I32, I32], [I32]), functype([I32], [I32])]
_SHAPE_TYPES = (0, 1, 0, 1)


def _arith(i: int) -> bytes:
    """(a, b) -> ((a + b) * k) ^ ((a + b) >> 7), with a tee'd local."""
    k = sleb(i * 2654435761 % 1000003)
    return code_entry([(1, I32)], bytes([
        LOCAL_GET, 0, LOCAL_GET, 1, I32_ADD, LOCAL_TEE, 2, I32_CONST]) + k + bytes([I32_MUL, LOCAL_GET, 2, I32_CONST, 7, I32_SHR_U, I32_XOR, END]))


def _loop(i: int) -> bytes:
    """(n) -> sum of n..1, counting down in a block/loop."""
    return code_entry([(1, I32)], bytes([
        BLOCK, BLOCK_EMPTY, LOOP, BLOCK_EMPTY,
        LOCAL_GET, 0, I32_EQZ, BR_IF, 1,
        LOCAL_GET, 1, LOCAL_GET, 0, I32_ADD, LOCAL_SET, 1,
        LOCAL_GET, 0, I32_CONST, 1, I32_SUB, LOCAL_SET, 0,
        BR, 0, END, END, LOCAL_GET, 1, I32_CONST]) + sleb(i) + bytes([I32_ADD, END]))


def _calls(i: int) -> bytes:
    """(a, b) -> if a then f[i-2](a, b) else f[i-1](b): calls to earlier functions."""
    return code_entry([], bytes([LOCAL_GET, 0, IF, I32, LOCAL_GET, 0, LOCAL_GET, 1, CALL])
                      + uleb(i - 2) + bytes([ELSE, LOCAL_GET, 1, CALL]) + uleb(i - 1)
                      + bytes([END, END]))


def _memory(i: int) -> bytes:
    """(a) -> store a + k at a & 0xfffc, load it back, xor a constant."""
    k = sleb(i & 0xFFFF)
    return code_entry([], bytes([LOCAL_GET, 0, I32_CONST]) + sleb(0xFFFC) + bytes([
        I32_AND, LOCAL_GET, 0, I32_CONST]) + k + bytes([I32_ADD, I32_STORE, 2, 0,
        LOCAL_GET, 0, I32_CONST]) + sleb(0xFFFC) + bytes([I32_AND, I32_LOAD, 2, 0,
        I32_CONST]) + k + bytes([I32_XOR, END]))


_SHAPES = (_arith, _loop, _calls, _memory)


def realistic_module(n: int) -> bytes:
    """n functions cycling through the four shapes (n is rounded up to a multiple of 4);
    a 1-page memory; the first and last few functions exported."""
    n = max(4, (n + 3) // 4 * 4)
    func_types = [_SHAPE_TYPES[i % 4] for i in range(n)]
    bodies = [_SHAPES[i % 4](i) for i in range(n)]
    exports = [(f"f{i}", i) for i in sorted({0, 1, 2, 3, n - 4, n - 3, n - 2, n - 1})]
    return module(_TYPES, func_types, bodies, exports, memory_pages=1)


def empty_module(n: int) -> bytes:
    """n functions of type () -> () with empty bodies; function 0 exported."""
    empty = code_entry([], bytes([END]))
    return module([functype([], [])], [0] * n, [empty] * n, [("f0", 0)])
