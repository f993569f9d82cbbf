"""The terminal view of ``sfn-trace scan``: one row per execution, then the summary and the
histogram of the states where the field went null."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from sfn_trace.checks.rows import machine_of
from sfn_trace.checks.scan import Culprit, ScanResult, ScanRow
from sfn_trace.model.result import Verdict
from sfn_trace.report.common import iso
from sfn_trace.report.neutral import neutral
from sfn_trace.report.registry import DEFAULT_OPTIONS, RenderOptions
from sfn_trace.report.scan.json import machines_json

BAR_WIDTH = 40
ERROR_WIDTH = 120


def render(result: ScanResult, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    lines = [*map(neutral, header_lines(result)), ""]
    if result.rows:
        lines.append(_rows(result.rows, several=result.query.several))
        lines.append("")
    lines.extend(map(neutral, summary_lines(result)))
    histogram = _histogram(result)
    if histogram:
        lines.extend(["", histogram])
    return "\n".join(lines) + "\n"


def header_lines(result: ScanResult) -> list[str]:
    query = result.query
    filters = [f"status {','.join(query.statuses)}" if query.statuses else "any status"]
    if query.since:
        filters.append(f"since {iso(query.since)}")
    if query.until:
        filters.append(f"until {iso(query.until)}")
    scanned = f"{len(result.rows)} scanned, newest first ({'; '.join(filters)})"
    if result.truncated:
        scanned += f"; more matched: only the newest {query.limit} (--limit)"
    if query.several:
        machines = [
            f"{'State machines' if n == 0 else '':<15}{m['state_machine_arn']}  "
            f"({m['executions']} scanned, {m['lost_the_field']} lost the field"
            + (f", {m['unreadable']} unreadable" if m["unreadable"] else "")
            + ")"
            for n, m in enumerate(machines_json(result))
        ]
    else:
        machines = [f"State machine  {query.state_machine_arn}"]
    return [
        *machines,
        f"Field          {query.field}",
        f"Executions     {scanned}",
    ]


def summary_lines(result: ScanResult) -> list[str]:
    sentences = summary_sentences(result)
    return [f"{'Summary' if i == 0 else '':<15}{text}" for i, text in enumerate(sentences)]


def summary_sentences(result: ScanResult) -> list[str]:
    """The summary in plain sentences (also written to stderr under ``--format csv``)."""
    total = len(result.rows)
    verdicts = result.verdicts
    field = result.query.field
    if not total:
        return ["no execution matched"]
    kinds = ", ".join(
        f"{verdicts[v]} {v.value.replace('_', ' ')}"
        for v in (Verdict.LOST, Verdict.NEVER_SET, Verdict.ABSENT)
    )
    sentences = [
        f"{len(result.lost)} of {total} execution{'s' if total != 1 else ''} "
        f"lost {field} ({kinds}); {verdicts[Verdict.INTACT]} intact",
    ]
    incomplete = []
    if verdicts[Verdict.UNKNOWN]:
        incomplete.append(f"{verdicts[Verdict.UNKNOWN]} unknown (the history lacks the data)")
    if result.unreadable:
        incomplete.append(f"{len(result.unreadable)} could not be read (see their rows)")
    if incomplete:
        sentences.append("; ".join(incomplete))
    return sentences


def _rows(rows: tuple[ScanRow, ...], *, several: bool = False) -> str:
    """One line per row; with several state machines, each name says whose it is
    (``STATE_MACHINE:NAME``, as in the execution ARN)."""
    table: list[list[Any]] = []
    for row in rows:
        info = row.execution
        name = info.name or info.arn or ""
        if several:
            name = f"{machine_of(row).rsplit(':', 1)[-1]}:{name}"
        verdict = row.verdict.value if row.verdict else "error"
        note = row.error or ""
        if len(note) > ERROR_WIDTH:
            note = note[: ERROR_WIDTH - 1] + "…"
        cells = [
            iso(info.start) or "",
            name,
            info.status or "",
            verdict,
            _culprit(row.first_null),
            _culprit(row.lost_at),
            note,
        ]
        table.append([neutral(cell) for cell in cells])
    text: str = tabulate(
        table,
        headers=["start", "name", "status", "verdict", "went null", "last copy", "error"],
        tablefmt="simple",
        disable_numparse=True,
    )
    return text


def _culprit(culprit: Culprit | None) -> str:
    if culprit is None:
        return ""
    return " > ".join(culprit.scope) or culprit.state


def _histogram(result: ScanResult) -> str:
    culprits = result.culprits
    if not culprits:
        return ""
    top = culprits[0][1]
    rows = [
        [neutral(state), count, "█" * max(1, round(BAR_WIDTH * count / top))]
        for state, count in culprits
    ]
    table: str = tabulate(
        rows,
        headers=["went null in", "executions", ""],
        tablefmt="simple",
        disable_numparse=True,
    )
    title = f"Where {result.query.field} went null (first_null), in the executions that lost it"
    return neutral(title) + "\n" + table
