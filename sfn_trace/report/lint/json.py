"""The JSON document of ``sfn-trace lint``.

One definition: the ``sfn-trace-lint/1`` document (keys may be added, none removed)::

    {"schema": "sfn-trace-lint/1", "definition": PATH, "field": F,
     "findings": [{"reader", "expression", "read", "path": [...], "dropper", "reason",
                   "hint"}, ...]}

When the lint stopped before it found everything (a definition built to have more paths to
report than fit its bounds), ``"cut"`` says why, after ``findings``; it is absent otherwise.

Several definitions (as pre-commit passes them): ``sfn-trace-lint-multi/1``, one entry per
definition in the order given, an unreadable one with its one-line error and no findings::

    {"schema": "sfn-trace-lint-multi/1", "field": F,
     "definitions": [{"definition": PATH, "error": null | "one line",
                      "findings": [...]}, ...]}
"""

from __future__ import annotations

from sfn_trace.checks.lint import LintFinding, LintReport
from sfn_trace.model import jsontext
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions

SCHEMA = "sfn-trace-lint/1"
MULTI_SCHEMA = "sfn-trace-lint-multi/1"


def render(report: LintReport, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    linted, field = report.definitions, report.field
    if len(linted) == 1:
        [one] = linted
        document: dict[str, object] = {
            "schema": SCHEMA,
            "definition": str(one.source),
            "field": field,
            "findings": [finding_json(f) for f in one.findings],
        }
        if one.cut is not None:
            document["cut"] = one.cut
    else:
        document = {
            "schema": MULTI_SCHEMA,
            "field": field,
            "definitions": [
                {
                    "definition": str(each.source),
                    "error": each.error,
                    "findings": [finding_json(f) for f in each.findings],
                    **({} if each.cut is None else {"cut": each.cut}),
                }
                for each in linted
            ],
        }
    return jsontext.dumps(document, indent=2) + "\n"


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
