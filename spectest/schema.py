"""The one place where converter JSON schemas are normalised to wasm-tools' schema.

The runner reads ``wasm-tools json-from-wast``'s schema only (the ``own`` converter writes it
too). What it looks like, as far as the runner relies on it:

- commands: ``module`` / ``module_definition`` (``filename``, ``module_type`` binary|text,
  optional ``binary_filename`` for text modules the converter also encoded, ``name``),
  ``module_instance`` (``instance``, ``module``), ``register`` (``as``, ``name``), ``action``,
  ``assert_return`` (``expected``: a list with one value per result), ``assert_trap``,
  ``assert_exhaustion``, ``assert_exception``, ``assert_invalid``, ``assert_malformed``,
  ``assert_unlinkable``, ``assert_uninstantiable``, ``assert_invalid_custom``,
  ``assert_malformed_custom`` (``text`` for the expected message);
- values: ``{"type": t, "value": v}``; v128 with ``lane_type`` and a list of lanes; a
  result may be ``{"type": "either", "values": [...]}`` (alternatives for that position);
  references without ``value`` are patterns (see :mod:`spectest.values`).

wabt's ``wast2json`` differs in two ways: an ``either`` is written as a top-level list of
alternatives for a single result instead of inside ``expected``, and ``module`` commands have
no ``module_type``.
"""

from __future__ import annotations

from typing import Any

SCHEMAS = ("wasm-tools", "wabt")


def normalize(doc: dict[str, Any], schema: str) -> dict[str, Any]:
    """``doc`` (a converter's JSON) in wasm-tools' schema; unknown schemas are an error."""
    if schema not in SCHEMAS:
        raise ValueError(f"unknown converter schema {schema!r} (known: {SCHEMAS})")
    for cmd in doc.get("commands", []):
        if cmd.get("type") in ("module", "module_definition"):
            cmd.setdefault("module_type", "binary")
        if schema == "wabt" and "either" in cmd:
            cmd["expected"] = [{"type": "either", "values": cmd.pop("either")}]
    return doc
