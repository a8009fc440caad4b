"""The YAML manifest: suites, modes, expected failures and skips (with reasons) per engine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from spectest.runner import ScriptResult
from spectest.suites import Script, list_scripts

MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.yaml"
ALL = "all"


class Manifest:
    """A loaded manifest; ``expectations()`` answers per (engine, mode, script)."""

    def __init__(self, path: Path = MANIFEST_PATH) -> None:
        self.path = Path(path)
        with open(self.path, encoding="utf-8") as f:
            self.data: dict[str, Any] = yaml.safe_load(f) or {}
        self.suites: dict[str, dict] = self.data.get("suites", {})
        self.modes: list[str] = list(self.data.get("modes", ["eager", "lazy-translation",
                                                             "lazy"]))
        self.default_suites: list[str] = list(self.data.get("default_suites", ["top"]))
        self.timeout: float = float(self.data.get("timeout_seconds", 30))
        self.pin: str = str(self.data.get("pin", "unknown"))
        self._index = self._build_index()

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

    def flags(self, suite: str) -> tuple[str, ...]:
        """wast2json flags of a suite."""
        return tuple(self.suites.get(suite, {}).get("flags", []))

    def scripts(self, suites: Iterable[str]) -> list[Script]:
        """All scripts of the named suites (SuiteNotFound if the testsuite is missing)."""
        out: list[Script] = []
        for suite in suites:
            info = self.suites.get(suite)
            if info is None:
                raise ValueError(f"unknown suite {suite!r} (manifest: {', '.join(self.suites)})")
            out.extend(list_scripts(suite, info.get("path", "."), info.get("prefix", suite)))
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
            for c in r.results:
                if c.ok or c.outcome in ("skipped", "text"):
                    continue
                first = (c.detail.split(": ", 1)[-1].splitlines() or [""])[0][:160]
                reason = old_reason.get((r.script, c.line, r.mode)) or \
                    f"not implemented yet: {first}"
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
