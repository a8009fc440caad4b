"""A self-made SVG badge: 'wasm spec 3.0 | 97.3%' (the newest pin), coloured by the figure."""

from __future__ import annotations

from typing import Any

from spectest.report import FIELDS, add, percent, zero


def figure(report: dict[str, Any], mode: str | None = None, suite: str | None = None,
           pin: str | None = None) -> float:
    """passed/present in percent over one mode (or all modes), one suite, one pin, or all."""
    total = zero()
    if suite:
        per_mode = report.get("suites", {}).get(suite, {})
    elif pin:
        per_mode = report["pins"][pin]["totals"]
    else:
        per_mode = report.get("totals", {})
    for m, counts in per_mode.items():
        if mode is None or m == mode:
            add(total, {k: counts.get(k, 0) for k in FIELDS})
    return percent(total)


def badge_figure(report: dict[str, Any], mode: str | None = None, suite: str | None = None,
                 pin: str | None = None) -> tuple[float, str]:
    """The badge's figure and label: the newest pin that ran (``badge_pin``) unless a pin or
    suite is asked for; reports without pins use their totals."""
    if not isinstance(report.get("totals"), dict):
        raise TypeError("no totals")
    pin = pin or (None if suite else report.get("badge_pin") or None)
    if pin and pin not in report.get("pins", {}):
        raise ValueError(f"pin {pin} is not in the report")
    title = report["pins"][pin].get("title", "") if pin else ""
    label = "wasm spec" + (f" {title.split()[1]}" if title.startswith("Wasm ") else "")
    return figure(report, mode, suite, pin), label


def colour(value: float) -> str:
    """Green at the top, through yellow and orange, to red."""
    for limit, hexcode in ((99.0, "#4c1"), (95.0, "#97ca00"), (85.0, "#a4a61d"),
                           (70.0, "#dfb317"), (50.0, "#fe7d37")):
        if value >= limit:
            return hexcode
    return "#e05d44"


def svg(value: float, label: str = "wasm spec") -> str:
    """The badge's SVG text (widths estimated at 7 px per character)."""
    text = f"{value:.1f}%"
    lw, rw = 10 + 7 * len(label), 10 + 7 * len(text)
    w = lw + rw
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" '
        f'aria-label="{label}: {text}"><title>{label}: {text}</title>'
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{rw}" height="20" fill="{colour(value)}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" '
        f'font-size="11"><text x="{lw / 2}" y="14">{label}</text>'
        f'<text x="{lw + rw / 2}" y="14">{text}</text></g></svg>\n'
    )
