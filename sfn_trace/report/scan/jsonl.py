"""``sfn-trace scan --format jsonl``: one JSON line per execution as it is judged, then the tally.

Each line is a JSON object on one line (docs/schema/scan-line.schema.json), ``"type"``
saying which:

.. code-block:: text

    {"type": "execution", "arn", "name", "status", "start", "stop",
     "verdict": "lost" | "intact" | "never_set" | "absent" | "unknown" | null,
     "first_null": WHERE | null,       # where the field went null ("went null")
     "lost_at": WHERE | null,          # where its last set copy went ("last copy")
     "exit_code": 0 | 1 | 4,           # this execution's class in the scan's exit code
     "error": null | "one line", "error_exit_code": null | 3, "warnings": [...]}
    ...
    {"type": "tally", "schema": "sfn-trace-scan-line/1", "state_machine_arn", "field",
     "filters", "truncated", "executions", "lost_the_field", "verdicts", "unreadable",
     "culprits": [{"state", "executions"}, ...], "exit_code"}

With several state machines the tally line also has ``"state_machine_arns"`` (every one)
and ``"machines"`` (each one's tally: ``state_machine_arn``, ``executions``,
``lost_the_field``, ``unreadable``, ``culprits``); each execution's ARN names its state
machine. The execution lines come in the order the executions are judged (sort on ``start`` for the
listing's order); the tally is the last line. A resumed scan (``--checkpoint``) writes the
same lines and the same tally as an uninterrupted one. ``WHERE`` is the JSON report's.
"""

from __future__ import annotations

from typing import Any

from sfn_trace.checks.rows import culprit_document
from sfn_trace.checks.scan import ScanResult, ScanRow
from sfn_trace.errors import ExitCode
from sfn_trace.model import jsontext
from sfn_trace.model.result import Verdict
from sfn_trace.report.common import iso
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions
from sfn_trace.report.scan.json import filters_json, machines_json, with_machines

SCHEMA = "sfn-trace-scan-line/1"


def render(result: ScanResult, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """Every row's line (newest first: a finished scan's rows are in listing order), then
    the tally."""
    return "".join(line(row) for row in result.rows) + tally_line(result)


def line(row: ScanRow) -> str:
    """One execution's line, newline included."""
    info = row.execution
    document = {
        "type": "execution",
        "arn": info.arn,
        "name": info.name,
        "status": info.status,
        "start": iso(info.start),
        "stop": iso(info.stop),
        "verdict": row.verdict.value if row.verdict else None,
        "first_null": culprit_document(row.first_null),
        "lost_at": culprit_document(row.lost_at),
        "exit_code": int(exit_class(row)),
        "error": row.error,
        "error_exit_code": int(row.error_exit_code) if row.error_exit_code is not None else None,
        "warnings": list(row.warnings),
    }
    return _dumps(document)


def exit_class(row: ScanRow) -> ExitCode:
    """What this execution alone makes the scan exit with: 1 it lost the field, 4 it could
    not be read or traced to a verdict, 0 it kept the field."""
    if row.lost_the_field:
        return ExitCode.FINDING
    if row.error is not None or row.verdict is Verdict.UNKNOWN:
        return ExitCode.INCOMPLETE
    return ExitCode.INTACT


def tally_line(result: ScanResult) -> str:
    """The last line: the totals, as the JSON report's summary (without the call counts,
    which differ between a resumed scan and an uninterrupted one)."""
    query, totals = result.query, result.totals
    document: dict[str, Any] = {
        "type": "tally",
        "schema": SCHEMA,
        "state_machine_arn": query.state_machine_arn,
        "field": query.field,
        "filters": filters_json(query),
        "truncated": result.truncated,
        "executions": totals.executions,
        "lost_the_field": totals.lost,
        "verdicts": {v.value: totals.verdicts.get(v, 0) for v in Verdict},
        "unreadable": totals.unreadable,
        "culprits": [{"state": s, "executions": n} for s, n in totals.culprits],
        "exit_code": int(totals.exit_code),
    }
    if query.several:  # as the JSON report: every state machine, and each one's tally
        document = with_machines(document, result)
        document["machines"] = machines_json(result)
    return _dumps(document)


def _dumps(document: dict[str, Any]) -> str:
    return jsontext.dumps(document, ensure_ascii=False) + "\n"
