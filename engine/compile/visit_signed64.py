"""Visitors of the signed-i64 form (PyPy; see ``signed64.py`` for the representation).

Each visitor returns False when it does not apply (no operand carries a signed form), and
the instruction then takes the canonical path of ``visit_numeric.py``.
"""

from __future__ import annotations

from . import signed64
from .ops import VAL
from .stack import Entry

#: Ops computed on signed forms: the intop helper, or a Python operator.
_CALLS = {"i64.add": "iadd", "i64.sub": "isub", "i64.mul": "imul"}
_BITS = {"i64.and": "&", "i64.or": "|", "i64.xor": "^"}
_CMPS = {"i64.eq": "==", "i64.ne": "!=", "i64.lt_s": "<", "i64.gt_s": ">", "i64.le_s": "<=",
         "i64.ge_s": ">="}
_UCMPS = {"i64.lt_u": "<", "i64.gt_u": ">", "i64.le_u": "<=", "i64.ge_u": ">="}
_EXTEND = {"i64.extend8_s": (0xFF, 0x80), "i64.extend16_s": (0xFFFF, 0x8000),
           "i64.extend32_s": (0xFFFFFFFF, 0x80000000)}


class Signed64Visitors:
    """Mixin of the generator: i64 locals and ops in the signed form."""

    slocals: frozenset = frozenset()  # the signed locals' names (set by run)

    def signed_locals(self, instrs: list) -> frozenset:
        """The locals kept signed: i64, not the counter, bound or step of a counted loop
        (``range`` reads them). Parameters arrive canonical (from callers, tail calls and
        the trampoline alike): the function's prologue converts them."""
        if not signed64.ENABLED:
            return frozenset()
        params = self.ftype.params
        types = self.body.local_types(params)
        names = {f"l{i}" for i, t in enumerate(types) if t == "i64"}
        if names:
            for op, imm in instrs:
                if op.name == "for":
                    names -= {f"l{imm.counter}", imm.bound, imm.step}
        self.prologue.extend(f"l{i} = s64(l{i})" for i in range(len(params))
                             if f"l{i}" in names)
        return frozenset(names)

    # -- entries ----------------------------------------------------------------------------

    @staticmethod
    def sform(e: Entry) -> str | None:
        """The signed form of an i64 entry when it is known without a conversion."""
        if e.sexpr is not None:
            return e.sexpr
        if e.const:
            return signed64.signed_literal(e.expr)
        return None

    def sconv(self, e: Entry) -> str:
        """The signed form of an i64 entry, converting the canonical one if need be."""
        s = self.sform(e)
        return s if s is not None else f"s64({e.expr})"

    def push_signed(self, s: str, ops: list[Entry], nonneg: bool = False) -> None:
        """Push the i64 value of signed form ``s`` (``nonneg``: both forms are ``s``)."""
        self.push(s if nonneg else f"u64({s})", ops)
        self.stack[-1].sexpr = s

    def signed_load(self, name: str, tpl: str, ea: str) -> None:
        """Give the i64 load just pushed its signed form (read as ``<q`` / sign-extended)."""
        top = self.stack[-1]
        if name == "i64.load":
            top.sexpr = tpl.replace("U64(", "SQ64(", 1).format(ea=ea)
        elif name.endswith("_s"):  # "(S8(M0, ea)[0] & M64)": the signed read itself
            top.sexpr = top.expr[1:].rsplit(" & ", 1)[0]
        else:  # zero-extended: below 2**32, both forms are the same int
            top.sexpr = top.expr

    @staticmethod
    def signed_store(name: str, tpl: str, v: Entry) -> tuple[str, str]:
        """The store template and value text for an i64 value with a signed form: ``<q``
        for a full store, the signed form under a narrow store's mask (same low bits)."""
        if name == "i64.store":
            return tpl.replace("P64(", "PQ64(", 1), v.sexpr
        if " & 0x" in tpl:
            return tpl, v.sexpr
        return tpl, v.expr

    def signed_local_get(self, name: str) -> None:
        e = Entry(f"u64({name})", frozenset((name,)), depth=1)
        e.sexpr = name
        self.stack.append(e)

    def signed_local_set(self, name: str, tee: bool) -> None:
        (v,) = self.take(1)
        s = self.sconv(v)
        if s != name:
            self.stmt(f"{name} = {s}", v.eff, (name,))
        if tee:
            self.signed_local_get(name)

    # -- instructions -------------------------------------------------------------------------

    def signed_numeric(self, name: str) -> bool:
        """Translate i64 op ``name`` on signed forms; False when no operand has one."""
        stack = self.stack
        if name[:3] == "i32" and name != "i32.wrap_i64":
            return False
        if name == "i64.extend_i32_u":
            # The i32 value is non-negative and below 2**32: it is its own signed form.
            top = stack[-1]
            if top.sexpr is None and not top.const:
                self.take(1)
                self.push_signed(top.expr, [top], nonneg=True)
            return True
        if name == "i64.extend_i32_s":
            (a,) = self.take(1)
            self.push(VAL[name].format(a=a.expr), [a])
            stack[-1].sexpr = f"(({a.expr} ^ 0x80000000) - 0x80000000)"
            return True
        if name in _EXTEND:
            if stack[-1].sexpr is None:
                return False
            (a,) = self.take(1)
            m, s = _EXTEND[name]
            self.push_signed(f"((({a.sexpr} & {m:#x}) ^ {s:#x}) - {s:#x})", [a])
            return True
        if name == "i32.wrap_i64":
            if stack[-1].sexpr is None:
                return False
            (a,) = self.take(1)
            self.push(f"({a.sexpr} & 0xFFFFFFFF)", [a])
            return True
        if name == "i64.eqz":
            if stack[-1].sexpr is None:
                return False
            (a,) = self.take(1)
            self.push(f"(0 if {a.sexpr} else 1)", [a], cond=f"(not {a.sexpr})")
            return True
        if len(stack) < 2 or (stack[-1].sexpr is None and stack[-2].sexpr is None):
            return False
        return self.signed_binary(name)

    def signed_binary(self, name: str) -> bool:
        b = self.stack[-1]
        k = int(b.expr) & 63 if b.const else None
        kind = name[4:]
        if name in _CALLS or name in _BITS or name in _CMPS or name in _UCMPS:
            a, b = self.take(2)
            sa, sb = self.sconv(a), self.sconv(b)
            if name in _CALLS:
                self.push_signed(f"{_CALLS[name]}({sa}, {sb})", [a, b])
            elif name in _BITS:
                self.push_signed(f"({sa} {_BITS[name]} {sb})", [a, b])
            elif name in _CMPS:
                self.push_cond(f"({sa} {_CMPS[name]} {sb})", [a, b])
            else:  # unsigned order: flip the sign bits (SMIN is -2**63, a machine word)
                self.push_cond(f"(({sa} ^ SMIN) {_UCMPS[name]} ({sb} ^ SMIN))", [a, b])
            return True
        if kind in ("shl", "shr_u", "shr_s", "rotl", "rotr"):
            a, b = self.take(2)
            sa = self.sconv(a)
            if k is None:
                sb = self.sconv(b)
                forms = {"shl": f"ishl({sa}, ({sb} & 63))", "shr_u": f"srl({sa}, {sb})",
                         "shr_s": f"({sa} >> ({sb} & 63))", "rotl": f"srotl({sa}, {sb})",
                         "rotr": f"srotr({sa}, {sb})"}
                self.push_signed(forms[kind], [a, b])
                return True
            self.signed_shift(kind, sa, k, [a, b])
            return True
        return False

    def signed_shift(self, kind: str, sa: str, k: int, ops: list[Entry]) -> None:
        """A shift or rotate by the constant count ``k`` (0..63)."""
        if kind == "rotr":
            kind, k = "rotl", -k & 63
        if k == 0:  # every form is the identity
            self.push_signed(sa, ops)
        elif kind == "shl":
            self.push_signed(f"ishl({sa}, {k})", ops)
        elif kind == "shr_s":
            self.push_signed(f"({sa} >> {k})", ops)
        elif kind == "shr_u":
            # Below 2**(64-k): the canonical and the signed form are the same int.
            self.push_signed(f"ushr({sa}, {k})", ops, nonneg=True)
            self.stack[-1].bits = 64 - k
        elif sa.isidentifier() or sa.lstrip("(-").rstrip(")").isdigit():
            # A name or literal may be read twice: the rotate inline (measured on hash64).
            self.push_signed(f"(ishl({sa}, {k}) | ushr({sa}, {64 - k}))", ops)
        else:
            self.push_signed(f"srotl({sa}, {k})", ops)

