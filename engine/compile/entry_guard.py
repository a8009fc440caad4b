"""The shadow-stack alignment guard: a function entry that checks the low bits of the
global its body starts by reading, so that addresses through it may use typed views.

clang's wasm32 code keeps a C stack in linear memory, addressed through a mutable global
(``__stack_pointer``, 16-byte aligned by the ABI). A function with a frame starts::

    global.get $sp   i32.const 160   i32.sub   local.tee $fp   global.set $sp

and its locals and arrays live at ``$fp + k``. One body cannot know the global's alignment
(align.py), so every such access kept ``struct`` (measured: 21% of vm.O2's time in
``struct`` calls on its stack array). The guard makes it known:

- a function whose first instruction reads a mutable integer global, and which writes that
  global somewhere (the prologue/epilogue pattern), is translated assuming the value read
  has :data:`GUARD_BITS` low zero bits (``align.address_tz``'s ``entry_tz``);
- when that assumption gave a typed view, the function starts with
  ``if G.value & 15: return funcs[~i](args)``: a value of any other shape runs the same
  body translated without the assumption (and without a guard), which the instance compiles
  on first use and keeps under the key ``~i`` of its function table (``runtime/instance``).

Sound because the guarded read is the body's first instruction: nothing runs between the
test and the read. Costs one attribute load and test per call of a guarded function; a
program whose stack pointer is misaligned pays one more Python call per call instead.
"""

from __future__ import annotations

from typing import Any

#: Whether functions get entry guards (tests and A/B measurements turn it off).
ENABLED = True
#: Low bits the guard checks (the wasm32 C ABI's 16-byte stack alignment).
GUARD_BITS = 4


def guarded_global(instrs: list, global_types: list[Any]) -> int | None:
    """The global the entry guard would check: read by the body's first instruction, a
    mutable i32/i64 the body also writes; else None."""
    if not instrs or instrs[0][0].name != "global.get":
        return None
    g = instrs[0][1]
    gt = global_types[g]
    if not gt.mutable or gt.content not in ("i32", "i64"):
        return None
    for op, imm in instrs:
        if op.name == "global.set" and imm == g:
            return g
    return None


def guard_line(cell: str, func_index: int, nparams: int) -> str:
    """The guard statement for a function whose guarded global is bound as ``cell``: the
    unguarded translation (``funcs[~func_index]``) runs when the low bits are not zero."""
    args = ", ".join(f"l{i}" for i in range(nparams))
    mask = (1 << GUARD_BITS) - 1
    return f"if {cell}.value & {mask}: return funcs[~{func_index}]({args})"
