"""Reading a history from both ends, and the calls that go at once, against a fake client
that pages like GetExecutionHistory (any page size, newest first on request) and records
which calls were in flight together.

Concurrency is proven by events, not by timings: a call that must overlap another waits
(up to 10 s, never in a passing run) for that other call to have started.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.paginate import Paginator

from sfn_trace import api
from sfn_trace.model.execution import ExecutionData
from sfn_trace.report.registry import FORMATS, Command
from sfn_trace.sources.aws import pacing
from sfn_trace.sources.aws.history import fetch_execution
from sfn_trace.trace import analyze
from tests.data import corpus_definition, corpus_history, corpus_names

ARN = "arn:aws:states:us-east-1:123456789012:execution:machine:run-1"
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
PASS_DEFINITION = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'


@pytest.fixture(autouse=True)
def unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of fetches in one test: the buckets would (rightly) make them wait."""
    monkeypatch.setattr(pacing, "meter", pacing.Meters(sleep=lambda _: None))


def throttled(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation
    )


@functools.cache
def _history_pagination() -> tuple[Any, Any]:
    """GetExecutionHistory's pagination and operation model, loaded once, as a real client
    has them (loading them in a reader's thread is slow enough to let it fall behind)."""
    session = botocore.session.get_session()
    config = session.get_paginator_model("stepfunctions").get_paginator("GetExecutionHistory")
    model = session.get_service_model("stepfunctions").operation_model("GetExecutionHistory")
    return config, model


class FakeHistoryClient:
    """GetExecutionHistory over ``events`` in pages of ``page_size`` (whatever maxResults
    says), tokens opaque to the caller; the two describes; every call recorded with the
    calls in flight when it started."""

    def __init__(
        self,
        events: Sequence[Mapping[str, Any]],
        page_size: int,
        *,
        definition: str | None = PASS_DEFINITION,
        status: str = "SUCCEEDED",
        reverse_fails: bool = False,
        reverse_events: Sequence[Mapping[str, Any]] | None = None,
        waits_for: Mapping[str, str] | None = None,
    ) -> None:
        self.events = list(events)
        self.reverse_events = list(reverse_events) if reverse_events is not None else self.events
        self.page_size = page_size
        self.definition, self.status = definition, status
        self.reverse_fails = reverse_fails
        self.waits_for = dict(waits_for or {})
        """Call name -> the call that must have started before it answers."""
        self.lock = threading.Lock()
        self.in_flight: set[str] = set()
        self.calls: list[tuple[str, frozenset[str]]] = []
        self.started: dict[str, threading.Event] = {}

    def _enter(self, name: str) -> None:
        with self.lock:
            self.calls.append((name, frozenset(self.in_flight)))
            self.in_flight.add(name)
            self.started.setdefault(name, threading.Event()).set()

    def _leave(self, name: str) -> None:
        with self.lock:
            self.in_flight.discard(name)

    def wait_for(self, name: str) -> bool:
        with self.lock:
            event = self.started.setdefault(name, threading.Event())
        return event.wait(10)

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self._enter("DescribeExecution")
        try:
            assert self.wait_for("GetExecutionHistory:forward:1"), "no overlap with page 1"
            answer = {"executionArn": executionArn, "stateMachineArn": "sm", "name": "run-1"}
            answer.update(status=self.status, startDate=T0)
            if self.status != "RUNNING":
                answer["stopDate"] = T0 + timedelta(seconds=5)
            return answer
        finally:
            self._leave("DescribeExecution")

    def describe_state_machine_for_execution(self, executionArn: str) -> dict[str, Any]:
        self._enter("DescribeStateMachineForExecution")
        try:
            assert self.wait_for("GetExecutionHistory:forward:1"), "no overlap with page 1"
            if self.definition is None:
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException", "Message": "denied"}},
                    "DescribeStateMachineForExecution",
                )
            return {"definition": self.definition, "stateMachineArn": "sm", "name": "machine"}
        finally:
            self._leave("DescribeStateMachineForExecution")

    def get_paginator(self, name: str) -> Paginator:
        """botocore's own paginator, with the service model's pagination of the operation,
        over this fake's answers."""
        assert name == "get_execution_history"
        return Paginator(self.get_execution_history, *_history_pagination())

    def get_execution_history(self, **params: Any) -> dict[str, Any]:
        assert params["maxResults"] == 1000 and params["includeExecutionData"] is True
        reverse = bool(params["reverseOrder"])
        offset = int(params.get("nextToken", "t:0").split(":")[1])
        direction = "reverse" if reverse else "forward"
        name = f"GetExecutionHistory:{direction}:{offset // self.page_size + 1}"
        self._enter(name)
        try:
            if name in self.waits_for:
                assert self.wait_for(self.waits_for[name]), f"{name} went alone"
            if reverse and self.reverse_fails:
                raise throttled("GetExecutionHistory")
            source = list(reversed(self.reverse_events)) if reverse else self.events
            page = source[offset : offset + self.page_size]
            answer: dict[str, Any] = {"events": page}
            if offset + self.page_size < len(source):
                answer["nextToken"] = f"t:{offset + self.page_size}"
            return answer
        finally:
            self._leave(name)

    def history_calls(self, direction: str) -> int:
        return sum(
            1 for name, _ in self.calls if name.startswith(f"GetExecutionHistory:{direction}")
        )


def pass_events(count: int) -> list[dict[str, Any]]:
    """A history of ``count`` events: started, pairs of Pass state entered/exited, ended."""
    events: list[dict[str, Any]] = [
        {
            "id": 1,
            "previousEventId": 0,
            "timestamp": T0,
            "type": "ExecutionStarted",
            "executionStartedEventDetails": {"input": '{"k": 1}', "roleArn": "r"},
        }
    ]
    while len(events) < count - 1:
        n = len(events) + 1
        entered = n % 2 == 0
        kind = "PassStateEntered" if entered else "PassStateExited"
        details = "stateEnteredEventDetails" if entered else "stateExitedEventDetails"
        body = {"name": "P", ("input" if entered else "output"): json.dumps({"k": n})}
        events.append(
            {"id": n, "previousEventId": n - 1, "timestamp": T0, "type": kind, details: body}
        )
    n = len(events) + 1
    events.append(
        {
            "id": n,
            "previousEventId": n - 1,
            "timestamp": T0,
            "type": "ExecutionSucceeded",
            "executionSucceededEventDetails": {"output": '{"k": 2}'},
        }
    )
    return events


def forward(events: Sequence[Mapping[str, Any]], **kwargs: Any) -> ExecutionData:
    client = FakeHistoryClient(events, 1000, **kwargs)
    return fetch_execution(ARN, client=client, both_ends=False)


# --------------------------------------------------------------------------- at once


def test_the_describes_and_the_first_page_are_in_flight_together() -> None:
    client = FakeHistoryClient(pass_events(9), 1000)
    data = fetch_execution(ARN, client=client)
    assert [e.id for e in data.events] == list(range(1, 10))
    # Each describe waited for page 1 to start; so page 1 began while they were in flight,
    # or they began while it was.
    overlaps = {name: others for name, others in client.calls}
    page = "GetExecutionHistory:forward:1"
    for describe in ("DescribeExecution", "DescribeStateMachineForExecution"):
        assert describe in overlaps[page] or page in overlaps[describe]
    assert data.definition is not None and data.warnings == ()


# --------------------------------------------------------------------------- both ends


def test_a_long_history_is_read_from_both_ends_in_about_half_the_pages() -> None:
    events = pass_events(25_000)
    # Forward page 2 answers only once the newest-first reader has started: the second
    # reader starts while the first is still reading.
    second = {"GetExecutionHistory:forward:2": "GetExecutionHistory:reverse:1"}
    client = FakeHistoryClient(events, 1000, waits_for=second)
    data = fetch_execution(ARN, client=client)
    assert [e.id for e in data.events] == list(range(1, 25_001))
    assert data.events == forward(events).events
    assert data.warnings == ()
    ahead, behind = client.history_calls("forward"), client.history_calls("reverse")
    assert behind >= 1
    # Each reader stops when they meet: at most one page each beyond the meeting point.
    assert ahead + behind <= 25 + 2


def test_the_newest_end_tells_how_many_events_the_history_holds() -> None:
    """The first newest-first page gives the newest event's id: the total a progress bar
    needs (DescribeExecution gives no event count)."""
    events = pass_events(5_000)
    second = {"GetExecutionHistory:forward:2": "GetExecutionHistory:reverse:1"}
    client = FakeHistoryClient(events, 1000, waits_for=second)
    totals: list[int] = []
    data = fetch_execution(ARN, client=client, on_total=totals.append)
    assert totals == [5_000]
    assert len(data.events) == 5_000


def test_a_one_page_history_tells_no_total() -> None:
    totals: list[int] = []
    fetch_execution(ARN, client=FakeHistoryClient(pass_events(9), 1000), on_total=totals.append)
    assert totals == []


def recorded() -> list[str]:
    return corpus_names()


def load_recorded(name: str) -> tuple[list[dict[str, Any]], str | None]:
    document = json.loads(corpus_history(name).read_text())
    events = document["events"] if isinstance(document, dict) else document
    definition = corpus_definition(name)
    return events, definition.read_text() if definition is not None else None


@pytest.mark.parametrize("page_size", [1, 2, 3, 1000])
def test_every_recorded_history_reads_the_same_from_both_ends(page_size: int) -> None:
    for path in recorded():
        events, definition = load_recorded(path)
        client = FakeHistoryClient(events, page_size, definition=definition)
        both = fetch_execution(ARN, client=client)
        one = forward(events, definition=definition)
        assert both.events == one.events, path
        assert [e.id for e in both.events] == list(range(1, len(events) + 1)), path
        assert both.warnings == one.warnings, path
        if len(events) > page_size:
            assert client.history_calls("reverse") >= 1, path


def input_key(events: Sequence[Mapping[str, Any]]) -> str:
    """The execution input's first key, else a field no history has."""
    details = events[0].get("executionStartedEventDetails") or {}
    try:
        document = json.loads(details.get("input") or "{}")
    except ValueError:
        document = {}
    keys = list(document) if isinstance(document, dict) else []
    return str(keys[0]) if keys else "no_such_field_anywhere"


def test_every_recorded_history_renders_byte_identical_from_both_ends() -> None:
    """Every format of every recorded history's trace, read in pages of 2 from both ends
    and in one page forward."""
    formats = [f.value for f in FORMATS[Command.TRACE]]
    for path in recorded():
        events, definition = load_recorded(path)
        field = input_key(events)
        both = fetch_execution(ARN, client=FakeHistoryClient(events, 2, definition=definition))
        one = forward(events, definition=definition)
        left, right = analyze(both, field), analyze(one, field)
        for fmt in formats:
            assert api.render(left, fmt) == api.render(right, fmt), (
                path,
                fmt,
            )


def test_a_gap_between_the_ends_falls_back_to_one_direction() -> None:
    events = pass_events(30)
    broken = [e for e in events if e["id"] != 27]  # the newest-first reader misses one
    client = FakeHistoryClient(events, 4, reverse_events=broken)
    data = fetch_execution(ARN, client=client)
    assert data.events == forward(events).events
    assert len(data.warnings) == 1
    assert "did not agree" in data.warnings[0] and "one direction" in data.warnings[0]


def test_a_duplicate_id_with_other_content_falls_back_to_one_direction() -> None:
    events = pass_events(30)
    changed = [dict(e) for e in events]
    for event in changed:
        if event.get("stateEnteredEventDetails"):
            event["stateEnteredEventDetails"] = {"name": "P", "input": '{"other": true}'}
    client = FakeHistoryClient(events, 4, reverse_events=changed)
    data = fetch_execution(ARN, client=client)
    assert data.events == forward(events).events
    assert any("differs between the two ends" in w for w in data.warnings), data.warnings


def test_a_throttled_reverse_reader_leaves_a_correct_forward_read_and_a_warning() -> None:
    events = pass_events(30)
    client = FakeHistoryClient(events, 4, reverse_fails=True)
    data = fetch_execution(ARN, client=client)
    assert data.events == forward(events).events
    assert data.warnings == (
        "the newest-first reader got ThrottlingException: the history was read in one direction",
    )


def test_a_running_execution_is_read_in_one_direction() -> None:
    events = pass_events(30)
    client = FakeHistoryClient(events, 4, status="RUNNING")
    data = fetch_execution(ARN, client=client)
    assert client.history_calls("reverse") == 0
    assert [e.id for e in data.events] == list(range(1, 31))
    assert data.warnings == ("execution is still RUNNING: traced as far as it got (30 events)",)


def test_trace_ahead_gets_every_event_once_in_id_order() -> None:
    events = pass_events(50)
    handed: list[int] = []

    def on_events(info: Any, definition: Any, page: Sequence[Any]) -> None:
        handed.extend(e.id for e in page)

    fetch_execution(ARN, client=FakeHistoryClient(events, 3), on_events=on_events)
    assert handed == list(range(1, 51))


def test_no_reverse_page_is_asked_for_that_the_forward_page_on_its_way_holds() -> None:
    """8 events in pages of 2. The forward reader's page 2 (events 3-4) answers only once
    the newest-first reader's page 2 (events 6-5) has started, so that when the latter is
    in, the events between the ends (3-4) are all in the forward page on its way: the
    newest-first reader asks for no third page (events 4-3), whichever answer comes first."""
    events = pass_events(8)
    client = FakeHistoryClient(
        events, 2, waits_for={"GetExecutionHistory:forward:2": "GetExecutionHistory:reverse:2"}
    )
    data = fetch_execution(ARN, client=client)
    assert data.events == forward(events).events and data.warnings == ()
    assert client.history_calls("reverse") == 2
    assert client.history_calls("forward") == 2
