"""sfn_trace.sources.aws against botocore's Stubber (requests validated against the real model).

The Stubber answers at ``before-call``, before retries, signing and sending, so these tests
never sleep and never touch the network. The credential and endpoint tests use real clients
against 127.0.0.1:9 with one attempt; a refused connection returns at once.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.stub import Stubber

from sfn_trace import __version__
from sfn_trace.errors import AwsError, ExitCode, SfnTraceError, UsageError
from sfn_trace.model import events as events_module
from sfn_trace.model.arn import parse_execution_arn
from sfn_trace.model.events import EventKind
from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws.client import Context as _Context
from sfn_trace.sources.aws.client import stepfunctions_client
from sfn_trace.sources.aws.client import translate as _translate
from sfn_trace.sources.aws.history import fetch_execution, read_ahead
from tests.stubbing import OverlapStubber

REGION = "us-west-2"
MACHINE = "line-ingest-sf-dev-1554303"
ARN = (
    f"arn:aws:states:{REGION}:123456789012:execution:{MACHINE}:8ee0d036-2881-4a5d-b6d5-57022197226a"
)
SM_ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:{MACHINE}"
OTHER_REGION_ARN = ARN.replace(REGION, "eu-central-1")
EXPRESS_ARN = (
    f"arn:aws:states:{REGION}:123456789012:express:line-ingest-express:"
    "run-42:6a2cf1d4-53a8-4a59-a0a6-0bb2a4d3e1f7"
)
DEFINITION = '{"StartAt": "Normalize", "States": {"Normalize": {"Type": "Pass", "End": true}}}'
T0 = datetime(2024, 4, 24, 11, 54, 30, tzinfo=timezone.utc)
UNREACHABLE = "http://127.0.0.1:9"


# --------------------------------------------------------------------------- helpers


def history_params(next_token: str | None = None, arn: str = ARN) -> dict[str, Any]:
    params: dict[str, Any] = {
        "executionArn": arn,
        "includeExecutionData": True,
        "reverseOrder": False,
        "maxResults": 1000,
    }
    if next_token is not None:
        params["nextToken"] = next_token
    return params


def make_events(first_id: int, count: int) -> list[dict[str, Any]]:
    """``count`` consecutive Pass-state events starting at ``first_id``."""
    events = []
    for event_id in range(first_id, first_id + count):
        entered = event_id % 2 == 0
        details = {"name": "Normalize"}
        if entered:
            details["input"] = '{"lineId": "L-1"}'
        else:
            details["output"] = '{"lineId": "L-1"}'
        events.append(
            {
                "id": event_id,
                "previousEventId": event_id - 1,
                "timestamp": T0 + timedelta(milliseconds=event_id),
                "type": "PassStateEntered" if entered else "PassStateExited",
                "stateEnteredEventDetails" if entered else "stateExitedEventDetails": details,
            }
        )
    return events


def add_describe(stub: Stubber, status: str = "SUCCEEDED", arn: str = ARN) -> None:
    response: dict[str, Any] = {
        "executionArn": arn,
        "stateMachineArn": SM_ARN,
        "name": arn.rsplit(":", 1)[1],
        "status": status,
        "startDate": T0,
    }
    if status != "RUNNING":
        response["stopDate"] = T0 + timedelta(seconds=5)
    stub.add_response("describe_execution", response, {"executionArn": arn})


def add_definition(stub: Stubber, definition: str = DEFINITION, arn: str = ARN) -> None:
    stub.add_response(
        "describe_state_machine_for_execution",
        {
            "stateMachineArn": SM_ARN,
            "name": MACHINE,
            "definition": definition,
            "roleArn": "arn:aws:iam::123456789012:role/line-ingest-sf-role",
            "updateDate": T0 - timedelta(days=3),
        },
        {"executionArn": arn},
    )


def add_pages(stub: Stubber, sizes: list[int], *, more: bool = False, arn: str = ARN) -> None:
    """History pages of the given sizes, chained by nextToken, events numbered from 1.

    With ``more`` the last page also has a nextToken (``token-<pages>``): the caller stubs
    what that next request gets.
    """
    first = 1
    for number, size in enumerate(sizes, start=1):
        response: dict[str, Any] = {"events": make_events(first, size)}
        if more or number < len(sizes):
            response["nextToken"] = f"token-{number}"
        token = f"token-{number - 1}" if number > 1 else None
        stub.add_response("get_execution_history", response, history_params(token, arn))
        first += size


def assert_one_line(error: SfnTraceError, exit_code: ExitCode) -> str:
    assert error.exit_code == exit_code
    assert "\n" not in error.message and error.message == str(error)
    assert "testing" not in error.message  # the fake credentials never show
    return error.message


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "stepfunctions",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    """The describes and the first page are asked for at once: answered by operation and
    parameters, not by the order queued. A history of several pages is read forward only
    here (``both_ends=False``: which pages the two ends read depends on timing); reading from
    both ends has its own tests (test_both_ends.py)."""
    with OverlapStubber(client) as stubber:
        yield stubber


@pytest.fixture
def clean_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS_* settings, empty config files, no IMDS: boto3 finds nothing by itself."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "BOTO_")):
            monkeypatch.delenv(name)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("BOTO_CONFIG", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


# --------------------------------------------------------------------------- success


def test_history_in_three_pages_is_joined_in_order(client: Any, stub: Stubber) -> None:
    add_describe(stub)
    add_definition(stub)
    add_pages(stub, [1000, 1000, 500])
    progress: list[tuple[int, int]] = []

    data = fetch_execution(
        ARN, client=client, both_ends=False, on_page=lambda p, e: progress.append((p, e))
    )

    stub.assert_no_pending_responses()
    assert progress == [(1, 1000), (2, 2000), (3, 2500)]
    assert [event.id for event in data.events] == list(range(1, 2501))
    assert data.events[1].kind is EventKind.STATE_ENTERED
    assert data.events[1].input is not None and data.events[1].input.value == {"lineId": "L-1"}
    assert data.info.arn == ARN
    assert data.info.name == "8ee0d036-2881-4a5d-b6d5-57022197226a"
    assert data.info.status == "SUCCEEDED"
    assert data.info.state_machine_arn == SM_ARN
    assert data.info.start == T0
    assert data.info.stop == T0 + timedelta(seconds=5)
    assert data.definition is not None and set(data.definition.states) == {"Normalize"}
    assert data.source == "aws"
    assert data.warnings == ()


def test_running_execution_is_traced_with_a_warning(client: Any, stub: Stubber) -> None:
    add_describe(stub, status="RUNNING")
    add_definition(stub)
    add_pages(stub, [7])

    data = fetch_execution(ARN, client=client)

    assert data.info.status == "RUNNING" and data.info.stop is None
    assert data.warnings == ("execution is still RUNNING: traced as far as it got (7 events)",)


def test_expired_page_token_restarts_the_history_once(client: Any, stub: Stubber) -> None:
    add_describe(stub)
    add_definition(stub)
    add_pages(stub, [1000, 1000], more=True)
    stub.add_client_error(
        "get_execution_history",
        "InvalidToken",
        "Invalid Token: 'Token expired'",
        expected_params=history_params("token-2"),
    )
    add_pages(stub, [1000, 1000, 300])
    progress: list[tuple[int, int]] = []

    data = fetch_execution(
        ARN, client=client, both_ends=False, on_page=lambda p, e: progress.append((p, e))
    )

    stub.assert_no_pending_responses()
    assert [event.id for event in data.events] == list(range(1, 2301))
    assert progress == [(1, 1000), (2, 2000), (1, 1000), (2, 2000), (3, 2300)]


# --------------------------------------------------------------------------- usage errors


def test_malformed_arn_fails_before_any_call(client: Any, stub: Stubber) -> None:
    with pytest.raises(UsageError) as caught:
        fetch_execution(
            "arn:aws:states:us-west-2:123456789012:execution:only-a-machine", client=client
        )
    message = assert_one_line(caught.value, ExitCode.USAGE)
    assert message.startswith("malformed execution ARN")
    stub.assert_no_pending_responses()


def test_express_arn_points_at_cloudwatch_logs(client: Any, stub: Stubber) -> None:
    # Express ARNs are read from the execution records (tests/sources/aws/test_express.py); with
    # logging off there are none, and one line says which setting is needed (exit 4).
    machine = EXPRESS_ARN.split(":express:")[1].split(":")[0]
    stub.add_response(
        "describe_state_machine",
        {
            "stateMachineArn": f"arn:aws:states:{REGION}:123456789012:stateMachine:{machine}",
            "name": machine,
            "definition": DEFINITION,
            "roleArn": "arn:aws:iam::123456789012:role/line-ingest-sf-role",
            "type": "EXPRESS",
            "creationDate": T0,
        },
    )
    with pytest.raises(SfnTraceError) as caught:
        fetch_execution(EXPRESS_ARN, client=client)
    message = assert_one_line(caught.value, ExitCode.INCOMPLETE)
    assert "logging is off" in message and "includeExecutionData" in message
    stub.assert_no_pending_responses()


def test_unknown_profile_is_a_usage_error(clean_aws_env: Path) -> None:
    with pytest.raises(UsageError) as caught:
        fetch_execution(ARN, AwsOptions(profile="line-ingest-prod"))
    assert (
        assert_one_line(caught.value, ExitCode.USAGE) == "AWS profile 'line-ingest-prod' not found"
    )


def test_max_attempts_below_one_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as caught:
        stepfunctions_client(parse_execution_arn(ARN), AwsOptions(max_attempts=0))
    assert "max_attempts=" in assert_one_line(caught.value, ExitCode.USAGE)


# --------------------------------------------------------------------------- the client


def test_client_uses_the_arn_region_bounded_retries_and_user_agent(clean_aws_env: Path) -> None:
    sfn = stepfunctions_client(parse_execution_arn(OTHER_REGION_ARN), AwsOptions(max_attempts=4))
    assert sfn.meta.region_name == "eu-central-1"
    assert sfn.meta.endpoint_url == "https://states.eu-central-1.amazonaws.com"
    assert sfn.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert sfn.meta.config.user_agent_extra == f"sfn-trace/{__version__}"
    # the 90 s budget split over three attempts (tests/sources/aws/test_timeouts.py)
    assert sfn.meta.config.connect_timeout == 5.0
    assert sfn.meta.config.read_timeout == pytest.approx(24.95)


def test_client_region_and_endpoint_overrides(clean_aws_env: Path) -> None:
    sfn = stepfunctions_client(
        parse_execution_arn(ARN), AwsOptions(region="eu-west-1", endpoint_url=UNREACHABLE)
    )
    assert sfn.meta.region_name == "eu-west-1"
    assert sfn.meta.endpoint_url == UNREACHABLE


# --------------------------------------------------------------------------- AWS errors


def test_execution_not_found_names_the_region(client: Any, stub: Stubber) -> None:
    stub.add_client_error(
        "describe_execution", "ExecutionDoesNotExist", f"Execution Does Not Exist: '{ARN}'"
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        f"execution not found: {ARN} (looked in region us-west-2 — "
        "check region=/profile=/the account)"
    )


def test_execution_not_found_mentions_a_region_mismatch(client: Any, stub: Stubber) -> None:
    stub.add_client_error(
        "describe_execution",
        "ExecutionDoesNotExist",
        "Execution Does Not Exist",
        expected_params={"executionArn": OTHER_REGION_ARN},
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(OTHER_REGION_ARN, client=client)
    message = assert_one_line(caught.value, ExitCode.AWS)
    assert message.startswith(f"execution not found: {OTHER_REGION_ARN} (")
    assert "looked in region us-west-2; the ARN says region eu-central-1" in message


def test_state_machine_not_found(client: Any, stub: Stubber) -> None:
    add_describe(stub)
    stub.add_client_error(
        "describe_state_machine_for_execution",
        "StateMachineDoesNotExist",
        f"State Machine Does Not Exist: '{SM_ARN}'",
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client)
    message = assert_one_line(caught.value, ExitCode.AWS)
    assert message.startswith(f"state machine for execution not found: {ARN} (looked in region")


def test_invalid_arn_from_the_service(client: Any, stub: Stubber) -> None:
    stub.add_client_error("describe_execution", "InvalidArn", "Invalid Arn: 'Account mismatch'")
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        f"AWS rejected the execution ARN {ARN} (InvalidArn on DescribeExecution): "
        "Invalid Arn: 'Account mismatch'"
    )


DENIED = (
    "User: arn:aws:sts::123456789012:assumed-role/oncall/jane is not authorized to perform: "
    "states:{} on resource: " + ARN
)


@pytest.mark.parametrize("code", ["AccessDeniedException", "AccessDenied", "UnauthorizedOperation"])
def test_describe_execution_denied_names_the_iam_action(
    client: Any, stub: Stubber, code: str
) -> None:
    stub.add_client_error("describe_execution", code, DENIED.format("DescribeExecution"), 400)
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        f"access denied: the credentials lack IAM permission states:DescribeExecution on {ARN}"
    )


def test_history_denied_names_the_iam_action(client: Any, stub: Stubber) -> None:
    add_describe(stub)
    add_definition(stub)
    stub.add_client_error(
        "get_execution_history",
        "AccessDeniedException",
        DENIED.format("GetExecutionHistory"),
        expected_params=history_params(),
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        f"access denied: the credentials lack IAM permission states:GetExecutionHistory on {ARN}"
    )


def test_definition_denied_only_warns(client: Any, stub: Stubber) -> None:
    add_describe(stub)
    stub.add_client_error(
        "describe_state_machine_for_execution",
        "AccessDeniedException",
        DENIED.format("DescribeStateMachineForExecution"),
    )
    add_pages(stub, [4])

    data = fetch_execution(ARN, client=client)

    assert data.definition is None
    assert len(data.events) == 4
    (warning,) = data.warnings
    assert "\n" not in warning
    assert "states:DescribeStateMachineForExecution" in warning
    assert ARN in warning


def test_unparseable_definition_only_warns(client: Any, stub: Stubber) -> None:
    add_describe(stub)
    add_definition(stub, definition='{"Comment": "no states here"}')
    add_pages(stub, [2])

    data = fetch_execution(ARN, client=client)

    assert data.definition is None
    (warning,) = data.warnings
    assert "definition from DescribeStateMachineForExecution" in warning
    assert "\n" not in warning


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"]
)
def test_throttling_past_retries_says_how_far_it_got(client: Any, stub: Stubber, code: str) -> None:
    add_describe(stub)
    add_definition(stub)
    add_pages(stub, [1000, 1000, 1000], more=True)
    stub.add_client_error(
        "get_execution_history",
        code,
        "Rate exceeded",
        400,
        expected_params=history_params("token-3"),
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, AwsOptions(max_attempts=6), client=client, both_ends=False)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        "throttled by AWS on GetExecutionHistory after 6 attempts after 3 pages (3000 events); "
        "retry later or raise max_attempts="
    )


def test_throttling_reports_the_attempts_botocore_made(client: Any, stub: Stubber) -> None:
    stub.add_client_error(
        "describe_execution",
        "ThrottlingException",
        "Rate exceeded",
        400,
        response_meta={"RetryAttempts": 2},
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        "throttled by AWS on DescribeExecution after 3 attempts; retry later or raise max_attempts="
    )


@pytest.mark.parametrize(
    "code",
    [
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "ExpiredToken",
        "ExpiredTokenException",
    ],
)
def test_rejected_credentials(client: Any, stub: Stubber, code: str) -> None:
    stub.add_client_error(
        "describe_execution", code, "The security token included in the request is invalid."
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        f"AWS rejected the credentials ({code}): "
        "The security token included in the request is invalid."
    )


def test_rejected_signature_never_echoes_credentials(client: Any, stub: Stubber) -> None:
    token = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN"
    stub.add_client_error(
        "describe_execution",
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided for "
        "AKIAIOSFODNN7EXAMPLE.\n\nThe Canonical String for this request should have been\n"
        f"'POST\n/\n\nx-amz-security-token:{token}\n'",
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client)
    message = assert_one_line(caught.value, ExitCode.AWS)
    assert token not in message and "AKIAIOSFODNN7EXAMPLE" not in message
    assert message.startswith("AWS rejected the credentials (InvalidSignatureException): ")


def test_other_service_errors_are_named(client: Any, stub: Stubber) -> None:
    stub.add_client_error(
        "describe_execution",
        "KmsThrottlingException",
        "Rate exceeded for KMS Decrypt",
        400,
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        "AWS error KmsThrottlingException on DescribeExecution: Rate exceeded for KMS Decrypt"
    )


def test_other_service_errors_mid_history_say_how_far_it_got(client: Any, stub: Stubber) -> None:
    add_describe(stub)
    add_definition(stub)
    add_pages(stub, [1000], more=True)
    stub.add_client_error(
        "get_execution_history",
        "ServiceUnavailable",
        "Service is unavailable",
        503,
        expected_params=history_params("token-1"),
    )
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client, both_ends=False)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        "AWS error ServiceUnavailable on GetExecutionHistory after 1 page (1000 events): "
        "Service is unavailable"
    )


def test_expired_page_token_twice_fails_with_progress(client: Any, stub: Stubber) -> None:
    add_describe(stub)
    add_definition(stub)
    for _ in range(2):
        add_pages(stub, [1000, 1000], more=True)
        stub.add_client_error(
            "get_execution_history",
            "InvalidToken",
            "Invalid Token: 'Token expired'",
            expected_params=history_params("token-2"),
        )

    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client, both_ends=False)

    stub.assert_no_pending_responses()
    message = assert_one_line(caught.value, ExitCode.AWS)
    assert message == (
        "AWS error InvalidToken on GetExecutionHistory after 2 pages (2000 events): "
        "Invalid Token: 'Token expired' (also after restarting from the first page)"
    )


def test_connection_lost_mid_history_says_how_far_it_got(client: Any, stub: Stubber) -> None:
    add_describe(stub)
    add_definition(stub)
    add_pages(stub, [1000, 1000, 1])  # the third page is never delivered
    calls = itertools.count(1)

    def drop_third_page(model: Any, **_: Any) -> None:
        if model.name == "GetExecutionHistory" and next(calls) == 3:
            raise ConnectionClosedError(endpoint_url=client.meta.endpoint_url)

    # Ahead of the Stubber's own before-call handler, which would answer instead.
    client.meta.events.register_first("before-call.*.*", drop_third_page)
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, client=client, both_ends=False)
    message = assert_one_line(caught.value, ExitCode.AWS)
    assert message.startswith(
        "cannot reach the Step Functions endpoint https://states.us-west-2.amazonaws.com "
        "after 2 pages (2000 events): Connection was closed"
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (EndpointConnectionError(endpoint_url=UNREACHABLE, error="refused"), "refused"),
        (ConnectTimeoutError(endpoint_url=UNREACHABLE), "connection timed out"),
        (ReadTimeoutError(endpoint_url=UNREACHABLE), "no response in time"),
        (ConnectionClosedError(endpoint_url=UNREACHABLE), "Connection was closed"),
        (BotoConnectionError(error="TLS handshake failed"), "TLS handshake failed"),
        (HTTPClientError(error="broken pipe"), "broken pipe"),
    ],
)
def test_every_connection_failure_means_unreachable(error: Exception, reason: str) -> None:
    sfn = boto3.client(
        "stepfunctions",
        region_name=REGION,
        endpoint_url="http://sfn-user:s3cret@127.0.0.1:9",  # userinfo never shows
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    context = _Context(parse_execution_arn(ARN), sfn, 10)
    translated = _translate(error, context, "DescribeExecution")
    message = assert_one_line(translated, ExitCode.AWS)
    assert message.startswith(f"cannot reach the Step Functions endpoint {UNREACHABLE}: ")
    assert reason in message and "s3cret" not in message


# --------------------------------------------------------------------------- real clients


def test_no_credentials(clean_aws_env: Path) -> None:
    options = AwsOptions(endpoint_url=UNREACHABLE, max_attempts=1)
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, options)
    assert assert_one_line(caught.value, ExitCode.AWS) == (
        "no AWS credentials found: set AWS_PROFILE or pass profile=, or configure credentials "
        "(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html)"
    )


def test_unreachable_endpoint(clean_aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    options = AwsOptions(endpoint_url=UNREACHABLE, max_attempts=1)
    with pytest.raises(AwsError) as caught:
        fetch_execution(ARN, options)
    message = assert_one_line(caught.value, ExitCode.AWS)
    assert message.startswith(f"cannot reach the Step Functions endpoint {UNREACHABLE}")
    assert "Connection refused" in message
    assert "object at 0x" not in message


# --------------------------------------------------------------------------- fetching ahead


def test_the_next_page_is_fetched_while_this_one_is_converted() -> None:
    """read_ahead's thread asks for page 2 before the caller is done with page 1: the caller
    waits (up to 10 s, never in a passing run) until the producer has started page 2."""
    asked: list[int] = []
    second_asked = threading.Event()

    def pages() -> Iterator[int]:
        for number in (1, 2, 3):
            asked.append(number)
            if number == 2:
                second_asked.set()
            yield number

    seen = []
    for page in read_ahead(pages()):
        if page == 1:
            assert second_asked.wait(10), "page 2 was not fetched while page 1 was worked on"
        seen.append(page)
    assert seen == [1, 2, 3]
    assert asked == [1, 2, 3]


def test_an_error_while_fetching_is_raised_where_its_page_would_come() -> None:
    def pages() -> Iterator[int]:
        yield 1
        raise ValueError("page 2 failed")

    seen = []
    with pytest.raises(ValueError, match="page 2 failed"):
        for page in read_ahead(pages()):
            seen.append(page)
    assert seen == [1]


def test_a_caller_that_stops_early_stops_the_fetching() -> None:
    produced: list[int] = []
    finished = threading.Event()

    def pages() -> Iterator[int]:
        try:
            for number in itertools.count(1):
                produced.append(number)
                yield number
        finally:
            finished.set()

    for page in read_ahead(pages()):
        if page == 2:
            break
    assert finished.wait(10), "the producer did not stop"
    # At most the page it was handing over and the one after it were produced in vain.
    assert max(produced) <= 4


def test_pages_become_events_as_they_arrive_with_payloads_shared_across_pages(
    client: Any, stub: Stubber
) -> None:
    add_describe(stub)
    add_definition(stub)
    add_pages(stub, [1000, 1000, 500])

    data = fetch_execution(ARN, client=client, both_ends=False)

    stub.assert_no_pending_responses()
    inputs = [e.input for e in data.events if e.input is not None]
    by_text: dict[str, Any] = {}
    for payload in inputs:
        assert by_text.setdefault(payload.text, payload) is payload  # one object per text
    # With a definition to replay, the payloads were parsed while the pages came.
    assert all(payload._value is not events_module._UNPARSED for payload in inputs)


def test_what_needs_the_description_begins_while_the_first_page_is_on_its_way(
    client: Any, stub: Stubber
) -> None:
    """``on_described`` is called with the description and the definition before the first
    history page is answered: the page's request waits (10 s at most, never in a passing
    run) until it has been called."""
    add_describe(stub)
    add_definition(stub)
    add_pages(stub, [3])
    described = threading.Event()
    told: list[tuple[str | None, bool]] = []
    waited: list[bool] = []

    def first_page_waits(**_: Any) -> None:
        waited.append(described.wait(10))

    client.meta.events.register("before-parameter-build.sfn.GetExecutionHistory", first_page_waits)

    def on_described(info: Any, definition: Any) -> None:
        told.append((info.status, definition is not None))
        described.set()

    data = fetch_execution(ARN, client=client, both_ends=False, on_described=on_described)
    assert told == [("SUCCEEDED", True)] and waited == [True]
    assert [event.id for event in data.events] == [1, 2, 3]


def test_a_failed_description_is_not_told_early(client: Any, stub: Stubber) -> None:
    stub.add_client_error("describe_execution", "ExecutionDoesNotExist", "no such", 400)
    add_definition(stub)
    add_pages(stub, [3])
    told: list[object] = []
    with pytest.raises(AwsError):
        fetch_execution(
            ARN, client=client, both_ends=False, on_described=lambda info, d: told.append(info)
        )
    assert told == []
