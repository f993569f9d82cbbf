"""sfn_trace.sources.aws.executions against botocore's Stubber (requests validated against the
service model).

ListExecutions: pagination, one listing per status merged by start date, the time window
(stop paging at the first execution older than --since), the limit, client-side filtering
of what an emulator returns unfiltered, and one-line errors. GetExecutionHistory for a scan:
pages, pacing on a fake clock, throttling.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sfn_trace.checks.scan import statuses_from_text
from sfn_trace.errors import AwsError, ExitCode, UsageError
from sfn_trace.model.arn import parse_state_machine_arn
from sfn_trace.sources.aws.executions import (
    ExecutionStream,
    HistoryFetcher,
    ListedExecution,
    list_executions,
)
from sfn_trace.sources.aws.pacing import TokenBucket
from tests.fleet_rows import judge_all
from tests.stubbing import paginator_for

REGION = "us-west-2"
MACHINE = "line-ingest"
SM_ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:{MACHINE}"
T0 = datetime(2025, 11, 17, 12, 0, tzinfo=timezone.utc)


def execution_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:123456789012:execution:{MACHINE}:{name}"


def item(name: str, minutes_ago: float, status: str = "SUCCEEDED") -> dict[str, Any]:
    start = T0 - timedelta(minutes=minutes_ago)
    entry: dict[str, Any] = {
        "executionArn": execution_arn(name),
        "stateMachineArn": SM_ARN,
        "name": name,
        "status": status,
        "startDate": start,
    }
    if status != "RUNNING":
        entry["stopDate"] = start + timedelta(seconds=2)
    return entry


def list_params(
    token: str | None = None, status: str | None = None, size: int = 1000
) -> dict[str, Any]:
    params: dict[str, Any] = {"stateMachineArn": SM_ARN, "maxResults": size}
    if status:
        params["statusFilter"] = status
    if token:
        params["nextToken"] = token
    return params


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "stepfunctions",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def names(listing: Any) -> list[str]:
    return [e.name for e in listing.executions]


# --- state machine ARNs ------------------------------------------------------------------------


def test_state_machine_arns_with_version_or_alias() -> None:
    assert parse_state_machine_arn(SM_ARN).name == MACHINE
    assert parse_state_machine_arn(SM_ARN + ":3").qualifier == "3"
    assert parse_state_machine_arn(SM_ARN + ":PROD").region == REGION


def test_an_execution_arn_is_refused_with_the_state_machine_to_use() -> None:
    with pytest.raises(UsageError) as caught:
        parse_state_machine_arn(execution_arn("run-1"))
    assert caught.value.exit_code is ExitCode.USAGE
    assert f"scan needs the state machine's ARN ({SM_ARN})" in caught.value.message


def test_malformed_arn() -> None:
    with pytest.raises(UsageError, match="malformed state machine ARN"):
        parse_state_machine_arn("arn:aws:states:us-west-2:1234:stateMachine:x")


# --- listing ------------------------------------------------------------------------------------


def test_pages_are_followed_to_the_end(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "list_executions",
        {"executions": [item("c", 1), item("b", 2)], "nextToken": "t1"},
        list_params(),
    )
    stubber.add_response(
        "list_executions", {"executions": [item("a", 3)], "nextToken": "t2"}, list_params("t1")
    )
    stubber.add_response("list_executions", {"executions": []}, list_params("t2"))

    listing = list_executions(SM_ARN, client=client)
    assert names(listing) == ["c", "b", "a"]
    assert listing.calls == 3 and not listing.truncated
    first = listing.executions[0]
    assert isinstance(first, ListedExecution)
    assert first.start == T0 - timedelta(minutes=1) and first.start.tzinfo is not None
    assert first.stop == first.start + timedelta(seconds=2)
    assert first.info.arn == execution_arn("c")


def test_several_statuses_are_one_listing_each_merged_newest_first(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "list_executions",
        {"executions": [item("s1", 1), item("s3", 3), item("both", 5)]},
        list_params(status="SUCCEEDED"),
    )
    stubber.add_response(
        "list_executions",
        {
            "executions": [
                item("f2", 2, "FAILED"),
                item("f4", 4, "FAILED"),
                # seen by both listings (its status changed between the calls): once
                item("both", 5, "FAILED"),
            ]
        },
        list_params(status="FAILED"),
    )
    listing = list_executions(SM_ARN, client=client, statuses=["succeeded", "FAILED"])
    assert names(listing) == ["s1", "f2", "s3", "f4", "both"]
    assert listing.calls == 2


def test_filters_are_applied_client_side_too(stubbed: tuple[Any, Stubber]) -> None:
    """An emulator that ignores statusFilter (moto ignores some filters, gap 10), or a status
    that changed since the call, must not let other statuses into the scan."""
    client, stubber = stubbed
    stubber.add_response(
        "list_executions",
        {"executions": [item("ok", 1), item("bad", 2, "FAILED"), item("run", 3, "RUNNING")]},
        list_params(status="FAILED"),
    )
    listing = list_executions(SM_ARN, client=client, statuses=["FAILED"])
    assert names(listing) == ["bad"]


def test_paging_stops_at_the_first_execution_older_than_since(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    since = T0 - timedelta(minutes=30)
    stubber.add_response(
        "list_executions",
        {"executions": [item("new", 1), item("newer-than-since", 29)], "nextToken": "t1"},
        list_params(),
    )
    stubber.add_response(
        "list_executions",
        {"executions": [item("edge", 30), item("old", 31), item("older", 40)], "nextToken": "t2"},
        list_params("t1"),
    )
    # no third response: a request for page "t2" would fail the test (UnStubbedResponseError)
    listing = list_executions(SM_ARN, client=client, since=since)
    assert names(listing) == ["new", "newer-than-since", "edge"]
    assert listing.calls == 2 and not listing.truncated


def test_executions_after_until_are_skipped(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "list_executions",
        {"executions": [item("too-new", 1), item("in", 10), item("in-too", 20), item("out", 40)]},
        list_params(),
    )
    listing = list_executions(
        SM_ARN,
        client=client,
        since=T0 - timedelta(minutes=30),
        until=T0 - timedelta(minutes=5),
    )
    assert names(listing) == ["in", "in-too"]


def test_limit_keeps_the_newest_and_says_more_matched(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "list_executions",
        {"executions": [item(n, i) for i, n in enumerate("abcd")], "nextToken": "t1"},
        list_params(size=3),  # limit + 1: one page tells whether more matched
    )
    listing = list_executions(SM_ARN, client=client, limit=2)
    assert names(listing) == ["a", "b"]
    assert listing.truncated and listing.calls == 1


def test_limit_across_statuses(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "list_executions",
        {"executions": [item("s1", 1), item("s3", 3)]},
        list_params(status="SUCCEEDED", size=3),
    )
    stubber.add_response(
        "list_executions",
        {"executions": [item("f2", 2, "FAILED")]},
        list_params(status="FAILED", size=3),
    )
    listing = list_executions(SM_ARN, client=client, statuses=["SUCCEEDED", "FAILED"], limit=2)
    assert names(listing) == ["s1", "f2"]
    assert listing.truncated


class _TwoStatuses:
    """ListExecutions over ``count`` executions, SUCCEEDED and FAILED in turn, newest first,
    in pages of 50: pairs share a start date, and every tenth pair is listed under both
    statuses (its status changed between the two listings)."""

    def __init__(self, count: int) -> None:
        self.items = [
            item(f"run-{i:05d}", i // 2, "FAILED" if i % 2 else "SUCCEEDED") for i in range(count)
        ]
        self.paginator = paginator_for(self.list_executions, "ListExecutions")

    def get_paginator(self, name: str) -> Any:
        return self.paginator

    def list_executions(self, **params: Any) -> dict[str, Any]:
        status = params["statusFilter"]
        matching = [
            entry
            for i, entry in enumerate(self.items)
            if entry["status"] == status or (i // 2) % 10 == 0
        ]
        start = int(params.get("nextToken") or 0)
        answer: dict[str, Any] = {
            "executions": [dict(entry, status=status) for entry in matching[start : start + 50]]
        }
        if start + 50 < len(matching):
            answer["nextToken"] = str(start + 50)
        return answer


def test_several_statuses_merged_in_memory_that_does_not_grow_with_the_fleet() -> None:
    """Merging two listings, an execution listed by both is yielded once, ties of start date
    included; and what the merge holds does not grow with the executions it has yielded (it
    kept every ARN: ~125 KB more by the 1,800th execution than by the 200th)."""
    count = 2000
    stream = ExecutionStream(SM_ARN, client=_TwoStatuses(count), statuses=["SUCCEEDED", "FAILED"])
    yielded = 0
    out_of_turn: list[str] = []
    held: dict[int, int] = {}
    tracemalloc.start()
    try:
        for execution in stream:
            if yielded in (200, 1800):
                gc.collect()  # what is still held, not what waits for the collector
                held[yielded] = tracemalloc.get_traced_memory()[0]
            if execution.name != f"run-{yielded:05d}":
                out_of_turn.append(execution.name)
            yielded += 1
    finally:
        tracemalloc.stop()
    assert (yielded, out_of_turn) == (count, [])
    assert held[1800] - held[200] < 16_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"statuses": ["DONE"]}, "unknown execution status 'DONE'"),
        ({"statuses": ["PENDING_REDRIVE"]}, "needs a mapRunArn"),
        ({"limit": 0}, "limit= must be at least 1"),
        ({"since": T0, "until": T0 - timedelta(hours=1)}, "the time window is empty"),
    ],
)
def test_bad_arguments_fail_before_any_call(
    stubbed: tuple[Any, Stubber], kwargs: dict[str, Any], message: str
) -> None:
    client, _ = stubbed
    with pytest.raises(UsageError, match=message):
        list_executions(SM_ARN, client=client, **kwargs)


@pytest.mark.parametrize(
    ("code", "error", "message"),
    [
        (
            "StateMachineDoesNotExist",
            AwsError,
            f"state machine not found: {SM_ARN} (looked in region {REGION}",
        ),
        ("StateMachineTypeNotSupported", UsageError, "is an Express state machine"),
        (
            "AccessDeniedException",
            AwsError,
            f"access denied: the credentials lack IAM permission states:ListExecutions on {SM_ARN}",
        ),
        ("ThrottlingException", AwsError, "throttled by AWS on ListExecutions"),
    ],
)
def test_listing_errors_are_one_line(
    stubbed: tuple[Any, Stubber], code: str, error: type[Exception], message: str
) -> None:
    client, stubber = stubbed
    stubber.add_client_error("list_executions", code, "nope", expected_params=list_params())
    with pytest.raises(error) as caught:
        list_executions(SM_ARN, client=client)
    text = caught.value.message  # type: ignore[attr-defined]
    assert message in text and "\n" not in text


def test_statuses_from_text() -> None:
    assert statuses_from_text(" succeeded, FAILED ,") == ("SUCCEEDED", "FAILED")
    assert statuses_from_text(None) == ()


# --- histories for the scan ---------------------------------------------------------------------


def history_params(arn: str, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "executionArn": arn,
        "includeExecutionData": True,
        "reverseOrder": False,
        "maxResults": 1000,
    }
    if token:
        params["nextToken"] = token
    return params


def pass_events(first: int, count: int, *, terminal: bool) -> list[dict[str, Any]]:
    """Events ``first``..: ExecutionStarted (when first is 1), Pass states, then the end."""
    events: list[dict[str, Any]] = []
    for event_id in range(first, first + count):
        event: dict[str, Any] = {"id": event_id, "previousEventId": event_id - 1}
        event["timestamp"] = T0 + timedelta(seconds=event_id)
        if event_id == 1:
            event["type"] = "ExecutionStarted"
            event["executionStartedEventDetails"] = {"input": '{"key": "k"}', "roleArn": "r"}
        elif event_id % 2 == 0:
            event["type"] = "PassStateEntered"
            event["stateEnteredEventDetails"] = {"name": f"S{event_id}", "input": '{"key": "k"}'}
        else:
            event["type"] = "PassStateExited"
            event["stateExitedEventDetails"] = {
                "name": f"S{event_id - 1}",
                "output": '{"key": "k"}',
            }
        events.append(event)
    if terminal:
        last = first + count
        events.append(
            {
                "id": last,
                "previousEventId": last - 1,
                "timestamp": T0 + timedelta(seconds=last),
                "type": "ExecutionSucceeded",
                "executionSucceededEventDetails": {"output": '{"key": "k"}'},
            }
        )
    return events


def listed(name: str, status: str = "RUNNING") -> ListedExecution:
    return ListedExecution.from_api(item(name, 1, status))


def test_history_pages_and_the_status_from_the_terminal_event(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    arn = execution_arn("run-1")
    stubber.add_response(
        "get_execution_history",
        {"events": pass_events(1, 5, terminal=False), "nextToken": "p2"},
        history_params(arn),
    )
    stubber.add_response(
        "get_execution_history",
        {"events": pass_events(6, 4, terminal=True)},
        history_params(arn, "p2"),
    )
    fetcher = HistoryFetcher(client)
    data = fetcher(listed("run-1", "RUNNING"))  # listed while running, finished since

    assert fetcher.calls == 2
    assert len(data.events) == 10 and data.definition is None
    assert data.info.status == "SUCCEEDED"
    assert data.info.stop == T0 + timedelta(seconds=10)
    assert data.info.name == "run-1"


def test_history_throttled_past_retries_is_one_line_exit_3(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    arn = execution_arn("run-1")
    stubber.add_client_error(
        "get_execution_history",
        "ThrottlingException",
        "Rate exceeded",
        expected_params=history_params(arn),
    )
    with pytest.raises(AwsError) as caught:
        HistoryFetcher(client, max_attempts=3)(listed("run-1"))
    assert caught.value.exit_code is ExitCode.AWS
    assert caught.value.message.startswith("throttled by AWS on GetExecutionHistory")


def test_throttling_during_a_scan_costs_one_row(stubbed: tuple[Any, Stubber]) -> None:
    """The second history is throttled past retries (after its first page): its row says so,
    the executions before and after it are traced."""
    client, stubber = stubbed
    executions = [listed(f"run-{i}", "SUCCEEDED") for i in range(3)]
    stubber.add_response(
        "get_execution_history",
        {"events": pass_events(1, 5, terminal=True)},
        history_params(executions[0].arn),
    )
    stubber.add_response(
        "get_execution_history",
        {"events": pass_events(1, 5, terminal=False), "nextToken": "p2"},
        history_params(executions[1].arn),
    )
    stubber.add_client_error(
        "get_execution_history",
        "ThrottlingException",
        "Rate exceeded",
        http_status_code=400,
        expected_params=history_params(executions[1].arn, "p2"),
        response_meta={"RetryAttempts": 9},
    )
    stubber.add_response(
        "get_execution_history",
        {"events": pass_events(1, 5, terminal=True)},
        history_params(executions[2].arn),
    )
    fetcher = HistoryFetcher(client, TokenBucket(1000, 1000.0))

    rows = judge_all(executions, fetcher, "key", workers=1)

    assert [r.verdict.value if r.verdict else None for r in rows] == ["intact", None, "intact"]
    assert rows[1].error == (
        "throttled by AWS on GetExecutionHistory after 10 attempts after 1 page (5 events); "
        "retry later or raise max_attempts="
    )
    assert rows[1].error_exit_code is ExitCode.AWS
    assert fetcher.calls == 4


class FakeClock:
    """Simulated time for one thread: sleeping moves the clock forward."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0 - 1e-9) for i, start in enumerate(times))


def test_history_calls_are_paced_at_20_per_simulated_second(
    stubbed: tuple[Any, Stubber],
) -> None:
    """Every page counts: 30 executions of 2 pages each, through the real fetcher."""
    client, stubber = stubbed
    clock = FakeClock()
    calls: list[float] = []
    client.meta.events.register(
        "provide-client-params.states.GetExecutionHistory", lambda **_: calls.append(clock())
    )
    executions = [listed(f"run-{i}", "SUCCEEDED") for i in range(30)]
    for execution in executions:
        stubber.add_response(
            "get_execution_history",
            {"events": pass_events(1, 5, terminal=False), "nextToken": "p2"},
            history_params(execution.arn),
        )
        stubber.add_response(
            "get_execution_history",
            {"events": pass_events(6, 4, terminal=True)},
            history_params(execution.arn, "p2"),
        )
    fetcher = HistoryFetcher(client, TokenBucket(1, 20.0, clock=clock, sleep=clock.sleep))

    rows = judge_all(executions, fetcher, "key", workers=1)  # Stubber answers in order

    assert [r.verdict.value for r in rows] == ["intact"] * 30  # type: ignore[union-attr]
    assert fetcher.calls == len(calls) == 60
    assert most_in_one_second(calls) == 20
    assert calls[-1] == pytest.approx(59 / 20)  # and no slower than needed


class ThreadedFakeClient:
    """A thread-safe stand-in for the Step Functions client (the Stubber answers in order, so
    it cannot serve concurrent workers): two pages per history."""

    def __init__(self, moments: list[float], local: threading.local) -> None:
        self.moments, self.local = moments, local
        self.lock = threading.Lock()

    def get_execution_history(self, **params: Any) -> dict[str, Any]:
        with self.lock:
            self.moments.append(getattr(self.local, "moment", 0.0))
        self.local.moment = 0.0
        if params.get("nextToken"):
            return {"events": pass_events(6, 4, terminal=True)}
        return {"events": pass_events(1, 5, terminal=False), "nextToken": "p2"}


def test_pacing_is_shared_by_all_workers() -> None:
    """Eight workers, one limiter: the calls' simulated moments never exceed 20 a second.

    The clock stands still, so each wait sleeps exactly until its reserved moment; the fake
    client stamps each call with the moment its thread slept to.
    """
    local = threading.local()
    moments: list[float] = []

    def sleep(seconds: float) -> None:
        local.moment = seconds

    limiter = TokenBucket(1, 20.0, clock=lambda: 0.0, sleep=sleep)
    fetcher = HistoryFetcher(ThreadedFakeClient(moments, local), limiter)
    executions = [listed(f"run-{i}", "SUCCEEDED") for i in range(50)]

    rows = judge_all(executions, fetcher, "key", workers=8)

    assert [r.execution.name for r in rows] == [f"run-{i}" for i in range(50)]  # listing order
    assert len(moments) == fetcher.calls == 100
    assert most_in_one_second(moments) == 20
    assert max(moments) == pytest.approx(99 / 20)
