"""The conformance report (REPORT.json), its merging and its text table.

Layout of REPORT.json:

- ``engine``, ``date``, ``modes``;
- ``pins``: per pin ``commit``, ``title``, ``date``, ``converters`` (name and version of each
  converter that ran), ``suites`` (names) and ``totals`` per mode;
- ``badge_pin``: the newest pin that ran (the badge's figure);
- ``totals`` per mode over everything, ``suites``: per suite per mode, ``suite_pins``;
- ``scripts``: per script id per mode; ``failures`` (CLI) and ``notes`` (e.g. feature flags
  an engine could not take).
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectest import OUTCOMES

FIELDS = ("present",) + OUTCOMES


@dataclass
class Entry:
    """The counts of one script in one mode, with its suite, pin and converter."""

    script: str
    suite: str
    pin: str
    mode: str
    counts: dict[str, int]
    converter: str = ""

    def to_json(self) -> list[Any]:
        return [self.script, self.suite, self.pin, self.mode, self.counts, self.converter]

    @classmethod
    def from_json(cls, data: list[Any]) -> Entry:
        return cls(*data)


@dataclass
class PinInfo:
    """What the report says about a pin (from the manifest)."""

    name: str
    commit: str = ""
    title: str = ""
    date: str = ""
    converters: set[str] = field(default_factory=set)


def zero() -> dict[str, int]:
    """An empty counts record."""
    return {k: 0 for k in FIELDS}


def add(into: dict[str, int], counts: dict[str, int]) -> None:
    """Add counts into a record."""
    for k in FIELDS:
        into[k] = into.get(k, 0) + int(counts.get(k, 0))


def _ordered(per_mode: dict[str, dict[str, int]], modes: list[str]) -> dict[str, Any]:
    order = {m: i for i, m in enumerate(modes)}
    return dict(sorted(per_mode.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def build(engine: str, modes: list[str], entries: Iterable[Entry],
          pins: dict[str, PinInfo], failures: dict[str, dict[str, list[str]]] | None = None,
          notes: list[str] | None = None) -> dict[str, Any]:
    """A report from entries: totals per pin, suite and mode (see the module docstring)."""
    scripts: dict[str, dict[str, dict[str, int]]] = {}
    suites: dict[str, dict[str, dict[str, int]]] = {}
    suite_pins: dict[str, str] = {}
    totals = {m: zero() for m in modes}
    pin_totals: dict[str, dict[str, dict[str, int]]] = {}
    pin_suites: dict[str, list[str]] = {}
    converters: dict[str, set[str]] = {}
    for e in entries:
        counts = {k: int(e.counts.get(k, 0)) for k in FIELDS}
        scripts.setdefault(e.script, {})[e.mode] = counts
        add(totals.setdefault(e.mode, zero()), counts)
        add(suites.setdefault(e.suite, {}).setdefault(e.mode, zero()), counts)
        add(pin_totals.setdefault(e.pin, {}).setdefault(e.mode, zero()), counts)
        suite_pins[e.suite] = e.pin
        if e.suite not in pin_suites.setdefault(e.pin, []):
            pin_suites[e.pin].append(e.suite)
        if e.converter:
            converters.setdefault(e.pin, set()).add(e.converter)
    pin_report = {}
    for name, per_mode in pin_totals.items():
        info = pins.get(name, PinInfo(name))
        pin_report[name] = {"commit": info.commit, "title": info.title, "date": info.date,
                            "converters": sorted(converters.get(name, set())),
                            "suites": pin_suites[name], "totals": _ordered(per_mode, modes)}
    official = [n for n in pin_report if pins.get(n, PinInfo(n)).commit]
    badge_pin = max(official, key=lambda n: pins[n].date) if official else ""
    report: dict[str, Any] = {
        "engine": engine,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "modes": list(modes),
        "pins": pin_report,
        "badge_pin": badge_pin,
        "totals": totals,
        "suites": {s: _ordered(pm, modes) for s, pm in suites.items()},
        "suite_pins": suite_pins,
        "scripts": dict(sorted(scripts.items())),
    }
    if failures:
        report["failures"] = failures
    if notes:
        report["notes"] = sorted(set(notes))
    return report


def write(report: dict[str, Any], path: str | os.PathLike) -> None:
    """Write the report as JSON (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def percent(counts: dict[str, int]) -> float:
    """passed / present in percent (0 when nothing is present)."""
    return 100.0 * counts["passed"] / counts["present"] if counts.get("present") else 0.0


def _row(label: str, mode: str, c: dict[str, int]) -> str:
    return f"{label:<26}{mode:<18}" + "".join(f"{c[k]:>9}" for k in FIELDS) + \
        f"{percent(c):>8.2f}%"


def table(report: dict[str, Any]) -> str:
    """Totals per pin, suite and mode as a text table (pin totals where a pin has several
    suites)."""
    head = f"{'suite':<26}{'mode':<18}" + "".join(f"{k:>9}" for k in FIELDS) + f"{'pass%':>9}"
    rows = [f"engine {report['engine']}"]
    suites = report.get("suites", {})
    suite_pins = report.get("suite_pins", {})
    for pin, info in report.get("pins", {}).items():
        label = f"{pin} ({info['title']})" if info.get("title") else pin
        rows.append(f"pin {label}, converter {', '.join(info.get('converters', [])) or '-'}")
    rows += [head, "-" * len(head)]
    for pin, info in report.get("pins", {}).items():
        names = [s for s in info.get("suites", []) if suite_pins.get(s) == pin]
        for suite in names:
            for mode, c in suites[suite].items():
                rows.append(_row(suite, mode, c))
        if len(names) > 1:
            for mode, c in info["totals"].items():
                rows.append(_row(f"= pin {pin}", mode, c))
    for note in report.get("notes", []):
        rows.append(f"note: {note}")
    return "\n".join(rows)
