"""Interestingness predicate for ``wasm-tools shrink``: exit 0 while the module still shows a
discrepancy of one of the kinds in $DIFF_KINDS (default: crash,result,state,trap).

    wasm-tools shrink 'python -m tests.differential.shrink_predicate' bad.wasm -o small.wasm

wasm-tools passes the candidate file as the last argument. $DIFF_SEED picks the argument
values, $DIFF_MODE the compilation mode (default lazy).
"""

from __future__ import annotations

import os
import sys

from tests.differential import harness


def main() -> int:
    path = sys.argv[-1]
    with open(path, "rb") as f:
        wasm = f.read()
    kinds = os.environ.get("DIFF_KINDS", "crash,result,state,trap").split(",")
    seed = int(os.environ.get("DIFF_SEED", "0"))
    mode = os.environ.get("DIFF_MODE", "lazy")
    theirs = harness.run_wasmtime(wasm, 3, seed)
    if theirs is None:
        return 1
    ours = harness.run_ours(wasm, mode, 3, seed)
    d = harness.compare(seed, mode, ours, theirs)
    if d is None or d.kind not in kinds:
        return 1
    flat = repr(d.theirs) + repr(d.ours)
    return 1 if "('trap', 'fuel')" in flat or "('timeout',)" in flat else 0


if __name__ == "__main__":
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    raise SystemExit(main())
