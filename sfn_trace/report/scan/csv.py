"""The scan as CSV: one row per execution, newest first, for pandas and spreadsheets.

pandas is imported here only (with :mod:`sfn_trace.report.trace.csv`). UTF-8, a header row, ``\\n``
line ends, RFC 4180 quoting, no index column. ``pandas.read_csv(path, parse_dates=["start",
"stop"])`` reads it back with timezone-aware UTC timestamps. The summary is not in the file
(the CLI writes it to stderr).

Text from the account is neutral (:mod:`sfn_trace.report.neutral`): control and bidi characters
are shown as escapes (a newline in a name as ``\\n``), and a cell that begins with ``=``,
``+``, ``-``, ``@``, tab or CR gets a leading ``'`` (OWASP's CSV-injection defence; plain
numbers such as ``-5`` are left alone), so no cell runs as a formula in a spreadsheet.

Columns, in this order (new columns are only ever appended):

===================  ==============================================================
start                when the execution started, ISO 8601 UTC
stop                 when it stopped (empty: still running)
name                 the execution's name
status               RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED
verdict              lost, intact, never_set, absent, unknown; empty when unreadable
first_null           the state where the field went null
first_null_scope     its scope, ``" > "``-joined (``Fan[3] > Convert``)
first_null_event_id  the exit event of that visit
became               ``null`` or ``missing``
lost_at              the state after which no set copy remained
lost_at_scope        its scope
lost_at_event_id     the exit event of that visit
error                the one-line error when the execution could not be read
execution_arn        the execution's ARN
===================  ==============================================================
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from sfn_trace.checks.scan import ScanResult, ScanRow
from sfn_trace.report.common import iso
from sfn_trace.report.neutral import csv_cell
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions

COLUMNS = (
    "start",
    "stop",
    "name",
    "status",
    "verdict",
    "first_null",
    "first_null_scope",
    "first_null_event_id",
    "became",
    "lost_at",
    "lost_at_scope",
    "lost_at_event_id",
    "error",
    "execution_arn",
)
"""The documented column order; a test pins it."""

_INTEGERS = ("first_null_event_id", "lost_at_event_id")


def render(result: ScanResult, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    rows = [_row(row) for row in result.rows]
    for row in rows:  # every text cell neutral and spreadsheet-safe (report/neutral.py)
        for column, value in row.items():
            if isinstance(value, str):
                row[column] = csv_cell(value)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in _INTEGERS:
        frame[column] = frame[column].astype("Int64")  # never "12.0" beside empty cells
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n", encoding="utf-8")
    return buffer.getvalue()


def _row(row: ScanRow) -> dict[str, Any]:
    info = row.execution
    first, lost = row.first_null, row.lost_at
    return {
        "start": iso(info.start),
        "stop": iso(info.stop),
        "name": info.name,
        "status": info.status,
        "verdict": row.verdict.value if row.verdict else None,
        "first_null": first.state if first else None,
        "first_null_scope": " > ".join(first.scope) if first else None,
        "first_null_event_id": first.event_id if first else None,
        "became": first.became if first else None,
        "lost_at": lost.state if lost else None,
        "lost_at_scope": " > ".join(lost.scope) if lost else None,
        "lost_at_event_id": lost.event_id if lost else None,
        "error": row.error,
        "execution_arn": info.arn,
    }
