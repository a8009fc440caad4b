"""Differential testing of the engine against wasmtime (and wasmparser for validity).

- ``harness``: wasm-smith modules run in both engines, results/traps/exported state compared;
  ``python -m tests.differential.harness --count N [--verdicts] [--smith-extra ...]`` runs
  many seeds and writes each discrepancy (.wasm + .json) to ``--out``.
- ``bulkgen``: random WAT modules of bulk memory / table / reference instructions (segments,
  table.copy/init/fill/grow, call_indirect mismatches and nulls) run the same way;
  ``python -m tests.differential.bulkgen --count N --start SEED``.
- ``numeric_sweep``: every scalar numeric instruction on edge operands, NaNs by the spec rule.
- ``shrink_predicate``: predicate for ``wasm-tools shrink`` to minimise a finding.
"""
