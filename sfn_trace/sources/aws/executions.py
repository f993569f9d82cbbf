"""The executions of one state machine, and their histories, for ``sfn-trace scan``.

Listing: ``ListExecutions`` returns executions newest first, a page at a time
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html).
It has no time filter and its ``statusFilter`` takes one status, so:

- several statuses are listed one ``statusFilter`` each and merged by start date. A rare
  status (FAILED among thousands of SUCCEEDED) then costs only its own pages, where one
  unfiltered listing would page through everything else to find it;
- the time window is applied while paging: executions that started after ``until`` are
  skipped, and paging stops at the first one that started before ``since`` (the list is
  sorted by start date, newest first), so a 24-hour scan never reads last month's pages;
- every filter is applied again on our side: a listing is eventually consistent (an
  execution listed as RUNNING by one call may be SUCCEEDED in the next), and emulators do
  not all honour the filters (moto ignores some, docs/aws-reference.md section 8, gap 10).

Listing: the pages are read through botocore's paginator, one page only when the one before
is used up (:class:`ExecutionStream`), so a scan fetches histories while the listing goes on.

Histories: a scan fetches only ``GetExecutionHistory``, one call per page, each call taking
a token from that API's bucket (:mod:`sfn_trace.sources.aws.pacing`: 400 at once, refilled
at 20 per second, or ``--rate``), shared by all the workers, so the scan stays under that
quota however many executions it reads; the bucket learns a smaller rate from throttling
(:class:`~sfn_trace.sources.aws.pacing.GrantedRate`), and a throttled call is sent again at
that pace (:class:`PacedRetries`), never an error. It does not call ``DescribeExecution``
(the listing already says what it would: name, status, dates) nor
``DescribeStateMachineForExecution``: that quota refills at 1 call per second, which would
make a scan of a thousand executions take a quarter of an hour, and the verdict,
``first_null`` and ``lost_at`` do not need the definition (the per-step explanation does:
``sfn-trace EXECUTION_ARN`` gives it for one row). With ``--follow-children``, an execution
that started a Distributed Map Run also gets ``DescribeMapRun`` (refilled at 1 a second once
its 200 are spent) and ``ListExecutions(mapRunArn)``, and its children's history pages take
their tokens from the same GetExecutionHistory bucket.
Quotas: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sfn_trace.errors import AwsError, Option, SfnTraceError, UsageError
from sfn_trace.model.arn import parse_execution_arn, parse_state_machine_arn
from sfn_trace.model.events import events_from_api, parse_timestamp
from sfn_trace.model.execution import TERMINAL_STATUS, ExecutionData, ExecutionInfo
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions, FollowChildren
from sfn_trace.sources.aws.client import (
    CHECK_ACCOUNT,
    THROTTLED,
    Context,
    error_code,
    make_client,
    one_line,
    translate,
)
from sfn_trace.sources.aws.maprun import follow_map_runs
from sfn_trace.sources.aws.pacing import QUOTAS, GrantedRate, TokenBucket, meter

"""GetExecutionHistory's sustained quota (refill rate per second, every region)."""
LIST_PAGE_SIZE = 1000  # the API maximum
_HISTORY_PAGE_SIZE = 1000

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
"""Every ``statusFilter`` value of ListExecutions."""


@dataclass(frozen=True, slots=True)
class ListedExecution:
    """One ListExecutions item, converted once at the boundary."""

    arn: str
    name: str
    status: str
    state_machine_arn: str
    start: datetime
    stop: datetime | None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> ListedExecution:
        start = parse_timestamp(item.get("startDate"))
        if start is None:  # required by the API model; an emulator could still omit it
            raise AwsError(f"ListExecutions returned an execution without a startDate: {item}")
        return cls(
            arn=str(item.get("executionArn", "")),
            name=str(item.get("name", "")),
            status=str(item.get("status", "")),
            state_machine_arn=str(item.get("stateMachineArn", "")),
            start=start,
            stop=parse_timestamp(item.get("stopDate")),
        )

    @property
    def info(self) -> ExecutionInfo:
        return ExecutionInfo(
            arn=self.arn,
            name=self.name,
            status=self.status,
            state_machine_arn=self.state_machine_arn,
            start=self.start,
            stop=self.stop,
        )


@dataclass(frozen=True)
class Listing:
    """What a scan will read: the matching executions, newest first."""

    executions: tuple[ListedExecution, ...]
    truncated: bool
    """More executions matched than ``limit``: the oldest were left out."""
    calls: int
    """ListExecutions calls made (pages)."""


def list_executions(
    state_machine_arn: str,
    options: AwsOptions = DEFAULT_OPTIONS,
    *,
    client: Any = None,
    statuses: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> Listing:
    """The executions of a state machine that match, newest first, at most ``limit``.

    ``statuses`` empty means every status; ``since``/``until`` bound the start date
    (inclusive, timezone-aware).
    """
    stream = ExecutionStream(
        state_machine_arn,
        options,
        client=client,
        statuses=statuses,
        since=since,
        until=until,
        limit=limit,
    )
    executions = tuple(stream)
    return Listing(executions=executions, truncated=stream.truncated, calls=stream.calls)


class ExecutionStream:
    """The executions that match, newest first, as the ListExecutions pages arrive.

    Iterating reads a page only when the one before is used up, so a scan fetches the
    histories of the first page while the next is on its way, and a page past ``limit`` or
    past ``since`` is never read. The filters are applied here, on each item as its page
    arrives: nothing outside them ever reaches the history fetch. ``calls``, ``listed`` and
    ``truncated`` are counted as it goes. The arguments are checked when it is made, before
    any call.
    """

    def __init__(
        self,
        state_machine_arn: str,
        options: AwsOptions = DEFAULT_OPTIONS,
        *,
        client: Any = None,
        statuses: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> None:
        machine = parse_state_machine_arn(state_machine_arn)
        wanted = tuple(dict.fromkeys(s.upper() for s in statuses))
        for status in wanted:
            if status not in STATUSES:
                raise UsageError(
                    f"unknown execution status {status!r}: one of {', '.join(STATUSES)}"
                )
            if status == "PENDING_REDRIVE":
                raise UsageError(
                    "status PENDING_REDRIVE only exists for Distributed Map child executions "
                    "(ListExecutions needs a mapRunArn for it)"
                )
        if limit is not None and limit < 1:
            raise UsageError(Option("limit"), f" must be at least 1, not {limit}")
        if since is not None and until is not None and since > until:
            raise UsageError(
                "the time window is empty: ", Option("since"), " is after ", Option("until")
            )
        if client is None:
            client = make_client("stepfunctions", options.region or machine.region, options)
        self.client = client
        self.arn = machine.arn
        self.statuses = wanted
        self.since, self.until, self.limit = since, until, limit
        self._ctx = Context(None, client, options.max_attempts, target=machine.arn)
        self.calls = 0
        """ListExecutions calls made so far (pages)."""
        self.listed = 0
        """Executions yielded so far."""
        self.truncated = False
        """More executions matched than ``limit``: the oldest were left out."""
        self.done = False
        """The listing has ended (every page read, or the window or the limit reached)."""

    def __iter__(self) -> Iterator[ListedExecution]:
        streams = [self._one(status) for status in (self.statuses or (None,))]
        # Each status's listing is newest first: merged so, an execution seen twice (its
        # status changed between two calls) counted once. Its start date is the same in
        # both listings, so its two copies come out of the merge together: only the ARNs of
        # the start date being merged are remembered, not every ARN of the fleet.
        several = len(streams) > 1
        merged = heapq.merge(*streams, key=_newest_first) if several else streams[0]
        start: datetime | None = None
        seen: set[str] = set()
        for execution in merged:
            if several:
                if execution.start != start:
                    start = execution.start
                    seen.clear()
                elif execution.arn in seen:
                    continue
                seen.add(execution.arn)
            if self.limit is not None and self.listed == self.limit:
                self.truncated = True  # one more matched: cut here
                break
            self.listed += 1
            yield execution
        self.done = True

    def _one(self, status: str | None) -> Iterator[ListedExecution]:
        """One status's executions (or all), filtered on our side too, paging as little as
        the window and the limit allow."""
        since, until, limit = self.since, self.until, self.limit
        page_size = LIST_PAGE_SIZE if limit is None else min(LIST_PAGE_SIZE, limit + 1)
        params: dict[str, Any] = {
            "stateMachineArn": self.arn,
            "PaginationConfig": {"PageSize": page_size},
        }
        if status is not None:
            params["statusFilter"] = status
        found = 0
        for page in self._pages(params):
            for item in page.get("executions", []):
                execution = ListedExecution.from_api(item)
                if since is not None and execution.start < since:
                    return  # the rest is older still
                if status is not None and execution.status != status:
                    continue
                if until is not None and execution.start > until:
                    continue
                yield execution
                found += 1
                if limit is not None and found > limit:
                    return  # one past the limit is enough to know it was cut

    def _pages(self, params: dict[str, Any]) -> Iterator[Mapping[str, Any]]:
        """ListExecutions pages (botocore's paginator); a state machine that does not exist,
        an Express state machine or a wrong ARN is one line that says so."""
        pages = iter(self.client.get_paginator("list_executions").paginate(**params))
        while True:
            try:
                page: Mapping[str, Any] = next(pages)
            except StopIteration:
                return
            except ClientError as exc:
                raise _listing_error(exc, self._ctx) from exc
            except BotoCoreError as exc:
                raise translate(exc, self._ctx, "ListExecutions") from exc
            self.calls += 1
            yield page


def _newest_first(execution: ListedExecution) -> tuple[float, str]:
    return (-execution.start.timestamp(), execution.arn)


def _listing_error(exc: ClientError, ctx: Context) -> SfnTraceError:
    code = error_code(exc)
    message = one_line(str(exc.response.get("Error", {}).get("Message") or ""))
    if code == "StateMachineDoesNotExist":
        return AwsError(
            f"state machine not found: {ctx.target} (looked in region {ctx.region} — check ",
            *CHECK_ACCOUNT,
            ")",
        )
    if code == "StateMachineTypeNotSupported":
        return UsageError(
            f"{ctx.target} is an Express state machine: ListExecutions does not list Express "
            "executions (their history lives only in the state machine's CloudWatch Logs)"
        )
    if code == "InvalidArn":
        return AwsError(f"AWS rejected the state machine ARN {ctx.target}: {message}")
    return translate(exc, ctx, "ListExecutions")


class HistoryFetcher:
    """Reads the history of listed executions for a scan, from any number of threads.

    One client is shared (botocore clients are thread safe, and building one per execution
    costs more than the call), and so is the GetExecutionHistory token bucket (:mod:`.pacing`,
    a :class:`~.pacing.GrantedRate`): every call, page after page, first takes a token, so
    the whole scan goes at once while the bucket lasts and then at its refill rate.

    A throttled call is never an error here (:class:`PacedRetries`): the bucket is told, so
    it learns the rate the account grants, and the call is sent again as soon as it has a
    token, as often as it takes. Other failures keep botocore's retries and ``--max-attempts``.
    """

    def __init__(
        self,
        client: Any,
        limiter: TokenBucket | None = None,
        *,
        max_attempts: int = DEFAULT_OPTIONS.max_attempts,
        follow: FollowChildren | None = None,
        options: AwsOptions = DEFAULT_OPTIONS,
    ) -> None:
        self.client = client
        self.follow = follow
        """``--follow-children``: each execution's Distributed Map children to read too."""
        self.options = options
        quota = QUOTAS["GetExecutionHistory"]
        self.limiter = limiter or GrantedRate(quota.burst, quota.rate)
        self.max_attempts = max_attempts
        self._calls = 0
        self._lock = threading.Lock()
        if isinstance(self.limiter, GrantedRate):
            PacedRetries(self.limiter).attach(client)

    @classmethod
    def for_state_machine(
        cls,
        state_machine_arn: str,
        options: AwsOptions,
        limiter: TokenBucket | None = None,
        *,
        rate: float | None = None,
        pool: int | None = None,
        follow: FollowChildren | None = None,
    ) -> HistoryFetcher:
        """``rate``: the GetExecutionHistory calls per second the account is granted, when
        AWS raised its quota (default: what AWS documents); ``pool``: the calls that may be
        in flight at once (HTTP connections kept)."""
        machine = parse_state_machine_arn(state_machine_arn)
        region = options.region or machine.region
        client = make_client("stepfunctions", region, options, pool=pool)
        limiter = limiter or meter(
            "GetExecutionHistory", region, options, rate=rate, account=machine.account
        )
        return cls(
            client, limiter, max_attempts=options.max_attempts, follow=follow, options=options
        )

    @property
    def calls(self) -> int:
        """GetExecutionHistory calls made so far (one per page, throttled retries apart)."""
        return self._calls

    def __call__(self, execution: ListedExecution) -> ExecutionData:
        """The execution as the trace needs it: the listing's facts and the whole history
        (oldest first, with execution data); no definition, no logs."""
        try:
            parsed = parse_execution_arn(execution.arn)
        except UsageError:
            parsed = None
        ctx = Context(parsed, self.client, self.max_attempts, target=execution.arn)
        events = events_from_api(self._history(ctx, execution.arn))
        info = execution.info
        last = events[-1] if events else None
        if last is not None and last.kind in TERMINAL_STATUS:
            # The listing may be older than the history: RUNNING then, finished now.
            info = ExecutionInfo(
                arn=info.arn,
                name=info.name,
                status=TERMINAL_STATUS[last.kind],
                state_machine_arn=info.state_machine_arn,
                start=info.start,
                stop=last.timestamp or info.stop,
            )
        data = ExecutionData(info=info, events=events, definition=None, source="aws")
        if self.follow is not None and any(e.type == "MapRunStarted" for e in events):
            # The children's history pages take their tokens from the same bucket.
            data = follow_map_runs(
                data, self.options, self.follow, client=self.client, fetch_child=self._child
            )
        return data

    def _child(self, arn: str) -> ExecutionData:
        """A Distributed Map child, read as a scanned execution is (no definition)."""
        try:
            parsed = parse_execution_arn(arn)
        except UsageError:
            parsed = None
        ctx = Context(parsed, self.client, self.max_attempts, target=arn)
        events = events_from_api(self._history(ctx, arn))
        last = events[-1] if events else None
        status = TERMINAL_STATUS.get(last.kind) if last is not None else None
        info = ExecutionInfo(
            arn=arn,
            name=arn.rsplit(":", 1)[-1],
            status=status or "RUNNING",
            start=events[0].timestamp if events else None,
            stop=last.timestamp if status and last is not None else None,
        )
        return ExecutionData(info=info, events=events, definition=None, source="aws")

    def _history(self, ctx: Context, arn: str) -> list[Mapping[str, Any]]:
        raw: list[Mapping[str, Any]] = []
        pages = 0
        params: dict[str, Any] = {
            "executionArn": arn,
            "includeExecutionData": True,
            "reverseOrder": False,
            "maxResults": _HISTORY_PAGE_SIZE,
        }
        token: str | None = None
        granted = self.limiter.granted if isinstance(self.limiter, GrantedRate) else None
        while True:
            self.limiter.wait()
            with self._lock:
                self._calls += 1
            try:
                page = self.client.get_execution_history(
                    **(dict(params, nextToken=token) if token else params)
                )
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc, ctx, "GetExecutionHistory", (pages, len(raw))) from exc
            if granted is not None:
                granted()
            pages += 1
            raw.extend(page.get("events", []))
            token = page.get("nextToken")
            if not token:
                return raw


class PacedRetries:
    """Throttled GetExecutionHistory calls retried at the pace of the granted rate.

    Hooked first on the client's ``needs-retry`` event for that operation: on a throttle
    it tells the bucket (:meth:`~.pacing.GrantedRate.throttled`), waits for a token and
    answers "retry now", so botocore sends the call again without its own back-off and
    without counting it against ``--max-attempts``: the token is the back-off, and a
    throttle never fails a scan. Any other answer is left to botocore's standard retries.
    """

    def __init__(self, bucket: GrantedRate) -> None:
        self.bucket = bucket

    def attach(self, client: Any) -> None:
        meta = getattr(client, "meta", None)
        if meta is None or not hasattr(meta, "events"):
            return  # a test's fake client: nothing retries there
        service = meta.service_model.service_id.hyphenize()
        meta.events.register_first(f"needs-retry.{service}.GetExecutionHistory", self)

    def __call__(self, response: Any = None, **_: Any) -> float | None:
        if response is None:
            return None  # no answer at all: botocore's standard retries decide
        parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
        code = parsed.get("Error", {}).get("Code") if isinstance(parsed, Mapping) else None
        if code not in THROTTLED:
            return None
        self.bucket.throttled()
        self.bucket.wait()
        return 0.0
