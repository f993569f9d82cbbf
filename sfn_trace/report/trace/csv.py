"""The CSV timeline: one row per state visit, for pandas and spreadsheets.

The only module that imports pandas. UTF-8 text, a header row, ``\\n`` line ends, values
quoted when they hold a comma, a quote or a line break (RFC 4180 quoting), no index column
and no byte-order mark. ``pandas.read_csv(path, parse_dates=["entered", "exited"])`` reads it
back as is, with timezone-aware UTC timestamps.

Text from the account is neutral (:mod:`sfn_trace.report.neutral`): control and bidi characters
are shown as escapes (a newline in a name as ``\\n``), and a cell that begins with ``=``,
``+``, ``-``, ``@``, tab or CR gets a leading ``'`` (OWASP's CSV-injection defence; plain
numbers such as ``-5`` are left alone), so no cell runs as a formula in a spreadsheet.

Columns, in this order (new columns are only ever appended):

================  =================================================================
seq               1-based order of entry across the execution
entered_event_id  id of the visit's ``*StateEntered`` event
exited_event_id   id of its ``*StateExited`` event (empty: it never exited)
entered           when the visit started, ISO 8601 UTC (``2025-11-17T05:48:59.751Z``)
exited            when the visit ended: its exit, or the failure or abort that ended it
duration_ms       ``exited - entered`` in milliseconds
scope             enclosing Map iterations / Parallel branches then the state, joined by
                  ``" > "`` (``MergeChunkGroups[2] > MergeGroup``)
map_iteration     index of the innermost Map iteration holding the visit
state             state name
type              state type (``Task``, ``Pass``, ``Map``, ...)
outcome           ``succeeded``, ``caught``, ``failed``, ``aborted`` or ``running``
resource          the task's resource, ``type:resource`` (``lambda:invoke``)
function          the Lambda function the task invoked (last attempt)
attempts          number of attempts (retries included)
error             the error that ended the visit or was caught in it
input_status      the field in the visit's input: ``set``, ``null``, ``mixed``,
                  ``missing`` or ``unknown``
output_status     the same for its output
input_value       JSON array of the field's values in the input, in ``input_paths`` order
                  (empty when the status is ``unknown``)
output_value      the same for the output
input_paths       JSON array of the JSONPaths of those occurrences
output_paths      the same for the output
changed           ``True`` when the field differs between input and output, ``False``
                  when not, empty when one of them could not be seen
request_id        the Lambda request id (last attempt)
log_excerpt       the last invocation's log lines, when logs were fetched (the first
                  ``--log-lines N``, each cut at 300 characters)
first_null        ``True`` on the visit where the field went null (``first_null``)
lost_at           ``True`` on the visit after which no set copy remained (``lost_at``)
================  =================================================================
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from sfn_trace.model import jsontext
from sfn_trace.model.result import TraceResult, VisitTrace
from sfn_trace.model.snapshot import Snapshot, Status
from sfn_trace.report.common import iso
from sfn_trace.report.neutral import csv_cell, neutral
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions
from sfn_trace.report.trace.shared import log_lines

COLUMNS = (
    "seq",
    "entered_event_id",
    "exited_event_id",
    "entered",
    "exited",
    "duration_ms",
    "scope",
    "map_iteration",
    "state",
    "type",
    "outcome",
    "resource",
    "function",
    "attempts",
    "error",
    "input_status",
    "output_status",
    "input_value",
    "output_value",
    "input_paths",
    "output_paths",
    "changed",
    "request_id",
    "log_excerpt",
    "first_null",
    "lost_at",
)
"""The documented column order; a test pins it."""

_INTEGERS = ("seq", "entered_event_id", "exited_event_id", "duration_ms", "map_iteration")

LOG_LINE_WIDTH = 300


def render(result: TraceResult, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    first = result.first_null.visit.seq if result.first_null else None
    lost = result.lost_at.visit.seq if result.lost_at else None
    rows = [_safe(_row(trace, first, lost, options.log_lines)) for trace in result.visits]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in _INTEGERS:
        # Nullable integers: an empty cell, never "12.0", when some rows have no value.
        frame[column] = frame[column].astype("Int64")
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n", encoding="utf-8")
    return buffer.getvalue()


def _row(trace: VisitTrace, first: int | None, lost: int | None, excerpt: int) -> dict[str, Any]:
    visit = trace.visit
    start = visit.entered.timestamp
    end = visit.end.timestamp if visit.end else None
    attempt = visit.attempts[-1] if visit.attempts else None
    resource = None
    if attempt is not None and attempt.resource:
        resource = (
            f"{attempt.resource_type}:{attempt.resource}"
            if attempt.resource_type and not attempt.resource.startswith("arn:")
            else attempt.resource
        )
    invocation = trace.invocation
    return {
        "seq": visit.seq,
        "entered_event_id": visit.entered.id,
        "exited_event_id": visit.exit_event_id,
        "entered": iso(start),
        "exited": iso(end),
        "duration_ms": round((end - start).total_seconds() * 1000) if start and end else None,
        "scope": " > ".join(visit.scope),
        "map_iteration": visit.map_iteration,
        "state": visit.state,
        "type": visit.type,
        "outcome": visit.outcome.value,
        "resource": resource,
        "function": invocation.function if invocation else None,
        "attempts": len(visit.attempts),
        "error": visit.error,
        "input_status": trace.input.status.value,
        "output_status": trace.output.status.value,
        "input_value": _values(trace.input),
        "output_value": _values(trace.output),
        "input_paths": _paths(trace.input),
        "output_paths": _paths(trace.output),
        "changed": trace.changed,
        "request_id": invocation.request_id if invocation else None,
        "log_excerpt": _excerpt(log_lines(trace), excerpt),
        "first_null": visit.seq == first,
        "lost_at": visit.seq == lost,
    }


_JSON_COLUMNS = frozenset({"input_value", "output_value", "input_paths", "output_paths"})
_LINES_COLUMNS = frozenset({"log_excerpt"})


def _safe(row: dict[str, Any]) -> dict[str, Any]:
    """Every text cell neutral and spreadsheet-safe (report/neutral.py): a state name's
    newline shows as ``\\n``, a cause that begins with ``=`` gets a leading ``'``; JSON
    cells keep parsing to the same values; the log excerpt keeps one line per log line."""
    for column, value in row.items():
        if isinstance(value, str):
            kind = (
                "json"
                if column in _JSON_COLUMNS
                else "lines"
                if column in _LINES_COLUMNS
                else "text"
            )
            row[column] = csv_cell(value, kind=kind)
    return row


def _values(snapshot: Snapshot) -> str | None:
    if snapshot.status is Status.UNKNOWN:
        return None
    return jsontext.dumps([o.value for o in snapshot.occurrences], ensure_ascii=False)


def _paths(snapshot: Snapshot) -> str | None:
    if snapshot.status is Status.UNKNOWN:
        return None
    return jsontext.dumps([o.path for o in snapshot.occurrences], ensure_ascii=False)


def _excerpt(lines: list[str], count: int) -> str | None:
    if not lines:
        return None
    shown = [
        neutral(line) if len(line) <= LOG_LINE_WIDTH else neutral(line[: LOG_LINE_WIDTH - 1]) + "…"
        for line in lines[:count]
    ]
    if len(lines) > count:
        shown.append(f"(… {len(lines) - count:,} more lines)")
    return "\n".join(shown)
