"""Where the testsuite lives and which scripts make up each suite.

The official testsuite is found through ``WASM_TESTSUITE`` (a folder whose top level holds the
``.wast`` files), else the git submodule ``testsuite/spec``. The project's own scripts live in
``testsuite/ourtests``.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SUBMODULE = PROJECT_ROOT / "testsuite" / "spec"
OWN_DIR = PROJECT_ROOT / "testsuite" / "ourtests"

MISSING_HELP = (
    "The WebAssembly testsuite was not found. Either set WASM_TESTSUITE to a checkout of "
    "https://github.com/WebAssembly/testsuite (the folder holding i32.wast, ...), or run "
    "`git submodule update --init testsuite/spec` in the project root."
)


class SuiteNotFound(Exception):
    """The official testsuite is not available on this machine."""


@dataclass(frozen=True)
class Script:
    """One ``.wast`` script: its report id (``spec/i32.wast``), path and suite name."""

    id: str
    path: Path
    suite: str


def testsuite_root() -> Path:
    """The official testsuite checkout, or raise SuiteNotFound with how to get it."""
    env = os.environ.get("WASM_TESTSUITE")
    if env:
        root = Path(env).expanduser().resolve()
        if not any(root.glob("*.wast")):
            raise SuiteNotFound(f"WASM_TESTSUITE={env} holds no .wast files. " + MISSING_HELP)
        return root
    if any(SUBMODULE.glob("*.wast")):
        return SUBMODULE
    raise SuiteNotFound(MISSING_HELP)


def pin_of(root: Path) -> str:
    """The testsuite commit: git HEAD of the checkout, a hex folder name, or the gitlink."""
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
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "ls-files", "-s", "testsuite/spec"],
            check=False, capture_output=True, text=True, timeout=10,
        )
        fields = out.stdout.split()
        if out.returncode == 0 and len(fields) >= 2 and fields[0] == "160000":
            return fields[1]
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def suite_dir(suite: str, sub_path: str) -> Path:
    """The folder of a suite: ``own`` is in the project, the others in the testsuite."""
    if suite == "own":
        return OWN_DIR
    return (testsuite_root() / sub_path).resolve()


def list_scripts(suite: str, sub_path: str, prefix: str) -> list[Script]:
    """The scripts of one suite, sorted by name; ids are ``<prefix>/<file name>``."""
    folder = suite_dir(suite, sub_path)
    if not folder.is_dir():
        return []
    return [Script(f"{prefix}/{p.name}", p, suite) for p in sorted(folder.glob("*.wast"))]


def select(scripts: list[Script], patterns: list[str] | None) -> list[Script]:
    """Keep scripts whose id or file name matches a glob or contains a substring."""
    if not patterns:
        return scripts
    import fnmatch

    chosen: dict[str, Script] = {}
    for pat in patterns:
        exact = [s for s in scripts if pat in (s.id, s.path.name)]
        if exact:
            hits = exact
        elif any(c in pat for c in "*?["):
            hits = [s for s in scripts
                    if fnmatch.fnmatchcase(s.id, pat) or fnmatch.fnmatchcase(s.path.name, pat)]
        else:
            hits = [s for s in scripts if pat in s.id]
        chosen.update((s.id, s) for s in hits)
    return [s for s in scripts if s.id in chosen]
