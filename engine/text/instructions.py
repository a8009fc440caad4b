"""Instructions: flat and folded, with labels, encoded to bytes as they are read.

Which words are instructions, their opcodes and the kind of their immediates come from the
opcode table (``engine.opcodes``, the single source of truth); this module only knows how to
read and encode each immediate *kind*. Folded instructions are read with an explicit stack
of open forms, not by recursion, so nesting depth is bounded by memory only.

Immediate kinds known beyond those of the Wasm 2.0 table (for Wasm 3.0 rows as they land):
"type" (a type index), "struct_field" (type, field), "array_fixed" (type, u32),
"array_data" (type, data), "array_elem" (type, elem), "array_copy" (type, type), "tag",
"heaptype" (a heap type), "cast" (a reference type: ref.test/ref.cast, whose nullable form
is the row named "<name>_null"), "br_on_cast" (label, two reference types -> flags byte),
"try_table" (block type and catch clauses), "fence" (a zero byte).

Legacy exception handling (the ``legacy_exceptions`` feature; the text parser reads it
always, the decoder rejects it while the feature is off): flat ``try bt instr* (catch id?
x instr*)* (catch_all id? instr*)? end id?`` (an id repeats the try's label) and ``try bt
instr* delegate l``, folded ``(try bt (do instr*) (catch x instr*)* (catch_all instr*)?)``
and ``(try bt (do instr*) (delegate l))``. A delegate's label is read after the try's own
label is closed (it names an outer one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..opcodes import BY_NAME, Op
from .context import ModuleContext, u32
from .cursor import ID, KEYWORD, LPAREN, NUM, RESERVED, RPAREN, Cursor
from .encode import f32_bytes, f64_bytes, sleb, uleb, vec
from .numbers import F32, F64, parse_float, parse_int, parse_uint
from .types import heap_type, ref_type, resolve_type_use, type_use, val_type

#: Instruction-table rows that are not words of the text format (reached another way).
_NOT_TEXT = {"select_t", "catch", "catch_all", "delegate"}
_BLOCK_WORDS = {"block", "loop", "if", "try_table", "try"}
#: Words that continue or end a legacy ``try`` (flat form) rather than being instructions.
_TRY_CLAUSES = {"catch", "catch_all", "delegate"}
# States of a folded legacy try (``Frame.state``): before (do), after it, after a catch,
# after catch_all, after delegate. A flat try: 0 in its body, 1 after a catch, 2 after
# catch_all.
_BEFORE_DO, _AFTER_DO, _AFTER_CATCH, _AFTER_CATCH_ALL, _DELEGATED = range(5)
_WIDTH = re.compile(r"(?:load|store|rmw|wait)(\d+)(?:x(\d+))?")
_TYPE_BITS = {"i32": 32, "i64": 64, "f32": 32, "f64": 64, "v128": 128, "memory": 32}
_SHAPES = {"i8x16": (16, 8), "i16x8": (8, 16), "i32x4": (4, 32), "i64x2": (2, 64),
           "f32x4": (4, 32), "f64x2": (2, 64)}
_CATCHES = {"catch": 0, "catch_ref": 1, "catch_all": 2, "catch_all_ref": 3}


def opcode_bytes(op: Op) -> bytes:
    """The encoding of an opcode (prefix byte and LEB sub-opcode, or the single byte)."""
    if op.prefix:
        return bytes((op.prefix,)) + uleb(op.code)
    return bytes((op.code,))


_ENCODED: dict[str, bytes] = {}


def _opcode(name: str) -> bytes:
    """The encoding of the opcode named ``name`` (memoised)."""
    found = _ENCODED.get(name)
    if found is None:
        found = _ENCODED[name] = opcode_bytes(BY_NAME[name])
    return found


def natural_alignment(name: str) -> int:
    """log2 of the byte width a memory instruction accesses (its default alignment)."""
    m = _WIDTH.search(name)
    if m:
        bits = int(m.group(1)) * int(m.group(2) or 1)
    else:
        bits = _TYPE_BITS.get(name.split(".", 1)[0], 32)
    return (bits // 8).bit_length() - 1


@dataclass
class Frame:
    """An open structured instruction or folded form."""

    kind: str  # "flat" (block/loop/if/try_table/try), "fold", "fold_block", "if", "try",
    # "then" (also a folded try's do / catch / catch_all), "else"
    close: int = -1  # index of the ")" that ends a folded form
    label: str | None = None
    pending: bytes = b""  # bytes to emit when a folded plain form closes
    word: str = ""
    state: int = 0  # "if": 0 condition, 1 after then, 2 after else; try: see _BEFORE_DO
    labels_pushed: bool = False


@dataclass
class FuncScope:
    """Local names of the function being parsed (empty for constant expressions)."""

    locals: dict[str, int] = field(default_factory=dict)
    params: int = 0
    in_function: bool = False  # a function body (not a constant expression)


class InstrParser:
    """Reads an instruction sequence up to a given ")" and returns its encoding."""

    def __init__(self, cur: Cursor, ctx: ModuleContext, scope: FuncScope) -> None:
        self.cur = cur
        self.ctx = ctx
        self.scope = scope
        self.labels: list[str | None] = []
        #: label name -> the stack positions it is open at (innermost last): a branch to a
        #: named label costs O(1) however deep the nesting
        self.label_at: dict[str, list[int]] = {}
        self.out = bytearray()

    # -- the main loop -------------------------------------------------------------------
    def parse(self, end: int) -> bytes:
        """Instructions from the cursor up to token ``end`` (exclusive)."""
        cur = self.cur
        kinds, texts = cur.kinds, cur.texts
        stack: list[Frame] = []
        limit = end
        while True:
            i = cur.i
            if i >= limit:
                if not stack:
                    if i > limit:
                        raise cur.unexpected(limit)
                    return bytes(self.out)
                top = stack[-1]
                if top.kind == "flat":
                    raise cur.fail("unexpected token", i)
                if kinds[i] != RPAREN:
                    raise cur.unexpected(i)
                cur.i = i + 1
                stack.pop()
                self._close_fold(top, stack)
                limit = self._limit(stack, end)
                continue
            kind = kinds[i]
            if kind == KEYWORD:
                self._flat(texts[i], stack)
            elif kind == LPAREN:
                if stack and stack[-1].kind == "if":
                    self._if_part(stack)
                elif stack and stack[-1].kind == "try":
                    self._try_part(stack)
                else:
                    self._open_fold(stack)
                limit = self._limit(stack, end)
            else:
                raise cur.unexpected(i)

    @staticmethod
    def _limit(stack: list[Frame], end: int) -> int:
        for frame in reversed(stack):
            if frame.kind != "flat":
                return frame.close
        return end

    # -- flat structure ----------------------------------------------------------------------
    def _flat(self, word: str, stack: list[Frame]) -> None:
        cur = self.cur
        at = cur.i
        if stack and stack[-1].kind in ("if", "try", "fold"):
            # a folded if holds folded conditions and then/else only; a folded try do/catch;
            # a folded plain instruction folded operands only: ``(i32.add (x) i32.const 2)``
            # is malformed (the text format's folded form: ``( plaininstr foldedinstr* )``)
            raise cur.unexpected(at)
        if word == "end" or word == "else":
            cur.i += 1
            top = stack[-1] if stack else None
            if top is None or top.kind != "flat" or (word == "else" and top.word != "if"):
                raise cur.fail("unexpected token", at)
            self._check_label(top.label)
            if word == "else":
                if top.state:
                    raise cur.fail("unexpected token", at)
                top.state = 1
                self.out.append(0x05)
                return
            stack.pop()
            self._pop_label()
            self.out.append(0x0B)
            return
        if word in _BLOCK_WORDS:
            cur.i += 1
            label = self._block_start(word)
            stack.append(Frame("flat", label=label, word=word))
            return
        if word in _TRY_CLAUSES:
            self._flat_clause(word, stack)
            return
        self._plain(word, self.out)

    def _flat_clause(self, word: str, stack: list[Frame]) -> None:
        """Flat ``catch x`` / ``catch_all`` / ``delegate l`` of the innermost (flat) try."""
        cur = self.cur
        at = cur.i
        cur.i += 1
        top = stack[-1] if stack else None
        if top is None or top.kind != "flat" or top.word != "try" or top.state == 2 \
                or (word == "delegate" and top.state):
            raise cur.fail("unexpected token", at)
        if word == "catch":
            # ``catch $label? tag``: an identifier followed by an index repeats the label
            nxt = cur.i + 1
            if cur.kind() == ID and nxt < cur.end and cur.kinds[nxt] in (ID, NUM):
                self._check_label(top.label)
            self.out += _opcode("catch") + uleb(self.ctx.index(cur, "tag"))
            top.state = 1
        elif word == "catch_all":
            self._check_label(top.label)  # ``catch_all $label?``
            self.out += _opcode("catch_all")
            top.state = 2
        else:
            stack.pop()
            self._pop_label()  # delegate names a label outside the try
            self.out += _opcode("delegate") + uleb(self._label_index())

    def _check_label(self, label: str | None) -> None:
        """An identifier after ``end``/``else`` must repeat the block's label."""
        cur = self.cur
        at = cur.i
        name = cur.id()
        if name is not None and name != label:
            raise cur.fail("mismatching label", at)

    def _block_start(self, word: str) -> str | None:
        """After block/loop/if/try_table: label, block type (and catches); emits the header
        and opens the label."""
        cur = self.cur
        label = cur.id()
        if word not in BY_NAME:
            raise self.cur.unexpected(self.cur.i - 1)
        header = bytearray(_opcode(word))
        header += self._block_type()
        if word == "try_table":
            header += self._catches()
        self.out += header
        self._push_label(label)
        return label

    def _block_type(self) -> bytes:
        cur = self.cur
        use = type_use(cur, self.ctx)
        if use.param_names and any(n is not None for n in use.param_names):
            raise cur.fail("unexpected token", use.at)
        if use.index is None and not use.params and len(use.results) <= 1:
            return use.results[0] if use.results else b"\x40"
        return sleb(resolve_type_use(cur, self.ctx, use))

    def _catches(self) -> bytes:
        cur = self.cur
        clauses = []
        while True:
            word = cur.open_word()
            if word not in _CATCHES:
                break
            cur.open(word)
            code = _CATCHES[word]
            clause = bytes((code,))
            if code < 2:
                clause += uleb(self.ctx.index(cur, "tag"))
            # read before the try_table's own label is pushed: catches branch outside it
            clause += uleb(self._label_index())
            cur.close()
            clauses.append(clause)
        return vec(clauses)

    # -- folded forms -----------------------------------------------------------------------
    def _open_fold(self, stack: list[Frame]) -> None:
        cur = self.cur
        i = cur.i
        if i + 1 >= cur.end or cur.kinds[i + 1] != KEYWORD:
            raise cur.unexpected(i + 1)
        word = cur.texts[i + 1]
        close = cur.match[i]
        if word in _BLOCK_WORDS and word in BY_NAME:
            cur.i = i + 2
            if word == "try":
                label = self._block_start(word)
                stack.append(Frame("try", close, label, word=word))
                return
            if word == "if":
                label = cur.id()
                bt = self._block_type()
                frame = Frame("if", close, label, _opcode("if") + bt, word)
                stack.append(frame)
                return
            label = self._block_start(word)
            stack.append(Frame("fold_block", close, label, word=word))
            return
        if word in ("then", "else", "end", "do") or word in _TRY_CLAUSES \
                or word not in BY_NAME and word in _BLOCK_WORDS:
            raise cur.unexpected(i + 1)
        cur.i = i + 1
        pending = bytearray()
        self._plain(word, pending)
        stack.append(Frame("fold", close, pending=bytes(pending), word=word))

    def _if_part(self, stack: list[Frame]) -> None:
        """Inside a folded if: a condition, ``(then ...)`` or ``(else ...)``."""
        cur = self.cur
        frame = stack[-1]
        word = cur.open_word()
        if word == "then" and frame.state == 0:
            close = cur.open("then")
            self.out += frame.pending
            self._push_label(frame.label)
            frame.labels_pushed = True
            frame.state = 1
            stack.append(Frame("then", close))
            return
        if word == "else" and frame.state == 1:
            close = cur.open("else")
            self.out.append(0x05)
            frame.state = 2
            stack.append(Frame("else", close))
            return
        if frame.state == 0 and word not in ("then", "else"):
            self._open_fold(stack)  # a folded condition
            return
        raise cur.unexpected(cur.i + 1)

    def _try_part(self, stack: list[Frame]) -> None:
        """Inside a folded try: ``(do ...)``, then ``(catch x ...)``* ``(catch_all ...)``?
        or ``(delegate l)``."""
        cur = self.cur
        frame = stack[-1]
        word = cur.open_word()
        state = frame.state
        if word == "do" and state == _BEFORE_DO:
            close = cur.open("do")
            frame.state = _AFTER_DO
        elif word == "catch" and state in (_AFTER_DO, _AFTER_CATCH):
            close = cur.open("catch")
            self.out += _opcode("catch") + uleb(self.ctx.index(cur, "tag"))
            frame.state = _AFTER_CATCH
        elif word == "catch_all" and state in (_AFTER_DO, _AFTER_CATCH):
            close = cur.open("catch_all")
            self.out += _opcode("catch_all")
            frame.state = _AFTER_CATCH_ALL
        elif word == "delegate" and state == _AFTER_DO:
            cur.open("delegate")
            self._pop_label()  # delegate names a label outside the try
            self.out += _opcode("delegate") + uleb(self._label_index())
            cur.close()
            frame.state = _DELEGATED
            return
        else:
            raise cur.unexpected(cur.i + 1 if word else cur.i)
        stack.append(Frame("then", close))

    def _close_fold(self, frame: Frame, stack: list[Frame]) -> None:
        if frame.kind == "fold":
            self.out += frame.pending
        elif frame.kind == "fold_block":
            self._pop_label()
            self.out.append(0x0B)
        elif frame.kind == "if":
            if frame.state == 0:
                raise self.cur.fail("unexpected token", self.cur.i - 1)
            self._pop_label()
            self.out.append(0x0B)
        elif frame.kind == "try":
            if frame.state == _BEFORE_DO:
                raise self.cur.fail("unexpected token", self.cur.i - 1)
            if frame.state != _DELEGATED:  # delegate ended the try and closed its label
                self._pop_label()
                self.out.append(0x0B)
        # "then" / "else" emit nothing on close

    # -- plain instructions -------------------------------------------------------------------
    def _plain(self, word: str, out: bytearray) -> None:
        """A plain instruction (the word at the cursor) and its immediates into ``out``."""
        cur = self.cur
        at = cur.i
        op = BY_NAME.get(word)
        if op is None or word in _NOT_TEXT:
            raise cur.unexpected(at)
        cur.i += 1
        if word == "select" and cur.peek_open("result"):
            op = next(o for o in BY_NAME.values() if o.imm == "select_t")
        reader = _IMMEDIATES.get(op.imm)
        if reader is None:
            raise cur.fail(f"unsupported immediate kind {op.imm!r}", at)
        if op.imm in ("cast", "ref_nonnull", "ref_null"):
            nullable, imm = reader(self, op)
            op = BY_NAME.get(word + "_null", op) if nullable else op
            out += opcode_bytes(op)
            out += imm
            return
        out += _opcode(op.name)
        out += reader(self, op)

    def _push_label(self, label: str | None) -> None:
        if label is not None:
            self.label_at.setdefault(label, []).append(len(self.labels))
        self.labels.append(label)

    def _pop_label(self) -> None:
        label = self.labels.pop()
        if label is not None:
            self.label_at[label].pop()

    def _label_index(self) -> int:
        cur = self.cur
        i = cur.i
        if i < cur.end and cur.kinds[i] == ID:
            positions = self.label_at.get(cur.texts[i])
            if not positions:
                raise cur.fail("unknown label", i)
            cur.i += 1
            return len(self.labels) - 1 - positions[-1]
        return u32(cur)

    def _local_index(self) -> int:
        cur = self.cur
        i = cur.i
        if i < cur.end and cur.kinds[i] == ID:
            found = self.scope.locals.get(cur.texts[i])
            if found is None:
                raise cur.fail("unknown local", i)
            cur.i += 1
            return found
        return u32(cur)

    def _optional_index(self, space: str) -> int:
        return self.ctx.index(self.cur, space) if self.cur.peek_index() else 0

    def _memarg(self, op: Op, lane: bool = False) -> bytes:
        cur = self.cur
        if lane and cur.peek_num():
            # "v128.load8_lane 1" is a lane; a memory index only comes before another number
            # or an offset=/align=
            nxt = cur.i + 1
            follows = nxt < cur.end and (cur.kinds[nxt] == NUM or cur.kinds[nxt] == KEYWORD and (
                cur.texts[nxt].startswith("offset=") or cur.texts[nxt].startswith("align=")))
            mem = self._optional_index("memory") if follows else 0
        else:
            mem = self._optional_index("memory")
        offset = 0
        align = natural_alignment(op.name)
        if cur.i < cur.end and cur.kinds[cur.i] == KEYWORD and cur.texts[cur.i].startswith("offset="):
            offset = self._keyword_number("offset=", 64)
        if cur.i < cur.end and cur.kinds[cur.i] == KEYWORD and cur.texts[cur.i].startswith("align="):
            at = cur.i
            value = self._keyword_number("align=", 64)
            if value == 0 or value & (value - 1):
                raise cur.fail("alignment must be a power of two", at)
            align = value.bit_length() - 1
        if mem:
            return uleb(align | 0x40) + uleb(mem) + uleb(offset)
        return uleb(align) + uleb(offset)

    def _keyword_number(self, prefix: str, bits: int) -> int:
        cur = self.cur
        at = cur.i
        text = cur.texts[at][len(prefix):]
        cur.i += 1
        try:
            return parse_uint(text, bits)
        except ValueError as err:
            raise cur.fail(str(err), at) from None

    def _lane(self) -> int:
        cur = self.cur
        at = cur.i
        if not cur.peek_num() or cur.texts[at][0] in "+-":
            raise cur.fail("unexpected token", at)
        text = cur.num_text()
        try:
            value = parse_uint(text, 32)
        except ValueError:
            raise cur.fail("unexpected token", at) from None
        if value > 255:
            raise cur.fail("i8 constant out of range", at)
        return value

    def _shuffle(self) -> bytes:
        """Sixteen lane indices ("invalid lane length" when fewer are written)."""
        cur = self.cur
        lanes = bytearray()
        for _ in range(16):
            if cur.i >= cur.end or cur.kinds[cur.i] in (RPAREN, LPAREN):
                raise cur.fail("invalid lane length")
            at = cur.i
            cur.i += 1
            try:
                value = parse_uint(cur.texts[at], 8)
            except ValueError:
                raise cur.fail("i8 constant out of range", at) from None  # 3.0's wording
            lanes.append(value)
        if cur.peek_num():
            raise cur.fail("invalid lane length")
        return bytes(lanes)

    def _v128(self) -> bytes:
        cur = self.cur
        at = cur.i
        if not (cur.i < cur.end and cur.kinds[cur.i] == KEYWORD and cur.texts[cur.i] in _SHAPES):
            raise cur.unexpected()
        shape = cur.word()
        count, bits = _SHAPES[shape]
        # the number of literals is checked before their values (as the reference does)
        written = 0
        i = cur.i
        while i < cur.end and (cur.kinds[i] in (NUM, RESERVED) or cur.kinds[i] == KEYWORD
                               and shape[0] == "f"
                               and cur.texts[i].lstrip("+-").startswith(("inf", "nan"))):
            written += 1
            i += 1
        if written != count:
            raise cur.fail("wrong number of lane literals", at)
        data = bytearray()
        for _ in range(count):
            data += lane_literal(cur, shape, bits)
        return bytes(data)


def lane_literal(cur: Cursor, shape: str, bits: int) -> bytes:
    """One lane of a v128 constant, little-endian."""
    i = cur.i
    text = cur.texts[i]
    cur.i += 1
    try:
        if shape[0] == "f":
            value = parse_float(text, F32 if bits == 32 else F64)
        else:
            value = parse_int(text, bits)
    except ValueError as err:
        raise cur.fail(str(err), i) from None
    return value.to_bytes(bits // 8, "little")


def _const_int(bits: int):
    def read(p: InstrParser, op: Op) -> bytes:
        cur = p.cur
        at = cur.i
        if not (cur.i < cur.end and cur.kinds[cur.i] == NUM):
            raise cur.unexpected()
        text = cur.num_text()
        try:
            value = parse_int(text, bits)
        except ValueError as err:
            raise cur.fail(str(err), at) from None
        return sleb(value - (1 << bits) if value >> (bits - 1) else value)
    return read


def _const_float(fmt, pack):
    def read(p: InstrParser, op: Op) -> bytes:
        cur = p.cur
        at = cur.i
        if not (cur.i < cur.end and cur.kinds[cur.i] in (NUM, KEYWORD)):
            raise cur.unexpected()
        text = cur.texts[at]
        cur.i += 1
        if text in ("nan:canonical", "nan:arithmetic"):
            raise cur.fail("unexpected token", at)  # a script's result pattern, not a literal
        try:
            return pack(parse_float(text, fmt))
        except ValueError as err:
            raise cur.fail(str(err), at) from None
    return read


def _br_table(p: InstrParser, op: Op) -> bytes:
    labels = [p._label_index()]
    while p.cur.peek_index():
        labels.append(p._label_index())
    return vec([uleb(x) for x in labels[:-1]]) + uleb(labels[-1])


def _call_indirect(p: InstrParser, op: Op) -> bytes:
    table = p._optional_index("table")
    use = type_use(p.cur, p.ctx)
    if any(n is not None for n in use.param_names):
        raise p.cur.fail("unexpected token", use.at)
    return uleb(resolve_type_use(p.cur, p.ctx, use)) + uleb(table)


def _select_t(p: InstrParser, op: Op) -> bytes:
    cur = p.cur
    types = []
    while cur.peek_open("result"):
        cur.open("result")
        while cur.kind() != RPAREN:
            types.append(val_type(cur, p.ctx))
        cur.close()
    return vec(types)


def _segment_use(target: str, segment: str):
    """``table.init t? e`` / ``memory.init m? d``: encoded segment first, then target."""
    def read(p: InstrParser, op: Op) -> bytes:
        cur = p.cur
        if segment == "data":
            _data_used(p)
        two = cur.peek_index() and cur.i + 1 < cur.end and cur.kinds[cur.i + 1] in (NUM, ID)
        first = p.ctx.index(cur, target) if two else 0
        return uleb(p.ctx.index(cur, segment)) + uleb(first)
    return read


def _copy(space: str):
    """``table.copy (d s)?`` / ``memory.copy (d s)?``."""
    def read(p: InstrParser, op: Op) -> bytes:
        if not p.cur.peek_index():
            return b"\0\0"
        dest = p.ctx.index(p.cur, space)
        return uleb(dest) + uleb(p.ctx.index(p.cur, space))
    return read


def _index_of(space: str):
    def read(p: InstrParser, op: Op) -> bytes:
        if space == "data":
            _data_used(p)
        return uleb(p.ctx.index(p.cur, space))
    return read


def _data_used(p: InstrParser) -> None:
    """A function body names a data segment: the binary needs a data count section (as
    wasm-tools decides: constant expressions do not count)."""
    if p.scope.in_function:
        p.ctx.uses_data_index = True


def _array_data(p: InstrParser, op: Op) -> bytes:
    _data_used(p)
    return uleb(p.ctx.index(p.cur, "type")) + uleb(p.ctx.index(p.cur, "data"))


def _cast(p: InstrParser, op: Op) -> tuple[bool, bytes]:
    rt = ref_type(p.cur, p.ctx)
    return _split_ref(rt)


def _split_ref(rt: bytes) -> tuple[bool, bytes]:
    """(nullable, heap type encoding) of an encoded reference type."""
    if rt[0] == 0x63:
        return True, rt[1:]
    if rt[0] == 0x64:
        return False, rt[1:]
    return True, rt


def _br_on_cast(p: InstrParser, op: Op) -> bytes:
    label = p._label_index()
    null1, ht1 = _split_ref(ref_type(p.cur, p.ctx))
    null2, ht2 = _split_ref(ref_type(p.cur, p.ctx))
    return bytes((null1 | null2 << 1,)) + uleb(label) + ht1 + ht2


def _struct_field(p: InstrParser, op: Op) -> bytes:
    cur = p.cur
    type_index = p.ctx.index(cur, "type")
    at = cur.i
    if cur.i < cur.end and cur.kinds[cur.i] == ID:
        found = p.ctx.field_names.get(type_index, {}).get(cur.texts[cur.i])
        if found is None:
            raise cur.fail("unknown field", at)
        cur.i += 1
        return uleb(type_index) + uleb(found)
    return uleb(type_index) + uleb(u32(cur))


_IMMEDIATES = {
    "": lambda p, op: b"",
    "label": lambda p, op: uleb(p._label_index()),
    "br_table": _br_table,
    "func": _index_of("func"),
    "call_indirect": _call_indirect,
    "local": lambda p, op: uleb(p._local_index()),
    "global": _index_of("global"),
    "table": lambda p, op: uleb(p._optional_index("table")),
    "memarg": lambda p, op: p._memarg(op),
    "mem": lambda p, op: uleb(p._optional_index("memory")),
    "i32": _const_int(32),
    "i64": _const_int(64),
    "f32": _const_float(F32, f32_bytes),
    "f64": _const_float(F64, f64_bytes),
    "select_t": _select_t,
    "reftype": lambda p, op: heap_type(p.cur, p.ctx),
    "heaptype": lambda p, op: heap_type(p.cur, p.ctx),
    "v128": lambda p, op: p._v128(),
    "lane": lambda p, op: bytes((p._lane(),)),
    "shuffle": lambda p, op: p._shuffle(),
    "memarg_lane": lambda p, op: p._memarg(op, lane=True) + bytes((p._lane(),)),
    "table_init": _segment_use("table", "elem"),
    "table_copy": _copy("table"),
    "memory_init": _segment_use("memory", "data"),
    "memory_copy": _copy("memory"),
    "data": _index_of("data"),
    "elem": _index_of("elem"),
    "type": _index_of("type"),
    "tag": _index_of("tag"),
    "struct_field": _struct_field,
    "array_fixed": lambda p, op: uleb(p.ctx.index(p.cur, "type")) + uleb(u32(p.cur)),
    "array_data": _array_data,
    "array_elem": lambda p, op: uleb(p.ctx.index(p.cur, "type")) + uleb(p.ctx.index(p.cur, "elem")),
    "array_copy": lambda p, op: uleb(p.ctx.index(p.cur, "type")) + uleb(p.ctx.index(p.cur, "type")),
    "cast": _cast,
    "br_on_cast": _br_on_cast,
    "fence": lambda p, op: b"\0",
}
# Rows of engine/opcodes.py (GC, atomics) that name their immediate kinds after what they
# hold; they are the same immediates as above.
_IMMEDIATES_ALIASES = {
    "reserved_zero": "fence",  # atomic.fence's zero byte
    "type_field": "struct_field",
    "type_count": "array_fixed",
    "type_data": "array_data",
    "type_elem": "array_elem",
    "type_type": "array_copy",
    "ref_nonnull": "cast",
    "ref_null": "cast",
}
_IMMEDIATES.update({kind: _IMMEDIATES[same] for kind, same in _IMMEDIATES_ALIASES.items()})

__all__ = ["FuncScope", "InstrParser", "natural_alignment"]
