"""Validator tests: the testsuite's assert_invalid and module commands, plus hand-made cases.

Each top-level script of the pinned testsuite is converted with wast2json into a temporary
directory (see ``_convert`` for the feature flags); every ``assert_invalid`` module must be rejected with InvalidError (decode,
module-level validation, then every body), and every plain ``module`` must validate.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import suite

from engine.binary.module import Body, Export, GlobalDef, ModuleInfo
from engine.config import wasm_2_0_features
from engine.errors import InvalidError
from engine.opcodes import ALL_OPS, BY_NAME
from engine.types import FuncType, GlobalType, Limits, MemoryType, TableType
from engine.validate import validate_body, validate_module
from engine.validate.optable import lane_count, natural_size

HAVE_SIMD = any(op.prefix == 0xFD for op in ALL_OPS)


def _scripts() -> list[str]:
    names = [p.stem for p in suite.scripts()]
    return [n for n in names if HAVE_SIMD or not n.startswith("simd_")]


def _decode():
    try:
        from engine.binary import decode_body, decode_module
    except ImportError:
        try:  # the package may not re-export them yet
            from engine.binary.instructions import decode_body
            from engine.binary.sections import decode_module
        except ImportError:
            pytest.skip("decoder not available yet")
    return decode_module, decode_body


def check_binary(data: bytes) -> None:
    """Decode and fully validate a binary module (module level, then every body)."""
    decode_module, decode_body = _decode()
    info = decode_module(data, wasm_2_0_features())  # WASM_TESTSUITE: the Wasm 2.0 pin
    validate_module(info)
    first = info.num_imported_funcs
    for i in range(first, first + len(info.funcs)):
        validate_body(info, i, decode_body(info, i))


@suite.needs_suite
@pytest.mark.parametrize("script", _scripts())
def test_testsuite_script(script: str, record_property: Any) -> None:
    _decode()
    commands, folder = suite.commands(suite.ROOT / f"{script}.wast")
    not_rejected, rejected_wrongly = [], []
    checked, matched, mismatches = 0, 0, []
    for cmd in commands:
        if cmd["type"] == "module" and cmd.get("module_type", "binary") == "binary":
            try:
                check_binary((folder / cmd["filename"]).read_bytes())
            except Exception as exc:  # noqa: BLE001 - report every failure kind
                rejected_wrongly.append((cmd["line"], repr(exc)))
        elif cmd["type"] == "assert_invalid" and cmd.get("module_type") == "binary":
            checked += 1
            try:
                check_binary((folder / cmd["filename"]).read_bytes())
            except InvalidError as exc:
                if cmd["text"] in str(exc):
                    matched += 1
                else:
                    mismatches.append([script, cmd["line"], cmd["text"], str(exc)])
            except Exception as exc:  # noqa: BLE001
                not_rejected.append((cmd["line"], cmd["text"], repr(exc)))
            else:
                not_rejected.append((cmd["line"], cmd["text"], "accepted"))
    # The message summary: merged over all xdist workers by the spectest plugin, which
    # prints the totals and fails the session on any mismatch.
    record_property("spectest_messages", json.dumps(
        {"kind": "assert_invalid", "checked": checked, "matched": matched,
         "mismatches": mismatches}))
    assert not rejected_wrongly, f"valid modules rejected: {rejected_wrongly[:10]}"
    assert not not_rejected, f"invalid modules not rejected with InvalidError: {not_rejected[:10]}"


# --- hand-made modules (no decoder needed) ---------------------------------------------


def _ins(name: str, imm=None):
    return (BY_NAME[name], imm)


def _module(**kw) -> ModuleInfo:
    info = ModuleInfo(data=b"", types=kw.pop("types", [FuncType((), ())]))
    for key, value in kw.items():
        setattr(info, key, value)
    return info


def _body(info: ModuleInfo, instrs: list, params=(), results=(), locals_=()) -> None:
    """Validate ``instrs`` (+ final end) as defined function 0 of type params -> results."""
    info.types = [FuncType(tuple(params), tuple(results))] + info.types[1:]
    from array import array

    info.funcs = array("I", [0])
    validate_body(info, 0, Body(list(locals_), instrs + [_ins("end")]))


def _invalid(message: str, instrs: list, **kw) -> None:
    with pytest.raises(InvalidError, match=message):
        _body(_module(**{k: v for k, v in kw.items() if k in _INFO_KEYS}), instrs,
              **{k: v for k, v in kw.items() if k not in _INFO_KEYS})


_INFO_KEYS = {"mems", "tables", "globals", "elems", "datas", "data_count", "exports", "types"}


def test_generic_arith_ok_and_mismatch() -> None:
    _body(_module(), [_ins("i32.const", 1), _ins("i32.const", 2), _ins("i32.add")],
          results=["i32"])
    _invalid("type mismatch", [_ins("i32.const", 1), _ins("i64.const", 2), _ins("i32.add")],
             results=["i32"])
    _invalid("type mismatch", [_ins("i32.const", 1)])  # leftover value at end


def test_unreachable_is_polymorphic() -> None:
    _body(_module(), [_ins("unreachable"), _ins("i32.add")], results=["i32"])
    _body(_module(), [_ins("unreachable"), _ins("select")], results=["i64"])
    _invalid("type mismatch", [_ins("unreachable"), _ins("i64.const", 0), _ins("i32.eqz")])


def test_locals_globals() -> None:
    _invalid("unknown local", [_ins("local.get", 2)], params=["i32"], locals_=[(1, "i64")])
    _body(_module(), [_ins("local.get", 1)], params=["i32"], results=["i64"],
          locals_=[(1, "i64")])
    g = [GlobalDef(GlobalType("i32", False), [_ins("i32.const", 0)])]
    _invalid("immutable global", [_ins("i32.const", 0), _ins("global.set", 0)], globals=g)
    # The 2.0 pin's wording under a 2.0 feature set.
    with pytest.raises(InvalidError, match="global is immutable"):
        _body(_module(globals=g, features=wasm_2_0_features()),
              [_ins("i32.const", 0), _ins("global.set", 0)])
    _invalid("unknown global", [_ins("global.get", 1)], globals=g, results=["i32"])


def test_huge_local_declaration_is_not_materialised() -> None:
    _body(_module(), [_ins("local.get", 4_000_000_000)], results=["f64"],
          locals_=[(10, "i32"), (4_000_000_000, "f64")])


def test_blocks_labels_and_if() -> None:
    blk = [_ins("block", "i32"), _ins("i32.const", 1), _ins("br", 0), _ins("end")]
    _body(_module(), blk, results=["i32"])
    _invalid("unknown label", [_ins("br", 1)])
    # if without else must have params == results
    _invalid("type mismatch", [_ins("i32.const", 0), _ins("if", "i32"), _ins("i32.const", 1),
                               _ins("end"), _ins("drop")])


def test_br_table_arity() -> None:
    instrs = [_ins("block", "i32"), _ins("block"), _ins("i32.const", 0), _ins("i32.const", 0),
              _ins("br_table", ((0,), 1)), _ins("end"), _ins("i32.const", 0), _ins("end")]
    _invalid("type mismatch", instrs, results=["i32"])


def test_memory_alignment_and_lanes() -> None:
    mem = [MemoryType(Limits(1))]
    load = [_ins("i32.const", 0), _ins("i32.load", (3, 0, 0))]
    _invalid("alignment must not be larger than natural", load, mems=mem, results=["i32"])
    _invalid("unknown memory", [_ins("i32.const", 0), _ins("i32.load", (2, 0, 0))],
             results=["i32"])
    assert natural_size("v128.load8x8_s") == 8
    assert natural_size("v128.load32_zero") == 4
    assert natural_size("i64.load16_u") == 2
    assert natural_size("f64.store") == 8
    assert lane_count("i16x8.extract_lane_s", "lane") == 8
    assert lane_count("v128.load64_lane", "memarg_lane") == 2


def test_select_rules() -> None:
    refs = [_ins("ref.null", "funcref"), _ins("ref.null", "funcref"), _ins("i32.const", 0)]
    _invalid("type mismatch", refs + [_ins("select")], results=["funcref"])
    _body(_module(), refs + [_ins("select_t", ("funcref",))], results=["funcref"])
    _invalid("invalid result arity", refs + [_ins("select_t", ())], results=["funcref"])


def test_ref_func_must_be_declared() -> None:
    _invalid("undeclared function reference", [_ins("ref.func", 0), _ins("drop")])
    _body(_module(exports=[Export("f", "func", 0)]), [_ins("ref.func", 0), _ins("drop")])


def test_data_count_required_for_data_drop() -> None:
    _invalid("unknown data segment", [_ins("data.drop", 0)])


def test_module_level_rules() -> None:
    wasm2 = wasm_2_0_features()
    with pytest.raises(InvalidError, match="multiple memories"):
        validate_module(_module(mems=[MemoryType(Limits(1)), MemoryType(Limits(1))],
                                features=wasm2))
    validate_module(_module(mems=[MemoryType(Limits(1)), MemoryType(Limits(1))]))  # 3.0
    with pytest.raises(InvalidError, match="at most 65536 pages"):
        validate_module(_module(mems=[MemoryType(Limits(65537))]))
    with pytest.raises(InvalidError, match="minimum must not be greater"):
        validate_module(_module(tables=[TableType("funcref", Limits(2, 1))]))
    with pytest.raises(InvalidError, match="duplicate export name"):
        validate_module(_module(mems=[MemoryType(Limits(1))],
                                exports=[Export("a", "memory", 0), Export("a", "memory", 0)]))
    with pytest.raises(InvalidError, match="constant expression required"):
        g = GlobalDef(GlobalType("i32"), [_ins("i32.const", 1), _ins("i32.const", 1),
                                          _ins("i32.add")])
        validate_module(_module(globals=[g], features=wasm2))
    validate_module(_module(globals=[g]))  # extended constants (3.0)
    with pytest.raises(InvalidError, match="shared memory must have maximum"):
        validate_module(_module(mems=[MemoryType(Limits(1), shared=True)]))
    with pytest.raises(InvalidError, match="invalid custom page size"):
        validate_module(_module(mems=[MemoryType(Limits(1), page_size_log2=2)]))
    validate_module(_module(mems=[MemoryType(Limits(1 << 48), is_64=True)]))
    with pytest.raises(InvalidError, match="memory size must be at most"):
        validate_module(_module(mems=[MemoryType(Limits((1 << 48) + 1), is_64=True)]))


def test_multi_value_blocks_and_else() -> None:
    types = [FuncType((), ()), FuncType(("i32",), ("i32", "i64"))]

    def arms(then_op):
        return [_ins("i32.const", 1), _ins("i32.const", 0), _ins("if", 1), then_op,
                _ins("else"), _ins("i64.const", 3), _ins("end"), _ins("drop"), _ins("drop")]

    _body(_module(types=types), arms(_ins("i64.const", 2)))
    _invalid("type mismatch", arms(_ins("i32.const", 2)), types=types)
    _invalid("unknown type", [_ins("block", 7), _ins("end")])


def test_br_table_in_unreachable_code_keeps_unknown() -> None:
    # After unreachable, br_table pops Unknown operands; mismatched label arities still fail.
    _body(_module(), [_ins("block", "i32"), _ins("unreachable"), _ins("br_table", ((0,), 0)),
                      _ins("end")], results=["i32"])
    _invalid("type mismatch", [_ins("block", "i32"), _ins("unreachable"),
                               _ins("br_table", ((0,), 1)), _ins("end"), _ins("drop")])


def test_lane_index_checked_when_simd_rows_exist() -> None:
    if "i8x16.extract_lane_s" not in BY_NAME:
        pytest.skip("SIMD rows not in the opcode table")
    v = [_ins("v128.const", 0)]
    _body(_module(), v + [_ins("i8x16.extract_lane_s", 15)], results=["i32"])
    _invalid("invalid lane index", v + [_ins("i8x16.extract_lane_s", 16)], results=["i32"])
    shuffle = v + v + [_ins("i8x16.shuffle", tuple(range(15)) + (32,))]
    _invalid("invalid lane index", shuffle, results=["v128"])
