"""The conformance report (REPORT.json), its merging and its text table."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spectest import OUTCOMES

FIELDS = ("present",) + OUTCOMES


def zero() -> dict[str, int]:
    """An empty counts record."""
    return {k: 0 for k in FIELDS}


def add(into: dict[str, int], counts: dict[str, int]) -> None:
    """Add counts into a record."""
    for k in FIELDS:
        into[k] = into.get(k, 0) + int(counts.get(k, 0))


def build(engine: str, pin: str, wabt: str, modes: list[str],
          entries: Iterable[tuple[str, str, dict[str, int]]],
          failures: dict[str, dict[str, list[str]]] | None = None) -> dict[str, Any]:
    """A report from (script id, mode, counts) entries; totals per mode and per suite."""
    scripts: dict[str, dict[str, dict[str, int]]] = {}
    for script, mode, counts in entries:
        scripts.setdefault(script, {})[mode] = {k: int(counts.get(k, 0)) for k in FIELDS}
    totals = {m: zero() for m in modes}
    suites: dict[str, dict[str, dict[str, int]]] = {}
    for script, per_mode in scripts.items():
        suite = script.split("/", 1)[0]
        for mode, counts in per_mode.items():
            add(totals.setdefault(mode, zero()), counts)
            add(suites.setdefault(suite, {}).setdefault(mode, zero()), counts)
    order = {m: i for i, m in enumerate(modes)}
    for per_mode in suites.values():
        ordered = sorted(per_mode.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        per_mode.clear()
        per_mode.update(ordered)
    report = {
        "engine": engine,
        "pin": pin,
        "wabt": wabt,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "modes": list(modes),
        "totals": totals,
        "suites": suites,
        "scripts": dict(sorted(scripts.items())),
    }
    if failures:
        report["failures"] = failures
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


def table(report: dict[str, Any]) -> str:
    """The totals per mode (and per suite when there are several) as a text table."""
    head = f"{'suite':<14}{'mode':<18}" + "".join(f"{k:>9}" for k in FIELDS) + f"{'pass%':>9}"
    rows = [(f"engine {report['engine']}, testsuite {report['pin'][:12]}, "
            f"wabt {report['wabt']}"), head, "-" * len(head)]
    suites = report.get("suites", {})
    for suite, per_mode in suites.items():
        for mode, c in per_mode.items():
            rows.append(f"{suite:<14}{mode:<18}" + "".join(f"{c[k]:>9}" for k in FIELDS)
                        + f"{percent(c):>8.2f}%")
    if len(suites) != 1:
        for mode, c in report["totals"].items():
            rows.append(f"{'all':<14}{mode:<18}" + "".join(f"{c[k]:>9}" for k in FIELDS)
                        + f"{percent(c):>8.2f}%")
    return "\n".join(rows)
