"""Time to read a whole testsuite pin with our text front end, beside wasm-tools.

    python -m benchmarks.text_parse [PIN_DIR] [--runs N]

For every top-level ``.wast`` script of the pin (default: $WASM_TESTSUITE_3, else the
shared 193e551 snapshot): our converter (spectest/wast.py: lexing, every module encoded,
JSON and module files written) and ``wasm-tools json-from-wast`` (native, one process per
script), each into a temporary folder. Prints one markdown table; best of N runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spectest.wast import convert_script

DEFAULT_PIN = os.environ.get("WASM_TESTSUITE_3", "/work/shared/testsuite/193e551")


def time_ours(scripts: list[Path]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i, script in enumerate(scripts):
            convert_script(script, Path(tmp) / str(i) / f"{script.stem}.json")
        return time.perf_counter() - start


def time_wasm_tools(scripts: list[Path], tool: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i, script in enumerate(scripts):
            out = Path(tmp) / str(i)
            out.mkdir()
            subprocess.run([tool, "json-from-wast", str(script), "-o", str(out / "x.json"),
                            "--wasm-dir", str(out)], check=False, capture_output=True)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pin", nargs="?", default=DEFAULT_PIN)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    scripts = sorted(Path(args.pin).glob("*.wast"))
    size = sum(s.stat().st_size for s in scripts)
    ours = min(time_ours(scripts) for _ in range(args.runs))
    print("| pin | scripts | MB | ours (s) | MB/s | wasm-tools (s) |")
    print("|---|---|---|---|---|---|")
    beside = Path(sys.executable).parent / "wasm-tools"
    tool = str(beside) if beside.exists() else shutil.which("wasm-tools")
    theirs = f"{min(time_wasm_tools(scripts, tool) for _ in range(args.runs)):.1f}" \
        if tool else "n/a"
    print(f"| {Path(args.pin).name} | {len(scripts)} | {size / 1e6:.1f} | {ours:.1f} | "
          f"{size / 1e6 / ours:.2f} | {theirs} |")


if __name__ == "__main__":
    main()
