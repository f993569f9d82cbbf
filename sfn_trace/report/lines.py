"""The lines a command writes on stderr beside its report, worded once.

Every exit other than 0 and 1 ends with one line that says why (docs/cli.md):
:func:`exit_reason` words it for each command's result. ``scan --format csv`` keeps stdout
to rows, so its summary goes to stderr too (:func:`scan_summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sfn_trace.model.result import TraceResult, Verdict
from sfn_trace.report.registry import Command

if TYPE_CHECKING:
    from sfn_trace.checks.compare import Comparison
    from sfn_trace.checks.scan import ScanResult

REASONS_SHOWN = 3
"""Distinct reasons named in the trace's exit-4 line; the report lists every document."""
MAX_NAMED = 3
"""Visits (compare) or executions (scan) named in the exit-4 line; the report has them all."""


def exit_reason(command: Command, result: Any) -> str | None:
    """Why ``command`` exits neither 0 nor 1 with ``result``, in one line (None when it
    exits 0 or 1: the report is the answer)."""
    if result.exit_code in (0, 1):
        return None
    return _REASONS[command](result)


def _trace_reason(result: TraceResult) -> str | None:
    """Why the trace exits neither 0 nor 1, in one line (None when it does): for ``unknown``
    (exit 4), how many documents the answer needs that the history does not hold, why, and
    what the documents that could be seen say. The command prints it last on stderr,
    whatever the report's format."""
    if result.verdict is not Verdict.UNKNOWN:
        return None
    parts = []
    if result.unseen:
        count = len(result.unseen)
        reasons = list(dict.fromkeys(u.reason or "unseen" for u in result.unseen))
        shown = "; ".join(reasons[:REASONS_SHOWN])
        if len(reasons) > REASONS_SHOWN:
            shown += f"; +{len(reasons) - REASONS_SHOWN} more"
        parts.append(
            f"the answer needs {count} document{'s' if count != 1 else ''} "
            f"the history does not hold ({shown})"
        )
    if result.anomalies:
        count = len(result.anomalies)
        parts.append(
            f"the history is damaged ({count} history "
            f"{'anomaly' if count == 1 else 'anomalies'}, the first: {result.anomalies[0]})"
        )
    if result.partial_verdict is not None:
        parts.append(f"partial verdict: {result.partial_verdict.value}")
    else:
        why = f" ({result.final.reason})" if result.final.reason else ""
        parts.append(f"no partial verdict: {result.final_source} could not be seen{why}")
    return "incomplete: " + "; ".join(parts)


def _compare_reason(comparison: Comparison) -> str:
    """Exit 4: no divergence where both runs could be seen; which visits could not be
    compared, and in which documents."""
    pairs = comparison.undetermined
    named = [f"{p.label} ({', '.join(p.undetermined)})" for p in pairs[:MAX_NAMED]]
    if len(pairs) > MAX_NAMED:
        named.append(f"+{len(pairs) - MAX_NAMED} more")
    return (
        f"incomplete: no divergence where both runs could be seen, but {len(pairs)} "
        f"visit{'s' if len(pairs) != 1 else ''} could not be compared (one run's document "
        f"was not seen): {', '.join(named)}"
    )


def _scan_reason(result: ScanResult) -> str:
    """Exit 4: none lost the field; which executions could not be read or traced to a
    verdict (their rows say why)."""
    if result.tally is not None:  # the rows were written as judged (jsonl), not kept
        totals = result.totals
        untold_count = totals.unreadable + totals.verdicts[Verdict.UNKNOWN]
        return (
            f"incomplete: none of the {totals.executions} execution"
            f"{'s' if totals.executions != 1 else ''} lost {result.query.field}, but "
            f"{untold_count} could not be read or traced to a verdict (their lines say which)"
        )
    untold = [r for r in result.rows if r.error is not None or r.verdict is Verdict.UNKNOWN]
    named = [
        f"{r.execution.name or r.execution.arn} ({'not read' if r.error else 'unknown'})"
        for r in untold[:MAX_NAMED]
    ]
    if len(untold) > MAX_NAMED:
        named.append(f"+{len(untold) - MAX_NAMED} more")
    total = len(result.rows)
    return (
        f"incomplete: none of the {total} execution{'s' if total != 1 else ''} lost "
        f"{result.query.field}, but {len(untold)} could not be read or traced to a verdict: "
        f"{', '.join(named)}"
    )


_REASONS: Mapping[Command, Callable[[Any], str | None]] = {
    Command.TRACE: _trace_reason,
    Command.COMPARE: _compare_reason,
    Command.SCAN: _scan_reason,
    Command.LINT: lambda report: None,  # exit 2 for lint: each unreadable file said why
}


def scan_summary(result: ScanResult) -> list[str]:
    """The scan's summary and histogram as plain lines, for stderr under ``--format csv``."""
    from sfn_trace.report.scan.table import summary_sentences

    lines = list(summary_sentences(result))
    if result.culprits:
        lines.append(
            "went null in: " + ", ".join(f"{state} ({count})" for state, count in result.culprits)
        )
    return lines
