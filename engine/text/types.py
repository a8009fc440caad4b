"""Types in the text format: value, reference, heap and storage types, type definitions
(func / struct / array, ``sub``, ``rec``) and type uses (spec: Text Format > Types)."""

from __future__ import annotations

from typing import NamedTuple

from .context import ModuleContext, TypeDef
from .cursor import ID, KEYWORD, NUM, RPAREN, Cursor
from .encode import sleb, uleb, vec

NUM_TYPES = {"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C, "v128": 0x7B}
PACKED_TYPES = {"i8": 0x78, "i16": 0x77}
#: Abstract heap types and their one-byte encodings.
HEAP_TYPES = {
    "func": 0x70, "extern": 0x6F, "any": 0x6E, "eq": 0x6D, "i31": 0x6C, "struct": 0x6B,
    "array": 0x6A, "exn": 0x69, "noexn": 0x74, "nofunc": 0x73, "noextern": 0x72, "none": 0x71,
}
#: ``funcref`` and friends: nullable references to abstract heap types.
REF_ABBREVIATIONS = {f"{name}ref": code for name, code in HEAP_TYPES.items()
                     if name not in ("noexn", "nofunc", "noextern", "none")}
REF_ABBREVIATIONS.update(nullexnref=0x74, nullfuncref=0x73, nullexternref=0x72, nullref=0x71)


class TypeUse(NamedTuple):
    """``(type x)? (param ...)* (result ...)*`` as written: index (or None), params, results."""

    index: int | None
    param_names: tuple[str | None, ...]
    params: tuple[bytes, ...]
    results: tuple[bytes, ...]
    at: int  # token index, for errors


def heap_type(cur: Cursor, ctx: ModuleContext) -> bytes:
    """A heap type: an abstract name or a type index (encoded as s33)."""
    i = cur.i
    if i < cur.end and cur.kinds[i] == KEYWORD and cur.texts[i] in HEAP_TYPES:
        cur.i += 1
        return bytes((HEAP_TYPES[cur.texts[i]],))
    if cur.peek_open("exact"):
        close = cur.open("exact")
        inner = sleb(ctx.index(cur, "type"))
        cur.i = close
        cur.close()
        return b"\x62" + inner
    if i < cur.end and cur.kinds[i] in (NUM, ID):
        return sleb(ctx.index(cur, "type"))
    raise cur.unexpected()


def ref_type(cur: Cursor, ctx: ModuleContext) -> bytes:
    """A reference type: ``funcref``-style abbreviation or ``(ref null? heaptype)``."""
    i = cur.i
    if i < cur.end and cur.kinds[i] == KEYWORD and cur.texts[i] in REF_ABBREVIATIONS:
        cur.i += 1
        return bytes((REF_ABBREVIATIONS[cur.texts[i]],))
    if not cur.peek_open("ref"):
        raise cur.unexpected()
    cur.open("ref")
    nullable = cur.take_word("null")
    heap = heap_type(cur, ctx)
    cur.close()
    if nullable and len(heap) == 1 and heap[0] in HEAP_TYPES.values():
        return heap  # the short form of a nullable abstract reference
    return (b"\x63" if nullable else b"\x64") + heap


def is_val_type_start(cur: Cursor) -> bool:
    i = cur.i
    if i >= cur.end:
        return False
    if cur.kinds[i] == KEYWORD:
        text = cur.texts[i]
        return text in NUM_TYPES or text in REF_ABBREVIATIONS
    return cur.peek_open("ref")


def val_type(cur: Cursor, ctx: ModuleContext) -> bytes:
    """A value type."""
    i = cur.i
    if i < cur.end and cur.kinds[i] == KEYWORD and cur.texts[i] in NUM_TYPES:
        cur.i += 1
        return bytes((NUM_TYPES[cur.texts[i]],))
    return ref_type(cur, ctx)


def storage_type(cur: Cursor, ctx: ModuleContext) -> bytes:
    i = cur.i
    if i < cur.end and cur.kinds[i] == KEYWORD and cur.texts[i] in PACKED_TYPES:
        cur.i += 1
        return bytes((PACKED_TYPES[cur.texts[i]],))
    return val_type(cur, ctx)


def field_type(cur: Cursor, ctx: ModuleContext) -> bytes:
    """``storagetype`` or ``(mut storagetype)``: the storage type then the mutability byte."""
    if cur.peek_open("mut"):
        cur.open("mut")
        st = storage_type(cur, ctx)
        cur.close()
        return st + b"\x01"
    return storage_type(cur, ctx) + b"\x00"


def global_type(cur: Cursor, ctx: ModuleContext) -> bytes:
    """``valtype`` or ``(mut valtype)``."""
    if cur.peek_open("mut"):
        cur.open("mut")
        vt = val_type(cur, ctx)
        cur.close()
        return vt + b"\x01"
    return val_type(cur, ctx) + b"\x00"


def params_results(cur: Cursor, ctx: ModuleContext, names_allowed: bool = True
                   ) -> tuple[list[str | None], list[bytes], list[bytes]]:
    """``(param ...)* (result ...)*``; a named param declares one type."""
    names: list[str | None] = []
    params: list[bytes] = []
    results: list[bytes] = []
    while cur.peek_open("param"):
        cur.open("param")
        at = cur.i
        name = cur.id()
        if name is not None:
            if not names_allowed:
                raise cur.fail("unexpected token", at)
            names.append(name)
            params.append(val_type(cur, ctx))
        else:
            while cur.kind() != RPAREN:
                names.append(None)
                params.append(val_type(cur, ctx))
        cur.close()
    while cur.peek_open("result"):
        cur.open("result")
        while cur.kind() != RPAREN:
            results.append(val_type(cur, ctx))
        cur.close()
    if cur.peek_open("param") or cur.peek_open("type"):
        raise cur.fail("unexpected token", cur.i + 1)  # out of order
    return names, params, results


def type_use(cur: Cursor, ctx: ModuleContext) -> TypeUse:
    """A type use as written (not yet resolved to an index)."""
    at = cur.i
    index = None
    if cur.peek_open("type"):
        cur.open("type")
        index = ctx.index(cur, "type")
        cur.close()
    names, params, results = params_results(cur, ctx)
    return TypeUse(index, tuple(names), tuple(params), tuple(results), at)


def resolve_type_use(cur: Cursor, ctx: ModuleContext, use: TypeUse) -> int:
    """The type index a use denotes: the named one (inline parts must agree with it), else
    the first plain function type with the inline signature, appended if there is none."""
    if use.index is not None:
        if use.params or use.results:
            if use.index >= len(ctx.types):
                raise cur.fail("unknown type", use.at)
            typedef = ctx.types[use.index]
            if typedef.kind != "func" or typedef.params != use.params \
                    or typedef.results != use.results:
                raise cur.fail("inline function type", use.at)
        return use.index
    found = ctx.func_sigs.get((use.params, use.results))
    if found is not None:
        return found
    typedef = TypeDef("func", use.params, use.results)
    typedef.encoded = b"\x60" + vec(list(use.params)) + vec(list(use.results))
    index = ctx.add_type(typedef)
    ctx.groups.append(([index], False))
    return index


def _desc_clauses(cur: Cursor, ctx: ModuleContext) -> bytes:
    """Custom descriptors: ``(describes x)? (descriptor y)?`` before a composite type, in
    this order (binary ``0x4C x`` / ``0x4D y``); another order is an unexpected token."""
    out = b""
    for word, code in (("describes", b"\x4C"), ("descriptor", b"\x4D")):
        if cur.peek_open(word):
            cur.open(word)
            out += code + uleb(ctx.index(cur, "type"))
            cur.close()
    return out


def _described_comp(cur: Cursor, ctx: ModuleContext, index: int) -> TypeDef:
    """A composite type with its optional descriptor clauses."""
    clauses = _desc_clauses(cur, ctx)
    typedef = comp_type(cur, ctx, index)
    if clauses:
        typedef.encoded = clauses + typedef.encoded
        typedef.has_super = True  # not a plain function type (never shared by a type use)
    return typedef


def sub_type(cur: Cursor, ctx: ModuleContext, index: int) -> TypeDef:
    """The definition inside ``(type $id? ...)``: ``(sub final? x* comp)`` or a bare comp
    (custom descriptors: the comp preceded by its describes / descriptor clauses)."""
    if cur.peek_open("sub"):
        cur.open("sub")
        final = cur.take_word("final")
        supers = []
        while cur.peek_index():
            supers.append(ctx.index(cur, "type"))
        typedef = _described_comp(cur, ctx, index)
        cur.close()
        typedef.final = final
        typedef.has_super = bool(supers)
        if supers or not final:
            prefix = (b"\x4F" if final else b"\x50") + vec([uleb(s) for s in supers])
            typedef.encoded = prefix + typedef.encoded
        return typedef
    return _described_comp(cur, ctx, index)


def comp_type(cur: Cursor, ctx: ModuleContext, index: int) -> TypeDef:
    """``(func ...)``, ``(struct (field ...)*)`` or ``(array fieldtype)``."""
    word = cur.open_word()
    if word == "func":
        cur.open("func")
        _names, params, results = params_results(cur, ctx)
        cur.close()
        typedef = TypeDef("func", tuple(params), tuple(results))
        typedef.encoded = b"\x60" + vec(params) + vec(results)
        return typedef
    if word == "struct":
        cur.open("struct")
        fields: list[bytes] = []
        names: dict[str, int] = {}
        while cur.peek_open("field"):
            cur.open("field")
            at = cur.i
            name = cur.id()
            if name is not None:
                if name in names:
                    raise cur.fail("duplicate field", at)
                names[name] = len(fields)
                fields.append(field_type(cur, ctx))
            else:
                while cur.kind() != RPAREN:
                    fields.append(field_type(cur, ctx))
            cur.close()
        cur.close()
        ctx.field_names[index] = names
        typedef = TypeDef("struct")
        typedef.encoded = b"\x5F" + vec(fields)
        return typedef
    if word == "array":
        cur.open("array")
        ft = field_type(cur, ctx)
        cur.close()
        typedef = TypeDef("array")
        typedef.encoded = b"\x5E" + ft
        return typedef
    raise cur.unexpected(cur.i + 1 if cur.peek_open() else cur.i)
