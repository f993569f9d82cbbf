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

Histories: a scan fetches only ``GetExecutionHistory``, one call per page, each call taking
a token from that API's bucket (:mod:`sfn_trace.sources.aws.pacing`: 400 at once, refilled
at 20 per second), shared by all the workers, so the scan stays under that quota however many
executions it reads. It does not call ``DescribeExecution`` (the listing already says
what it would: name, status, dates) nor ``DescribeStateMachineForExecution``: that quota
refills at 1 call per second, which would make a scan of a thousand executions take a
quarter of an hour, and the verdict, ``first_null`` and ``lost_at`` do not need the
definition (the per-step explanation does: ``sfn-trace EXECUTION_ARN`` gives it for one
row). Quotas: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
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
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions
from sfn_trace.sources.aws.client import (
    CHECK_ACCOUNT,
    Context,
    error_code,
    make_client,
    one_line,
    translate,
)
from sfn_trace.sources.aws.pacing import QUOTAS, TokenBucket, meter

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


@dataclass(frozen=True)
class _StatusListing:
    executions: list[ListedExecution]
    truncated: bool
    calls: int


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
    machine = parse_state_machine_arn(state_machine_arn)
    wanted = tuple(dict.fromkeys(s.upper() for s in statuses))
    for status in wanted:
        if status not in STATUSES:
            raise UsageError(f"unknown execution status {status!r}: one of {', '.join(STATUSES)}")
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
    ctx = Context(None, client, options.max_attempts, target=machine.arn)

    listings = [
        _list_one(client, ctx, machine.arn, status, since, until, limit)
        for status in (wanted or (None,))
    ]
    # Each listing is newest first: merge them so, an execution seen twice (its status
    # changed between two calls) counted once.
    merged: list[ListedExecution] = []
    seen: set[str] = set()
    for execution in heapq.merge(*(listing.executions for listing in listings), key=_newest_first):
        if execution.arn not in seen:
            seen.add(execution.arn)
            merged.append(execution)
    truncated = any(listing.truncated for listing in listings)
    if limit is not None and len(merged) > limit:
        merged, truncated = merged[:limit], True
    return Listing(
        executions=tuple(merged),
        truncated=truncated,
        calls=sum(listing.calls for listing in listings),
    )


def _newest_first(execution: ListedExecution) -> tuple[float, str]:
    return (-execution.start.timestamp(), execution.arn)


def _list_one(
    client: Any,
    ctx: Context,
    arn: str,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int | None,
) -> _StatusListing:
    """One status's executions (or all), filtered on our side too, paging as little as
    the window and the limit allow."""
    found: list[ListedExecution] = []
    calls = 0
    page_size = LIST_PAGE_SIZE if limit is None else min(LIST_PAGE_SIZE, limit + 1)
    params: dict[str, Any] = {"stateMachineArn": arn, "maxResults": page_size}
    if status is not None:
        params["statusFilter"] = status
    for page in _pages(client, ctx, params):
        calls += 1
        items = page.get("executions", [])
        for item in items:
            execution = ListedExecution.from_api(item)
            if since is not None and execution.start < since:
                return _StatusListing(found, False, calls)  # the rest is older still
            if status is not None and execution.status != status:
                continue
            if until is not None and execution.start > until:
                continue
            if limit is not None and len(found) == limit:
                return _StatusListing(found, True, calls)  # one more matched: cut here
            found.append(execution)
    return _StatusListing(found, False, calls)


def _pages(client: Any, ctx: Context, params: dict[str, Any]) -> Iterator[Mapping[str, Any]]:
    """ListExecutions pages; a state machine that does not exist, an Express state machine
    or a wrong ARN is one line that says so."""
    token: str | None = None
    while True:
        call = dict(params, nextToken=token) if token else params
        try:
            page: Mapping[str, Any] = client.list_executions(**call)
        except ClientError as exc:
            raise _listing_error(exc, ctx) from exc
        except BotoCoreError as exc:
            raise translate(exc, ctx, "ListExecutions") from exc
        yield page
        token = page.get("nextToken")
        if not token:
            return


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
    costs more than the call), and so is the GetExecutionHistory token bucket (:mod:`.pacing`):
    every call, page after page, first takes a token, so the whole scan goes at once while
    the bucket lasts and then at its refill rate. botocore's own retries of a throttled call
    back off on top of that.
    """

    def __init__(
        self,
        client: Any,
        limiter: TokenBucket | None = None,
        *,
        max_attempts: int = DEFAULT_OPTIONS.max_attempts,
    ) -> None:
        self.client = client
        quota = QUOTAS["GetExecutionHistory"]
        self.limiter = limiter or TokenBucket(quota.burst, quota.rate)
        self.max_attempts = max_attempts
        self._calls = 0
        self._lock = threading.Lock()

    @classmethod
    def for_state_machine(
        cls, state_machine_arn: str, options: AwsOptions, limiter: TokenBucket | None = None
    ) -> HistoryFetcher:
        machine = parse_state_machine_arn(state_machine_arn)
        region = options.region or machine.region
        client = make_client("stepfunctions", region, options)
        limiter = limiter or meter("GetExecutionHistory", region, options)
        return cls(client, limiter, max_attempts=options.max_attempts)

    @property
    def calls(self) -> int:
        """GetExecutionHistory calls made so far (one per page)."""
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
            pages += 1
            raw.extend(page.get("events", []))
            token = page.get("nextToken")
            if not token:
                return raw
