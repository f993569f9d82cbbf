"""``sfn-trace scan``: trace one field through many executions of a state machine.

"How many executions lost it since the deploy, and where?" The scan lists the executions
(:mod:`sfn_trace.sources.aws.executions`), traces each one like the main form does, keeps one
small row per execution (never the histories: a scan of thousands stays small in memory),
and sums them up: how many lost the field, and a histogram of the states where it went
null (``first_null``), which is what tells one bug from several.

An execution that cannot be read (access denied, deleted, throttled past retries, a
history the tracer chokes on) costs only its own row, which carries the one-line error: a
scan of a thousand executions is not thrown away for one of them.

Exit code of a scan (:attr:`ScanResult.exit_code`): 1 when at least one execution lost the
field (or never set it, or never had it), else 4 when some could not be read or traced to a
verdict (``unknown``), else 0 (every execution read kept the field, or none matched).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sfn_trace.errors import ExitCode, Option, SfnTraceError, TraceCall, UsageError
from sfn_trace.model.execution import ExecutionData, ExecutionInfo
from sfn_trace.model.options import DEFAULT_SCAN_LIMIT
from sfn_trace.model.result import Finding, TraceResult, Verdict
from sfn_trace.trace import analyze

if TYPE_CHECKING:
    from sfn_trace.model.options import AwsOptions
    from sfn_trace.sources.aws.executions import ListedExecution
    from sfn_trace.sources.aws.pacing import TokenBucket

DEFAULT_LIMIT = DEFAULT_SCAN_LIMIT
DEFAULT_WORKERS = 8
"""Enough threads to keep the paced GetExecutionHistory calls (20/s once the bucket is spent)
busy when a page takes up to ~0.4 s; the token bucket, not the pool, bounds the request
rate."""
MAX_WORKERS = 32

FINDINGS = (Verdict.LOST, Verdict.NEVER_SET, Verdict.ABSENT)
"""Verdicts that count as having lost the field (exit 1, as in the main form)."""

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class ScanQuery:
    """Which executions to scan and which field to trace through them."""

    state_machine_arn: str
    field: str
    statuses: tuple[str, ...] = ()
    """Empty: every status."""
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_LIMIT
    """The newest ``limit`` matching executions are scanned."""


@dataclass(frozen=True, slots=True)
class Culprit:
    """Where a finding points, reduced to what a row shows."""

    state: str
    scope: tuple[str, ...]
    event_id: int | None
    """The visit's exit event (None when it never exited)."""
    map_iteration: int | None
    became: str
    """``"null"`` or ``"missing"``."""

    @classmethod
    def of(cls, finding: Finding | None) -> Culprit | None:
        if finding is None:
            return None
        visit = finding.visit
        return cls(
            state=visit.state,
            scope=visit.scope,
            event_id=visit.exit_event_id,
            map_iteration=visit.map_iteration,
            became=finding.became,
        )


@dataclass(frozen=True, slots=True)
class ScanRow:
    """One execution of the scan: its verdict and culprits, or why it could not be read."""

    execution: ExecutionInfo
    verdict: Verdict | None = None
    """None when the execution could not be read (see ``error``)."""
    first_null: Culprit | None = None
    lost_at: Culprit | None = None
    error: str | None = None
    """The one-line error, when the execution could not be read or traced."""
    error_exit_code: ExitCode | None = None
    """What the main form would have exited with for that error (3 for AWS errors)."""
    warnings: tuple[str, ...] = ()

    @classmethod
    def traced(cls, result: TraceResult, info: ExecutionInfo) -> ScanRow:
        return cls(
            execution=info,
            verdict=result.verdict,
            first_null=Culprit.of(result.first_null),
            lost_at=Culprit.of(result.lost_at),
            warnings=result.warnings,
        )

    @classmethod
    def failed(cls, info: ExecutionInfo, error: SfnTraceError) -> ScanRow:
        return cls(execution=info, error=error.message, error_exit_code=error.exit_code)

    @property
    def lost_the_field(self) -> bool:
        return self.verdict in FINDINGS


@dataclass(frozen=True)
class ScanResult:
    query: ScanQuery
    rows: tuple[ScanRow, ...]
    """Newest first, as listed."""
    truncated: bool = False
    """More executions matched than ``query.limit``; the oldest were not scanned."""
    history_calls: int = 0
    list_calls: int = 0

    @property
    def lost(self) -> tuple[ScanRow, ...]:
        return tuple(r for r in self.rows if r.lost_the_field)

    @property
    def unreadable(self) -> tuple[ScanRow, ...]:
        return tuple(r for r in self.rows if r.error is not None)

    @property
    def verdicts(self) -> dict[Verdict, int]:
        """Rows per verdict, every verdict present (0 included), in the enum's order."""
        counts = Counter(r.verdict for r in self.rows if r.verdict is not None)
        return {verdict: counts.get(verdict, 0) for verdict in Verdict}

    @property
    def culprits(self) -> tuple[tuple[str, int], ...]:
        """The histogram: state where the field went null -> executions that lost it there.

        Only executions that lost the field (or never set it) count: an intact execution
        whose null copy was discarded is a warning, not a culprit. Most frequent first.
        """
        counts = Counter(r.first_null.state for r in self.lost if r.first_null is not None)
        return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    @property
    def exit_code(self) -> ExitCode:
        if self.lost:
            return ExitCode.FINDING
        if self.unreadable or any(r.verdict is Verdict.UNKNOWN for r in self.rows):
            return ExitCode.INCOMPLETE
        return ExitCode.INTACT


Loader = Callable[["ListedExecution"], ExecutionData]
"""Reads one listed execution; on AWS, :class:`~sfn_trace.sources.aws.executions.HistoryFetcher`."""
ScanProgress = Callable[[int, int, ScanRow], None]
"""Called as each execution is traced: (done, total, its row)."""
Progress = ScanProgress
"""Called after each execution with (executions done, total, its row)."""


def trace_all(
    executions: Sequence[ListedExecution],
    load: Loader,
    field_name: str,
    *,
    workers: int = DEFAULT_WORKERS,
    on_progress: Progress | None = None,
) -> tuple[ScanRow, ...]:
    """Trace ``field_name`` through every execution on a small thread pool; rows come back
    in the order of ``executions``, whatever order they finish in."""
    if not 1 <= workers <= MAX_WORKERS:
        raise UsageError(f"workers must be between 1 and {MAX_WORKERS}, not {workers}")
    rows: list[ScanRow | None] = [None] * len(executions)
    if not executions:
        return ()
    done = 0
    pool = ThreadPoolExecutor(max_workers=min(workers, len(executions)))
    try:
        futures: dict[Future[ScanRow], int] = {
            pool.submit(_row, execution, load, field_name): index
            for index, execution in enumerate(executions)
        }
        for future in as_completed(futures):
            row = future.result()
            rows[futures[future]] = row
            done += 1
            if on_progress is not None:
                on_progress(done, len(executions), row)
    except BaseException:
        # Ctrl-C (or a bug): drop what has not started; running calls end on their own.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return tuple(row for row in rows if row is not None)


def _row(execution: ListedExecution, load: Loader, field_name: str) -> ScanRow:
    info = execution.info
    try:
        data = load(execution)
        return ScanRow.traced(analyze(data, field_name), data.info)
    except SfnTraceError as error:
        return ScanRow.failed(info, error)
    except Exception as error:  # a bug on one history must not cost the other rows
        return ScanRow.failed(
            info,
            SfnTraceError(
                f"internal error: {type(error).__name__}: {error} (please report it; ",
                TraceCall(execution.arn, debug=True),
                ")",
            ),
        )


def scan(
    query: ScanQuery,
    options: AwsOptions | None = None,
    *,
    workers: int = DEFAULT_WORKERS,
    limiter: TokenBucket | None = None,
    on_listed: Callable[[int], None] | None = None,
    on_progress: Progress | None = None,
) -> ScanResult:
    """List the executions the query selects and trace the field through each.

    The listing errors (state machine not found, access denied on ListExecutions) raise:
    without a listing there is no scan. Errors on one execution become that row's error.
    """
    from sfn_trace.model.options import AwsOptions
    from sfn_trace.sources.aws.executions import HistoryFetcher, list_executions

    options = options or AwsOptions()
    if not query.field:
        raise UsageError(Option("field"), " must not be empty")
    listing = list_executions(
        query.state_machine_arn,
        options,
        statuses=query.statuses,
        since=query.since,
        until=query.until,
        limit=query.limit,
    )
    if on_listed is not None:
        on_listed(len(listing.executions))
    fetcher = HistoryFetcher.for_state_machine(query.state_machine_arn, options, limiter)
    rows = trace_all(
        listing.executions, fetcher, query.field, workers=workers, on_progress=on_progress
    )
    return ScanResult(
        query=query,
        rows=rows,
        truncated=listing.truncated,
        history_calls=fetcher.calls,
        list_calls=listing.calls,
    )


def statuses_from_text(text: str | None) -> tuple[str, ...]:
    """``"succeeded,FAILED"`` -> ``("SUCCEEDED", "FAILED")``; validated by
    :func:`list_executions`."""
    if not text:
        return ()
    return tuple(part.strip().upper() for part in text.split(",") if part.strip())


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """``24h``, ``7d``, ``30m``, ``90s``, ``2w`` (that long before ``now``) or an ISO 8601
    date or date-time; a time without a zone is taken as UTC, like every time sfn-trace
    prints."""
    now = now or datetime.now(timezone.utc)
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = float(relative[1]), relative[2].lower()
        return now - timedelta(**{_UNITS[unit]: amount})
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"cannot read the time {text!r}: use a duration before now (24h, 7d, 30m) "
            "or an ISO 8601 time (2025-11-17, 2025-11-17T05:48:59Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
