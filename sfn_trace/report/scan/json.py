"""The ``sfn-trace-scan/1`` JSON document of ``sfn-trace scan``.

Keys may be added over time; none of those below may be removed or renamed.

.. code-block:: text

    {
      "schema": "sfn-trace-scan/1",
      "state_machine_arn": "...",
      "field": "poll_results_s3_key",
      "filters": {"statuses": ["SUCCEEDED", "FAILED"],   # [] = any status
                  "since": ISO | null, "until": ISO | null, "limit": 100},
      "truncated": false,              # more executions matched than "limit"
      "executions": [                  # newest first
        {"arn", "name", "status", "start", "stop",
         "verdict": "lost" | "intact" | "never_set" | "absent" | "unknown" | null,
         "first_null": WHERE | null, "lost_at": WHERE | null,
         "error": null | "one line",   # set (and verdict null) when it could not be read
         "error_exit_code": null | 3,  # what the main form would exit with for it
         "warnings": [...]}
      ],
      "summary": {
        "executions": 200,
        "lost_the_field": 66,          # verdict lost, never_set or absent
        "verdicts": {"absent": 0, "never_set": 0, "lost": 66, "intact": 134, "unknown": 0},
        "unreadable": 0,
        "culprits": [{"state": "Normalize", "executions": 30}, ...],   # most first
        "history_calls": 200, "list_calls": 1
      },
      "exit_code": 1
    }

    With several state machines, "state_machine_arn" is the first, and two keys are added:
    "state_machine_arns": [...] (every one, as given) and, in "summary", "machines":
    [{"state_machine_arn", "executions", "lost_the_field", "unreadable", "culprits"}, ...]
    (each state machine's own tally, its unqualified ARN, in the order given).

    WHERE = {"state", "scope": [...], "event_id", "map_iteration", "became"}
"""

from __future__ import annotations

from typing import Any

from sfn_trace.checks.rows import culprit_document
from sfn_trace.checks.scan import ScanQuery, ScanResult, ScanRow, Tally
from sfn_trace.model import jsontext
from sfn_trace.report.common import iso
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions

SCHEMA = "sfn-trace-scan/1"


def render(result: ScanResult, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    return jsontext.dumps(to_document(result), indent=2, ensure_ascii=False) + "\n"


def filters_json(query: ScanQuery) -> dict[str, Any]:
    """The scan's filters, as the JSON report and the JSONL tally line write them."""
    return {
        "statuses": list(query.statuses),
        "since": iso(query.since),
        "until": iso(query.until),
        "limit": query.limit,
    }


def to_document(result: ScanResult) -> dict[str, Any]:
    query = result.query
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "state_machine_arn": query.state_machine_arn,
        "field": query.field,
        "filters": filters_json(query),
        "truncated": result.truncated,
        "executions": [_row(row) for row in result.rows],
        "summary": {
            "executions": len(result.rows),
            "lost_the_field": len(result.lost),
            "verdicts": {v.value: n for v, n in result.verdicts.items()},
            "unreadable": len(result.unreadable),
            "culprits": [{"state": s, "executions": n} for s, n in result.culprits],
            "history_calls": result.history_calls,
            "list_calls": result.list_calls,
        },
        "exit_code": int(result.exit_code),
    }
    if query.several:
        document = with_machines(document, result)
        document["summary"]["machines"] = machines_json(result)
    return document


def with_machines(document: dict[str, Any], result: ScanResult) -> dict[str, Any]:
    """``document`` with ``state_machine_arns`` after ``state_machine_arn``."""
    out: dict[str, Any] = {}
    for key, value in document.items():
        out[key] = value
        if key == "state_machine_arn":
            out["state_machine_arns"] = list(result.query.machines)
    return out


def machines_json(result: ScanResult) -> list[dict[str, Any]]:
    """Each state machine's tally, in the order the query gave them (none scanned: zeros)."""
    tallies = result.totals.machines
    order = [":".join(arn.split(":")[:7]) for arn in result.query.machines]
    order += [arn for arn in tallies if arn not in order]
    out = []
    for arn in dict.fromkeys(order):
        tally = tallies.get(arn) or Tally()
        out.append(
            {
                "state_machine_arn": arn,
                "executions": tally.executions,
                "lost_the_field": tally.lost,
                "unreadable": tally.unreadable,
                "culprits": [{"state": s, "executions": n} for s, n in tally.culprits],
            }
        )
    return out


def _row(row: ScanRow) -> dict[str, Any]:
    info = row.execution
    return {
        "arn": info.arn,
        "name": info.name,
        "status": info.status,
        "start": iso(info.start),
        "stop": iso(info.stop),
        "verdict": row.verdict.value if row.verdict else None,
        "first_null": culprit_document(row.first_null),
        "lost_at": culprit_document(row.lost_at),
        "error": row.error,
        "error_exit_code": int(row.error_exit_code) if row.error_exit_code is not None else None,
        "warnings": list(row.warnings),
    }
