"""The official testsuite for unit tests, found and converted exactly as the runner does.

One place for what several test modules need: the suite's folder (``WASM_TESTSUITE`` or the
submodule, via ``spectest.suites``) and a script's command list (``wast2json`` through the
runner's content-hash cache, so a script is converted once for every test and worker).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spectest import suites
from spectest.convert import load_commands


def _root() -> tuple[Path | None, str]:
    try:
        return suites.testsuite_root(), ""
    except suites.SuiteNotFound as exc:
        return None, str(exc)


ROOT, MISSING = _root()

#: Skip marker for tests that need the suite; the reason says how to get it.
needs_suite = pytest.mark.skipif(ROOT is None, reason=MISSING or "testsuite not found")


def scripts(pattern: str = "*.wast", sub: str = ".") -> list[Path]:
    """Scripts of the suite matching ``pattern`` (empty when the suite is absent)."""
    return sorted((ROOT / sub).glob(pattern)) if ROOT else []


def commands(script: Path) -> tuple[list[dict], Path]:
    """The command list of ``script`` and the folder holding its module files."""
    return load_commands(script)
