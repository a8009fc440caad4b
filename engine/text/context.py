"""What a module's parser knows about the module: index spaces, names, types."""

from __future__ import annotations

from dataclasses import dataclass, field

from .cursor import ID, NUM, Cursor
from .numbers import parse_uint

#: The index spaces of a module, by the word the text format uses for them.
SPACES = ("type", "func", "table", "memory", "global", "tag", "elem", "data")


@dataclass
class Space:
    """One index space: how many entries, and the index of each named one."""

    kind: str
    count: int = 0
    names: dict[str, int] = field(default_factory=dict)

    def add(self, name: str | None, cursor: Cursor, at: int) -> int:
        """Append an entry (named ``name``); "duplicate <kind>" if the name is taken."""
        if name is not None:
            if name in self.names:
                raise cursor.fail(f"duplicate {self.kind}", at)
            self.names[name] = self.count
        self.count += 1
        return self.count - 1


@dataclass
class TypeDef:
    """A defined type: its kind, the encoded signature (func) or fields, and its encoding."""

    kind: str  # "func" | "struct" | "array"
    params: tuple[bytes, ...] = ()
    results: tuple[bytes, ...] = ()
    final: bool = True
    has_super: bool = False
    singleton: bool = True  # alone in its recursion group
    encoded: bytes = b""


@dataclass
class ModuleContext:
    """Index spaces and type definitions of the module being parsed."""

    spaces: dict[str, Space] = field(default_factory=lambda: {k: Space(k) for k in SPACES})
    field_names: dict[int, dict[str, int]] = field(default_factory=dict)
    types: list[TypeDef] = field(default_factory=list)
    #: (params, results) -> the first plain function type with that signature
    func_sigs: dict[tuple[tuple[bytes, ...], tuple[bytes, ...]], int] = field(default_factory=dict)
    #: type sections' groups in order: each a list of type indices and whether "rec" was written
    groups: list[tuple[list[int], bool]] = field(default_factory=list)
    memory64: list[bool] = field(default_factory=list)
    #: set when code names a data segment: the binary then carries a data count section
    uses_data_index: bool = False
    table64: list[bool] = field(default_factory=list)

    def index(self, cursor: Cursor, space: str) -> int:
        """Consume an index into ``space`` (a u32 or an identifier)."""
        i = cursor.i
        if i < cursor.end and cursor.kinds[i] == ID:
            cursor.i += 1
            found = self.spaces[space].names.get(cursor.texts[i])
            if found is None:
                raise cursor.fail(f"unknown {space}", i)
            return found
        if i < cursor.end and cursor.kinds[i] == NUM:
            return u32(cursor)
        raise cursor.unexpected()

    def add_type(self, typedef: TypeDef) -> int:
        """Append a defined type; remembered for type uses if it is a plain function type."""
        index = len(self.types)
        self.types.append(typedef)
        if typedef.kind == "func" and typedef.final and not typedef.has_super and typedef.singleton:
            self.func_sigs.setdefault((typedef.params, typedef.results), index)
        return index


def u32(cursor: Cursor) -> int:
    """Consume an unsigned 32-bit literal."""
    i = cursor.i
    text = cursor.num_text()
    try:
        return parse_uint(text, 32)
    except ValueError as err:
        # The reference interpreter's wording names the literal's width ("i32 constant out
        # of range"); it still contains the generic text.
        message = str(err)
        if message == "constant out of range":
            message = "i32 constant out of range"
        raise cursor.fail(message, i) from None


def u64(cursor: Cursor) -> int:
    """Consume an unsigned 64-bit literal."""
    i = cursor.i
    text = cursor.num_text()
    try:
        return parse_uint(text, 64)
    except ValueError as err:
        # The reference interpreter's wording names the literal's width ("i64 constant out
        # of range"); it still contains the generic text.
        message = str(err)
        if message == "constant out of range":
            message = "i64 constant out of range"
        raise cursor.fail(message, i) from None
