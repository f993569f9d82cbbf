"""The table and the JSON document of ``sfn-trace lint``.

One definition: the ``sfn-trace-lint/1`` document (keys may be added, none removed)::

    {"schema": "sfn-trace-lint/1", "definition": PATH, "field": F,
     "findings": [{"reader", "expression", "read", "path": [...], "dropper", "reason",
                   "hint"}, ...]}

Several definitions (as pre-commit passes them): ``sfn-trace-lint-multi/1``, one entry per
definition in the order given, an unreadable one with its one-line error and no findings::

    {"schema": "sfn-trace-lint-multi/1", "field": F,
     "definitions": [{"definition": PATH, "error": null | "one line",
                      "findings": [...]}, ...]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sfn_trace.checks.lint import LintedDefinition, LintFinding

SCHEMA = "sfn-trace-lint/1"
MULTI_SCHEMA = "sfn-trace-lint-multi/1"


def render_json(linted: Sequence[LintedDefinition], field: str) -> str:
    if len(linted) == 1:
        [one] = linted
        document: dict[str, object] = {
            "schema": SCHEMA,
            "definition": str(one.source),
            "field": field,
            "findings": [finding_json(f) for f in one.findings],
        }
    else:
        document = {
            "schema": MULTI_SCHEMA,
            "field": field,
            "definitions": [
                {
                    "definition": str(each.source),
                    "error": each.error,
                    "findings": [finding_json(f) for f in each.findings],
                }
                for each in linted
            ],
        }
    return json.dumps(document, indent=2) + "\n"


def finding_json(finding: LintFinding) -> dict[str, object]:
    return {
        "reader": finding.reader,
        "expression": finding.expression,
        "read": finding.read,
        "path": list(finding.path),
        "dropper": finding.dropper,
        "reason": finding.reason,
        "hint": finding.hint,
    }


def render_table(linted: Sequence[LintedDefinition], field: str) -> str:
    if len(linted) == 1:
        return table(linted[0].findings, field) + "\n"
    sections = []
    for each in linted:
        body = f"unreadable: {each.error}" if each.error else table(each.findings, field)
        sections.append(f"== {each.source}\n{body}")
    return "\n\n".join(sections) + "\n"


def table(findings: Sequence[LintFinding], field: str) -> str:
    if not findings:
        return f"No path lets a state drop {field} before a state that reads it."
    lines = [f"{len(findings)} way(s) {field} can be dropped before it is read:"]
    for number, finding in enumerate(findings, start=1):
        lines += [
            "",
            f"{number}. {finding.reader} reads {finding.read}: {finding.expression}",
            f"   {finding.dropper} can drop it: {finding.reason}",
            f"   path: {' -> '.join(finding.path)}",
            f"   fix: {finding.hint}",
        ]
    return "\n".join(lines)
