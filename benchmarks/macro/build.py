"""Build the macro benchmark programs: every ``src/*.c`` at each of BUILDS into ``wasm/``.

``python -m benchmarks.macro.build`` (needs clang and wasm-ld, Debian's ``clang`` and
``lld`` packages). The programs are freestanding (no libc, no WASI imports), so every
engine runs them with no imports at all. The built files are committed: the benchmark and
the tests never need a compiler. ``--check`` rebuilds into a temporary directory and
reports which committed files differ (a different clang version may legitimately differ).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
OUT = HERE / "wasm"

#: build name -> optimisation flags
BUILDS: dict[str, tuple[str, ...]] = {
    "O2": ("-O2",),
    "O0": ("-O0",),
    "O3simd": ("-O3", "-msimd128"),
}

COMMON_FLAGS = ("--target=wasm32", "-nostdlib", "-ffreestanding", "-Wall", "-Werror",
                "-Wl,--no-entry", "-Wl,--export=run")


def find_clang() -> str:
    """The clang driver to use (``$CC``-free: clang, then clang-14..19)."""
    for name in ("clang",) + tuple(f"clang-{v}" for v in range(19, 13, -1)):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("clang not found: apt-get install clang lld")


def build_one(clang: str, source: Path, build: str, out_dir: Path) -> Path:
    """Compile and link one program at one build; returns the .wasm path."""
    out = out_dir / f"{source.stem}.{build}.wasm"
    cmd = [clang, *COMMON_FLAGS, *BUILDS[build], "-I", str(SRC), "-o", str(out), str(source)]
    subprocess.run(cmd, check=True)
    return out


def build_all(out_dir: Path) -> list[Path]:
    """Every program at every build into ``out_dir``."""
    clang = find_clang()
    out_dir.mkdir(parents=True, exist_ok=True)
    return [build_one(clang, src, build, out_dir)
            for src in sorted(SRC.glob("*.c")) for build in BUILDS]


BIG = OUT / "big.wasm"
BIG_FLAGS = ("--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-w", "-Wl,--allow-undefined")


def build_big(out: Path = BIG) -> Path:
    """The big module (``bigmodule.py``'s C, linked with wasi-libc) for the compiled-size
    measurement. ``--allow-undefined``: compiler-rt's long double helpers become imports;
    the module is compiled, never run."""
    from benchmarks.macro.bigmodule import source

    with tempfile.TemporaryDirectory() as tmp:
        c_file = Path(tmp, "big.c")
        c_file.write_text(source())
        subprocess.run([find_clang(), *BIG_FLAGS, "-o", str(out), str(c_file), "-lm"],
                       check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.macro.build", description=__doc__)
    p.add_argument("--check", action="store_true",
                   help="rebuild in a temporary directory and compare with wasm/")
    p.add_argument("--big", action="store_true",
                   help="also build wasm/big.wasm (needs wasi-libc: apt-get install wasi-libc)")
    args = p.parse_args(argv)
    if args.big:
        print(f"{build_big().relative_to(HERE)}: {BIG.stat().st_size} bytes")
    if not args.check:
        for path in build_all(OUT):
            print(f"{path.relative_to(HERE)}: {path.stat().st_size} bytes")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        differ = [path.name for path in build_all(Path(tmp))
                  if not (OUT / path.name).exists()
                  or (OUT / path.name).read_bytes() != path.read_bytes()]
    print("\n".join(f"differs: {name}" for name in differ) or "all committed builds match")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
