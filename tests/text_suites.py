"""Shared by the text-format tests: where the two testsuite pins are, and wasm-tools."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from spectest.manifest import Manifest
from spectest.suites import pin_root

#: The testsuite pins the text tests read (the conformance manifest's names).
PINS = ("d76759e", "193e551")


def pin_dirs() -> dict[str, Path]:
    """Each pin's folder, found as the conformance runner finds it (its environment variable,
    else its git submodule). A pin configured but missing, or found nowhere, is an error
    (SuiteNotFound), never a silent omission."""
    manifest = Manifest()
    return {name: pin_root(manifest.pin(name)) for name in PINS}


class PinScript(type(Path())):  # type: ignore[misc]
    """A script's path that knows its pin (``.pin``)."""

    pin = ""


def scripts() -> list[Path]:
    """Every top-level ``.wast`` script of the pins (each a ``PinScript`` with ``.pin``)."""
    out = []
    for name, root in pin_dirs().items():
        for path in sorted(root.glob("*.wast")):
            script = PinScript(path)
            script.pin = name
            out.append(script)
    return out


def pin_of(script: Path) -> str:
    """The pin a script of ``scripts()`` belongs to."""
    return getattr(script, "pin", "") or script.parent.name


def wasm_tools() -> str | None:
    beside = Path(sys.executable).parent / "wasm-tools"
    return str(beside) if beside.exists() else shutil.which("wasm-tools")


def strip_name_sections(data: bytes) -> bytes:
    """``data`` without its "name" custom sections (debug information); unchanged if it is
    not a well-formed section sequence."""
    out = bytearray(data[:8])
    i = 8
    try:
        while i < len(data):
            start = i
            i += 1
            size, shift = 0, 0
            while True:
                byte = data[i]
                i += 1
                size |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            end = i + size
            if end > len(data):
                return data
            if data[start] == 0 and data[i] == 4 and data[i + 1:i + 5] == b"name":
                i = end
                continue
            out += data[start:end]
            i = end
    except IndexError:
        return data
    return bytes(out)
