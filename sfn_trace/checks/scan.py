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

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sfn_trace.checks import fleet
from sfn_trace.checks.rows import FINDINGS, Culprit, Loader, ScanRow, Tally, machine_of
from sfn_trace.errors import ExitCode, Option, UsageError
from sfn_trace.model.options import DEFAULT_SCAN_LIMIT
from sfn_trace.model.result import Verdict

if TYPE_CHECKING:
    from sfn_trace.checks.checkpoint import Checkpoint
    from sfn_trace.checks.fleet import StatsCallback
    from sfn_trace.model.execution import ExecutionData
    from sfn_trace.model.options import AwsOptions, FollowChildren
    from sfn_trace.sources.aws.executions import ExecutionStream, ListedExecution
    from sfn_trace.sources.aws.pacing import GrantedRate, TokenBucket

__all__ = [
    "FINDINGS",
    "Culprit",
    "Loader",
    "ScanQuery",
    "ScanResult",
    "ScanRow",
    "Tally",
    "check_profiles",
    "parse_moment",
    "scan",
    "statuses_from_text",
]

DEFAULT_LIMIT = DEFAULT_SCAN_LIMIT
DEFAULT_WORKERS = 8
"""The fewest histories in flight (see :func:`workers_for`): enough to keep the paced
GetExecutionHistory calls (20/s once the bucket is spent) busy when a page takes up to ~0.4 s;
the token bucket, not the pool, bounds the request rate."""
FLEET_WORKERS = 128
"""At most this many histories in flight in :func:`scan` (see :func:`workers_for`)."""

_ACCOUNT = re.compile(r"[0-9]{12}")
"""An AWS account id: 12 ASCII digits."""
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
    """The newest ``limit`` matching executions are scanned (of each state machine)."""
    state_machine_arns: tuple[str, ...] = ()
    """Every state machine scanned, when there are several (``state_machine_arn`` is the
    first); empty: ``state_machine_arn`` alone."""

    @property
    def machines(self) -> tuple[str, ...]:
        """The state machines scanned, in the order given."""
        return self.state_machine_arns or (self.state_machine_arn,)

    @property
    def several(self) -> bool:
        """More than one state machine: the outputs say which each execution belongs to."""
        return len(self.machines) > 1


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
    profiles: Mapping[str, str] | None = None,
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
    ``profiles``: account id -> AWS profile (:func:`check_profiles`): the listings and
    histories of that account's state machines are read with that profile's credentials
    and settings (an ``endpoint_url``; the region stays the ARN's or ``options.region``);
    the other accounts' with ``options``.
    """
    from sfn_trace.model.arn import parse_execution_arn, parse_state_machine_arn
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
    machines = [parse_state_machine_arn(arn) for arn in query.machines]
    profiles = check_profiles(profiles or {}, query.machines)

    def options_of(account: str) -> AwsOptions:
        """The AWS options an account is read with: its own profile, else ``options``."""
        profile = profiles.get(account)
        if profile is None:
            return options
        # The account's own profile is more specific than a session given for all of them.
        return dataclasses.replace(options, profile=profile, session=None)

    streams = [
        ExecutionStream(
            machine.arn,
            options_of(machine.account),
            statuses=query.statuses,
            since=query.since,
            until=query.until,
            limit=query.limit,
        )
        for machine in machines
    ]
    # AWS meters each account and region apart: one bucket (and one client) for each.
    groups: dict[tuple[str, str], tuple[str, TokenBucket]] = {}
    for machine in machines:
        region = options.region or machine.region
        if (machine.account, region) not in groups:
            bucket = limiter or meter(
                "GetExecutionHistory",
                region,
                options_of(machine.account),
                rate=rate,
                account=machine.account,
            )
            groups[(machine.account, region)] = (machine.arn, bucket)
    buckets = list({id(bucket): bucket for _, bucket in groups.values()}.values())
    if workers is None:
        workers = workers_for(sum(bucket.rate for bucket in buckets))
    if not 1 <= workers <= FLEET_WORKERS:
        raise UsageError(f"workers must be between 1 and {FLEET_WORKERS}, not {workers}")
    fetchers = {
        key: HistoryFetcher.for_state_machine(
            arn, options_of(key[0]), bucket, pool=workers, follow=follow_children
        )
        for key, (arn, bucket) in groups.items()
    }
    first = next(iter(fetchers.values()))

    def fetch(execution: ListedExecution) -> ExecutionData:
        try:
            parsed = parse_execution_arn(execution.arn)
            key = (parsed.account, options.region or parsed.region)
        except UsageError:
            key = ("", "")
        return fetchers.get(key, first)(execution)

    stream = _Streams(streams)
    granted = [bucket for bucket in buckets if isinstance(bucket, GrantedRate)]
    pacing: fleet.Pacing | None = (
        granted[0] if len(granted) == 1 else _Pooled(granted) if granted else None
    )
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
        fetch,
        query.field,
        workers=workers,
        done=checkpoint.done if checkpoint is not None else None,
        on_row=judged,
        keep_rows=keep_rows,
        pacing=pacing,
        pages=lambda: sum(fetcher.calls for fetcher in fetchers.values()),
        limit=query.limit * len(machines),  # --limit is each state machine's
        on_stats=stats,
    )
    if query.several:  # each state machine's rows together, in the order given
        order = {_unqualified(machine.arn): n for n, machine in enumerate(machines)}
        rows = tuple(sorted(rows, key=lambda row: order.get(machine_of(row), len(order))))
    return ScanResult(
        query=query,
        rows=rows,
        truncated=stream.truncated,
        history_calls=sum(fetcher.calls for fetcher in fetchers.values()),
        list_calls=stream.calls,
        tally=None if keep_rows else tally,
        throttles=pacing.throttles if pacing is not None else 0,
    )


def check_profiles(profiles: Mapping[str, str], machines: Sequence[str]) -> dict[str, str]:
    """``profiles`` (account id -> AWS profile) checked against the state machine ARNs
    scanned, before any call: each account 12 digits and the account of at least one of
    them, each profile a name. A :class:`~sfn_trace.errors.UsageError` otherwise."""
    from sfn_trace.model.arn import parse_state_machine_arn

    accounts = {parse_state_machine_arn(arn).account for arn in machines}
    checked: dict[str, str] = {}
    for account, profile in profiles.items():
        if not isinstance(account, str) or not _ACCOUNT.fullmatch(account.strip()):
            raise UsageError(
                Option("profiles"), f": {account!r} is not an AWS account id (12 digits)"
            )
        account = account.strip()
        if account not in accounts:
            raise UsageError(
                Option("profiles"),
                f": account {account} owns none of the state machines scanned "
                f"(their accounts: {', '.join(sorted(accounts))})",
            )
        if not isinstance(profile, str) or not profile.strip():
            raise UsageError(Option("profiles"), f": account {account} has no profile name")
        if checked.get(account, profile.strip()) != profile.strip():
            raise UsageError(
                Option("profiles"),
                f": account {account} is given two profiles, "
                f"{checked[account]!r} and {profile.strip()!r}",
            )
        checked[account] = profile.strip()
    return checked


def _unqualified(arn: str) -> str:
    """A state machine ARN without its version or alias."""
    parts = arn.split(":")
    return ":".join(parts[:7])


class _Streams:
    """The listings of several state machines as one: an execution of each in turn, so
    every account's histories are fetched from the start (and one listing alone, as is)."""

    def __init__(self, streams: Sequence[ExecutionStream]) -> None:
        self.streams = tuple(streams)

    def __iter__(self) -> Iterator[ListedExecution]:
        if len(self.streams) == 1:
            yield from self.streams[0]
            return
        iterators = [iter(stream) for stream in self.streams]
        while iterators:
            for iterator in list(iterators):
                try:
                    yield next(iterator)
                except StopIteration:
                    iterators.remove(iterator)

    @property
    def listed(self) -> int:
        return sum(stream.listed for stream in self.streams)

    @property
    def truncated(self) -> bool:
        return any(stream.truncated for stream in self.streams)

    @property
    def calls(self) -> int:
        return sum(stream.calls for stream in self.streams)


class _Pooled:
    """The buckets of several accounts and regions, as the progress line reads one: their
    rates, quotas and throttles added up."""

    def __init__(self, buckets: Sequence[GrantedRate]) -> None:
        self.buckets = tuple(buckets)

    @property
    def rate(self) -> float:
        return sum(bucket.rate for bucket in self.buckets)

    @property
    def ceiling(self) -> float:
        return sum(bucket.ceiling for bucket in self.buckets)

    @property
    def throttles(self) -> int:
        return sum(bucket.throttles for bucket in self.buckets)


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
