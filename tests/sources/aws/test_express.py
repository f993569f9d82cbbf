"""sfn_trace.sources.aws.express: the Express API sequence against botocore's Stubber, then end
to end.

Stubber validates every request and response against the real service models, so the call
sequence here (DescribeStateMachine, FilterLogEvents search and window, paginated) is the one
AWS accepts. moto keeps no execution logs (gap 12) and matches every record with a JSON filter
pattern (gap 15), so the end-to-end tests write the records themselves, re-enveloped from a
history moto produced, and check that the client-side filter keeps only the execution's own.
"""

from __future__ import annotations

import dataclasses
import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.cli import app
from sfn_trace.errors import AwsError, ExitCode, SfnTraceError
from sfn_trace.model.events import parse_timestamp
from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.options import AwsOptions
from sfn_trace.report.trace.json import to_document
from sfn_trace.sources.aws import express as express_fetch
from sfn_trace.sources.aws.express import SEARCH_LOOKBACK, fetch_express_execution
from sfn_trace.sources.aws.history import fetch_execution
from sfn_trace.sources.aws.pacing import TokenBucket
from sfn_trace.sources.express_records import ExpressLoggingError, filter_pattern
from sfn_trace.sources.files import load_history_file, read_json
from sfn_trace.trace import Verdict, analyze
from tests.data import DEFINITION as DEFINITION_FILE
from tests.data import fixture_history
from tests.express_records import to_messages

HISTORY = fixture_history("flat_split_drops_key")
FIELD = "poll_results_s3_key"
REGION = "eu-central-1"
MACHINE = "line-ingest-express"
SM_ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:{MACHINE}"
ARN = f"arn:aws:states:{REGION}:123456789012:express:{MACHINE}:run-42:6a2cf1d4-53a8-4a59"
STANDARD_ARN = f"arn:aws:states:{REGION}:123456789012:execution:{MACHINE}:run-42"
GROUP = f"/aws/vendedlogs/states/{MACHINE}"
GROUP_ARN = f"arn:aws:logs:{REGION}:123456789012:log-group:{GROUP}:*"
RAW_EVENTS: list[dict[str, Any]] = read_json(HISTORY)["events"]


def stamp(event: dict[str, Any]) -> datetime:
    moment = parse_timestamp(event["timestamp"])
    assert moment is not None
    return moment


T_START = stamp(RAW_EVENTS[0])
T_STOP = stamp(RAW_EVENTS[-1])
NOW = T_STOP + timedelta(hours=3)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class CountingLimiter(TokenBucket):
    def __init__(self) -> None:
        super().__init__(1000, 1000.0, clock=lambda: 0.0, sleep=lambda _: None)
        self.waits = 0

    def wait(self) -> float:
        self.waits += 1
        return 0.0


@pytest.fixture
def sfn() -> Any:
    return boto3.client(
        "stepfunctions",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def logs() -> Any:
    return boto3.client(
        "logs", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture
def sfn_stub(sfn: Any) -> Any:
    with Stubber(sfn) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def logs_stub(logs: Any) -> Any:
    with Stubber(logs) as stub:
        yield stub
        stub.assert_no_pending_responses()


def describe_response(logging: dict[str, Any] | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "stateMachineArn": SM_ARN,
        "name": MACHINE,
        "definition": DEFINITION_FILE.read_text(),
        "roleArn": "arn:aws:iam::123456789012:role/sfn",
        "type": "EXPRESS",
        "creationDate": T_START - timedelta(days=30),
    }
    if logging is not None:
        response["loggingConfiguration"] = logging
    return response


ALL_WITH_DATA = {
    "level": "ALL",
    "includeExecutionData": True,
    "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": GROUP_ARN}}],
}


def add_describe(stub: Stubber, logging: dict[str, Any] | None = ALL_WITH_DATA) -> None:
    stub.add_response(
        "describe_state_machine", describe_response(logging), {"stateMachineArn": SM_ARN}
    )


def log_events(messages: list[str]) -> list[dict[str, Any]]:
    events = []
    for position, message in enumerate(messages):
        record = json.loads(message)
        events.append(
            {
                "logStreamName": f"states/{MACHINE}/2026-11-25-23-14/00000001",
                "timestamp": int(record["event_timestamp"]),
                "message": message,
                "ingestionTime": int(record["event_timestamp"]) + 900,
                "eventId": f"{position:056d}",
            }
        )
    return events


def add_filter(
    stub: Stubber,
    messages: list[str],
    begin: datetime,
    end: datetime,
    *,
    token: str | None = None,
    next_token: str | None = None,
    arn: str = ARN,
) -> None:
    params: dict[str, Any] = {
        "logGroupName": GROUP,
        "filterPattern": filter_pattern(arn),
        "startTime": ms(begin),
        "endTime": ms(end),
    }
    if token:
        params["nextToken"] = token
    response: dict[str, Any] = {"events": log_events(messages)}
    if next_token:
        response["nextToken"] = next_token
    stub.add_response("filter_log_events", response, params)


def fetch(sfn: Any, logs: Any, **kwargs: Any) -> ExecutionData:
    kwargs.setdefault("limiter", CountingLimiter())
    return fetch_express_execution(
        kwargs.pop("arn", ARN), client=sfn, logs_client=logs, now=lambda: NOW, **kwargs
    )


def standard() -> ExecutionData:
    return load_history_file(HISTORY, DEFINITION_FILE)


def assert_same_trace(data: ExecutionData) -> None:
    # The same execution seen two ways: same facts, so that replaying $$.Execution.* agrees.
    same_execution = dataclasses.replace(standard(), info=data.info)
    expected, got = analyze(same_execution, FIELD), analyze(data, FIELD)
    assert got.verdict is expected.verdict is Verdict.LOST
    assert got.first_null is not None and expected.first_null is not None
    assert got.first_null.visit.state == expected.first_null.visit.state == "SplitIntoChunks"
    one, other = to_document(expected), to_document(got)
    for document in (one, other):
        document.pop("execution")
        document.pop("warnings")
    assert one == other


def assert_one_line(error: SfnTraceError, code: ExitCode) -> str:
    assert error.exit_code == code
    assert "\n" not in error.message and "Traceback" not in error.message
    return error.message


# --- the API sequence ------------------------------------------------------------------------


def test_express_arn_searches_then_reads_the_window(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber
) -> None:
    messages = to_messages(RAW_EVENTS, ARN)
    random.Random(3).shuffle(messages)
    add_describe(sfn_stub)
    search = (NOW - SEARCH_LOOKBACK, NOW)
    # The search: an empty page with a nextToken (AWS does that), then a page with one record.
    add_filter(logs_stub, [], *search, next_token="t1")
    middle = next(m for m in messages if json.loads(m)["id"] == "11")
    add_filter(logs_stub, [middle], *search, token="t1", next_token="t2")
    # The window around it (start and end unknown from one record: 5 minutes either side).
    at = stamp(RAW_EVENTS[10])
    window = (at - timedelta(minutes=5, seconds=1), at + timedelta(minutes=6))
    add_filter(logs_stub, messages[:20], *window, next_token="w1")
    add_filter(logs_stub, [], *window, token="w1", next_token="w2")
    add_filter(logs_stub, messages[20:], *window, token="w2")
    pages: list[tuple[int, int]] = []
    limiter = CountingLimiter()

    data = fetch(sfn, logs, limiter=limiter, on_page=lambda p, n: pages.append((p, n)))

    assert limiter.waits == 5, "every FilterLogEvents call is paced"
    assert [p for p, _ in pages] == [1, 2, 3, 4, 5]
    assert data.info.arn == ARN and data.info.name == "run-42"
    assert data.info.status == "SUCCEEDED"
    assert data.info.state_machine_arn == SM_ARN
    assert (data.info.start, data.info.stop) == (T_START, T_STOP)
    assert data.definition is not None and data.source == "aws"
    assert data.warnings == ()
    assert_same_trace(data)


def test_search_window_uses_start_and_end_records_when_found(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber
) -> None:
    messages = to_messages(RAW_EVENTS, ARN)
    add_describe(sfn_stub)
    add_filter(logs_stub, [messages[0], messages[-1]], NOW - SEARCH_LOOKBACK, NOW, next_token="x")
    window = (T_START - timedelta(seconds=1), T_STOP + timedelta(seconds=60))
    add_filter(logs_stub, messages, *window)
    assert_same_trace(fetch(sfn, logs))


def test_standard_arn_with_a_log_group_takes_the_window_from_describe_execution(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber
) -> None:
    messages = to_messages(RAW_EVENTS, STANDARD_ARN)
    add_describe(sfn_stub)
    sfn_stub.add_response(
        "describe_execution",
        {
            "executionArn": STANDARD_ARN,
            "stateMachineArn": SM_ARN,
            "name": "run-42",
            "status": "SUCCEEDED",
            "startDate": T_START,
            "stopDate": T_STOP,
        },
        {"executionArn": STANDARD_ARN},
    )
    window = (T_START - timedelta(seconds=1), T_STOP + timedelta(seconds=60))
    add_filter(logs_stub, messages, *window, arn=STANDARD_ARN)
    data = fetch(sfn, logs, arn=STANDARD_ARN, log_group=GROUP)
    assert data.info.status == "SUCCEEDED" and data.info.name == "run-42"
    assert_same_trace(data)


def test_standard_arn_whose_history_expired_is_searched(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber
) -> None:
    messages = to_messages(RAW_EVENTS, STANDARD_ARN)
    add_describe(sfn_stub)
    sfn_stub.add_client_error(
        "describe_execution", "ExecutionDoesNotExist", "Execution Does Not Exist"
    )
    add_filter(logs_stub, messages[:1], NOW - SEARCH_LOOKBACK, NOW, arn=STANDARD_ARN)
    window = (T_START - timedelta(seconds=1), T_STOP + timedelta(seconds=60))
    window = (window[0], stamp(RAW_EVENTS[0]) + timedelta(minutes=6))
    add_filter(logs_stub, messages, *window, arn=STANDARD_ARN)
    assert_same_trace(fetch(sfn, logs, arn=STANDARD_ARN, log_group=GROUP_ARN))


@pytest.mark.parametrize(
    ("logging", "expected"),
    [
        (None, "logging is off"),
        ({"level": "OFF"}, "logging is off"),
        ({**ALL_WITH_DATA, "level": "ERROR"}, "logging level of"),
        ({**ALL_WITH_DATA, "level": "FATAL"}, "is FATAL"),
        ({**ALL_WITH_DATA, "includeExecutionData": False}, "includeExecutionData false"),
    ],
    ids=["absent", "off", "error", "fatal", "no-data"],
)
def test_logging_that_cannot_hold_the_history_exits_4_before_reading_logs(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber, logging: Any, expected: str
) -> None:
    add_describe(sfn_stub, logging)
    with pytest.raises(ExpressLoggingError) as caught:
        fetch(sfn, logs)
    message = assert_one_line(caught.value, ExitCode.INCOMPLETE)
    assert expected in message and SM_ARN in message
    assert "level ALL with includeExecutionData true" in message


def test_a_named_log_group_is_read_even_when_logging_looks_off(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber
) -> None:
    add_describe(sfn_stub, {"level": "OFF"})
    messages = to_messages(RAW_EVENTS, ARN)
    window = (T_START - timedelta(seconds=1), T_STOP + timedelta(seconds=60))
    add_filter(logs_stub, messages, NOW - SEARCH_LOOKBACK, NOW)
    add_filter(logs_stub, messages, *window)
    data = fetch(sfn, logs, log_group=GROUP)
    assert len(data.warnings) == 1 and "logging is off" in data.warnings[0]
    assert "as express_log_group= asks" in data.warnings[0]


def test_a_named_log_group_without_describe_permission_warns_and_reads(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber
) -> None:
    sfn_stub.add_client_error("describe_state_machine", "AccessDeniedException", "no")
    messages = to_messages(RAW_EVENTS, ARN)
    window = (T_START - timedelta(seconds=1), T_STOP + timedelta(seconds=60))
    add_filter(logs_stub, messages, NOW - SEARCH_LOOKBACK, NOW)
    add_filter(logs_stub, messages, *window)
    data = fetch(sfn, logs, log_group=GROUP)
    assert data.definition is None
    (warning,) = data.warnings
    assert "states:DescribeStateMachine" in warning and "without the definition" in warning


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDeniedException", "access denied"),
        ("StateMachineDoesNotExist", "state machine not found"),
        ("ThrottlingException", "throttled"),
    ],
)
def test_describe_state_machine_failures_exit_3(
    sfn: Any, logs: Any, sfn_stub: Stubber, code: str, expected: str
) -> None:
    sfn_stub.add_client_error("describe_state_machine", code, "message")
    with pytest.raises(AwsError) as caught:
        fetch(sfn, logs)
    assert expected in assert_one_line(caught.value, ExitCode.AWS)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ResourceNotFoundException", f"log group {GROUP} does not exist"),
        ("AccessDeniedException", f"logs:FilterLogEvents on {GROUP}"),
        ("ThrottlingException", "throttled by AWS on FilterLogEvents"),
    ],
)
def test_filter_log_events_failures_exit_3(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber, code: str, expected: str
) -> None:
    add_describe(sfn_stub)
    logs_stub.add_client_error("filter_log_events", code, "message")
    with pytest.raises(AwsError) as caught:
        fetch(sfn, logs)
    assert expected in assert_one_line(caught.value, ExitCode.AWS)


def test_no_records_in_the_lookback_exits_3(
    sfn: Any,
    logs: Any,
    sfn_stub: Stubber,
    logs_stub: Stubber,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(express_fetch, "SEARCH_PAGE_LIMIT", 2)
    add_describe(sfn_stub)
    other = to_messages(RAW_EVENTS[:3], ARN.replace("run-42", "run-43"))
    add_filter(logs_stub, other, NOW - SEARCH_LOOKBACK, NOW, next_token="a")
    add_filter(logs_stub, [], NOW - SEARCH_LOOKBACK, NOW, token="a", next_token="b")
    with pytest.raises(AwsError) as caught:
        fetch(sfn, logs)
    message = assert_one_line(caught.value, ExitCode.AWS)
    assert "no execution records" in message and "last 14 days" in message


def test_records_without_a_terminal_event_make_the_answer_unknown(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber
) -> None:
    messages = to_messages(RAW_EVENTS[:-1], ARN)  # ExecutionSucceeded never delivered
    add_describe(sfn_stub)
    add_filter(logs_stub, messages[:1], NOW - SEARCH_LOOKBACK, NOW)
    window = (T_START - timedelta(seconds=1), T_START + timedelta(minutes=6))
    add_filter(logs_stub, messages, *window)
    data = fetch(sfn, logs)
    assert data.info.status == "UNKNOWN" and data.info.stop is None
    assert any("best effort" in w for w in data.warnings)
    result = analyze(data, FIELD)
    assert result.verdict is Verdict.UNKNOWN and result.exit_code == ExitCode.INCOMPLETE


def test_fetch_execution_reads_express_arns_from_the_logs(
    sfn: Any, logs: Any, sfn_stub: Stubber, logs_stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Standard fetch hands an Express ARN over (no GetExecutionHistory call)."""
    seen: dict[str, Any] = {}

    marker: Any = object()

    def fake(arn: str, options: Any, **kwargs: Any) -> Any:
        seen.update(arn=arn, **kwargs)
        return marker

    monkeypatch.setattr("sfn_trace.sources.aws.history.fetch_express_execution", fake)
    assert fetch_execution(ARN, client=sfn) is marker
    assert seen["arn"] == ARN and seen["client"] is sfn


# --- end to end in moto ----------------------------------------------------------------------

LAB_FIELD = "poll_results_s3_key"
LOSSY = {
    "StartAt": "Normalize",
    "States": {
        "Normalize": {
            "Type": "Pass",
            "Parameters": {"data.$": "$.data", "poll_results_s3_key.$": "$.data.missing"},
            "Next": "Keep",
        },
        "Keep": {"Type": "Pass", "End": True},
    },
}
LAB_INPUT = {"data": {"missing": None}, "poll_results_s3_key": "poll_results/x.json"}


def put_records(lab: Any, group: str, messages: list[str]) -> None:
    lab.logs.create_log_group(logGroupName=group)
    stream = f"states/x/{datetime.now(timezone.utc):%Y-%m-%d-%H-%M}/00000001"
    lab.logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events: list[dict[str, Any]] = sorted(
        ({"timestamp": int(json.loads(m)["event_timestamp"]), "message": m} for m in messages),
        key=lambda e: int(e["timestamp"]),
    )
    lab.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def express_machine(lab: Any, name: str, group: str, **logging: Any) -> str:
    config = {
        "level": "ALL",
        "includeExecutionData": True,
        "destinations": [
            {
                "cloudWatchLogsLogGroup": {
                    "logGroupArn": f"arn:aws:logs:{lab.region}:{lab.account}:log-group:{group}:*"
                }
            }
        ],
        **logging,
    }
    response = lab.sfn.create_state_machine(
        name=name,
        definition=json.dumps(LOSSY),
        roleArn=lab.role_arn,
        type="EXPRESS",
        loggingConfiguration=config,
    )
    return str(response["stateMachineArn"])


@pytest.mark.moto_server
@pytest.mark.usefixtures("aws_env")
def test_an_express_execution_in_moto_traces_like_its_standard_run(lab: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    standard_arn = lab.run(lab.deploy_state_machine(f"std-{tag}", LOSSY), input=LAB_INPUT)
    express_name = f"express-{tag}"
    group = f"/aws/vendedlogs/states/{express_name}"
    express_machine(lab, express_name, group)
    express_arn = (
        f"arn:aws:states:{lab.region}:{lab.account}:express:{express_name}:run-1:{uuid.uuid4()}"
    )
    raw = lab.history(standard_arn)
    # Another execution's records in the same group: moto's JSON filter returns them too.
    other = express_arn.replace("run-1", "run-2")
    put_records(lab, group, [*to_messages(raw, express_arn), *to_messages(raw, other)])
    options = AwsOptions(endpoint_url=lab.endpoint_url, max_attempts=2)

    from_logs = api.load(express_arn, aws=options, logs=False)
    from_history = api.load(standard_arn, aws=options, logs=False)

    assert len(from_logs.events) == len(raw)
    expected, got = analyze(from_history, LAB_FIELD), analyze(from_logs, LAB_FIELD)
    assert got.verdict is expected.verdict is Verdict.LOST
    assert got.first_null is not None and got.first_null.visit.state == "Normalize"
    one, other_doc = to_document(expected), to_document(got)
    for document in (one, other_doc):
        document.pop("execution")
    assert one == other_doc

    result = CliRunner().invoke(
        app,
        [express_arn, "--field", LAB_FIELD, "--format", "json", "--no-logs",
         "--endpoint-url", lab.endpoint_url],
    )  # fmt: skip
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert json.loads(result.stdout)["first_null"]["state"] == "Normalize"


@pytest.mark.moto_server
@pytest.mark.usefixtures("aws_env")
def test_express_log_group_option_reads_a_standard_arn_from_moto(lab: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    name = f"std-logged-{tag}"
    arn = lab.run(lab.deploy_state_machine(name, LOSSY), input=LAB_INPUT)
    group = f"/sfn-trace/{tag}"
    put_records(lab, group, to_messages(lab.history(arn), arn))
    result = CliRunner().invoke(
        app,
        [arn, "--field", LAB_FIELD, "--format", "json", "--no-logs",
         "--express-log-group", group, "--endpoint-url", lab.endpoint_url],
    )  # fmt: skip
    assert result.exit_code == ExitCode.FINDING, result.stderr
    document = json.loads(result.stdout)
    assert document["first_null"]["state"] == "Normalize"
    assert document["execution"]["status"] == "SUCCEEDED"


@pytest.mark.moto_server
@pytest.mark.usefixtures("aws_env")
def test_express_machine_without_execution_data_exits_4_in_one_line(lab: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    name = f"express-nodata-{tag}"
    express_machine(lab, name, f"/nodata/{tag}", includeExecutionData=False)
    arn = f"arn:aws:states:{lab.region}:{lab.account}:express:{name}:run-1:{uuid.uuid4()}"
    result = CliRunner().invoke(
        app, [arn, "--field", LAB_FIELD, "--no-logs", "--endpoint-url", lab.endpoint_url]
    )
    assert result.exit_code == ExitCode.INCOMPLETE, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "includeExecutionData" in lines[0], result.stderr
    assert result.stdout == ""


def test_express_log_group_with_a_file_target_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [str(HISTORY), "--field", FIELD, "--express-log-group", GROUP])
    assert result.exit_code == ExitCode.USAGE
    assert "--express-log-group needs an execution ARN" in result.stderr
