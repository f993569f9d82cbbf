"""Distributed Map: describe a history's Map Runs and fetch their child executions.

The parent's history names each Map Run (``MapRunStarted.mapRunArn``); the calls are
(docs/aws-reference.md section 2, "Distributed Map"):

- ``DescribeMapRun(mapRunArn)``: status and item/execution counts. One call per Map Run,
  made for every live trace because it is cheap and tells the reader what was not followed;
- with ``--follow-children``: ``ListExecutions(mapRunArn=...)``, every page, for the children
  (each item carries ``mapRunArn`` and ``itemCount``), then for each of the first N children in
  start order the normal fetch: DescribeExecution, DescribeStateMachineForExecution (which
  returns the ItemProcessor definition the child ran) and GetExecutionHistory (an EXPRESS
  child is read from its execution records instead);
- ``ListMapRuns(executionArn)`` only when a ``MapRunStarted`` event lacks its ARN.

Children are fetched a few at a time; each of their calls takes a token from its API's
bucket (:mod:`.pacing`), so a Map Run of thousands of children is read at the quotas' refill
rates once the buckets are spent (DescribeStateMachineForExecution's, 1 a second, first).
Lambda log lines are not fetched for children (one trace per child would multiply the
FilterLogEvents calls): ``sfn-trace <child-arn> --field F`` shows them for one child.
A child that cannot be read is reported in its row and does not stop the others; a Map Run
whose children cannot be listed is reported with the reason and the trace goes on.
https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html
https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sfn_trace.errors import Option, SfnTraceError, UsageError, word
from sfn_trace.model.arn import parse_execution_arn
from sfn_trace.model.events import HistoryEvent, parse_timestamp
from sfn_trace.model.execution import (
    ChildExecution,
    ExecutionData,
    MapRunCounts,
    MapRunData,
    MapRunDescription,
)
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions, FollowChildren
from sfn_trace.sources.aws.client import Context, default_region, make_client, translate
from sfn_trace.sources.aws.history import fetch_execution
from sfn_trace.sources.aws.pacing import TokenBucket, take

LIST_PAGE_SIZE = 1000  # ListExecutions' maximum
MAX_PARALLEL_CHILDREN = 4
DESCRIBE_LIMIT = 20
"""DescribeMapRun calls per trace at most (a Map in a loop can start many Map Runs)."""

ChildFetcher = Callable[[str], ExecutionData]


def follow_map_runs(
    data: ExecutionData,
    options: AwsOptions = DEFAULT_OPTIONS,
    follow: FollowChildren | None = None,
    *,
    client: Any = None,
    fetch_child: ChildFetcher | None = None,
    limiter: TokenBucket | None = None,
) -> ExecutionData:
    """``data`` with its Map Runs described, and their children fetched when ``follow`` is
    a count (at most that many children in all, Map Run after Map Run) or ``"all"``.

    Never raises for a Map Run or a child it cannot read: the reason goes to the report.
    """
    arns = list(map_run_arns(data.events))
    missing = any(e.type == "MapRunStarted" and not e.map_run_arn for e in data.events)
    if not arns and not missing:
        return data
    if client is None:
        client = make_client("stepfunctions", _region(data, arns, options), options)
    warnings: list[str] = []
    if missing and data.info.arn:
        try:
            listed = list_map_runs(client, data.info.arn, options)
            arns.extend(arn for arn in listed if arn not in arns)
        except SfnTraceError as error:
            warnings.append(f"Map Runs not listed: {error.message}")
    if fetch_child is None:

        def fetch_child(arn: str) -> ExecutionData:
            return fetch_execution(arn, options, client=client)

    pace = limiter  # None: each of a child's calls is paced by its own API's bucket
    budget = None if follow == "all" else follow
    runs: list[MapRunData] = []
    for position, arn in enumerate(arns):
        description = None
        if position < DESCRIBE_LIMIT:
            try:
                description = describe_map_run(client, arn, options)
            except SfnTraceError as error:
                warnings.append(f"Map Run not described: {error.message}")
        run = MapRunData(arn=arn, description=description)
        if follow is None:
            runs.append(run)
            continue
        if budget == 0:
            note = word(
                "not followed: the ",
                Option("follow_children"),
                f" {follow} budget went to earlier Map Runs",
            )
            runs.append(dataclasses.replace(run, note=note))
            continue
        try:
            children = list_children(client, arn, options)
        except SfnTraceError as error:
            runs.append(dataclasses.replace(run, note=f"children not listed: {error.message}"))
            continue
        chosen = children if budget is None else children[:budget]
        if budget is not None:
            budget -= len(chosen)
        fetched = fetch_children(chosen, fetch_child, pace)
        runs.append(dataclasses.replace(run, followed=True, listed=len(children), children=fetched))
    return dataclasses.replace(data, map_runs=tuple(runs), warnings=(*data.warnings, *warnings))


def describe_map_run(client: Any, arn: str, options: AwsOptions) -> MapRunDescription:
    """DescribeMapRun, converted once at the boundary."""
    ctx = Context(None, client, options.max_attempts, target=arn)
    try:
        take("DescribeMapRun", client, options)
        raw = client.describe_map_run(mapRunArn=arn)
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, ctx, "DescribeMapRun") from exc
    return map_run_description(raw)


def map_run_description(raw: Mapping[str, Any]) -> MapRunDescription:
    redrive = raw.get("redriveCount")
    return MapRunDescription(
        arn=str(raw.get("mapRunArn", "")),
        status=raw.get("status"),
        start=parse_timestamp(raw.get("startDate")),
        stop=parse_timestamp(raw.get("stopDate")),
        item_counts=MapRunCounts.from_api(raw.get("itemCounts")),
        execution_counts=MapRunCounts.from_api(raw.get("executionCounts")),
        redrive_count=redrive if isinstance(redrive, int) else None,
    )


def list_children(client: Any, map_run_arn: str, options: AwsOptions) -> tuple[ChildExecution, ...]:
    """Every child execution of a Map Run (all pages), numbered 1.. in start order."""
    ctx = Context(None, client, options.max_attempts, target=map_run_arn)
    children: list[ChildExecution] = []
    pages = 0
    try:
        paginator = client.get_paginator("list_executions")
        for page in paginator.paginate(
            mapRunArn=map_run_arn, PaginationConfig={"PageSize": LIST_PAGE_SIZE}
        ):
            pages += 1
            for item in page.get("executions", []):
                arn = str(item.get("executionArn", ""))
                children.append(
                    ChildExecution(
                        number=0,
                        arn=arn,
                        name=str(item.get("name") or arn.rsplit(":", 1)[-1]),
                        status=item.get("status"),
                        start=parse_timestamp(item.get("startDate")),
                        stop=parse_timestamp(item.get("stopDate")),
                    )
                )
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, ctx, "ListExecutions", (pages, len(children))) from exc
    return numbered(children)


def list_map_runs(client: Any, execution_arn: str, options: AwsOptions) -> list[str]:
    """ListMapRuns(executionArn), all pages: the Map Run ARNs, oldest first."""
    ctx = Context(None, client, options.max_attempts, target=execution_arn)
    runs: list[tuple[str, str]] = []
    try:
        for page in client.get_paginator("list_map_runs").paginate(executionArn=execution_arn):
            for item in page.get("mapRuns", []):
                start = parse_timestamp(item.get("startDate"))
                runs.append((start.isoformat() if start else "", str(item.get("mapRunArn"))))
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, ctx, "ListMapRuns") from exc
    return [arn for _, arn in sorted(runs)]


def fetch_children(
    children: Sequence[ChildExecution],
    fetch_child: ChildFetcher,
    limiter: TokenBucket | None = None,
) -> tuple[ChildExecution, ...]:
    """Each child with its data, or the one-line reason it could not be read; in order."""

    def fetch(child: ChildExecution) -> ChildExecution:
        if limiter is not None:
            limiter.wait()
        try:
            return dataclasses.replace(child, data=fetch_child(child.arn))
        except SfnTraceError as error:
            return dataclasses.replace(child, error=error.message)

    if not children:
        return ()
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CHILDREN, len(children))) as pool:
        return tuple(pool.map(fetch, children))


def _region(data: ExecutionData, arns: Sequence[str], options: AwsOptions) -> str:
    if options.region:
        return options.region
    if data.info.arn:
        try:
            return parse_execution_arn(data.info.arn).region
        except UsageError:
            pass
    for arn in arns:
        parts = arn.split(":")
        if len(parts) > 3 and parts[3] and not parts[3].startswith("<"):
            return parts[3]
    try:
        return default_region(options)
    except UsageError:
        raise UsageError("no AWS region for the Map Run calls: pass ", Option("region")) from None


def numbered(children: Iterable[ChildExecution]) -> tuple[ChildExecution, ...]:
    """Children renumbered 1.. in start order (oldest first; ties and unknown starts by name).

    ListExecutions lists newest first; start order is the order a reader expects, and it is
    stable while the Map Run is done.
    """
    ordered = sorted(
        children,
        key=lambda c: (c.start is None, c.start.timestamp() if c.start else 0.0, c.name, c.arn),
    )
    return tuple(dataclasses.replace(c, number=n) for n, c in enumerate(ordered, start=1))


def map_run_arns(events: Sequence[HistoryEvent]) -> tuple[str, ...]:
    """Map Run ARNs in the order the history started them (a redrive may start one again)."""
    arns = (e.map_run_arn for e in events if e.type == "MapRunStarted" and e.map_run_arn)
    return tuple(dict.fromkeys(arns))
