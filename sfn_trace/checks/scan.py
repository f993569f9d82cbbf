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

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sfn_trace.checks import fleet
from sfn_trace.checks.rows import FINDINGS, Culprit, Loader, ScanRow, Tally, row_of
from sfn_trace.errors import ExitCode, Option, UsageError
from sfn_trace.model.options import DEFAULT_SCAN_LIMIT
from sfn_trace.model.result import Verdict

if TYPE_CHECKING:
    from sfn_trace.checks.checkpoint import Checkpoint
    from sfn_trace.checks.fleet import StatsCallback
    from sfn_trace.model.options import AwsOptions, FollowChildren
    from sfn_trace.sources.aws.executions import ListedExecution
    from sfn_trace.sources.aws.pacing import TokenBucket

__all__ = [
    "FINDINGS",
    "Culprit",
    "Loader",
    "ScanQuery",
    "ScanResult",
    "ScanRow",
    "Tally",
    "parse_moment",
    "scan",
    "statuses_from_text",
    "trace_all",
]

DEFAULT_LIMIT = DEFAULT_SCAN_LIMIT
DEFAULT_WORKERS = 8
"""Enough threads to keep the paced GetExecutionHistory calls (20/s once the bucket is spent)
busy when a page takes up to ~0.4 s; the token bucket, not the pool, bounds the request
rate."""
MAX_WORKERS = 32
FLEET_WORKERS = 128
"""At most this many histories in flight in :func:`scan` (see :func:`workers_for`)."""

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


@dataclass(frozen=True)
class ScanResult:
    query: ScanQuery
    rows: tuple[ScanRow, ...]
    """Newest first, as listed."""
    truncated: bool = False
    """More executions matched than ``query.limit``; the oldest were not scanned."""
    history_calls: int = 0
    list_calls: int = 0
    tally: Tally | None = None
    """The totals when the rows were not kept (``--format jsonl``: each row was written as it
    was judged); None: they are the rows'."""
    throttles: int = 0
    """Throttled GetExecutionHistory calls absorbed (retried at the granted rate)."""

    @property
    def totals(self) -> Tally:
        """The tally: kept, or added up from the rows."""
        if self.tally is not None:
            return self.tally
        tally = Tally()
        for row in self.rows:
            tally.add(row)
        return tally

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
        return self.totals.exit_code


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
            pool.submit(row_of, execution, load, field_name): index
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


def workers_for(rate: float) -> int:
    """Histories in flight to spend ``rate`` tokens a second: each page takes ~0.15 s to
    come back (AWS answers in 100-300 ms) and its share of the judging, so half a second's
    worth of calls, and a few more for the pages of long histories."""
    return max(DEFAULT_WORKERS, min(FLEET_WORKERS, math.ceil(rate * 0.5) + 4))


def scan(
    query: ScanQuery,
    options: AwsOptions | None = None,
    *,
    workers: int | None = None,
    limiter: TokenBucket | None = None,
    rate: float | None = None,
    on_listed: Callable[[int], None] | None = None,
    on_progress: Progress | None = None,
    on_row: Callable[[ScanRow], None] | None = None,
    on_stats: StatsCallback | None = None,
    keep_rows: bool = True,
    checkpoint: Checkpoint | None = None,
    follow_children: FollowChildren | None = None,
) -> ScanResult:
    """List the executions the query selects and trace the field through each, listing,
    fetching and judging at once (:mod:`sfn_trace.checks.fleet`).

    The listing errors (state machine not found, access denied on ListExecutions) raise:
    without a listing there is no scan. Errors on one execution become that row's error.
    ``rate``: GetExecutionHistory calls per second the account is granted, when AWS raised
    its quota (default: as documented; the scan learns a lower one from throttling).
    ``on_row`` is told each row as it is judged (rows a ``checkpoint`` holds included: they
    are not fetched again); ``keep_rows=False`` keeps only the tally (flat memory).
    ``follow_children``: each execution's Distributed Map children (at most N each, or
    ``"all"``) are read too, their history pages paced by the same bucket.
    """
    from sfn_trace.model.arn import parse_state_machine_arn
    from sfn_trace.model.options import AwsOptions
    from sfn_trace.sources.aws.executions import ExecutionStream, HistoryFetcher
    from sfn_trace.sources.aws.pacing import GrantedRate, meter

    options = options or AwsOptions()
    if not query.field:
        raise UsageError(Option("field"), " must not be empty")
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise UsageError(
            Option("rate"), f" must be a positive number of calls per second, not {rate:g}"
        )
    stream = ExecutionStream(
        query.state_machine_arn,
        options,
        statuses=query.statuses,
        since=query.since,
        until=query.until,
        limit=query.limit,
    )
    if limiter is None:
        region = options.region or parse_state_machine_arn(query.state_machine_arn).region
        limiter = meter("GetExecutionHistory", region, options, rate=rate)
    workers = workers or workers_for(limiter.rate)
    if not 1 <= workers <= FLEET_WORKERS:
        raise UsageError(f"workers must be between 1 and {FLEET_WORKERS}, not {workers}")
    fetcher = HistoryFetcher.for_state_machine(
        query.state_machine_arn, options, limiter, pool=workers, follow=follow_children
    )
    pacing = limiter if isinstance(limiter, GrantedRate) else None
    told_listed = False
    judged_count = 0

    def judged(row: ScanRow, resumed: bool) -> None:
        nonlocal judged_count
        if checkpoint is not None and not resumed:
            checkpoint.record(row)
        if on_row is not None:
            on_row(row)
        judged_count += 1
        if on_progress is not None:
            on_progress(judged_count, stream.listed, row)

    def stats(now: fleet.ScanStats) -> None:
        nonlocal told_listed
        if on_listed is not None and now.listing_done and not told_listed:
            told_listed = True
            on_listed(now.listed)
        if on_stats is not None:
            on_stats(now)

    rows, tally = fleet.run(
        stream,
        fetcher,
        query.field,
        workers=workers,
        done=checkpoint.done if checkpoint is not None else None,
        on_row=judged,
        keep_rows=keep_rows,
        pacing=pacing,
        pages=lambda: fetcher.calls,
        limit=query.limit,
        on_stats=stats,
    )
    return ScanResult(
        query=query,
        rows=rows,
        truncated=stream.truncated,
        history_calls=fetcher.calls,
        list_calls=stream.calls,
        tally=None if keep_rows else tally,
        throttles=pacing.throttles if pacing is not None else 0,
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
