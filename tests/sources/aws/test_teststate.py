"""sfn_trace.sources.aws.teststate against botocore's Stubber (requests and answers validated
against the service model: ``inspectionData`` members are JSON text, ``status`` an enum)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sfn_trace.errors import word
from sfn_trace.model.confirm import (
    AskFailure,
    Mock,
    StateTestAnswer,
    StateTestRequest,
)
from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws import client as client_module
from sfn_trace.sources.aws import teststate as teststate_module
from sfn_trace.sources.aws.pacing import QUOTAS, TokenBucket
from sfn_trace.sources.aws.teststate import ACCESS_DENIED_LINE, StateTester

DEFINITION = (
    '{"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": '
    '"arn:aws:states:::lambda:invoke", "ResultSelector": {"k.$": "$.Payload.k"}, '
    '"ResultPath": "$.r", "Next": "Done"}, "Done": {"Type": "Succeed"}}}'
)
REQUEST = StateTestRequest(
    DEFINITION,
    "Call",
    '{"a": 1}',
    mock=Mock(result='{"Payload": {"k": null}}'),
    context='{"State": {"Name": "Call", "RetryCount": 0}}',
)
ANSWER: dict[str, Any] = {
    "status": "SUCCEEDED",
    "output": '{"a":1,"r":{"k":null}}',
    "nextState": "Done",
    "inspectionData": {
        "input": '{"a":1}',
        "afterInputPath": '{"a":1}',
        "afterParameters": '{"a":1}',
        "result": '{"Payload":{"k":null}}',
        "afterResultSelector": '{"k":null}',
        "afterResultPath": '{"a":1,"r":{"k":null}}',
    },
}


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client(
        "stepfunctions",
        region_name="us-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def asker(client: Any, sleeps: list[float] | None = None) -> StateTester:
    """A StateTester on ``client`` whose pacing records its waits instead of sleeping."""
    waits = sleeps if sleeps is not None else []
    quota = QUOTAS["TestState"]
    limiter = TokenBucket(quota.burst, quota.rate, clock=lambda: 0.0, sleep=waits.append)
    return StateTester(AwsOptions(), "us-west-2", client=client, limiter=limiter)


def test_the_request_goes_as_built_and_the_answer_is_read() -> None:
    client, stubber = stubbed()
    stubber.add_response("test_state", ANSWER, REQUEST.api_params())
    answer = asker(client)(REQUEST)
    stubber.assert_no_pending_responses()
    assert answer == StateTestAnswer(
        status="SUCCEEDED",
        output='{"a":1,"r":{"k":null}}',
        next_state="Done",
        inspection=ANSWER["inspectionData"],
    )


def test_only_a_request_built_by_its_gate_is_sent() -> None:
    client, stubber = stubbed()
    with pytest.raises(TypeError):
        asker(client)({"definition": DEFINITION, "stateName": "Call"})  # type: ignore[arg-type]
    stubber.assert_no_pending_responses()  # nothing was sent


def test_calls_are_paced_by_the_teststate_bucket() -> None:
    client, stubber = stubbed()
    quota = QUOTAS["TestState"]
    calls = int(quota.burst) + 2
    for _ in range(calls):
        stubber.add_response("test_state", ANSWER, REQUEST.api_params())
    sleeps: list[float] = []
    ask = asker(client, sleeps)
    for _ in range(calls):
        assert isinstance(ask(REQUEST), StateTestAnswer)
    # The clock stands still: the bucket's burst goes at once, then one refill apart.
    assert sleeps == [pytest.approx(1 / quota.rate), pytest.approx(2 / quota.rate)]
    assert ask.calls == calls


def test_access_denied_is_one_line_naming_the_permission_and_stops() -> None:
    client, stubber = stubbed()
    stubber.add_client_error(
        "test_state",
        service_error_code="AccessDeniedException",
        service_message="User: x is not authorized to perform: states:TestState",
        http_status_code=400,
    )
    failure = asker(client)(REQUEST)
    assert failure == AskFailure(word(*ACCESS_DENIED_LINE), stop=True)
    assert "states:TestState" in failure.line and "\n" not in failure.line


def test_a_refused_request_stops_only_itself_and_keeps_aws_message_apart() -> None:
    client, stubber = stubbed()
    stubber.add_client_error(
        "test_state",
        service_error_code="ValidationException",
        service_message='Invalid input: {"a": 1}\nsecond line',
        http_status_code=400,
    )
    failure = asker(client)(REQUEST)
    assert isinstance(failure, AskFailure) and not failure.stop
    assert failure.line == "TestState refused the request (ValidationException)"
    assert (
        failure.text()
        == 'TestState refused the request (ValidationException): Invalid input: {"a": 1}'
    )
    assert failure.text(redacted=True) == failure.line  # AWS's message may quote the payload


def test_throttling_past_retries_stops() -> None:
    client, stubber = stubbed()
    stubber.add_client_error(
        "test_state", service_error_code="ThrottlingException", http_status_code=400
    )
    failure = asker(client)(REQUEST)
    assert isinstance(failure, AskFailure) and failure.stop
    assert failure.line.startswith("throttled by AWS on TestState")


@pytest.mark.usefixtures("fake_credentials")
def test_no_region_is_a_failure_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    failure = StateTester(AwsOptions())(REQUEST)
    assert failure == AskFailure("no AWS region for states:TestState: pass region=", stop=True)


@pytest.mark.usefixtures("fake_credentials")
def test_an_unreachable_endpoint_is_one_line_and_the_host_prefix_stays_off_it() -> None:
    options = AwsOptions(endpoint_url="http://127.0.0.1:9", max_attempts=1, timeout=5)
    ask = StateTester(options, "us-west-2", limiter=TokenBucket(1000, 1000.0))
    failure = ask(REQUEST)
    assert isinstance(failure, AskFailure) and failure.stop
    assert "127.0.0.1:9" in failure.line and "sync-" not in failure.line
    assert ask.client.meta.config.inject_host_prefix is False


@pytest.mark.usefixtures("fake_credentials")
def test_aws_itself_gets_the_sync_host_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []
    real = client_module.make_client

    def recording(*args: Any, **kwargs: Any) -> Any:
        made.append(kwargs)
        client = real(*args, **kwargs)
        Stubber(client).activate()  # answers nothing: the call below fails at once
        return client

    monkeypatch.setattr(teststate_module, "make_client", recording)
    ask = StateTester(AwsOptions(), "us-west-2", limiter=TokenBucket(1000, 1000.0))
    assert isinstance(ask(REQUEST), AskFailure)
    assert made == [{"host_prefix": True}]
