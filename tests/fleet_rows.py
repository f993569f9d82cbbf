"""Rows of executions judged the way a scan judges them (:func:`sfn_trace.checks.fleet.run`),
for tests that bring their own executions and loader instead of a listing from AWS."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sfn_trace.checks import fleet
from sfn_trace.checks.rows import Loader, ScanRow
from sfn_trace.sources.aws.executions import ListedExecution


def judge_all(
    executions: Sequence[ListedExecution],
    load: Loader,
    field: str,
    *,
    workers: int = 4,
    on_row: Callable[[ScanRow, bool], None] | None = None,
) -> tuple[ScanRow, ...]:
    """Every execution fetched by ``load`` and judged, on ``workers`` threads: the rows in
    the order of ``executions``, whatever order they are judged in."""
    rows, _ = fleet.run(executions, load, field, workers=workers, on_row=on_row)
    return rows
