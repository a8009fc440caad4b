"""Modules in the text format (spec: Text Format > Modules), parsed in three passes:

1. identifiers: every field's ``$name`` enters its index space (references may point forward);
2. type definitions (``type``/``rec``), so that type uses can find them;
3. every other field, in textual order, encoded into its section as it is read (inline type
   uses append their implicit types after the explicit ones, in order of appearance).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .context import ModuleContext, u32, u64
from .cursor import KEYWORD, LPAREN, RPAREN, Cursor
from .encode import MAGIC, name, section, uleb, vec
from .instructions import FuncScope, InstrParser
from .lexer import ANNOT
from .types import (
    REF_ABBREVIATIONS,
    global_type,
    ref_type,
    resolve_type_use,
    sub_type,
    type_use,
    val_type,
)

_EXTERN_KINDS = {"func": 0, "table": 1, "memory": 2, "global": 3, "tag": 4}
_IMPORTABLE = ("func", "table", "memory", "global", "tag")
_KIND_WORD = {"func": "function", "table": "table", "memory": "memory", "global": "global",
              "tag": "tag"}
#: Section ids in the order they are written, with the names custom-section placement uses.
SECTION_ORDER = (("type", 1), ("import", 2), ("func", 3), ("table", 4), ("memory", 5),
                 ("tag", 13), ("global", 6), ("export", 7), ("start", 8), ("elem", 9),
                 ("datacount", 12), ("code", 10), ("data", 11))
PAGE = 65536


@dataclass
class Sections:
    """The encoded entries of each section, filled while parsing."""

    imports: list[bytes] = field(default_factory=list)
    funcs: list[bytes] = field(default_factory=list)
    tables: list[bytes] = field(default_factory=list)
    memories: list[bytes] = field(default_factory=list)
    tags: list[bytes] = field(default_factory=list)
    globals: list[bytes] = field(default_factory=list)
    exports: list[bytes] = field(default_factory=list)
    start: int | None = None
    elems: list[bytes] = field(default_factory=list)
    codes: list[bytes] = field(default_factory=list)
    datas: list[bytes] = field(default_factory=list)
    customs: list[tuple[str, str, bytes]] = field(default_factory=list)  # (where, anchor, body)


class ModuleParser:
    """Parses the fields in tokens ``[start, end)`` (the inside of ``(module ...)``)."""

    def __init__(self, cur: Cursor, module_name: str | None = None) -> None:
        self.cur = cur
        self.module_name = module_name
        #: (function index, {local index: name}) of functions with named locals
        self.local_names: list[tuple[int, dict[int, str]]] = []
        self.ctx = ModuleContext()
        self.out = Sections()
        self.counters: dict[str, int] = {}

    # -- driver ---------------------------------------------------------------------------
    def parse(self) -> bytes:
        cur = self.cur
        fields = self._field_starts()
        self._collect_names(fields)
        for i in fields:
            if cur.kinds[i] == LPAREN and cur.texts[i + 1] in ("type", "rec"):
                cur.i = i
                self._type_field()
        for i in fields:
            cur.i = i
            if cur.kinds[i] == ANNOT:
                self._custom(i)
                continue
            word = cur.texts[i + 1]
            if word not in ("type", "rec"):
                handler = getattr(self, "_field_" + word)
                handler()
        return self._encode()

    def _field_starts(self) -> list[int]:
        """Token indices of each field's "(" (checked to be a known field)."""
        cur = self.cur
        starts = []
        i = cur.i
        while i < cur.end:
            kind = cur.kinds[i]
            if kind == ANNOT:
                if cur.texts[i] == "custom":
                    starts.append(i)
                i = cur.match[i] + 1
                continue
            if kind != LPAREN:
                raise cur.unexpected(i)
            word = cur.texts[i + 1] if i + 1 < cur.end and cur.kinds[i + 1] == KEYWORD else None
            if word not in FIELDS:
                raise cur.unexpected(i + 1)
            starts.append(i)
            i = cur.match[i] + 1
        return starts

    # -- pass 1: names ------------------------------------------------------------------------
    def _collect_names(self, fields: list[int]) -> None:
        cur, spaces = self.cur, self.ctx.spaces
        first_definition: str | None = None
        for start in fields:
            if cur.kinds[start] == ANNOT:
                continue
            word = cur.texts[start + 1]
            cur.i = start + 2
            if word == "type":
                spaces["type"].add(cur.id(), cur, start + 2)
            elif word == "rec":
                while cur.peek_open("type"):
                    close = cur.open("type")
                    spaces["type"].add(cur.id(), cur, cur.i - 1)
                    cur.i = close + 1
            elif word == "import":
                if first_definition:
                    raise cur.fail(f"import after {first_definition}", start)
                cur.utf8_string()
                cur.utf8_string()
                kind = cur.open_word()
                if kind not in _IMPORTABLE:
                    raise cur.unexpected(cur.i + 1 if kind else cur.i)
                cur.i += 2
                spaces[kind].add(cur.id(), cur, cur.i)
            elif word in _IMPORTABLE:
                at = cur.i
                spaces[word].add(cur.id(), cur, at)
                while cur.peek_open("export"):
                    cur.i = cur.match[cur.i] + 1
                if cur.peek_open("import"):
                    if first_definition:
                        raise cur.fail(f"import after {first_definition}", start)
                else:
                    first_definition = first_definition or _KIND_WORD[word]
                    self._inline_segment_name(word, start)
            elif word in ("elem", "data"):
                spaces[word].add(cur.id(), cur, start + 2)

    def _inline_segment_name(self, word: str, start: int) -> None:
        """A table's inline ``(elem ...)`` / a memory's ``(data ...)`` defines a segment."""
        cur = self.cur
        if word not in ("table", "memory"):
            return
        inner_word = "elem" if word == "table" else "data"
        i, close = cur.i, cur.match[start]
        while i < close:
            if cur.kinds[i] in (LPAREN, ANNOT):
                if cur.kinds[i] == LPAREN and cur.texts[i + 1] == inner_word:
                    self.ctx.spaces[inner_word].count += 1
                    return
                i = cur.match[i] + 1
            else:
                i += 1

    # -- pass 2: types ----------------------------------------------------------------------
    def _type_field(self) -> None:
        cur, ctx = self.cur, self.ctx
        if cur.peek_open("rec"):
            cur.open("rec")
            indices = []
            while cur.peek_open("type"):
                # wasm-tools (and the spec's type-rec.wast) never reuse a type written
                # inside "rec" for an inline type use, even a group of one
                indices.append(self._type_def(singleton=False))
            cur.close()
            ctx.groups.append((indices, True))
            return
        index = self._type_def(singleton=True)
        ctx.groups.append(([index], False))

    def _type_def(self, singleton: bool) -> int:
        cur, ctx = self.cur, self.ctx
        cur.open("type")
        cur.id()
        index = len(ctx.types)
        typedef = sub_type(cur, ctx, index)
        typedef.singleton = singleton
        cur.close()
        return ctx.add_type(typedef)

    # -- pass 3: the other fields ------------------------------------------------------------
    def _exports(self, kind: str, index: int) -> None:
        """Inline ``(export "name")*`` of a definition."""
        cur = self.cur
        while cur.peek_open("export"):
            cur.open("export")
            self._add_export(cur.utf8_string(), kind, index)
            cur.close()

    def _add_export(self, export_name: str, kind: str, index: int) -> None:
        self.out.exports.append(name(export_name) + bytes((_EXTERN_KINDS[kind],)) + uleb(index))

    def _inline_import(self) -> tuple[str, str] | None:
        cur = self.cur
        if not cur.peek_open("import"):
            return None
        cur.open("import")
        module = cur.utf8_string()
        field_name = cur.utf8_string()
        cur.close()
        return module, field_name

    def _field_func(self) -> None:
        cur, ctx = self.cur, self.ctx
        close = cur.open("func")
        cur.id()
        index = self._next_index("func")
        self._exports("func", index)
        imported = self._inline_import()
        if imported and cur.peek_open("exact"):  # custom descriptors: an exact import
            self._import(imported, self._exact_func_import())
            cur.close()
            return
        use = type_use(cur, ctx)
        type_index = resolve_type_use(cur, ctx, use)
        if imported:
            if cur.i != close:
                raise cur.unexpected()
            self._import(imported, b"\x00" + uleb(type_index))
            cur.close()
            return
        self.out.funcs.append(uleb(type_index))
        scope = FuncScope(in_function=True)
        self._param_names(use, type_index, scope)
        local_types = self._locals(scope)
        if scope.locals:
            self.local_names.append((index, {i: n for n, i in scope.locals.items()}))
        body = InstrParser(cur, ctx, scope).parse(close)
        cur.close()
        code = _encode_locals(local_types) + body + b"\x0B"
        self.out.codes.append(uleb(len(code)) + code)

    def _param_names(self, use, type_index: int, scope: FuncScope) -> None:
        cur = self.cur
        for i, pname in enumerate(use.param_names):
            if pname is not None:
                if pname in scope.locals:
                    raise cur.fail("duplicate local", use.at)
                scope.locals[pname] = i
        if not use.params and type_index < len(self.ctx.types):
            scope.params = len(self.ctx.types[type_index].params)
        else:
            scope.params = len(use.params)

    def _locals(self, scope: FuncScope) -> list[bytes]:
        cur, ctx = self.cur, self.ctx
        types: list[bytes] = []
        count = scope.params
        while cur.peek_open("local"):
            cur.open("local")
            at = cur.i
            lname = cur.id()
            if lname is not None:
                if lname in scope.locals:
                    raise cur.fail("duplicate local", at)
                scope.locals[lname] = count + len(types)
                types.append(val_type(cur, ctx))
            else:
                while cur.kind() != RPAREN:
                    types.append(val_type(cur, ctx))
            cur.close()
        return types

    def _next_index(self, space: str) -> int:
        """The index the next definition of ``space`` gets (imports and definitions count)."""
        index = self.counters.get(space, 0)
        self.counters[space] = index + 1
        return index

    def _import(self, names: tuple[str, str], desc: bytes) -> None:
        self.out.imports.append(name(names[0]) + name(names[1]) + desc)

    def _exact_func_import(self) -> bytes:
        """Custom descriptors: ``(exact typeuse)`` of a function import, kind 0x20."""
        self.cur.open("exact")
        desc = b"\x20" + uleb(self._func_type_use())
        self.cur.close()
        return desc

    def _field_import(self) -> None:
        cur, ctx = self.cur, self.ctx
        cur.open("import")
        names = (cur.utf8_string(), cur.utf8_string())
        kind = cur.open_word()
        cur.open(kind)
        cur.id()
        index = self._next_index(kind)
        del index
        if kind == "func" and cur.peek_open("exact"):
            desc = self._exact_func_import()
        elif kind == "func":
            desc = b"\x00" + uleb(self._func_type_use())
        elif kind == "tag":
            desc = b"\x04\x00" + uleb(self._func_type_use())
        elif kind == "table":
            desc = b"\x01" + self._table_type()
        elif kind == "memory":
            desc = b"\x02" + self._memory_type()
        else:
            desc = b"\x03" + global_type(cur, ctx)
        cur.close()
        cur.close()
        self._import(names, desc)

    def _func_type_use(self) -> int:
        cur = self.cur
        use = type_use(cur, self.ctx)
        return resolve_type_use(cur, self.ctx, use)

    def _addr64(self) -> bool:
        cur = self.cur
        if cur.peek_word("i64"):
            cur.i += 1
            return True
        cur.take_word("i32")
        return False

    def _limits(self, is64: bool, shared_ok: bool) -> tuple[int, bytes]:
        """Limits (``min max?``, ``shared``, ``(pagesize n)``): the flags byte and the rest.

        Bounds are read as u64 whatever the address type: a 32-bit memory of 2**32 pages is
        the validator's to reject ("memory size must be at most 65536 pages"), as in the
        reference interpreter and wasm-tools.
        """
        cur = self.cur
        minimum = u64(cur)
        maximum = u64(cur) if cur.peek_num() else None
        flags = (1 if maximum is not None else 0) | (4 if is64 else 0)
        shared = shared_ok and cur.take_word("shared")
        if shared:
            flags |= 2
        rest = uleb(minimum) + (uleb(maximum) if maximum is not None else b"")
        if shared_ok and cur.peek_open("pagesize"):
            flags |= 8
            rest += uleb(self._page_size())
        return flags, rest

    def _page_size(self) -> int:
        """``(pagesize n)``, n a power of two: log2 of n."""
        cur = self.cur
        cur.open("pagesize")
        at = cur.i
        size = u32(cur)
        cur.close()
        if size == 0 or size & (size - 1):
            raise cur.fail("invalid custom page size", at)
        return size.bit_length() - 1

    def _table_type(self) -> bytes:
        cur, ctx = self.cur, self.ctx
        is64 = self._addr64()
        flags, rest = self._limits(is64, shared_ok=False)
        ctx.table64.append(is64)
        return ref_type(cur, ctx) + bytes((flags,)) + rest

    def _memory_type(self) -> bytes:
        is64 = self._addr64()
        flags, rest = self._limits(is64, shared_ok=True)
        self.ctx.memory64.append(is64)
        return bytes((flags,)) + rest

    def _field_table(self) -> None:
        cur, ctx = self.cur, self.ctx
        close = cur.open("table")
        cur.id()
        index = self._next_index("table")
        self._exports("table", index)
        imported = self._inline_import()
        if imported:
            self._import(imported, b"\x01" + self._table_type())
            cur.close()
            return
        save = cur.i
        is64 = self._addr64()
        if _is_ref_type_start(cur):
            elem_type = ref_type(cur, ctx)
            if cur.peek_open("elem"):
                self._table_with_elems(index, is64, elem_type)
                cur.close()
                return
        cur.i = save
        table_type = self._table_type()
        if cur.i != close:
            init = self._expr(close)
            self.out.tables.append(b"\x40\x00" + table_type + init)
        else:
            self.out.tables.append(table_type)
        cur.close()

    def _table_with_elems(self, index: int, is64: bool, elem_type: bytes) -> None:
        """``(table reftype (elem ...))``: a table sized to fit and an active segment at 0."""
        cur = self.cur
        elem_close = cur.open("elem")
        offset = (b"\x42\x00" if is64 else b"\x41\x00") + b"\x0B"
        if cur.kind() == LPAREN:
            items = self._elem_exprs(elem_close)
            count = len(items)
            segment = b"\x06" + uleb(index) + offset + elem_type + vec(items)
        else:
            funcs = []
            while cur.peek_index():
                funcs.append(uleb(self.ctx.index(cur, "func")))
            count = len(funcs)
            if elem_type == b"\x70":
                segment = b"\x02" + uleb(index) + offset + b"\x00" + vec(funcs)
            else:  # a typed table: its segment holds ref.func expressions of its type
                items = [b"\xD2" + f + b"\x0B" for f in funcs]
                segment = b"\x06" + uleb(index) + offset + elem_type + vec(items)
        cur.close()
        self.ctx.table64.append(is64)
        flags = 1 | (4 if is64 else 0)
        self.out.tables.append(elem_type + bytes((flags,)) + uleb(count) + uleb(count))
        self.out.elems.append(segment)

    def _field_memory(self) -> None:
        cur = self.cur
        cur.open("memory")
        cur.id()
        index = self._next_index("memory")
        self._exports("memory", index)
        imported = self._inline_import()
        if imported:
            self._import(imported, b"\x02" + self._memory_type())
            cur.close()
            return
        save = cur.i
        is64 = self._addr64()
        page_log2 = self._page_size() if cur.peek_open("pagesize") else None
        if cur.peek_open("data"):
            cur.open("data")
            data = bytearray()
            while cur.kind() != RPAREN:
                data += cur.string().encode("latin-1")
            cur.close()
            page = PAGE if page_log2 is None else 1 << page_log2
            pages = (len(data) + page - 1) // page
            self.ctx.memory64.append(is64)
            flags = 1 | (4 if is64 else 0) | (0 if page_log2 is None else 8)
            self.out.memories.append(bytes((flags,)) + uleb(pages) + uleb(pages) + (
                b"" if page_log2 is None else uleb(page_log2)))
            offset = (b"\x42\x00" if is64 else b"\x41\x00") + b"\x0B"
            self.out.datas.append(self._active_data(index, offset, bytes(data)))
            cur.close()
            return
        cur.i = save
        self.out.memories.append(self._memory_type())
        cur.close()

    def _field_global(self) -> None:
        cur, ctx = self.cur, self.ctx
        close = cur.open("global")
        cur.id()
        index = self._next_index("global")
        self._exports("global", index)
        imported = self._inline_import()
        gtype = global_type(cur, ctx)
        if imported:
            self._import(imported, b"\x03" + gtype)
        else:
            self.out.globals.append(gtype + self._expr(close))
        cur.close()

    def _field_tag(self) -> None:
        cur = self.cur
        cur.open("tag")
        cur.id()
        index = self._next_index("tag")
        self._exports("tag", index)
        imported = self._inline_import()
        type_index = self._func_type_use()
        if imported:
            self._import(imported, b"\x04\x00" + uleb(type_index))
        else:
            self.out.tags.append(b"\x00" + uleb(type_index))
        cur.close()

    def _field_export(self) -> None:
        cur = self.cur
        cur.open("export")
        export_name = cur.utf8_string()
        kind = cur.open_word()
        if kind not in _EXTERN_KINDS:
            raise cur.unexpected(cur.i + 1 if kind else cur.i)
        cur.open(kind)
        index = self.ctx.index(cur, kind)
        cur.close()
        cur.close()
        self._add_export(export_name, kind, index)

    def _field_start(self) -> None:
        cur = self.cur
        at = cur.i
        cur.open("start")
        index = self.ctx.index(cur, "func")
        cur.close()
        if self.out.start is not None:
            raise cur.fail("multiple start sections", at)
        self.out.start = index

    def _expr(self, close: int) -> bytes:
        """A constant expression: instructions up to ``close``, then ``end``."""
        return InstrParser(self.cur, self.ctx, FuncScope()).parse(close) + b"\x0B"

    def _offset(self) -> bytes:
        """``(offset instr*)`` or one folded instruction."""
        cur = self.cur
        if cur.peek_open("offset"):
            close = cur.open("offset")
            expr = self._expr(close)
            cur.close()
            return expr
        if not cur.peek_open():
            raise cur.unexpected()
        close = cur.match[cur.i]
        return InstrParser(cur, self.ctx, FuncScope()).parse(close + 1) + b"\x0B"

    def _field_elem(self) -> None:
        cur, ctx = self.cur, self.ctx
        close = cur.open("elem")
        cur.id()
        mode = "passive"
        table = None
        offset = b""
        if cur.take_word("declare"):
            mode = "declare"
        elif cur.peek_open("table") or cur.peek_open("offset") or cur.peek_index() \
                or (cur.peek_open() and not cur.peek_open("item") and not _is_ref_type_start(cur)):
            mode = "active"
            if cur.peek_open("table"):
                cur.open("table")
                table = ctx.index(cur, "table")
                cur.close()
            elif cur.peek_index():
                table = ctx.index(cur, "table")
            offset = self._offset()
        elem_type, funcs, items = self._elem_list(close, allow_bare=mode == "active")
        cur.close()
        if mode == "active":
            self.out.elems.append(self._active_elem(table, offset, elem_type, funcs, items))
            return
        flag = 1 if mode == "passive" else 3
        if funcs is not None:
            self.out.elems.append(bytes((flag,)) + b"\x00" + vec(funcs))
        else:
            self.out.elems.append(bytes((flag | 4,)) + elem_type + vec(items))

    def _elem_list(self, close: int, allow_bare: bool
                   ) -> tuple[bytes, list[bytes] | None, list[bytes] | None]:
        """``func x*`` / ``reftype expr*`` / bare ``x*``: (type, func indices, expressions)."""
        cur, ctx = self.cur, self.ctx
        if cur.take_word("func"):
            return b"\x70", self._func_indices(), None
        if _is_ref_type_start(cur):
            elem_type = ref_type(cur, ctx)
            return elem_type, None, self._elem_exprs(close)
        if not allow_bare and cur.i != close:
            raise cur.unexpected()
        return b"\x70", self._func_indices(), None

    def _func_indices(self) -> list[bytes]:
        cur = self.cur
        funcs = []
        while cur.peek_index():
            funcs.append(uleb(self.ctx.index(cur, "func")))
        return funcs

    def _elem_exprs(self, close: int) -> list[bytes]:
        """``(item instr*)`` or a single folded instruction, each."""
        cur = self.cur
        items = []
        while cur.i < close:
            if cur.peek_open("item"):
                item_close = cur.open("item")
                items.append(self._expr(item_close))
                cur.close()
            else:
                items.append(self._offset())
        return items

    def _active_elem(self, table: int | None, offset: bytes, elem_type: bytes,
                     funcs: list[bytes] | None, items: list[bytes] | None) -> bytes:
        if funcs is not None:
            if table is None:
                return b"\x00" + offset + vec(funcs)
            return b"\x02" + uleb(table) + offset + b"\x00" + vec(funcs)
        if table is None and elem_type == b"\x70":
            return b"\x04" + offset + vec(items or [])
        return b"\x06" + uleb(table or 0) + offset + elem_type + vec(items or [])

    def _field_data(self) -> None:
        cur, ctx = self.cur, self.ctx
        cur.open("data")
        cur.id()
        memory = None
        offset = None
        if cur.peek_open("memory"):
            cur.open("memory")
            memory = ctx.index(cur, "memory")
            cur.close()
            offset = self._offset()
        elif cur.peek_index():
            memory = ctx.index(cur, "memory")
            offset = self._offset()
        elif cur.peek_open():
            offset = self._offset()
        data = bytearray()
        while cur.kind() != RPAREN:
            data += cur.string().encode("latin-1")
        cur.close()
        if offset is None:
            self.out.datas.append(b"\x01" + uleb(len(data)) + bytes(data))
        else:
            self.out.datas.append(self._active_data(memory or 0, offset, bytes(data)))

    @staticmethod
    def _active_data(memory: int, offset: bytes, data: bytes) -> bytes:
        if memory:
            return b"\x02" + uleb(memory) + offset + uleb(len(data)) + data
        return b"\x00" + offset + uleb(len(data)) + data

    def _field_rec(self) -> None:  # handled in the type pass
        pass

    _field_type = _field_rec

    # -- custom sections --------------------------------------------------------------------
    def _custom(self, start: int) -> None:
        """``(@custom "name" (before|after section)? "data"*)``."""
        cur = self.cur
        close = cur.match[start]
        cur.i = start + 1
        custom_name = cur.utf8_string()
        where, anchor = "after", "last"
        if cur.peek_open("before") or cur.peek_open("after"):
            where = cur.texts[cur.i + 1]
            cur.i += 2
            anchor = cur.word()
            if anchor not in _PLACES:
                raise cur.fail("malformed annotation", cur.i - 1)
            cur.close()
        data = bytearray()
        while cur.i < close:
            data += cur.string().encode("latin-1")
        cur.i = close + 1
        self.out.customs.append((where, anchor, name(custom_name) + bytes(data)))

    # -- output ----------------------------------------------------------------------------
    def _encode(self) -> bytes:
        out, ctx = self.out, self.ctx
        types = []
        for indices, rec in ctx.groups:
            encoded = [ctx.types[i].encoded for i in indices]
            types.append(b"\x4E" + vec(encoded) if rec else encoded[0])
        bodies = {
            "type": vec(types) if types else None,
            "import": vec(out.imports) if out.imports else None,
            "func": vec(out.funcs) if out.funcs else None,
            "table": vec(out.tables) if out.tables else None,
            "memory": vec(out.memories) if out.memories else None,
            "tag": vec(out.tags) if out.tags else None,
            "global": vec(out.globals) if out.globals else None,
            "export": vec(out.exports) if out.exports else None,
            "start": uleb(out.start) if out.start is not None else None,
            "elem": vec(out.elems) if out.elems else None,
            "datacount": uleb(len(out.datas)) if ctx.uses_data_index else None,
            "code": vec(out.codes) if out.codes else None,
            "data": vec(out.datas) if out.datas else None,
        }
        result = bytearray(MAGIC)
        result += self._customs_at("before", "first")
        for section_name, section_id in SECTION_ORDER:
            result += self._customs_at("before", section_name)
            if bodies[section_name] is not None:
                result += section(section_id, bodies[section_name])
            result += self._customs_at("after", section_name)
        result += self._name_section()
        result += self._customs_at("after", "last")
        return bytes(result)

    def _name_section(self) -> bytes:
        """The "name" custom section (module, function and local names from identifiers):
        debug information, e.g. for trap frames. Empty when nothing is named."""
        subsections = bytearray()
        if self.module_name is not None:
            subsections += _subsection(0, _utf8_name(self.module_name))
        funcs = self.ctx.spaces["func"].names
        if funcs:
            entries = sorted((index, name) for name, index in funcs.items())
            subsections += _subsection(1, _name_map(entries))
        if self.local_names:
            entries = [uleb(f) + _name_map(sorted(m.items())) for f, m in self.local_names]
            subsections += _subsection(2, vec(entries))
        if not subsections:
            return b""
        return section(0, name("name") + bytes(subsections))

    def _customs_at(self, where: str, anchor: str) -> bytes:
        return b"".join(section(0, body) for w, a, body in self.out.customs
                        if w == where and a == anchor)


_PLACES = {"first", "last"} | {n for n, _ in SECTION_ORDER}
FIELDS = {"type", "rec", "import", "func", "table", "memory", "global", "tag", "export",
           "start", "elem", "data"}


def _is_ref_type_start(cur: Cursor) -> bool:
    i = cur.i
    if i < cur.end and cur.kinds[i] == KEYWORD and cur.texts[i] in REF_ABBREVIATIONS:
        return True
    return cur.peek_open("ref")


def _utf8_name(text: str) -> bytes:
    data = text.encode("utf-8")
    return uleb(len(data)) + data


def _name_map(entries: list[tuple[int, str]]) -> bytes:
    return vec([uleb(index) + _utf8_name(text) for index, text in entries])


def _subsection(sub_id: int, body: bytes) -> bytes:
    return bytes((sub_id,)) + uleb(len(body)) + body


def _encode_locals(types: list[bytes]) -> bytes:
    """Local declarations: runs of equal types as (count, type) pairs."""
    runs: list[list] = []
    for t in types:
        if runs and runs[-1][1] == t:
            runs[-1][0] += 1
        else:
            runs.append([1, t])
    return vec([uleb(n) + t for n, t in runs])


__all__ = ["FIELDS", "ModuleParser"]
