"""The JSON document of ``sfn-trace lint``.

One definition: the ``sfn-trace-lint/2`` document (keys may be added, none removed)::

    {"schema": "sfn-trace-lint/2", "definition": PATH, "field": F, "severity": LEVEL,
     "findings": [{"rule", "severity", "dropper", "step", "reasons": [...], "hints": [...],
                   "readers": [{"reader", "expression", "read", "path": [...], "paths"}],
                   "suppressed": null | {"kind", "justification"}}, ...]}

One finding per cause: the state and step that can drop the field (``rule`` is its kind,
``severity`` ``error`` or ``warning``), every reader it affects with the first path from
``StartAt`` and how many paths there are. ``severity`` at the top is the exit threshold.
(``sfn-trace-lint/1`` had one finding per reader and dropper; ``/2`` groups them.)

When the lint stopped before it found everything (a definition built to have more paths to
report than fit its bounds), ``"cut"`` says why, after ``findings``; it is absent otherwise.

Several definitions (as pre-commit passes them): ``sfn-trace-lint-multi/2``, one entry per
definition in the order given, an unreadable one with its one-line error and no findings::

    {"schema": "sfn-trace-lint-multi/2", "field": F, "severity": LEVEL,
     "definitions": [{"definition": PATH, "error": null | "one line",
                      "findings": [...]}, ...]}
"""

from __future__ import annotations

from sfn_trace.checks.lint import LintReport
from sfn_trace.checks.lint_causes import LintCause
from sfn_trace.model import jsontext
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions

SCHEMA = "sfn-trace-lint/2"
MULTI_SCHEMA = "sfn-trace-lint-multi/2"


def render(report: LintReport, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    linted, field = report.definitions, report.field
    if len(linted) == 1:
        [one] = linted
        document: dict[str, object] = {
            "schema": SCHEMA,
            "definition": str(one.source),
            "field": field,
            "severity": report.severity,
            "findings": [cause_json(c) for c in one.causes],
        }
        if one.cut is not None:
            document["cut"] = one.cut
    else:
        document = {
            "schema": MULTI_SCHEMA,
            "field": field,
            "severity": report.severity,
            "definitions": [
                {
                    "definition": str(each.source),
                    "error": each.error,
                    "findings": [cause_json(c) for c in each.causes],
                    **({} if each.cut is None else {"cut": each.cut}),
                }
                for each in linted
            ],
        }
    return jsontext.dumps(document, indent=2) + "\n"


def cause_json(cause: LintCause) -> dict[str, object]:
    return {
        "rule": cause.kind,
        "severity": cause.severity,
        "dropper": cause.dropper,
        "step": cause.step,
        "reasons": list(cause.reasons),
        "hints": list(cause.hints),
        "readers": [
            {
                "reader": r.reader,
                "expression": r.expression,
                "read": r.read,
                "path": list(r.path),
                "paths": r.paths,
            }
            for r in cause.readers
        ],
        "suppressed": None
        if cause.suppressed is None
        else {"kind": cause.suppressed.kind, "justification": cause.suppressed.justification},
    }
