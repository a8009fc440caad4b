"""Conformance runner: the official WebAssembly testsuite through an engine, command by command.

Pipeline: ``.wast`` -> ``wast2json`` (cached) -> JSON commands -> an adapter (our engine or
wasmtime) -> per-command outcomes -> pytest items, a CLI table, a JSON report and a badge.
"""

__all__ = ["OUTCOMES"]

#: Outcome categories of one command; for every script they add up to ``present``.
OUTCOMES = ("passed", "failed", "xfailed", "skipped", "text")
