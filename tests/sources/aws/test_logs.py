"""The log fetch against botocore's Stubber: queries, pagination, fallbacks, failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from sfn_trace.model.options import AwsOptions
from sfn_trace.model.visits import LambdaInvocation
from sfn_trace.sources.aws.logs import (
    FILTER_PATTERN_LIMIT,
    MAX_PARALLEL_LOOKUPS,
    WINDOW_PAGE_BUDGET,
    EarlyLookups,
    fetch_lambda_logs,
    request_id_patterns,
)
from sfn_trace.sources.aws.pacing import TokenBucket
from tests.stubbing import OverlapStubber

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
MS = int(T0.timestamp() * 1000)
OPTIONS = AwsOptions(max_attempts=1)


def rid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def invocation(function: str, n: int, *, request_id: bool = True) -> LambdaInvocation:
    return LambdaInvocation(
        function=function,
        qualifier=None,
        reference=function,
        region=None,
        request_id=rid(n) if request_id else None,
        attempt=1,
        start_event_id=100 + n,
        start=T0 + timedelta(seconds=n),
        end=T0 + timedelta(seconds=n, milliseconds=500),
    )


def lines_of(n: int, stream: str = "2026/11/25/[$LATEST]abc") -> list[dict[str, Any]]:
    at = MS + n * 1000
    return [
        {
            "logStreamName": stream,
            "timestamp": at,
            "message": f"START RequestId: {rid(n)}\n",
            "ingestionTime": at,
            "eventId": f"{n}-1",
        },
        {
            "logStreamName": stream,
            "timestamp": at + 1,
            "message": f"[INFO]\t2026-11-25T12:00:00Z\t{rid(n)}\tworking on {n}\n",
            "ingestionTime": at,
            "eventId": f"{n}-2",
        },
        {
            "logStreamName": stream,
            "timestamp": at + 2,
            "message": "a print line\n",
            "ingestionTime": at,
            "eventId": f"{n}-3",
        },
        {
            "logStreamName": stream,
            "timestamp": at + 3,
            "message": f"REPORT RequestId: {rid(n)}\n",
            "ingestionTime": at,
            "eventId": f"{n}-4",
        },
    ]


class Clients:
    """A client factory handing out stubbed clients, one per (service, region)."""

    def __init__(self) -> None:
        self.stubbers: dict[tuple[str, str], Stubber] = {}
        self.clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        return self.clients[(service, region)]

    def stub(self, service: str, region: str = "us-west-2") -> Stubber:
        client = boto3.client(
            service,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}),
        )
        stubber = OverlapStubber(client)  # the lookups, and the groups' reads, go at once
        stubber.activate()
        self.clients[(service, region)] = client
        self.stubbers[(service, region)] = stubber
        return stubber

    def verify(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def clients() -> Iterator[Clients]:
    made = Clients()
    yield made
    made.verify()


def no_wait() -> TokenBucket:
    return TokenBucket(1e9, 1e9)


def config(name: str, group: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"FunctionName": name}
    if group:
        response["LoggingConfig"] = {"LogFormat": "JSON", "LogGroup": group}
    return response


def test_one_query_per_log_group_with_pages(clients: Clients) -> None:
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    lam.add_response("get_function_configuration", config("split"), {"FunctionName": "split"})
    lam.add_response(
        "get_function_configuration", config("mark", "/custom/mark"), {"FunctionName": "mark"}
    )
    window = {"startTime": MS + 1000 - 2000, "endTime": MS + 3500 + 10_000}
    # split: three pages, the middle one empty while nextToken is present (the API does that)
    logs.add_response(
        "filter_log_events",
        {"events": lines_of(1)[:2], "nextToken": "t1"},
        {"logGroupName": "/aws/lambda/split", "startTime": MS - 1000, "endTime": MS + 11_500},
    )
    logs.add_response(
        "filter_log_events",
        {"events": [], "nextToken": "t2"},
        {
            "logGroupName": "/aws/lambda/split",
            "startTime": MS - 1000,
            "endTime": MS + 11_500,
            "nextToken": "t1",
        },
    )
    logs.add_response(
        "filter_log_events",
        {"events": lines_of(1)[2:]},
        {
            "logGroupName": "/aws/lambda/split",
            "startTime": MS - 1000,
            "endTime": MS + 11_500,
            "nextToken": "t2",
        },
    )
    logs.add_response(
        "filter_log_events",
        {"events": lines_of(3)},
        {"logGroupName": "/custom/mark", "startTime": MS + 1000, "endTime": MS + 13_500},
    )
    del window
    found = fetch_lambda_logs(
        [invocation("split", 1), invocation("mark", 3)],
        OPTIONS,
        "us-west-2",
        clients=clients,
        limiter=no_wait(),
    )
    assert found.warnings == ()
    assert found.log_groups == {"split": "/aws/lambda/split", "mark": "/custom/mark"}
    split = found.by_attempt[101]
    assert split.request_id == rid(1) and split.matched_by == "request_id"
    assert [line.message for line in split.lines][2] == "a print line"
    assert len(found.by_attempt[103].lines) == 4


def test_busy_group_falls_back_to_request_id_patterns(clients: Clients) -> None:
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    lam.add_response("get_function_configuration", config("fan"), {"FunctionName": "fan"})
    invocations = [invocation("fan", n) for n in range(1, 51)]
    begin, end = MS + 1000 - 2000, MS + 50_500 + 10_000
    base = {"logGroupName": "/aws/lambda/fan", "startTime": begin, "endTime": end}
    for page in range(WINDOW_PAGE_BUDGET):
        expected = dict(base, **({"nextToken": f"p{page}"} if page else {}))
        logs.add_response(
            "filter_log_events", {"events": [], "nextToken": f"p{page + 1}"}, expected
        )
    patterns = request_id_patterns([i.request_id or "" for i in invocations])
    assert len(patterns) == 2
    for pattern in patterns:
        ids = [rid(n) for n in range(1, 51) if f'"{rid(n)}"' in pattern]
        events = [
            e for n in range(1, 51) if rid(n) in ids for e in lines_of(n) if rid(n) in e["message"]
        ]
        logs.add_response(
            "filter_log_events", {"events": events}, dict(base, filterPattern=pattern)
        )
    found = fetch_lambda_logs(invocations, OPTIONS, "us-west-2", clients=clients, limiter=no_wait())
    assert len(found.by_attempt) == 50
    assert all(len(logs.lines) == 3 for logs in found.by_attempt.values())
    assert any("plain print() lines are not shown" in w for w in found.warnings)


def test_request_id_patterns_are_quoted_and_within_the_limit() -> None:
    ids = [rid(n) for n in range(60)]
    patterns = request_id_patterns(ids + ids[:5])  # duplicates are dropped
    assert all(len(p) <= FILTER_PATTERN_LIMIT for p in patterns)
    terms = [t for p in patterns for t in p.split(" ")]
    assert terms == [f'?"{i}"' for i in ids]
    assert request_id_patterns([]) == []


def test_denied_function_configuration_falls_back_to_default_group(clients: Clients) -> None:
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    lam.add_client_error("get_function_configuration", "AccessDeniedException", "nope")
    logs.add_response("filter_log_events", {"events": lines_of(1)})
    found = fetch_lambda_logs(
        [invocation("split", 1)], OPTIONS, "us-west-2", clients=clients, limiter=no_wait()
    )
    assert found.log_groups == {"split": "/aws/lambda/split"}
    assert len(found.warnings) == 1
    assert "lambda:GetFunctionConfiguration" in found.warnings[0]
    assert "default group /aws/lambda/split" in found.warnings[0]
    assert len(found.by_attempt[101].lines) == 4


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("AccessDeniedException", "access denied (logs:FilterLogEvents on /aws/lambda/a)"),
        ("ResourceNotFoundException", "log group /aws/lambda/a does not exist"),
        ("ThrottlingException", "throttled by AWS on FilterLogEvents"),
    ],
)
def test_unreadable_group_is_one_warning_and_others_still_read(
    clients: Clients, code: str, says: str
) -> None:
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    lam.add_response("get_function_configuration", config("a"), {"FunctionName": "a"})
    lam.add_response("get_function_configuration", config("b"), {"FunctionName": "b"})
    logs.add_client_error("filter_log_events", code, "message from AWS")
    logs.add_response("filter_log_events", {"events": lines_of(2)})
    # one worker at a time keeps the stubbed responses in order
    from sfn_trace.sources.aws import logs as module

    original = module.MAX_PARALLEL_GROUPS
    module.MAX_PARALLEL_GROUPS = 1
    try:
        found = fetch_lambda_logs(
            [invocation("a", 1), invocation("b", 2)],
            OPTIONS,
            "us-west-2",
            clients=clients,
            limiter=no_wait(),
        )
    finally:
        module.MAX_PARALLEL_GROUPS = original
    assert len(found.warnings) == 1
    assert found.warnings[0].startswith("logs of a not read: ")
    assert says in found.warnings[0]
    assert 101 not in found.by_attempt
    assert len(found.by_attempt[102].lines) == 4


def test_invocations_without_lines_are_reported(clients: Clients) -> None:
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    lam.add_response("get_function_configuration", config("a"), {"FunctionName": "a"})
    logs.add_response("filter_log_events", {"events": []})
    found = fetch_lambda_logs(
        [invocation("a", 1)], OPTIONS, "us-west-2", clients=clients, limiter=no_wait()
    )
    assert found.by_attempt[101].lines == ()
    assert "no log lines in /aws/lambda/a for 1 of 1 invocation(s)" in found.warnings[0]
    assert "retention" in found.warnings[0]


def test_legacy_invocation_matched_by_time_window(clients: Clients) -> None:
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    lam.add_response("get_function_configuration", config("old"), {"FunctionName": "old"})
    logs.add_response("filter_log_events", {"events": lines_of(1)})
    found = fetch_lambda_logs(
        [invocation("old", 1, request_id=False)],
        OPTIONS,
        "us-west-2",
        clients=clients,
        limiter=no_wait(),
    )
    assert found.by_attempt[101].matched_by == "time_window"
    assert found.by_attempt[101].request_id == rid(1)


def test_no_invocations_no_calls(clients: Clients) -> None:
    assert fetch_lambda_logs([], OPTIONS, "us-west-2", clients=clients).by_attempt == {}


class MeetingClients:
    """Lambda and CloudWatch Logs clients whose calls each wait (up to 10 s, never in a
    passing run) until ``together`` calls of their operation have started: a call made only
    after another one ended would wait in vain, and the test fail."""

    def __init__(self, together: int) -> None:
        self.together = together
        self.lock = threading.Lock()
        self.started: dict[str, int] = {}
        self.all_in = {op: threading.Event() for op in ("lookup", "filter")}
        self.alone: list[str] = []

    def __call__(self, service: str, region: str) -> Any:
        return self

    def _meet(self, operation: str, what: str) -> None:
        with self.lock:
            self.started[operation] = self.started.get(operation, 0) + 1
            if self.started[operation] == self.together:
                self.all_in[operation].set()
        if not self.all_in[operation].wait(10):
            self.alone.append(what)

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        self._meet("lookup", FunctionName)
        return {"FunctionName": FunctionName, "LoggingConfig": {"LogGroup": f"/g/{FunctionName}"}}

    def filter_log_events(self, **params: Any) -> dict[str, Any]:
        self._meet("filter", params["logGroupName"])
        n = int(params["logGroupName"].rsplit("-", 1)[1])
        return {"events": lines_of(n)}


def test_every_lookup_and_every_group_read_are_in_flight_together() -> None:
    """The seed's shape: four functions in four log groups. The four GetFunctionConfiguration
    calls are in flight together, then the four FilterLogEvents."""
    meeting = MeetingClients(together=4)
    invocations = [invocation(f"fn-{n}", n) for n in range(1, 5)]
    found = fetch_lambda_logs(invocations, OPTIONS, "us-west-2", clients=meeting)
    assert meeting.alone == []
    assert meeting.started == {"lookup": 4, "filter": 4}
    assert sorted(found.log_groups.values()) == [f"/g/fn-{n}" for n in range(1, 5)]
    assert all(len(logs.lines) == 4 for logs in found.by_attempt.values())
    assert found.warnings == ()


def test_lookups_begun_early_are_not_asked_again(clients: Clients) -> None:
    """The functions a definition names are looked up while the history is on its way
    (EarlyLookups); the fetch after the history takes those answers: one
    GetFunctionConfiguration per function in all, and one for a function never invoked."""
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    for name in ("split", "never-invoked"):
        lam.add_response("get_function_configuration", config(name), {"FunctionName": name})
    early = EarlyLookups(
        [("split", "split", "us-west-2"), ("never-invoked", "never-invoked", "us-west-2")],
        OPTIONS,
        clients,
    )
    assert early.result("split", "us-west-2") == ("/aws/lambda/split", None)
    assert early.result("split", "eu-west-1") is None  # another region: not begun
    logs.add_response(
        "filter_log_events",
        {"events": lines_of(1)},
        {"logGroupName": "/aws/lambda/split", "startTime": MS - 1000, "endTime": MS + 11_500},
    )
    found = fetch_lambda_logs(
        [invocation("split", 1)],
        OPTIONS,
        "us-west-2",
        clients=clients,
        limiter=no_wait(),
        early=early,
    )
    assert found.log_groups == {"split": "/aws/lambda/split"} and found.warnings == ()
    assert len(found.by_attempt[101].lines) == 4  # and the fixture: no lookup left unasked


def test_an_early_lookup_that_failed_says_so_as_a_late_one_would(clients: Clients) -> None:
    lam = clients.stub("lambda")
    lam.add_client_error(
        "get_function_configuration", "AccessDeniedException", "denied", 400, {"FunctionName": "x"}
    )
    early = EarlyLookups([("x", "x", "us-west-2")], OPTIONS, clients)
    group, warning = early.result("x", "us-west-2") or ("", None)
    assert group == "/aws/lambda/x"
    assert warning is not None and warning.endswith(
        "reading its logs from the default group /aws/lambda/x"
    )


def test_a_big_definition_begins_no_lookup() -> None:
    """More functions than are looked up at once: none begins (the bucket is kept for those
    the history invoked, looked up after it)."""
    asked: list[str] = []

    class Lambda:
        def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
            asked.append(FunctionName)
            return {"FunctionName": FunctionName}

    many = [(f"fn-{n}", f"fn-{n}", "us-west-2") for n in range(MAX_PARALLEL_LOOKUPS + 1)]
    early = EarlyLookups(many, OPTIONS, lambda service, region: Lambda())
    assert early.result("fn-0", "us-west-2") is None and asked == []


def test_a_group_read_early_over_the_execution_window_is_not_read_again(clients: Clients) -> None:
    """A finished execution: each named function's group is read over the execution's
    window as soon as it is known; the fetch after the history takes, from that read, the
    lines its own window's query returns (here: not the line of another execution before
    the window), and asks nothing more."""
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    lam.add_response("get_function_configuration", config("split"), {"FunctionName": "split"})
    window = (MS - 60_000, MS + 60_000)
    before = {
        "logStreamName": "other",
        "timestamp": MS - 30_000,
        "message": "another execution's line\n",
        "ingestionTime": MS,
        "eventId": "0-0",
    }
    logs.add_response(
        "filter_log_events",
        {"events": [before, *lines_of(1)]},
        {"logGroupName": "/aws/lambda/split", "startTime": window[0], "endTime": window[1]},
    )
    early = EarlyLookups([("split", "split", "us-west-2")], OPTIONS, clients, window)
    assert early.result("split", "us-west-2") == ("/aws/lambda/split", None)
    found = fetch_lambda_logs(
        [invocation("split", 1)], OPTIONS, "us-west-2", clients=clients, early=early
    )
    assert found.warnings == ()
    messages = [line.message for line in found.by_attempt[101].lines]
    assert messages[0].startswith("START") and len(messages) == 4
    assert not any("another execution" in message for message in messages)


def test_an_early_read_of_more_than_one_page_is_left_for_after_the_history(
    clients: Clients,
) -> None:
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    lam.add_response("get_function_configuration", config("split"), {"FunctionName": "split"})
    window = (MS - 60_000, MS + 60_000)
    logs.add_response(
        "filter_log_events",
        {"events": lines_of(1)[:2], "nextToken": "more"},
        {"logGroupName": "/aws/lambda/split", "startTime": window[0], "endTime": window[1]},
    )
    early = EarlyLookups([("split", "split", "us-west-2")], OPTIONS, clients, window)
    assert early.result("split", "us-west-2") == ("/aws/lambda/split", None)
    logs.add_response(  # the group's own window, read after the history
        "filter_log_events",
        {"events": lines_of(1)},
        {"logGroupName": "/aws/lambda/split", "startTime": MS - 1000, "endTime": MS + 11_500},
    )
    found = fetch_lambda_logs(
        [invocation("split", 1)], OPTIONS, "us-west-2", clients=clients, early=early
    )
    assert len(found.by_attempt[101].lines) == 4 and found.warnings == ()


def test_a_window_that_does_not_hold_the_invocations_is_read_again(clients: Clients) -> None:
    """An invocation that outlasted the execution (aborted while the function ran): its
    own window reaches past the early read's, which is not used."""
    lam, logs = clients.stub("lambda"), clients.stub("logs")
    lam.add_response("get_function_configuration", config("split"), {"FunctionName": "split"})
    window = (MS - 60_000, MS + 5_000)  # ends before the invocation's window does
    logs.add_response(
        "filter_log_events",
        {"events": []},
        {"logGroupName": "/aws/lambda/split", "startTime": window[0], "endTime": window[1]},
    )
    early = EarlyLookups([("split", "split", "us-west-2")], OPTIONS, clients, window)
    assert early.result("split", "us-west-2") is not None
    logs.add_response(
        "filter_log_events",
        {"events": lines_of(1)},
        {"logGroupName": "/aws/lambda/split", "startTime": MS - 1000, "endTime": MS + 11_500},
    )
    found = fetch_lambda_logs(
        [invocation("split", 1)], OPTIONS, "us-west-2", clients=clients, early=early
    )
    assert len(found.by_attempt[101].lines) == 4


def test_more_functions_than_the_read_burst_are_looked_up_but_not_read() -> None:
    asked: list[str] = []

    class Service:
        def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
            asked.append(FunctionName)
            return {"FunctionName": FunctionName}

        def filter_log_events(self, **params: Any) -> dict[str, Any]:
            raise AssertionError("no group is read early")

    six = [(f"fn-{n}", f"fn-{n}", "us-west-2") for n in range(6)]  # the burst is 5
    early = EarlyLookups(six, OPTIONS, lambda service, region: Service(), (MS, MS + 1000))
    assert all(early.result(f"fn-{n}", "us-west-2") is not None for n in range(6))
    assert sorted(asked) == [f"fn-{n}" for n in range(6)]
    assert early.lines("us-west-2", "/aws/lambda/fn-0", MS, MS + 1000) is None
