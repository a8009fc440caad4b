"""The YAML manifest: pins, suites, feature sets, modes, expected failures and skips (with
reasons) per engine. The file's own header documents its layout."""

from __future__ import annotations

import fnmatch
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from spectest.runner import ScriptResult
from spectest.suites import Pin, Reword, Script, Suite, list_scripts

MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.yaml"
ALL = "all"
MAX_REASON = 160


@dataclass(frozen=True)
class Reason:
    """A rule of the ``reasons`` section: script globs and/or a regex on the failure text."""

    scripts: list[str]
    detail: re.Pattern[str] | None
    reason: str

    def matches(self, script: str, detail: str) -> bool:
        return any(fnmatch.fnmatchcase(script, g) for g in self.scripts) or \
            (self.detail is not None and self.detail.search(detail) is not None)


def _pin(name: str, data: dict[str, Any]) -> Pin:
    return Pin(name=str(name), commit=str(data.get("commit", "")),
               date=str(data.get("date", "")), title=str(data.get("title", "")),
               env=str(data.get("env", "")), submodule=str(data.get("submodule", "")),
               project_dir=str(data.get("project_dir", "")),
               converter=str(data.get("converter", "wabt")),
               fallback_converters=tuple(data.get("fallback_converters", ())),
               reworded=tuple(Reword(text=str(r["text"]), now=str(r["now"]),
                                     script=str(r.get("script", "")), line=int(r.get("line", 0)))
                              for r in data.get("reworded") or ()))


def _suite(name: str, data: dict[str, Any], default_pin: str) -> Suite:
    return Suite(name=name, pin=str(data.get("pin", default_pin)),
                 path=str(data.get("path", ".")), prefix=str(data.get("prefix", name)),
                 description=str(data.get("description", "")),
                 converter=data.get("converter"), flags=tuple(data.get("flags", ())),
                 features={str(k): bool(v) for k, v in (data.get("features") or {}).items()})


class Manifest:
    """A loaded manifest; ``expectations()`` answers per (engine, mode, script)."""

    def __init__(self, path: Path = MANIFEST_PATH) -> None:
        self.path = Path(path)
        with open(self.path, encoding="utf-8") as f:
            self.data: dict[str, Any] = yaml.safe_load(f) or {}
        self.pins: dict[str, Pin] = {str(k): _pin(k, v or {})
                                     for k, v in (self.data.get("pins") or {}).items()}
        first = next(iter(self.pins), "")
        self.suites: dict[str, Suite] = {str(k): _suite(str(k), v or {}, first)
                                         for k, v in (self.data.get("suites") or {}).items()}
        self.modes: list[str] = list(self.data.get("modes", ["eager", "lazy-translation",
                                                             "lazy"]))
        self.default_suites: list[str] = list(self.data.get("default_suites",
                                                            list(self.suites)[:1]))
        self.timeout: float = float(self.data.get("timeout_seconds", 30))
        self.reasons: list[Reason] = [
            Reason(list(r.get("scripts", [])), re.compile(r["detail"]) if r.get("detail")
                   else None, str(r.get("reason", "")))
            for r in self.data.get("reasons") or []]
        path_suite = self.data.get("path_suite") or {}
        self.path_converters: tuple[str, ...] = tuple(
            path_suite.get("converters", ("wasm-tools", "wabt", "own")))
        self.path_features: dict[str, bool] = {
            str(k): bool(v) for k, v in (path_suite.get("features") or {}).items()}
        self._index = self._build_index()

    # -- pins and suites ----------------------------------------------------------------------
    def pin(self, name: str) -> Pin:
        """The pin called ``name`` (a prefix of its commit works too)."""
        if name in self.pins:
            return self.pins[name]
        for pin in self.pins.values():
            if pin.commit and (pin.commit.startswith(name) or name.startswith(pin.commit)):
                return pin
        raise ValueError(f"unknown pin {name!r} (manifest: {', '.join(self.pins)})")

    def reworded(self, pin: str) -> tuple[Reword, ...]:
        """The pin's rewordings of expected error texts (none for an unknown pin)."""
        found = self.pins.get(pin)
        return found.reworded if found is not None else ()

    def testsuite_pins(self) -> list[str]:
        """Pins of the official testsuite (not the project's own), in manifest order."""
        return [n for n, p in self.pins.items() if not p.project_dir]

    def newest_pin(self) -> str:
        """The official pin with the latest date (the badge's)."""
        pins = self.testsuite_pins()
        return max(pins, key=lambda n: self.pins[n].date) if pins else ""

    @property
    def pin_commit(self) -> str:
        """The first pin's commit (d76759e), for callers of the one-pin manifest."""
        pins = self.testsuite_pins()
        return self.pins[pins[0]].commit if pins else "unknown"

    def suite(self, name: str) -> Suite:
        """A suite by name or by its id prefix (``top`` or ``spec``)."""
        if name in self.suites:
            return self.suites[name]
        for suite in self.suites.values():
            if suite.prefix == name:
                return suite
        raise ValueError(f"unknown suite {name!r} (manifest: {', '.join(self.suites)})")

    def suites_of_pin(self, pin: str) -> list[str]:
        """The default suites of one pin."""
        name = self.pin(pin).name
        return [s for s in self.default_suites if self.suites[s].pin == name]

    def converters(self, suite: str) -> tuple[str, ...]:
        """The suite's converter, then the pin's fallbacks."""
        s = self.suite(suite)
        pin = self.pins[s.pin]
        first = s.converter or pin.converter
        return (first,) + tuple(c for c in pin.fallback_converters if c != first)

    def flags(self, suite: str) -> tuple[str, ...]:
        """Converter flags of a suite."""
        return self.suite(suite).flags

    def features(self, suite: str) -> dict[str, bool]:
        """Engine feature flags of a suite."""
        return dict(self.suite(suite).features)

    def scripts(self, suites: Iterable[str]) -> list[Script]:
        """All scripts of the named suites (SuiteNotFound if a pin or folder is missing)."""
        out: list[Script] = []
        for name in suites:
            suite = self.suite(name)
            out.extend(list_scripts(self.pins[suite.pin], suite))
        return out

    # -- expectations -------------------------------------------------------------------------
    def _build_index(self) -> dict[tuple[str, str, str], dict[Any, tuple[str, str]]]:
        """(engine, mode, script) -> {line or 'all': (action, reason)}."""
        index: dict[tuple[str, str, str], dict[Any, tuple[str, str]]] = defaultdict(dict)
        for engine, entries in (self.data.get("expected") or {}).items():
            for entry in entries or []:
                modes = entry.get("modes", ALL)
                modes = self.modes if modes == ALL else list(modes)
                lines = entry.get("lines", ALL)
                lines = [ALL] if lines == ALL else list(lines)
                value = (entry.get("action", "xfail"), str(entry.get("reason", "")))
                for mode in modes:
                    slot = index[(engine, mode, entry["script"])]
                    for line in lines:
                        slot[line] = value
        return index

    def expectations(self, engine: str, mode: str, script: str) -> dict[Any, tuple[str, str]]:
        """Expected failures/skips of one script in one mode for one engine."""
        return self._index.get((engine, mode, script), {})

    def reason_for(self, script: str, detail: str) -> str | None:
        """The reason of a new expected failure from the ``reasons`` rules (the first whose
        script glob or detail regex matches), None when no rule matches."""
        for rule in self.reasons:
            if rule.matches(script, detail):
                return rule.reason
        return None

    def _new_reasons(self, result: ScriptResult) -> dict[int, str]:
        """Reasons of one script's failures by command index: by rule, else the reason most
        of the script's failures got (cascades from an earlier failing module), else the
        failure's own first line."""
        failing = [c for c in result.results if not c.ok and c.outcome not in ("skipped",
                                                                                 "text")]
        by_rule = {c.index: self.reason_for(result.script, c.detail) for c in failing}
        common = Counter(r for r in by_rule.values() if r).most_common(1)
        out = {}
        for c in failing:
            first = (c.detail.split(": ", 1)[-1].splitlines() or [""])[0][:MAX_REASON]
            out[c.index] = by_rule[c.index] or (common[0][0] if common else
                                                f"not implemented yet: {first}")
        return out

    def update(self, engine: str, results: list[ScriptResult]) -> int:
        """Rewrite ``engine``'s expected failures for the (script, mode) pairs in ``results``
        from their outcomes, keeping reasons; returns the number of listed failures."""
        ran = {(r.script, r.mode) for r in results}
        lines_of = {(r.script, r.mode): {c.line for c in r.results} for r in results}
        # (script, line, action, reason) -> modes, exploded from the current entries
        keep: dict[tuple[str, Any, str, str], set[str]] = defaultdict(set)
        old_reason: dict[tuple[str, Any, str], str] = {}
        for (eng, mode, script), slot in self._index.items():
            if eng != engine:
                continue
            for line, (action, reason) in slot.items():
                if (script, mode) in ran and action == "xfail":
                    if line == ALL:
                        for concrete in lines_of[(script, mode)]:
                            old_reason.setdefault((script, concrete, mode), reason)
                    else:
                        old_reason[(script, line, mode)] = reason
                    continue
                keep[(script, line, action, reason)].add(mode)
        count = 0
        for r in results:
            new = self._new_reasons(r)
            for c in r.results:
                if c.ok or c.outcome in ("skipped", "text"):
                    continue
                reason = old_reason.get((r.script, c.line, r.mode)) or new[c.index]
                keep[(r.script, c.line, "xfail", reason)].add(r.mode)
                count += 1
        self._write(engine, keep)
        return count

    def _write(self, engine: str, keep: dict[tuple[str, Any, str, str], set[str]]) -> None:
        grouped: dict[tuple[str, str, str, Any], list[Any]] = defaultdict(list)
        for (script, line, action, reason), modes in keep.items():
            mode_key: Any = ALL if set(modes) >= set(self.modes) else \
                tuple(m for m in self.modes if m in modes)
            grouped[(script, action, reason, mode_key)].append(line)
        entries = []
        for (script, action, reason, mode_key), lines in sorted(
                grouped.items(), key=lambda kv: (kv[0][0], str(kv[0][3]), kv[0][1], kv[0][2])):
            entry: dict[str, Any] = {"script": script}
            entry["lines"] = ALL if ALL in lines else sorted(set(lines))
            entry["modes"] = ALL if mode_key == ALL else list(mode_key)
            if action != "xfail":
                entry["action"] = action
            entry["reason"] = reason
            entries.append(entry)
        expected = dict(self.data.get("expected") or {})
        expected[engine] = entries
        text = self.path.read_text(encoding="utf-8")
        head = text.split("\nexpected:", 1)[0] + "\n" if "\nexpected:" in text else text
        body = yaml.safe_dump({"expected": expected}, sort_keys=False, width=100,
                              default_flow_style=None, allow_unicode=True)
        tmp = self.path.with_suffix(".yaml.tmp")
        tmp.write_text(head + body, encoding="utf-8")
        tmp.replace(self.path)
        self.data["expected"] = expected
        self._index = self._build_index()
