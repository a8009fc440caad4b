"""Where the testsuites live (one root per pin) and which scripts make up each suite.

A *pin* is one commit of the official testsuite (github.com/WebAssembly/testsuite), or the
project's own scripts. Each pin of the official testsuite is found through its environment
variable (``WASM_TESTSUITE`` for d76759e, ``WASM_TESTSUITE_3`` for 193e551), else its git
submodule under ``testsuite/``. A variable that is set but points nowhere, or a pin whose
submodule is empty while no variable is set, is an error (:class:`SuiteNotFound`): the
conformance items then fail with this message, they are never skipped.

A *suite* is a folder of one pin (``.`` for the top level, ``proposals/threads``, ...). Script
ids are ``<suite prefix>/<file name>``, e.g. ``spec/i32.wast`` (d76759e) or ``spec3/i32.wast``
(193e551), so the pin is visible in every item id.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Kept for callers of the first pin's submodule (tests, benchmarks).
SUBMODULE = PROJECT_ROOT / "testsuite" / "spec"
OWN_DIR = PROJECT_ROOT / "testsuite" / "ourtests"


class SuiteNotFound(Exception):
    """A configured testsuite (a pin or a sub-suite folder) is not on this machine."""


@dataclass(frozen=True)
class Pin:
    """One testsuite snapshot: where to find it and which converter reads it.

    ``project_dir`` is set for the project's own scripts (no commit, no variable)."""

    name: str
    commit: str = ""
    date: str = ""
    title: str = ""
    env: str = ""
    submodule: str = ""
    project_dir: str = ""
    converter: str = "wabt"
    fallback_converters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suite:
    """One folder of a pin: ``path`` relative to the pin's root, ``prefix`` of script ids,
    ``converter`` (None: the pin's), its flags and the engine features it runs with."""

    name: str
    pin: str
    path: str = "."
    prefix: str = ""
    description: str = ""
    converter: str | None = None
    flags: tuple[str, ...] = ()
    features: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Script:
    """One ``.wast`` script: its report id (``spec/i32.wast``), path, suite and pin names."""

    id: str
    path: Path
    suite: str
    pin: str = ""


def _help(pin: Pin) -> str:
    return (f"Set {pin.env} to a checkout of https://github.com/WebAssembly/testsuite at "
            f"{pin.commit[:7] or pin.name} (the folder holding i32.wast, ...), or run "
            f"`git submodule update --init {pin.submodule}` in the project root.")


def pin_root(pin: Pin) -> Path:
    """The folder of a pin, or raise SuiteNotFound saying how to get it."""
    if pin.project_dir:
        return PROJECT_ROOT / pin.project_dir
    env = os.environ.get(pin.env, "") if pin.env else ""
    if env:
        root = Path(env).expanduser().resolve()
        if not root.is_dir():
            raise SuiteNotFound(f"testsuite {pin.name}: {pin.env}={env} does not exist. "
                                + _help(pin))
        if not any(root.glob("*.wast")):
            raise SuiteNotFound(f"testsuite {pin.name}: {pin.env}={env} holds no .wast files. "
                                + _help(pin))
        found = detect_commit(root)
        if found and pin.commit and not pin.commit.startswith(found) \
                and not found.startswith(pin.commit):
            raise SuiteNotFound(f"testsuite {pin.name}: {pin.env}={env} is at commit "
                                f"{found[:12]}, not {pin.commit[:12]}. " + _help(pin))
        return root
    sub = PROJECT_ROOT / pin.submodule if pin.submodule else None
    if sub is not None and any(sub.glob("*.wast")):
        return sub
    where = f"the submodule {pin.submodule} is empty" if pin.submodule else "no submodule"
    raise SuiteNotFound(f"testsuite {pin.name}: {pin.env or 'no variable'} is not set and "
                        f"{where}. " + _help(pin))


def detect_commit(root: Path) -> str:
    """The commit of a testsuite folder: git HEAD of a checkout, else a hex folder name, else
    "" (unknown)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
            check=False, capture_output=True, text=True, timeout=10,
        )
        lines = out.stdout.split()
        if out.returncode == 0 and len(lines) == 2 and Path(lines[0]).resolve() == root:
            return lines[1]
    except (OSError, subprocess.SubprocessError):
        pass
    if re.fullmatch(r"[0-9a-f]{7,40}", root.name):
        return root.name
    return ""


def suite_dir(pin: Pin, suite: Suite) -> Path:
    """The folder of a suite; a missing folder is an error (never zero scripts)."""
    folder = (pin_root(pin) / suite.path).resolve()
    if not folder.is_dir():
        raise SuiteNotFound(f"suite {suite.name}: folder {suite.path} is missing in "
                            f"{pin_root(pin)} (pin {pin.name})")
    return folder


def list_scripts(pin: Pin, suite: Suite) -> list[Script]:
    """The scripts of one suite, sorted by name; ids are ``<prefix>/<file name>``."""
    folder = suite_dir(pin, suite)
    prefix = suite.prefix or suite.name
    return [Script(f"{prefix}/{p.name}", p, suite.name, pin.name)
            for p in sorted(folder.glob("*.wast"))]


def _names(script: Script) -> tuple[str, ...]:
    return (script.id, script.path.name, script.path.stem,
            script.id.removesuffix(".wast"))


def select(scripts: list[Script], patterns: list[str] | None) -> list[Script]:
    """Keep scripts whose id or file name equals a pattern (``.wast`` optional), or matches
    it as a glob when it holds ``*?[``. No substring matching: ``i32`` is ``i32.wast`` only.
    """
    if not patterns:
        return scripts
    chosen: set[str] = set()
    for pat in patterns:
        if any(c in pat for c in "*?["):
            hits = [s for s in scripts if any(fnmatch.fnmatchcase(n, pat) for n in _names(s))]
        else:
            hits = [s for s in scripts if pat in _names(s)]
        chosen.update(s.id for s in hits)
    return [s for s in scripts if s.id in chosen]


def unmatched(scripts: list[Script], patterns: list[str] | None) -> list[str]:
    """The patterns that select nothing (reported as an error by the CLI)."""
    return [p for p in patterns or [] if not select(scripts, [p])]


def testsuite_root(pin_name: str | None = None) -> Path:
    """The root of a pin of the official testsuite (default: the manifest's first pin,
    d76759e), or raise SuiteNotFound. For tests and benchmarks that read scripts directly."""
    from spectest.manifest import Manifest

    manifest = Manifest()
    return pin_root(manifest.pin(pin_name or manifest.testsuite_pins()[0]))


def pin_of(root: Path) -> str:
    """The commit of a testsuite folder, "unknown" when it cannot be told."""
    return detect_commit(root) or "unknown"
