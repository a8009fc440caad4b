"""Module decoding: header, section framing and order, and every section of Wasm 2.0.

Function bodies are only framed here (size and bounds); ``decode_body`` decodes them.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ..config import DEFAULT_LIMITS, ImplLimits, follows_wasm_2_0
from ..errors import MalformedError
from ..gctypes import FuncComp, SubType
from ..opcodes import BY_NAME
from ..types import FUNCREF, GlobalType, Limits, MemoryType, RefType, TableType, intern_func_type
from .gc_immediates import read_rec_group
from .instructions import read_const_expr, read_instrs, read_locals
from .limits import check_module
from .module import (
    FUNC,
    GLOBAL,
    MEMORY,
    TABLE,
    TAG,
    DataSegment,
    ElemSegment,
    Export,
    Expr,
    FuncIndexItems,
    GlobalDef,
    Import,
    ModuleInfo,
)
from .reader import (
    EOS,
    fail,
    read_bytes,
    read_len,
    read_name,
    read_reftype,
    read_sleb,
    read_u32,
    read_u64,
    read_uleb,
    read_valtype,
    read_valtypes,
)

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

#: Position of each non-custom section id in the required order (data count, id 12, sits
#: between element and code).
# Section order: the tag section (13) sits between memory and global sections.
_ORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

_EXTERN_KINDS = (FUNC, TABLE, MEMORY, GLOBAL, TAG)
_EXPR_SECTIONS = frozenset((4, 6, 9, 11))  # table, global, element and data sections
_ZERO = (0,)  # seed of exact-size columns: array * count allocates exactly
_REF_FUNC = BY_NAME["ref.func"]
#: The element type of the function-index segment forms: (ref func) (spec 3.0 5.5.12).
_FUNC_INDEX_TYPE = RefType(False, "func")


def decode_module(
    data: bytes, features: Mapping[str, bool] | None = None, limits: ImplLimits | None = None
) -> ModuleInfo:
    """Decode a binary module into a ModuleInfo (bodies framed, not decoded); enforce the
    module-level implementation ``limits`` (default: ``DEFAULT_LIMITS``).

    ``features``: the Config feature flags to decode with (None: every feature on).
    """
    data = bytes(data)
    _check_header(data)
    info = ModuleInfo(data)
    info.features = features
    info.limits = limits if limits is not None else DEFAULT_LIMITS
    try:
        _decode_sections(info, data)
        check_module(info, info.limits)
    except IndexError:
        error = fail(EOS)
    except MalformedError as exc:
        error = exc
    else:
        return info
    # The reference interpreter decodes bodies in place and reports the first error in byte
    # order; a body framed before the failure point may hold that earlier error.
    for i in range(len(info.code_offsets)):
        _check_body(info, i)
    raise error


def _check_body(info: ModuleInfo, i: int) -> None:
    start = info.code_offsets[i]
    end = start + info.code_lengths[i]
    try:
        _, pos = read_locals(info.data, start)
        _, pos = read_instrs(info.data, pos, info.data_count is None and bool(info.datas),
                             info.features)
    except IndexError:
        raise fail(EOS) from None
    if pos != end:
        raise fail("section size mismatch")


def _check_header(data: bytes) -> None:
    if len(data) < 4:
        raise fail("unexpected end")
    if data[:4] != MAGIC:
        raise fail("magic header not detected")
    if len(data) < 8:
        raise fail("unexpected end")
    if data[4:8] != VERSION:
        raise fail("unknown binary version")


def _decode_sections(info: ModuleInfo, data: bytes) -> None:
    pos = 8
    n = len(data)
    last = 0
    while pos < n:
        sid = data[pos]
        if sid != 0:
            order = _ORDER.get(sid)
            if order is None or sid == 13 and not _on(info, "wasm_exceptions"):
                raise fail("malformed section id")
            if order <= last:
                raise fail("unexpected content after last section")
            last = order
        size, pos = read_len(data, pos + 1)
        end = pos + size
        if sid == 0:
            if end > n:
                raise fail("unexpected end")
            _custom(info, data, pos, end)
            pos = end
            continue
        # Constant expressions end at their section's end, as in the reference interpreter
        # (a missing `end` is "unexpected end", not the next section's id read as an opcode).
        bounded = sid in _EXPR_SECTIONS and end < n and not follows_wasm_2_0(info.features)
        view = data[:end] if bounded else data
        pos = _SECTIONS[sid](info, view, pos)
        if pos != end:
            raise fail("section size mismatch")
    if len(info.funcs) != len(info.code_offsets):
        raise fail("function and code section have inconsistent lengths")
    if info.data_count is not None and info.data_count != len(info.datas):
        raise fail("data count and data section have inconsistent lengths")


def _custom(info: ModuleInfo, data: bytes, pos: int, end: int) -> None:
    """A custom section: only its name is decoded, and it must lie within the section."""
    section = data[pos : min(end, pos + 5)]
    try:
        n, k = read_u32(section, 0)
    except IndexError:
        raise fail("unexpected end") from None
    start = pos + k
    if n > end - start:
        raise fail("unexpected end")
    name, payload = read_name(data, pos)
    info.customs.append((name, payload, end - payload))


# --- sections: (info, data, pos) -> pos --------------------------------------------------


#: What a struct or array type index holds in ``ModuleInfo.types``: a signature no operand
#: matches, so using it as a block or call type is a type mismatch.
_NOT_A_FUNC = intern_func_type(("<struct or array type>",), ())
#: First bytes of the GC type forms: rec, sub, sub final, struct, array.
_GC_TYPE_FORMS = frozenset((0x4E, 0x50, 0x4F, 0x5F, 0x5E))
#: Custom descriptors: a ``describes`` / ``descriptor`` clause may start a type.
_DESC_FORMS = frozenset((0x4C, 0x4D))


def _type_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    count, pos = read_len(data, pos)
    types = info.types
    groups = info.rec_groups
    gc = _on(info, "wasm_gc")
    descriptors = gc and _on(info, "wasm_custom_descriptors")
    forms = _GC_TYPE_FORMS | _DESC_FORMS if descriptors else _GC_TYPE_FORMS
    for _ in range(count):
        if gc and data[pos] in forms:
            group, pos = read_rec_group(data, pos, descriptors)
            groups.append(group)
            for st in group:
                comp = st.comp
                # Struct and array types have no signature: an empty placeholder keeps the
                # function-type list indexed by type index.
                types.append(intern_func_type(comp.params, comp.results)
                             if comp.kind == "func" else _NOT_A_FUNC)
            continue
        form, pos = read_sleb(data, pos, 7)  # the 0x60 tag is an s7 LEB (-0x20)
        if form != -0x20:
            raise fail("malformed function type")
        params, pos = read_valtypes(data, pos)
        results, pos = read_valtypes(data, pos)
        types.append(intern_func_type(params, results))
        groups.append((SubType(True, (), FuncComp(tuple(params), tuple(results))),))
    return pos


def _on(info: ModuleInfo, flag: str) -> bool:
    features = info.features
    return True if features is None else features.get(flag, True)


def _limits_flags(info: ModuleInfo, data: bytes, pos: int, memory: bool) -> tuple[int, int]:
    """The limits flags byte: bit 0 a maximum, bit 1 shared (threads, memories only), bit 2
    a 64-bit index (memory64 / table64), bit 3 a custom page size (memories only)."""
    flags = data[pos]
    allowed = 0x01
    if _on(info, "wasm_memory64"):
        allowed |= 0x04
    if memory and _on(info, "wasm_threads"):
        allowed |= 0x02
    if memory and _on(info, "wasm_custom_page_sizes"):
        allowed |= 0x08
    if flags & ~allowed:
        if not _on(info, "wasm_memory64") or follows_wasm_2_0(info.features):
            read_uleb(data, pos, 1)  # Wasm 2.0 reads the flag as a 1-bit LEB
        raise fail("malformed limits flags")
    return flags, pos + 1


def _limits(info: ModuleInfo, data: bytes, pos: int, flags: int) -> tuple[Limits, int]:
    # With memory64 the bounds are u64 for every index type (validation bounds 32-bit ones).
    read = read_u64 if flags & 0x04 or _on(info, "wasm_memory64") else read_u32
    lo, pos = read(data, pos)
    hi = None
    if flags & 0x01:
        hi, pos = read(data, pos)
    return Limits(lo, hi), pos


def _table_type(info: ModuleInfo, data: bytes, pos: int) -> tuple[TableType, int]:
    elem, pos = read_reftype(data, pos)
    flags, pos = _limits_flags(info, data, pos, False)
    limits, pos = _limits(info, data, pos, flags)
    return TableType(elem, limits, bool(flags & 0x04)), pos


def _memory_type(info: ModuleInfo, data: bytes, pos: int) -> tuple[MemoryType, int]:
    flags, pos = _limits_flags(info, data, pos, True)
    limits, pos = _limits(info, data, pos, flags)
    page_size_log2 = 16
    if flags & 0x08:
        page_size_log2, pos = read_u32(data, pos)
        if page_size_log2 >= 64:
            raise fail("invalid custom page size")
    return MemoryType(limits, bool(flags & 0x04), bool(flags & 0x02), page_size_log2), pos


def _global_type(data: bytes, pos: int) -> tuple[GlobalType, int]:
    t, pos = read_valtype(data, pos)
    mut = data[pos]
    if mut > 1:
        raise fail("malformed mutability")
    return GlobalType(t, mut == 1), pos + 1


def _import_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    count, pos = read_len(data, pos)
    imports = info.imports
    for _ in range(count):
        module, pos = read_name(data, pos)
        name, pos = read_name(data, pos)
        kind = data[pos]
        pos += 1
        desc: object
        exact = kind == 0x20 and _on(info, "wasm_custom_descriptors")
        if kind == 0 or exact:
            desc, pos = read_u32(data, pos)
            kind = 0
        elif kind == 1:
            desc, pos = _table_type(info, data, pos)
        elif kind == 2:
            desc, pos = _memory_type(info, data, pos)
        elif kind == 3:
            desc, pos = _global_type(data, pos)
        elif kind == 4 and _on(info, "wasm_exceptions"):
            desc, pos = _tag_type(data, pos)
        else:
            raise fail("malformed import kind")
        imports.append(Import(module, name, _EXTERN_KINDS[kind], desc, exact))  # type: ignore[arg-type]
    return pos


def _function_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    count, pos = read_len(data, pos)
    funcs = array("I", _ZERO) * count  # exact size: array("I", bytes) over-allocates 6%
    for i in range(count):
        v = data[pos]
        if v < 0x80:
            pos += 1
        else:
            v, pos = read_uleb(data, pos, 32)
        funcs[i] = v
    info.funcs = funcs
    return pos


def _read_vec(data: bytes, pos: int, read_item: Callable[[bytes, int], tuple[Any, int]],
              out: list[Any]) -> int:
    """A vector of items, each read by ``read_item``, appended to ``out``."""
    count, pos = read_len(data, pos)
    for _ in range(count):
        item, pos = read_item(data, pos)
        out.append(item)
    return pos


def _table_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    count, pos = read_len(data, pos)
    for _ in range(count):
        init = None
        if data[pos] == 0x40 and _on(info, "wasm_function_references"):
            # 0x40 0x00 tabletype expr: a table with an initializer expression.
            if data[pos + 1] != 0x00:
                raise fail("malformed table")
            table, pos = _table_type(info, data, pos + 2)
            init, pos = read_const_expr(data, pos, info.features)
        else:
            table, pos = _table_type(info, data, pos)
        info.tables.append(table)
        info.table_inits.append(init)
    return pos


def _tag_type(data: bytes, pos: int) -> tuple[int, int]:
    """A tag type: attribute 0 (exception) and a function type index."""
    if data[pos] != 0x00:
        raise fail("malformed tag attribute")
    return read_u32(data, pos + 1)


def _tag_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    return _read_vec(data, pos, _tag_type, info.tags)


def _memory_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    return _read_vec(data, pos, partial(_memory_type, info), info.mems)


def _global_def(info: ModuleInfo, data: bytes, pos: int) -> tuple[GlobalDef, int]:
    t, pos = _global_type(data, pos)
    init, pos = read_const_expr(data, pos, info.features)
    return GlobalDef(t, init), pos


def _global_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    return _read_vec(data, pos, partial(_global_def, info), info.globals)


def _export_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    count, pos = read_len(data, pos)
    for _ in range(count):
        name, pos = read_name(data, pos)
        kind = data[pos]
        if kind > 3 and not (kind == 4 and _on(info, "wasm_exceptions")):
            raise fail("malformed export kind")
        index, pos = read_u32(data, pos + 1)
        info.exports.append(Export(name, _EXTERN_KINDS[kind], index))
    return pos


def _start_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    info.start, pos = read_u32(data, pos)
    return pos


def _func_index_items(data: bytes, pos: int) -> tuple[FuncIndexItems, int]:
    """vec(funcidx) as element items (each reads as the expression ``ref.func i``)."""
    count, pos = read_len(data, pos)
    indices = array("I", _ZERO) * count
    for i in range(count):
        indices[i], pos = read_u32(data, pos)
    return FuncIndexItems(indices, _REF_FUNC), pos


def _expr_items(info: ModuleInfo, data: bytes, pos: int) -> tuple[list[Expr], int]:
    items: list[Expr] = []
    pos = _read_vec(data, pos, partial(read_const_expr, features=info.features), items)
    return items, pos


def _elem_kind(data: bytes, pos: int) -> int:
    if data[pos] != 0x00:
        raise fail("malformed element kind")
    return pos + 1


def _elem_segment(info: ModuleInfo, data: bytes, pos: int) -> tuple[ElemSegment, int]:
    """One element segment, flags 0..7: bit 0 passive/declarative, bit 1 explicit table
    (active) or declarative (passive), bit 2 expressions instead of function indices."""
    flags, pos = read_u32(data, pos)
    if flags > 7:
        raise fail("malformed elements segment kind")
    table = 0
    offset = None
    if flags & 1:
        mode = "declarative" if flags & 2 else "passive"
    else:
        mode = "active"
        if flags & 2:
            table, pos = read_u32(data, pos)
        offset, pos = read_const_expr(data, pos, info.features)
    uses_exprs = bool(flags & 4)
    elem_type = FUNCREF if uses_exprs else _FUNC_INDEX_TYPE
    if flags & 3:  # an explicit element kind / reference type is present
        if uses_exprs:
            elem_type, pos = read_reftype(data, pos)
        else:
            pos = _elem_kind(data, pos)
    if uses_exprs:
        items, pos = _expr_items(info, data, pos)
    else:
        items, pos = _func_index_items(data, pos)
    return ElemSegment(mode, elem_type, items, table, offset), pos


def _elem_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    return _read_vec(data, pos, partial(_elem_segment, info), info.elems)


def _code_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    count, pos = read_len(data, pos)
    offsets = array("I", _ZERO) * count
    lengths = array("I", _ZERO) * count
    n = len(data)
    for i in range(count):
        start = pos
        size = data[pos]
        if size < 0x80:
            pos += 1
        else:
            size, pos = read_uleb(data, pos, 32)
        if pos + size > n:
            raise fail("length out of bounds" if size > n - start else EOS)
        offsets[i] = pos
        lengths[i] = size
        pos += size
    info.code_offsets = offsets
    info.code_lengths = lengths
    return pos


def _data_segment(info: ModuleInfo, data: bytes, pos: int) -> tuple[DataSegment, int]:
    flags, pos = read_u32(data, pos)
    if flags == 1:
        init, pos = read_bytes(data, pos)
        return DataSegment("passive", init), pos
    if flags == 0:
        memory = 0
    elif flags == 2:
        memory, pos = read_u32(data, pos)
    else:
        raise fail("malformed data segment kind")
    offset, pos = read_const_expr(data, pos, info.features)
    init, pos = read_bytes(data, pos)
    return DataSegment("active", init, memory, offset), pos


def _data_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    return _read_vec(data, pos, partial(_data_segment, info), info.datas)


def _data_count_section(info: ModuleInfo, data: bytes, pos: int) -> int:
    info.data_count, pos = read_u32(data, pos)
    return pos


_SECTIONS: dict[int, Callable[[ModuleInfo, bytes, int], int]] = {
    1: _type_section,
    2: _import_section,
    3: _function_section,
    4: _table_section,
    5: _memory_section,
    6: _global_section,
    7: _export_section,
    8: _start_section,
    9: _elem_section,
    10: _code_section,
    11: _data_section,
    12: _data_count_section,
    13: _tag_section,
}
