"""The ``lazywasm`` command line (``python -m engine``), shaped like ``wasmtime``'s:

    lazywasm run [--dir HOST[::GUEST]]... [--env NAME=VALUE]... [--invoke NAME]
                 [--mode M] [--fuel N] MODULE [ARGS...]
    lazywasm validate MODULE
    lazywasm compile MODULE
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import inspect, run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lazywasm",
        description="A WebAssembly engine in pure Python: run WASI programs, validate and "
        "compile modules.",
    )
    sub = parser.add_subparsers(dest="name", metavar="COMMAND")
    sub.required = True
    run.add_parser(sub)
    inspect.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except run.UsageError as exc:
        print(f"lazywasm {args.name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def entry_point() -> None:
    """The console script ``lazywasm``."""
    sys.exit(main())
