"""A GetExecutionHistory page decoded by msgspec is what botocore's own parser gives.

Every recorded AWS history and every fixture is put back on the wire as AWS sends it (JSON
1.0, timestamps as epoch seconds), in pages of 1,000 events, and read both ways: by
botocore's JSON parser walking the output shape and by :mod:`sfn_trace.sources.aws.pages`.
The two must be equal, and a whole client built from sfn-trace's session must read a page
through the fast path.
"""

from __future__ import annotations

import gc
import json
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import PROTOCOL_PARSERS, JSONParser

from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws import pages
from sfn_trace.sources.aws.client import _timestamp, new_session
from tests.data import corpus_history, corpus_names, fixture_history, fixture_names

OUTPUT = (
    botocore.session.get_session()
    .get_service_model("stepfunctions")
    .operation_model("GetExecutionHistory")
    .output_shape
)
BOTOCORE = JSONParser(timestamp_parser=_timestamp)


def wire_pages(history: Path, size: int = 1000) -> list[bytes]:
    """The history's events as AWS would send them, ``size`` a page."""
    events = json.loads(history.read_text("utf-8"))["events"]
    for event in events:
        stamp = event.get("timestamp")
        if isinstance(stamp, str):
            event["timestamp"] = datetime.fromisoformat(stamp).timestamp()
    bodies = []
    for start in range(0, max(len(events), 1), size):
        page: dict[str, Any] = {"events": events[start : start + size]}
        if start + size < len(events):
            page["nextToken"] = f"token-{start + size}"
        bodies.append(json.dumps(page).encode("utf-8"))
    return bodies


def both(body: bytes) -> tuple[Any, Any]:
    return (
        BOTOCORE._handle_json_body(body, OUTPUT),
        pages.decode_page(body, _timestamp),
    )


@pytest.mark.parametrize(
    "history",
    [corpus_history(name) for name in corpus_names()]
    + [fixture_history(name) for name in fixture_names()],
    ids=lambda path: path.name,
)
def test_every_recorded_page_decodes_as_botocore_reads_it(history: Path) -> None:
    for body in wire_pages(history):
        theirs, ours = both(body)
        assert ours == theirs


def test_nulls_are_left_out_as_botocore_leaves_them_out() -> None:
    body = json.dumps(
        {
            "events": [
                {
                    "id": 1,
                    "previousEventId": None,
                    "timestamp": 1_700_000_000.5,
                    "type": "ExecutionStarted",
                    "executionStartedEventDetails": {
                        "input": "{}",
                        "roleArn": None,
                        "inputDetails": {"truncated": None},
                    },
                }
            ],
            "nextToken": None,
        }
    ).encode()
    theirs, ours = both(body)
    assert ours == theirs
    assert ours == {
        "events": [
            {
                "id": 1,
                "timestamp": _timestamp(1_700_000_000.5),
                "type": "ExecutionStarted",
                "executionStartedEventDetails": {"input": "{}", "inputDetails": {}},
            }
        ]
    }


def test_a_member_botocore_does_not_model_yet_is_kept() -> None:
    event = {"id": 1, "previousEventId": 0, "timestamp": 1.0, "type": "FutureThing"}
    body = json.dumps(
        {"events": [{**event, "futureThingEventDetails": {"name": "S", "input": "{}"}}]}
    ).encode()
    theirs, ours = both(body)
    assert theirs == {"events": [{**event, "timestamp": _timestamp(1.0)}]}
    assert ours["events"][0]["futureThingEventDetails"] == {"name": "S", "input": "{}"}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"events": {"id": 1}}',
        b'{"events": [1]}',
        b'{"events": [], "x": 1e400}',
        b'{"events": [{"id": 1, "type": "\\ud800"}]}',
        '{"events": [{"type": "caf\xe9"}]}'.encode("latin-1"),
    ],
    ids=[
        "not-json",
        "a-list",
        "events-not-a-list",
        "event-not-an-object",
        "huge",
        "lone",
        "latin1",
    ],
)
def test_what_msgspec_refuses_or_is_no_page_goes_botocores_way(body: bytes) -> None:
    assert pages.decode_page(body, _timestamp) is None
    parser = pages.ParserFactory().create_parser("json")
    try:
        expected = BOTOCORE._handle_json_body(body, OUTPUT)
    except Exception as error:
        with pytest.raises(type(error)):
            parser._handle_json_body(body, OUTPUT)
    else:
        assert parser._handle_json_body(body, OUTPUT) == expected


def test_other_protocols_and_shapes_are_botocores() -> None:
    factory = pages.ParserFactory()
    factory.set_parser_defaults(timestamp_parser=_timestamp)
    assert type(factory.create_parser("rest-json")) is type(
        botocore.parsers.create_parser("rest-json")
    )
    describe = (
        botocore.session.get_session()
        .get_service_model("stepfunctions")
        .operation_model("DescribeExecution")
        .output_shape
    )
    body = json.dumps({"executionArn": "a", "startDate": 1.5, "status": "SUCCEEDED"}).encode()
    parser = factory.create_parser("json")
    assert parser._handle_json_body(body, describe) == BOTOCORE._handle_json_body(body, describe)


@pytest.mark.parametrize("protocol", sorted(PROTOCOL_PARSERS))
def test_each_parser_is_freed_as_soon_as_it_is_dropped(protocol: str) -> None:
    """botocore makes a parser per answer; left to itself, a parser keeps a method bound to
    itself (its blob reader), a cycle that only the collector frees, and the program runs
    without it. The factory's parsers are freed by reference counting alone, and read blobs
    as botocore's default does."""
    factory = pages.ParserFactory()
    factory.set_parser_defaults(timestamp_parser=_timestamp)
    enabled = gc.isenabled()
    gc.disable()
    try:
        parser = factory.create_parser(protocol)
        assert parser._blob_parser("aGVsbG8=") == b"hello"
        freed = weakref.ref(parser)
        del parser
        assert freed() is None
    finally:
        if enabled:
            gc.enable()


def test_sfn_traces_session_reads_pages_the_fast_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through a whole client of sfn-trace's session: the page answer, an error answer."""
    decoded: list[bytes] = []
    real = pages.decode_page

    def spy(body: bytes, timestamp: Any) -> Any:
        decoded.append(body)
        return real(body, timestamp)

    monkeypatch.setattr(pages, "decode_page", spy)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    session = new_session(AwsOptions(), "us-east-1")
    client = session.client("stepfunctions")
    body = wire_pages(fixture_history(fixture_names()[0]))[0]
    with _answers(client, [(200, body), (400, b'{"__type": "ExecutionDoesNotExist"}')]):
        page = client.get_execution_history(executionArn="arn")
        with pytest.raises(ClientError) as error:
            client.get_execution_history(executionArn="arn")
    assert decoded == [body]
    assert {k: v for k, v in page.items() if k != "ResponseMetadata"} == both(body)[0]
    assert error.value.response["Error"]["Code"] == "ExecutionDoesNotExist"


class _answers:
    """The client's HTTP answers, in turn, without a network (botocore's ``before-send``)."""

    def __init__(self, client: Any, answers: list[tuple[int, bytes]]) -> None:
        self.client, self.answers = client, list(answers)

    def send(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        status, body = self.answers.pop(0)
        raw = _Raw(body)
        return AWSResponse(request.url, status, {"x-amzn-requestid": "r"}, raw)

    def __enter__(self) -> None:
        self.client.meta.events.register("before-send.states.*", self.send)

    def __exit__(self, *_: object) -> None:
        self.client.meta.events.unregister("before-send.states.*", self.send)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body
