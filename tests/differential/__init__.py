"""Differential testing of the engine against wasmtime (and wasmparser for validity).

- ``harness``: wasm-smith modules run in both engines, results/traps/exported state compared;
  ``python -m tests.differential.harness --count N [--verdicts] [--smith-extra ...]`` runs
  many seeds and writes each discrepancy (.wasm + .json) to ``--out``.
- ``numeric_sweep``: every scalar numeric instruction on edge operands, NaNs by the spec rule.
- ``shrink_predicate``: predicate for ``wasm-tools shrink`` to minimise a finding.
"""
