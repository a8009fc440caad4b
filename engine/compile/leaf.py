"""What a call may write: summaries of small straight-line callees (for forward.py).

clang -O0 calls tiny helpers (hash.O0's ``rotl64``) that spill their arguments into a frame
of their own, ``SP - K``, below the caller's: the call need not forget the caller's frame
slots. A callee gets a summary when its body is straight-line (no branch, no loop, no call)
and its only memory writes are scalar stores through locals holding ``global.get G -
K`` with ``offset + size <= K``, and it never sets a global:

* :data:`PURE`: it writes no memory at all: every slot survives the call;
* a global index ``G``: it writes only in ``[G - K, G)`` (wrapped), which is disjoint from
  ``[L + o, L + o + n)`` when the caller knows ``G == L`` (it set G from local L) and
  ``K``, ``o + n`` are below 2**30 (without wrap-around the callee's bytes lie below L;
  with it, at or above 2**32 - K, far above L + o + n < 2**31).

Anything else (imports, large bodies, other instructions) gets None: the call forgets all.
"""

from __future__ import annotations

from typing import Any

from ..binary.instructions import decode_body
from ..opcodes import BY_NAME
from .ops import LOADS, STORES

PURE = -1
MAX_BODY = 400  # body bytes; larger callees are not summarised
MAX_FRAME = 1 << 30  # the largest K (and caller slot end) the disjointness argument allows
_SIZE = {name: 1 if "store8" in name else 2 if "store16" in name else
         4 if name in ("i32.store", "f32.store", "i64.store32") else 8 for name in STORES}
#: Fixed-signature single-byte instructions that write no memory: (pops, pushes).
_NUMERIC = {name: (len(op.params), len(op.results)) for name, op in BY_NAME.items()
            if op.prefix == 0 and op.params is not None and name not in LOADS
            and name not in STORES and len(op.results) <= 1}


def summary(info: Any, func_index: int) -> int | None:
    """PURE, the global ``G`` whose frame the callee writes below, or None (see above)."""
    i = func_index - info.num_imported_funcs
    if not 0 <= i < len(info.code_lengths) or info.code_lengths[i] > MAX_BODY:
        return None
    try:
        instrs = decode_body(info, func_index).instrs
        return _walk(instrs, len(info.func_type(func_index).params))
    except Exception:  # noqa: BLE001 - an undecodable or unvalidated body: no summary
        return None


def _walk(instrs: list[Any], nparams: int) -> int | None:
    """Abstract values: ("G", g) a global's value, ("C", k) an i32 literal, ("F", g, K) the
    global minus K, None anything else. Locals hold them exactly (straight-line code)."""
    locs: dict[int, Any] = {}
    stack: list[Any] = []
    frame: int | None = None
    last = len(instrs) - 1
    for idx, (op, imm) in enumerate(instrs):
        name = op.name
        arity = _NUMERIC.get(name)
        if name == "i32.sub":
            b, a = stack.pop(), stack.pop()
            ok = (a is not None and b is not None and a[0] == "G" and b[0] == "C"
                  and 0 < b[1] <= MAX_FRAME)
            stack.append(("F", a[1], b[1]) if ok else None)
        elif name == "i32.const":
            stack.append(("C", imm))
        elif arity is not None:
            del stack[len(stack) - arity[0]:]
            stack.extend([None] * arity[1])
        elif name == "local.get":
            stack.append(locs.get(imm) if imm >= nparams else None)
        elif name in ("local.set", "local.tee"):
            locs[imm] = stack.pop()
            if name == "local.tee":
                stack.append(locs[imm])
        elif name == "global.get":
            stack.append(("G", imm))
        elif name in LOADS:
            stack.pop()
            stack.append(None)
        elif name in STORES:
            stack.pop()
            base = stack.pop()
            if base is None or base[0] != "F" or imm[1] + _SIZE[name] > base[2] or (
                    frame is not None and frame != base[1]):
                return None
            frame = base[1]
        elif name in ("drop", "select", "select_t"):
            n = 1 if name == "drop" else 3
            del stack[len(stack) - n:]
            if n == 3:
                stack.append(None)
        elif name == "return":
            if idx != last - 1:
                return None  # code after it (dead) is not looked at: only a final return
            break
        elif name == "end" and idx == last:
            break
        else:
            return None  # control flow, calls, global.set, bulk memory, SIMD, ...
    return PURE if frame is None else frame
