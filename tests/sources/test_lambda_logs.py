"""Splitting a log group's lines per invocation (pure; no AWS)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sfn_trace.model.visits import LambdaInvocation
from sfn_trace.sources.lambda_logs import (
    LogLine,
    assign,
    group_by_request,
    line_request_id,
    readable,
)
from sfn_trace.trace.invocations import split_function

A = "6f1c2a7e-1111-4a5d-b6d5-57022197226a"
B = "6f1c2a7e-2222-4a5d-b6d5-57022197226a"
C = "6f1c2a7e-3333-4a5d-b6d5-57022197226a"
T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
MS = int(T0.timestamp() * 1000)


def text_invocation(rid: str, stream: str, at: int, *messages: str) -> list[LogLine]:
    lines = [LogLine(MS + at, f"START RequestId: {rid} Version: $LATEST\n", stream)]
    for i, message in enumerate(messages, start=1):
        if message.startswith("print:"):
            lines.append(LogLine(MS + at + i, message[6:] + "\n", stream))
        else:
            lines.append(
                LogLine(
                    MS + at + i, f"[INFO]\t2026-11-25T12:00:00.000Z\t{rid}\t{message}\n", stream
                )
            )
    end = at + len(messages) + 1
    lines.append(LogLine(MS + end, f"END RequestId: {rid}\n", stream))
    lines.append(
        LogLine(
            MS + end + 1,
            f"REPORT RequestId: {rid}\tDuration: 1.00 ms\tBilled Duration: 1 ms\n",
            stream,
        )
    )
    return lines


def invocation(rid: str | None, event_id: int, start_ms: int, end_ms: int) -> LambdaInvocation:
    return LambdaInvocation(
        function="fn",
        qualifier=None,
        reference="fn",
        region=None,
        request_id=rid,
        attempt=1,
        start_event_id=event_id,
        start=T0 + timedelta(milliseconds=start_ms),
        end=T0 + timedelta(milliseconds=end_ms),
    )


def test_request_ids_in_every_format() -> None:
    assert line_request_id(f"START RequestId: {A} Version: $LATEST") == (A, "START")
    assert line_request_id(f"REPORT RequestId: {A}\tDuration: 2 ms") == (A, "REPORT")
    assert line_request_id(f"[ERROR]\t2026-11-25T12:00:00.000Z\t{A}\tboom") == (A, None)
    assert line_request_id(f"2026-11-25T12:00:00.000Z\t{A}\tINFO\tnode says hi") == (A, None)
    assert line_request_id(f'{{"level":"INFO","message":"m","requestId":"{A}"}}') == (A, None)
    record = f'{{"time":"t","type":"platform.start","record":{{"requestId":"{A}"}}}}'
    assert line_request_id(record) == (A, "START")
    assert line_request_id("print without an id") == (None, None)
    # a uuid printed by the handler is not a request id
    assert line_request_id(f"processing batch {A}") == (None, None)


def test_print_lines_belong_to_the_open_invocation_of_their_stream() -> None:
    lines = text_invocation(A, "s1", 0, "hello", "print:plain print line") + text_invocation(
        B, "s1", 100, "second", "print:another print"
    )
    by_request, starts = group_by_request(reversed(lines))  # order of arrival does not matter
    assert [readable(line.message) for line in by_request[A]] == [
        "START",
        "[INFO] hello",
        "plain print line",
        "END",
        "REPORT Duration: 1.00 ms, Billed Duration: 1 ms",
    ]
    assert "another print" in [line.message.strip() for line in by_request[B]]
    assert "another print" not in [line.message.strip() for line in by_request[A]]
    assert len(starts) == 2


def test_concurrent_invocations_in_separate_streams_are_not_mixed() -> None:
    lines = text_invocation(A, "s1", 0, "a1", "print:a-print") + text_invocation(
        B, "s2", 1, "b1", "print:b-print"
    )
    found = assign([invocation(A, 5, 0, 50), invocation(B, 9, 0, 50)], "/aws/lambda/fn", lines)
    a = [readable(line.message) for line in found[5].lines]
    b = [readable(line.message) for line in found[9].lines]
    assert "a-print" in a and "b-print" not in a
    assert "b-print" in b and "a-print" not in b
    assert found[5].matched_by == "request_id" and found[5].log_stream == "s1"


def test_time_window_matching_without_request_id() -> None:
    lines = (
        text_invocation(C, "s0", -60_000, "someone else's earlier call")
        + text_invocation(A, "s1", 10, "mine")
        + text_invocation(B, "s2", 5_000, "later call")
    )
    found = assign(
        [invocation(None, 3, 0, 100), invocation(None, 7, 4_900, 5_200)], "/aws/lambda/fn", lines
    )
    assert found[3].request_id == A and found[3].matched_by == "time_window"
    assert found[7].request_id == B
    assert [readable(line.message) for line in found[3].lines][1] == "[INFO] mine"


def test_known_ids_are_not_claimed_by_time_window() -> None:
    lines = text_invocation(A, "s1", 0, "known") + text_invocation(B, "s2", 20, "unknown")
    found = assign([invocation(A, 3, 0, 100), invocation(None, 4, 0, 100)], "g", lines)
    assert found[3].request_id == A
    assert found[4].request_id == B


def test_invocation_without_lines_has_empty_logs() -> None:
    found = assign([invocation(A, 3, 0, 100)], "g", [])
    assert found[3].lines == () and found[3].log_stream is None


def test_readable_json_format() -> None:
    assert readable(f'{{"type":"platform.start","record":{{"requestId":"{A}"}}}}') == "START"
    app = f'{{"timestamp":"t","level":"WARN","message":"careful","requestId":"{A}"}}'
    assert readable(app) == "[WARN] careful"
    report = '{"type":"platform.report","record":{"metrics":{"durationMs":1.5}}}'
    assert readable(report) == "REPORT durationMs: 1.5"
    assert readable("{not json") == "{not json"


def test_split_function_references() -> None:
    assert split_function("my-fn") == ("my-fn", None, None)
    assert split_function("my-fn:prod") == ("my-fn", "prod", None)
    assert split_function("123456789012:function:my-fn:7") == ("my-fn", "7", None)
    assert split_function("arn:aws:lambda:eu-west-1:123456789012:function:my-fn:live") == (
        "my-fn",
        "live",
        "eu-west-1",
    )
