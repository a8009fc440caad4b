"""Shared by the text-format tests: where the two testsuite pins are, and wasm-tools."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

#: (environment variable, fallback folder) of each pin: Wasm 2.0 and Wasm 3.0.
PINS = (("WASM_TESTSUITE", "/work/shared/testsuite/d76759e"),
        ("WASM_TESTSUITE_3", "/work/shared/testsuite/193e551"))


def pin_dirs() -> list[Path]:
    """The pins' folders. A configured variable naming a missing folder is an error; an
    unconfigured one falls back to the shared snapshot (absent: that pin is left out)."""
    found = []
    for var, fallback in PINS:
        value = os.environ.get(var)
        if value:
            path = Path(value)
            if not path.is_dir():
                raise RuntimeError(f"{var}={value} is not a folder")
            found.append(path)
        elif Path(fallback).is_dir():
            found.append(Path(fallback))
    return found


def scripts() -> list[Path]:
    """Every top-level ``.wast`` script of the pins."""
    return [s for d in pin_dirs() for s in sorted(d.glob("*.wast"))]


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
