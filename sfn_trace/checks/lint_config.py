"""``sfn-trace lint --config FILE``: the lint's settings and suppressions, in JSON.

The file (``.sfn-trace.json`` in the current folder is read when ``--config`` is not given)::

    {"lint": {
      "severity": "error",
      "ignore": [
        {"rule": "depends-on-task-result",
         "state": "SplitIntoChunks",
         "definition": "statemachines/*.asl.json",
         "field": "poll_results_s3_key",
         "reason": "the Lambda returns its input"}
      ]}}

``severity``: the exit threshold when ``--severity`` is not given. Each ``ignore`` entry
needs ``rule`` (a rule id, or ``all``); ``state`` (the state that drops the field),
``definition`` (a glob on the definition's path as given, ``/`` separators) and ``field``
narrow it; ``reason`` is the justification SARIF shows. JSON, as the definitions are: the
same reader, and no dependency for Python 3.10.

Other top-level keys are not lint's and are left alone; a key under ``lint`` or in an ignore
entry that lint does not know, or a value of the wrong type, is an error (one line, exit 2),
so a misspelt suppression does not silently suppress nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_trace.checks.lint import DROP_KINDS
from sfn_trace.checks.lint_causes import ALL_RULES, SEVERITIES, IgnoreRule
from sfn_trace.errors import UsageError
from sfn_trace.sources.files import read_json

__all__ = ["CONVENTIONAL", "LintConfig", "load_config"]

CONVENTIONAL = Path(".sfn-trace.json")
"""The config file read, when it exists, if ``--config`` is not given."""

MAX_CONFIG = 1 << 20
"""A config file is small: past a MiB it is refused."""

_IGNORE_KEYS = ("rule", "state", "definition", "field", "reason")


@dataclass(frozen=True)
class LintConfig:
    severity: str | None = None
    ignore: tuple[IgnoreRule, ...] = ()


def load_config(path: Path) -> LintConfig:
    """The ``lint`` object of a JSON config file (an empty config when it has none)."""
    document = read_json(path, "config file", MAX_CONFIG)
    if not isinstance(document, Mapping):
        raise UsageError(f"{path}: a config file is a JSON object")
    table = document.get("lint", {})
    if not isinstance(table, Mapping):
        raise UsageError(f"{path}: lint must be an object")
    unknown = sorted(set(table) - {"severity", "ignore"})
    if unknown:
        raise UsageError(f"{path}: lint has no setting {unknown[0]!r} (severity, ignore)")
    severity = table.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise UsageError(f"{path}: lint.severity must be one of {', '.join(SEVERITIES)}")
    entries = table.get("ignore", [])
    if not isinstance(entries, list):
        raise UsageError(f"{path}: lint.ignore must be an array of objects")
    return LintConfig(severity, tuple(_ignore(path, n, e) for n, e in enumerate(entries, 1)))


def _ignore(path: Path, number: int, entry: Any) -> IgnoreRule:
    where = f"{path}: ignore entry {number}"
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where} is not an object")
    unknown = sorted(set(entry) - set(_IGNORE_KEYS))
    if unknown:
        raise UsageError(f"{where} has no key {unknown[0]!r} ({', '.join(_IGNORE_KEYS)})")
    for key in _IGNORE_KEYS:
        if key in entry and not isinstance(entry[key], str):
            raise UsageError(f"{where}: {key} must be a string")
    rule = entry.get("rule")
    if rule not in (*DROP_KINDS, ALL_RULES):
        raise UsageError(f"{where}: rule must be one of {', '.join((*DROP_KINDS, ALL_RULES))}")
    return IgnoreRule(
        rule,
        state=entry.get("state"),
        definition=entry.get("definition"),
        field=entry.get("field"),
        reason=entry.get("reason"),
    )
