"""Function-body validation: the operand-stack algorithm of the spec's validation appendix.

The value stack holds value-type strings; ``None`` is the spec's *Unknown* (bottom) type,
produced by popping from the polymorphic stack of unreachable code. Control frames are
small lists ``[kind, start_types, end_types, height, unreachable]``; the current frame's
height and unreachable flag are mirrored in locals of the main loop.

Instructions with a fixed signature are checked generically from ``optable.GENERIC``;
the rest are typed by name below.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from itertools import accumulate

from ..binary.module import CATCH_ALL, CATCH_REF, Body, ModuleInfo
from ..config import DEFAULT_LIMITS, ImplLimits, follows_wasm_2_0
from ..errors import ImplementationLimitError, InvalidError, MalformedError
from ..types import (
    EXNREF,
    FUNCREF,
    I32,
    I64,
    V128,
    MemoryType,
    RefType,
    as_ref,
    is_defaultable,
    val_subtype,
)
from . import optable as T
from .context import Context, context_of, feature_on
from .gc import (
    GC_INSTRUCTIONS,
    br_on_cast_types,
    descriptor_operand,
    resolve_ref,
    validate_gc,
)
from .module import check_valtype

# Frame kinds. Legacy exception handling: a try's body, then its catch / catch_all bodies
# (labels with the spec's ``catch`` flag: what ``rethrow`` may name).
_BLOCK, _LOOP, _IF, _ELSE, _FUNC, _TRY, _CATCH, _CATCH_ALL = 0, 1, 2, 3, 4, 5, 6, 7
_NUMERIC = frozenset(("i32", "i64", "f32", "f64"))
_MAX_LIST_LOCALS = 1 << 16

_GENERIC = T.GENERIC
#: br_on_cast and its custom-descriptor forms (which take a descriptor operand too).
_BR_ON_CASTS = frozenset(("br_on_cast", "br_on_cast_fail", "br_on_cast_desc_eq",
                          "br_on_cast_desc_eq_fail"))
#: The type of ``ref.as_non_null`` and friends applied to the bottom (Unknown) operand.
_BOTTOM_REF = RefType(False, "bot")
#: The resolver of the module being validated (per thread: lazy validation may run in
#: several threads), read on the slow path of operand checks (subtyping).
_STATE = threading.local()


def _mismatch() -> InvalidError:
    return InvalidError("type mismatch")


class _RunLengthLocals:
    """Local types looked up by index without materialising huge declarations."""

    __slots__ = ("ends", "types")

    def __init__(self, params: tuple[str, ...], decls: list[tuple[int, str]]) -> None:
        runs = [(1, t) for t in params] + [(c, t) for c, t in decls if c]
        self.ends = list(accumulate(c for c, _ in runs))
        self.types = [t for _, t in runs]

    def __getitem__(self, index: int) -> str:
        return self.types[bisect_right(self.ends, index)]


def _local_types(params: tuple[str, ...], body: Body) -> tuple[object, int]:
    total = len(params) + sum(c for c, _ in body.locals)
    if total <= _MAX_LIST_LOCALS:
        return body.local_types(params), total
    return _RunLengthLocals(params, body.locals), total


def _pop(stack: list, height: int, unreach: bool, expected: str | None) -> str | None:
    """Pop one operand, expecting ``expected`` (None: any); returns the actual type."""
    if len(stack) == height:
        if unreach:
            return None
        raise _mismatch()
    actual = stack.pop()
    if (actual != expected and actual is not None and expected is not None
            and not val_subtype(actual, expected, _STATE.resolve)):
        raise _mismatch()
    return actual


def _sub(a, b) -> bool:
    """``a <: b`` for the module being validated."""
    return val_subtype(a, b, _STATE.resolve)


def _pop_ref(stack: list, height: int, unreach: bool) -> RefType | None:
    """Pop an operand of any reference type; None for the Unknown type."""
    t = _pop(stack, height, unreach, None)
    if t is None:
        return None
    r = as_ref(t)
    if r is None:
        raise _mismatch()
    return r


def _pop_vals(stack: list, height: int, unreach: bool, types) -> list:
    """Pop a sequence of operand types (the last one on top); returns the popped types."""
    n = len(types)
    if n and len(stack) - n >= height and stack[-n:] == list(types):
        del stack[-n:]
        return list(types)
    popped = [None] * n
    for i in range(n - 1, -1, -1):
        popped[i] = _pop(stack, height, unreach, types[i])
    return popped


def validate_body(info: ModuleInfo, func_index: int, body: Body) -> None:
    """Type-check one function body (``func_index`` in the function index space)."""
    ctx = context_of(info)
    nimported = len(ctx.func_types) - len(info.funcs)
    if not nimported <= func_index < len(ctx.func_types):
        raise InvalidError(f"unknown function {func_index}")
    ftype = ctx.func_types[func_index]
    if ftype is None:
        raise InvalidError(f"unknown type {info.funcs[func_index - nimported]}")
    # Iterative; a RecursionError (a first call deep in wasm recursion) propagates as such:
    # it says nothing about the body, and the code map does not record it as a failure.
    limits = info.limits if info.limits is not None else DEFAULT_LIMITS
    for _, t in body.locals:
        check_valtype(ctx, t)
    _STATE.resolve = ctx.resolve
    try:
        _run(ctx, ftype.params, ftype.results, body, limits, func_index)
    finally:
        _STATE.resolve = None  # keep nothing of the module alive


def _type_at(ctx: Context, index: int):
    if not 0 <= index < len(ctx.types):
        raise InvalidError(f"unknown type {index}")
    return ctx.types[index]


def _block_type(ctx: Context, imm) -> tuple[tuple, tuple]:
    if imm is None:
        return (), ()
    if isinstance(imm, str):
        check_valtype(ctx, imm)
        return (), (imm,)
    if not 0 <= imm < len(ctx.types):
        raise InvalidError(f"unknown type {imm}")
    ft = ctx.types[imm]
    return ft.params, ft.results


def _memory(ctx: Context, index: int) -> MemoryType:
    if not 0 <= index < ctx.num_mems:
        raise InvalidError(f"unknown memory {index}")
    return ctx.mems[index]


def _memarg(ctx: Context, memarg, size: int, atomic: bool = False) -> str:
    """Check a memarg (memory, alignment, offset); returns the memory's index type."""
    mem = _memory(ctx, memarg[2])
    if atomic:
        if (1 << memarg[0]) != size:
            raise InvalidError("alignment must be equal to natural")
    elif memarg[0] >= 32 or (1 << memarg[0]) > size:
        raise InvalidError("alignment must not be larger than natural")
    if not mem.is_64 and memarg[1] > 0xFFFF_FFFF:
        raise InvalidError("offset out of range")
    return mem.index_type


def _lane(index: int, count: int) -> None:
    if index >= count:
        raise InvalidError("invalid lane index")


def _data(ctx: Context, index: int) -> None:
    if ctx.data_count is None or not 0 <= index < ctx.data_count:
        raise InvalidError(f"unknown data segment {index}")


def _table(ctx: Context, index: int) -> str:
    if not 0 <= index < len(ctx.tables):
        raise InvalidError(f"unknown table {index}")
    return ctx.tables[index].elem


def _elem(ctx: Context, index: int) -> str:
    if not 0 <= index < len(ctx.elem_types):
        raise InvalidError(f"unknown elem segment {index}")
    return ctx.elem_types[index]


def _check_imm(ctx: Context, check: int, arg, imm) -> str | None:
    """The immediate check of a generic instruction (see optable.CHK_*); for memory
    accesses, the address type (the memory's index type)."""
    if check == T.CHK_MEMARG:
        return _memarg(ctx, imm, arg)
    if check == T.CHK_ATOMIC:
        return _memarg(ctx, imm, arg, True)
    if check == T.CHK_MEMARG_LANE:
        address_type = _memarg(ctx, imm[0], arg[0])
        _lane(imm[1], arg[1])
        return address_type
    if check == T.CHK_MEM:
        _memory(ctx, imm)
    elif check == T.CHK_LANE:
        _lane(imm, arg)
    elif check == T.CHK_SHUFFLE:
        for lane in imm:
            _lane(lane, 32)
    elif check == T.CHK_MEMORY_INIT:
        _memory(ctx, imm[1])
        _data(ctx, imm[0])
    elif check == T.CHK_DATA:
        _data(ctx, imm)
    elif check == T.CHK_MEMORY_COPY:
        _memory(ctx, imm[0])
        _memory(ctx, imm[1])
    elif check == T.CHK_TABLE_INIT:
        table_type = _table(ctx, imm[1])
        if not _sub(_elem(ctx, imm[0]), table_type):
            raise _mismatch()
    elif check == T.CHK_ELEM:
        _elem(ctx, imm)
    elif check == T.CHK_TABLE_COPY and not _sub(_table(ctx, imm[1]), _table(ctx, imm[0])):
        raise _mismatch()
    return None


def _too_deep(limits: ImplLimits, depth: int, func_index: int, pos: int) -> None:
    raise ImplementationLimitError("blocks nested too deeply", "max_nesting", depth,
                                   limits.max_nesting, f"function {func_index}, instruction {pos}")


def _run(
    ctx: Context, params: tuple, results: tuple, body: Body, limits: ImplLimits, func_index: int
) -> None:
    """The main loop; one long function so the hot state lives in fast locals."""
    max_ctrls = limits.max_nesting + 1  # the function's own frame is not nesting
    local_types, nlocals = _local_types(params, body)
    # Non-defaultable locals (non-nullable references): index -> set yet, and the indices
    # set in the current blocks, undone at their ends (spec 3.0 local initialization).
    uninit = _non_defaultable(len(params), body)
    inits: list[int] = []
    generic = _GENERIC
    stack: list = []
    ctrls: list[list] = [[_FUNC, (), results, 0, False, 0]]
    height = 0
    unreach = False
    instrs = body.instrs
    last = len(instrs) - 1
    pos = -1
    for op, imm in instrs:
        pos += 1
        name = op.name
        if name == "local.get":  # the most frequent instruction: before the table lookup
            if not 0 <= imm < nlocals:
                raise InvalidError(f"unknown local {imm}")
            if uninit is not None and uninit.get(imm) is False:
                raise InvalidError("uninitialized local")
            stack.append(local_types[imm])
            continue
        g = generic.get(name)
        if g is not None:
            n, p0, p1, plist, res, check, arg = g
            if check and _check_imm(ctx, check, arg, imm) == I64:
                # A 64-bit memory: the address (the first operand) is an i64.
                _pop_vals(stack, height, unreach, [I64, *plist[1:]])
                stack.extend(res)
                continue
            if n == 1:
                if len(stack) > height and stack[-1] == p0:
                    stack.pop()
                else:
                    _pop(stack, height, unreach, p0)
            elif n == 2:
                if len(stack) - 2 >= height and stack[-1] == p0 and stack[-2] == p1:
                    del stack[-2:]
                else:
                    _pop(stack, height, unreach, p0)
                    _pop(stack, height, unreach, p1)
            elif n:
                _pop_vals(stack, height, unreach, plist)
            if res:
                if len(res) == 1:
                    stack.append(res[0])
                else:
                    stack.extend(res)
            continue

        if name == "local.set" or name == "local.tee":
            if not 0 <= imm < nlocals:
                raise InvalidError(f"unknown local {imm}")
            t = local_types[imm]
            if uninit is not None and uninit.get(imm) is False:
                uninit[imm] = True
                inits.append(imm)
            if len(stack) > height and stack[-1] == t:
                if name == "local.set":
                    stack.pop()
            else:
                _pop(stack, height, unreach, t)
                if name == "local.tee":
                    stack.append(t)
        elif name == "end":
            frame = ctrls[-1]
            kind, start, end = frame[0], frame[1], frame[2]
            n_end = len(end)
            if len(stack) - height == n_end and (not n_end or n_end == 1 and stack[-1] == end[0]):
                del stack[height:]  # fast path: zero or one exactly matching result
            elif kind >= _TRY:
                _end_of_body(stack, height, unreach, end)
            else:
                _pop_vals(stack, height, unreach, end)
                if len(stack) != height:
                    raise _mismatch()
            if kind == _IF and not _params_to_results(start, end):
                raise _mismatch()  # if without else: the implicit else passes its params
            if len(inits) > frame[5]:
                _reset_inits(uninit, inits, frame[5])
            ctrls.pop()
            if not ctrls:
                if pos != last:
                    raise MalformedError("END opcode expected")
                return
            stack.extend(end)
            frame = ctrls[-1]
            height, unreach = frame[3], frame[4]
        elif name == "block" or name == "loop":
            start, end = _block_type(ctx, imm)
            _pop_vals(stack, height, unreach, start)
            height = len(stack)
            unreach = False
            ctrls.append([_BLOCK if name == "block" else _LOOP, start, end, height, False,
                          len(inits)])
            if len(ctrls) > max_ctrls:
                _too_deep(limits, len(ctrls) - 1, func_index, pos)
            stack.extend(start)
        elif name == "if":
            start, end = _block_type(ctx, imm)
            _pop(stack, height, unreach, I32)
            _pop_vals(stack, height, unreach, start)
            height = len(stack)
            unreach = False
            ctrls.append([_IF, start, end, height, False, len(inits)])
            if len(ctrls) > max_ctrls:
                _too_deep(limits, len(ctrls) - 1, func_index, pos)
            stack.extend(start)
        elif name == "else":
            frame = ctrls[-1]
            if frame[0] != _IF:
                raise MalformedError("else without matching if")
            _pop_vals(stack, height, unreach, frame[2])
            if len(stack) != height:
                raise _mismatch()
            frame[0] = _ELSE
            frame[4] = unreach = False
            if len(inits) > frame[5]:
                _reset_inits(uninit, inits, frame[5])
            stack.extend(frame[1])
        elif name == "br" or name == "br_if":
            if not 0 <= imm < len(ctrls):
                raise InvalidError(f"unknown label {imm}")
            target = ctrls[-1 - imm]
            labels = target[1] if target[0] == _LOOP else target[2]
            if name == "br":
                _pop_vals(stack, height, unreach, labels)
                del stack[height:]
                unreach = ctrls[-1][4] = True
            else:
                _pop(stack, height, unreach, I32)
                _pop_vals(stack, height, unreach, labels)
                stack.extend(labels)
        elif name == "br_table":
            if len(imm[0]) > limits.max_br_table_targets:
                raise ImplementationLimitError(
                    "too many br_table targets", "max_br_table_targets", len(imm[0]),
                    limits.max_br_table_targets, f"function {func_index}, instruction {pos}")
            _br_table(stack, height, unreach, ctrls, imm)
            del stack[height:]
            unreach = ctrls[-1][4] = True
        elif name == "call":
            ft = _func_type(ctx, imm)
            _pop_vals(stack, height, unreach, ft.params)
            stack.extend(ft.results)
        elif name == "call_indirect" or name == "return_call_indirect":
            type_index, table_index = imm
            if not _sub(_table(ctx, table_index), FUNCREF):
                raise _mismatch()
            if not 0 <= type_index < len(ctx.types):
                raise InvalidError(f"unknown type {type_index}")
            ft = ctx.types[type_index]
            _pop(stack, height, unreach, ctx.tables[table_index].index_type)
            _pop_vals(stack, height, unreach, ft.params)
            if name == "call_indirect":
                stack.extend(ft.results)
            else:
                _tail_call(ft, results)
                del stack[height:]
                unreach = ctrls[-1][4] = True
        elif name == "return_call":
            ft = _func_type(ctx, imm)
            _pop_vals(stack, height, unreach, ft.params)
            _tail_call(ft, results)
            del stack[height:]
            unreach = ctrls[-1][4] = True
        elif name == "return":
            _pop_vals(stack, height, unreach, results)
            del stack[height:]
            unreach = ctrls[-1][4] = True
        elif name == "unreachable":
            del stack[height:]
            unreach = ctrls[-1][4] = True
        elif name == "drop":
            _pop(stack, height, unreach, None)
        elif name == "call_ref" or name == "return_call_ref":
            ft = _type_at(ctx, imm)
            _pop(stack, height, unreach, RefType(True, imm))
            _pop_vals(stack, height, unreach, ft.params)
            if name == "call_ref":
                stack.extend(ft.results)
            else:
                _tail_call(ft, results)
                del stack[height:]
                unreach = ctrls[-1][4] = True
        elif name == "ref.as_non_null":
            r = _pop_ref(stack, height, unreach)
            stack.append(_BOTTOM_REF if r is None else r.as_non_null())
        elif name == "br_on_null" or name == "br_on_non_null":
            if not 0 <= imm < len(ctrls):
                raise InvalidError(f"unknown label {imm}")
            target = ctrls[-1 - imm]
            labels = target[1] if target[0] == _LOOP else target[2]
            r = _pop_ref(stack, height, unreach)
            if name == "br_on_null":
                _pop_vals(stack, height, unreach, labels)
                stack.extend(labels)
                stack.append(_BOTTOM_REF if r is None else r.as_non_null())
            else:
                if not labels or as_ref(labels[-1]) is None:
                    raise _mismatch()
                if r is not None and not _sub(r.as_non_null(), labels[-1]):
                    raise _mismatch()
                _pop_vals(stack, height, unreach, labels[:-1])
                stack.extend(labels[:-1])
        elif name in _BR_ON_CASTS:
            label, rt1, rt2 = imm
            if not 0 <= label < len(ctrls):
                raise InvalidError(f"unknown label {label}")
            target = ctrls[-1 - label]
            labels = target[1] if target[0] == _LOOP else target[2]
            desc = None
            if name.startswith("br_on_cast_desc"):  # custom descriptors
                desc = descriptor_operand(ctx.gc_types, rt2, resolve_ref(ctx.gc_types, rt2))
            operand, to_label, fall = br_on_cast_types(
                ctx.gc_types, rt1, rt2, name.endswith("_fail"),
                feature_on(ctx, "wasm_custom_descriptors"))
            if not labels or not _sub(to_label, labels[-1]):
                raise _mismatch()
            if desc is not None:
                _pop(stack, height, unreach, desc)
            _pop(stack, height, unreach, operand)
            _pop_vals(stack, height, unreach, labels[:-1])
            stack.extend(labels[:-1])
            stack.append(fall)
        elif name in GC_INSTRUCTIONS:
            validate_gc(name, imm, _GcOperands(stack, height, unreach), ctx.gc_types,
                        ctx.elem_types, ctx.num_datas)
        elif name == "throw":
            ft = _tag(ctx, imm)
            have = stack[max(height, len(stack) - len(ft.params)):]
            try:
                _pop_vals(stack, height, unreach, ft.params)
            except InvalidError:
                raise InvalidError(  # the reference interpreter's detailed wording
                    f"type mismatch: instruction requires [{' '.join(ft.params)}] but stack "
                    f"has [{' '.join(t or 'bot' for t in have)}]") from None
            del stack[height:]
            unreach = ctrls[-1][4] = True
        elif name == "throw_ref":
            _pop(stack, height, unreach, EXNREF)
            del stack[height:]
            unreach = ctrls[-1][4] = True
        elif name == "try_table":
            block_type, catches = imm
            start, end = _block_type(ctx, block_type)
            for catch in catches:
                _check_catch(ctx, ctrls, catch)
            _pop_vals(stack, height, unreach, start)
            height = len(stack)
            unreach = False
            ctrls.append([_BLOCK, start, end, height, False, len(inits)])
            if len(ctrls) > max_ctrls:
                _too_deep(limits, len(ctrls) - 1, func_index, pos)
            stack.extend(start)
        elif name == "try":
            start, end = _block_type(ctx, imm)
            _pop_vals(stack, height, unreach, start)
            height = len(stack)
            unreach = False
            ctrls.append([_TRY, start, end, height, False, len(inits)])
            if len(ctrls) > max_ctrls:
                _too_deep(limits, len(ctrls) - 1, func_index, pos)
            stack.extend(start)
        elif name == "catch" or name == "catch_all":
            frame = ctrls[-1]
            if frame[0] != _TRY and frame[0] != _CATCH:
                raise MalformedError(f"{name} without matching try")
            _end_of_body(stack, height, unreach, frame[2])
            frame[0] = _CATCH if name == "catch" else _CATCH_ALL
            frame[4] = unreach = False
            if len(inits) > frame[5]:
                _reset_inits(uninit, inits, frame[5])
            if name == "catch":  # the handler body starts with the tag's payload
                stack.extend(_tag(ctx, imm).params)
        elif name == "delegate":
            frame = ctrls[-1]
            if frame[0] != _TRY:
                raise MalformedError("delegate without matching try")
            _end_of_body(stack, height, unreach, frame[2])
            if len(inits) > frame[5]:
                _reset_inits(uninit, inits, frame[5])
            ctrls.pop()
            # The label is counted from outside the try: any enclosing label (or the
            # function's) names where its exceptions are thrown on.
            if not 0 <= imm < len(ctrls):
                raise InvalidError(f"unknown label {imm}")
            stack.extend(frame[2])
            height, unreach = ctrls[-1][3], ctrls[-1][4]
        elif name == "rethrow":
            if not 0 <= imm < len(ctrls):
                raise InvalidError(f"unknown label {imm}")
            if ctrls[-1 - imm][0] < _CATCH:
                raise InvalidError("invalid rethrow label")
            del stack[height:]
            unreach = ctrls[-1][4] = True
        elif name == "global.get":
            if not 0 <= imm < len(ctx.globals):
                raise InvalidError(f"unknown global {imm}")
            stack.append(ctx.globals[imm].content)
        elif name == "global.set":
            if not 0 <= imm < len(ctx.globals):
                raise InvalidError(f"unknown global {imm}")
            gt = ctx.globals[imm]
            if not gt.mutable:
                raise InvalidError("global is immutable" if follows_wasm_2_0(ctx.features)
                                   else "immutable global")
            _pop(stack, height, unreach, gt.content)
        else:
            _other(ctx, name, imm, stack, height, unreach)
    raise MalformedError("END opcode expected")


def _end_of_body(stack: list, height: int, unreach: bool, end: tuple) -> None:
    """The end of a legacy try or catch body: exactly the block's results, with the
    reference interpreter's detailed wording (the legacy scripts expect it)."""
    have = stack[height:]
    shown = f"[{' '.join(t or 'bot' for t in have)}]"
    try:
        _pop_vals(stack, height, unreach, end)
    except InvalidError:
        raise InvalidError(f"type mismatch: instruction requires [{' '.join(end)}] but stack "
                           f"has {shown}") from None
    if len(stack) != height:
        raise InvalidError(f"type mismatch: block requires [{' '.join(end)}] but stack has "
                           f"{shown}")


def _tail_call(callee, results: tuple) -> None:
    """A tail call returns the callee's results as the caller's: they must match."""
    if len(callee.results) != len(results) or not all(
            _sub(a, b) for a, b in zip(callee.results, results)):
        raise _mismatch()


def _params_to_results(start: tuple, end: tuple) -> bool:
    return len(start) == len(end) and all(_sub(a, b) for a, b in zip(start, end))


def _non_defaultable(nparams: int, body: Body) -> dict[int, bool] | None:
    """Declared locals without a default value, all unset; None when there are none."""
    out: dict[int, bool] | None = None
    index = nparams
    for count, t in body.locals:
        if not is_defaultable(t):
            if out is None:
                out = {}
            for i in range(index, index + count):
                out[i] = False
        index += count
    return out


def _reset_inits(uninit, inits: list[int], keep: int) -> None:
    """Leaving a block forgets the locals it initialized."""
    for i in inits[keep:]:
        uninit[i] = False
    del inits[keep:]


def _tag(ctx: Context, index: int):
    if not 0 <= index < len(ctx.tags):
        raise InvalidError(f"unknown tag {index}")
    return ctx.types[ctx.tags[index]]


def _check_catch(ctx: Context, ctrls: list, catch) -> None:
    """A catch clause's values (the tag's params, then an exnref for the _ref forms) must
    match its label, which is counted from outside the try_table."""
    if not 0 <= catch.label < len(ctrls):
        raise InvalidError(f"unknown label {catch.label}")
    target = ctrls[-1 - catch.label]
    labels = target[1] if target[0] == _LOOP else target[2]
    values = [] if catch.kind >= CATCH_ALL else list(_tag(ctx, catch.tag).params)
    if catch.kind == CATCH_REF or catch.kind > CATCH_ALL:
        values.append(RefType(False, "exn"))
    if len(values) != len(labels) or not all(_sub(a, b) for a, b in zip(values, labels)):
        raise _mismatch()


def _func_type(ctx: Context, index: int):
    if not 0 <= index < len(ctx.func_types):
        raise InvalidError(f"unknown function {index}")
    ft = ctx.func_types[index]
    if ft is None:
        raise InvalidError("unknown type")
    return ft


def _br_table(stack: list, height: int, unreach: bool, ctrls: list, imm) -> None:
    labels, default = imm
    depth = len(ctrls)
    _pop(stack, height, unreach, I32)
    if not 0 <= default < depth:
        raise InvalidError(f"unknown label {default}")
    frame = ctrls[-1 - default]
    default_types = frame[1] if frame[0] == _LOOP else frame[2]
    arity = len(default_types)
    checked = {tuple(default_types)}
    for label in labels:
        if not 0 <= label < depth:
            raise InvalidError(f"unknown label {label}")
        frame = ctrls[-1 - label]
        types = frame[1] if frame[0] == _LOOP else frame[2]
        if len(types) != arity:
            raise _mismatch()
        key = tuple(types)
        if key not in checked:  # pop+push of the same types is idempotent: check once
            checked.add(key)
            stack.extend(_pop_vals(stack, height, unreach, types))
    _pop_vals(stack, height, unreach, default_types)


class _GcOperands:
    """The body validator's operand stack as engine.validate.gc's Operands."""

    __slots__ = ("height", "stack", "unreach")

    def __init__(self, stack: list, height: int, unreach: bool) -> None:
        self.stack, self.height, self.unreach = stack, height, unreach

    def pop(self, expected):
        return _pop(self.stack, self.height, self.unreach, expected)

    def push(self, t) -> None:
        self.stack.append(t)


def _other(ctx: Context, name: str, imm, stack: list, height: int, unreach: bool) -> None:
    """Instructions without a fixed signature, other than control and variables."""
    if name == "select":
        _pop(stack, height, unreach, I32)
        t1 = _pop(stack, height, unreach, None)
        t2 = _pop(stack, height, unreach, None)
        num_ok = (t1 is None or t1 in _NUMERIC) and (t2 is None or t2 in _NUMERIC)
        vec_ok = (t1 is None or t1 == V128) and (t2 is None or t2 == V128)
        if not (num_ok or vec_ok):
            raise _mismatch()
        if t1 is not None and t2 is not None and t1 != t2:
            raise _mismatch()
        stack.append(t2 if t1 is None else t1)
    elif name == "select_t":
        if len(imm) != 1:
            raise InvalidError("invalid result arity")
        t = imm[0]
        check_valtype(ctx, t)
        _pop(stack, height, unreach, I32)
        _pop(stack, height, unreach, t)
        _pop(stack, height, unreach, t)
        stack.append(t)
    elif name == "ref.null":
        check_valtype(ctx, imm)
        stack.append(imm)
    elif name == "ref.is_null":
        _pop_ref(stack, height, unreach)
        stack.append(I32)
    elif name == "ref.func":
        if not 0 <= imm < len(ctx.func_types):
            raise InvalidError(f"unknown function {imm}")
        if imm not in ctx.refs:
            raise InvalidError("undeclared function reference")
        stack.append(ctx.func_ref_type(imm))
    elif name.startswith("table."):
        _table_op(ctx, name, imm, stack, height, unreach)
    elif name.startswith("memory."):
        _memory_op(ctx, name, imm, stack, height, unreach)
    else:
        raise InvalidError(f"unsupported instruction {name}")


def _min_index_type(a: str, b: str) -> str:
    """The length operand of a copy between a 32-bit and a 64-bit space is i32."""
    return I64 if a == I64 and b == I64 else I32


def _table_op(ctx: Context, name: str, imm, stack: list, height: int, unreach: bool) -> None:
    """table.* instructions; indices, sizes and deltas have the table's index type."""
    if name == "table.copy":
        d, s = _table(ctx, imm[0]), _table(ctx, imm[1])
        if not _sub(s, d):
            raise _mismatch()
        dt, st = ctx.tables[imm[0]].index_type, ctx.tables[imm[1]].index_type
        _pop_vals(stack, height, unreach, (dt, st, _min_index_type(dt, st)))
        return
    if name == "table.init":
        table_type = _table(ctx, imm[1])
        if not _sub(_elem(ctx, imm[0]), table_type):
            raise _mismatch()
        _pop_vals(stack, height, unreach, (ctx.tables[imm[1]].index_type, I32, I32))
        return
    t = _table(ctx, imm)
    at = ctx.tables[imm].index_type
    if name == "table.get":
        _pop(stack, height, unreach, at)
        stack.append(t)
    elif name == "table.set":
        _pop_vals(stack, height, unreach, (at, t))
    elif name == "table.size":
        stack.append(at)
    elif name == "table.grow":
        _pop_vals(stack, height, unreach, (t, at))
        stack.append(at)
    elif name == "table.fill":
        _pop_vals(stack, height, unreach, (at, t, at))
    else:
        raise InvalidError(f"unsupported instruction {name}")


def _memory_op(ctx: Context, name: str, imm, stack: list, height: int, unreach: bool) -> None:
    """memory.size/grow/fill/copy/init; addresses and sizes have the memory's index type."""
    if name == "memory.copy":
        dt, st = _memory(ctx, imm[0]).index_type, _memory(ctx, imm[1]).index_type
        _pop_vals(stack, height, unreach, (dt, st, _min_index_type(dt, st)))
        return
    if name == "memory.init":
        at = _memory(ctx, imm[1]).index_type
        _data(ctx, imm[0])
        _pop_vals(stack, height, unreach, (at, I32, I32))
        return
    at = _memory(ctx, imm).index_type
    if name == "memory.size":
        stack.append(at)
    elif name == "memory.grow":
        _pop(stack, height, unreach, at)
        stack.append(at)
    elif name == "memory.fill":
        _pop_vals(stack, height, unreach, (at, I32, at))
    else:
        raise InvalidError(f"unsupported instruction {name}")
