"""sfn_trace.sources.aws.state_machine (``sfn-trace lint ARN``) against botocore's Stubber:
DescribeStateMachine's answer becomes the definition, each failure one line with its exit
code, a malformed ARN refused before any client is made. No request is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from sfn_trace.errors import AwsError, ExitCode, InputError, SfnTraceError, UsageError
from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws import pacing
from sfn_trace.sources.aws.state_machine import fetch_definition
from tests.stubbing import EXAMPLE_KEY_ID, EXAMPLE_SECRET, StubbedSession

REGION = "us-west-2"
ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:line-ingest"
DEFINITION = {
    "StartAt": "Shape",
    "States": {"Shape": {"Type": "Pass", "Parameters": {"k.$": "$.k"}, "End": True}},
}


def described(arn: str = ARN, definition: str = json.dumps(DEFINITION)) -> dict[str, Any]:
    return {
        "stateMachineArn": arn,
        "name": "line-ingest",
        "definition": definition,
        "roleArn": "arn:aws:iam::123456789012:role/line-ingest-sf-role",
        "type": "STANDARD",
        "creationDate": datetime(2025, 11, 1, tzinfo=timezone.utc),
    }


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "stepfunctions",
        region_name=REGION,
        aws_access_key_id=EXAMPLE_KEY_ID,
        aws_secret_access_key=EXAMPLE_SECRET,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def one_line(error: SfnTraceError, exit_code: ExitCode) -> str:
    assert error.exit_code == exit_code
    assert "\n" not in error.message
    assert EXAMPLE_SECRET not in error.message and EXAMPLE_KEY_ID not in error.message
    return error.message


@pytest.mark.parametrize("qualifier", ["", ":3", ":PROD"])
def test_the_definition_of_a_state_machine_version_or_alias(
    client: Any, stub: Stubber, qualifier: str
) -> None:
    arn = ARN + qualifier
    text = json.dumps(DEFINITION, indent=2)
    stub.add_response("describe_state_machine", described(arn, text), {"stateMachineArn": arn})
    definition = fetch_definition(arn, client=client)
    assert definition.text == text
    assert list(definition.states) == ["Shape"]


def test_the_call_is_paced_by_its_documented_bucket(client: Any, stub: Stubber) -> None:
    stub.add_response("describe_state_machine", described(), {"stateMachineArn": ARN})
    fetch_definition(ARN, client=client)
    bucket = pacing.meter("DescribeStateMachine", REGION, AwsOptions())
    assert (bucket.burst, bucket.rate) == (200, 20)
    assert bucket._tokens < bucket.burst  # the call took its token


def test_clients_of_the_arns_region_unless_region_is_given() -> None:
    asked: list[str | None] = []

    def prepare(service: str, stubber: Stubber) -> None:
        asked.append(stubber.client.meta.region_name)
        arn = ARN.replace(REGION, "eu-central-1")
        stubber.add_response("describe_state_machine", described(arn), {"stateMachineArn": arn})

    session = StubbedSession(prepare)
    fetch_definition(ARN.replace(REGION, "eu-central-1"), AwsOptions(session=session))
    assert asked == ["eu-central-1"]


def test_an_unknown_state_machine_says_where_it_was_looked_for(client: Any, stub: Stubber) -> None:
    stub.add_client_error(
        "describe_state_machine",
        "StateMachineDoesNotExist",
        f"State Machine Does Not Exist: '{ARN}'",
        400,
        expected_params={"stateMachineArn": ARN},
    )
    with pytest.raises(AwsError) as caught:
        fetch_definition(ARN, client=client)
    message = one_line(caught.value, ExitCode.AWS)
    assert message == (
        f"state machine not found: {ARN} (looked in region {REGION} — check "
        "region=/profile=/the account, and the version or alias)"
    )


def test_a_region_other_than_the_arns_is_named() -> None:
    def prepare(service: str, stubber: Stubber) -> None:
        stubber.add_client_error("describe_state_machine", "StateMachineDoesNotExist", "no", 400)

    options = AwsOptions(region="eu-central-1", session=StubbedSession(prepare))
    with pytest.raises(AwsError) as caught:
        fetch_definition(ARN, options)
    assert "looked in region eu-central-1; the ARN says region us-west-2" in caught.value.message


@pytest.mark.parametrize(
    ("code", "meta", "expected"),
    [
        (
            "AccessDeniedException",
            {},
            f"access denied: the credentials lack IAM permission states:DescribeStateMachine "
            f"on {ARN}",
        ),
        (
            "ThrottlingException",
            {"RetryAttempts": 9},
            "throttled by AWS on DescribeStateMachine after 10 attempts; retry later or raise "
            "max_attempts=",
        ),
        (
            "InvalidArn",
            {},
            f"AWS rejected the state machine ARN {ARN} (InvalidArn on DescribeStateMachine): "
            "Invalid Arn",
        ),
    ],
)
def test_aws_refusals_are_one_line_exit_3(
    client: Any, stub: Stubber, code: str, meta: dict[str, Any], expected: str
) -> None:
    message = "Invalid Arn" if code == "InvalidArn" else f"{code} for {EXAMPLE_KEY_ID}"
    stub.add_client_error("describe_state_machine", code, message, 400, response_meta=meta)
    with pytest.raises(AwsError) as caught:
        fetch_definition(ARN, client=client)
    assert one_line(caught.value, ExitCode.AWS) == expected


@pytest.mark.parametrize(
    ("arn", "says"),
    [
        ("arn:aws:states:us-west-2:1:stateMachine:m", "malformed state machine ARN"),
        (
            f"{ARN.replace(':stateMachine:', ':execution:')}:run-1",
            f"is an execution ARN; lint needs the state machine's ARN ({ARN})",
        ),
    ],
)
def test_a_malformed_arn_is_refused_before_any_client(arn: str, says: str) -> None:
    def prepare(service: str, stubber: Stubber) -> None:
        raise AssertionError("no client may be made for a malformed ARN")

    with pytest.raises(UsageError) as caught:
        fetch_definition(arn, AwsOptions(session=StubbedSession(prepare)))
    assert says in one_line(caught.value, ExitCode.USAGE)


def test_a_definition_that_is_not_asl_names_the_arn(client: Any, stub: Stubber) -> None:
    stub.add_response("describe_state_machine", described(definition='{"Comment": "x"}'))
    with pytest.raises(InputError) as caught:
        fetch_definition(ARN, client=client)
    assert one_line(caught.value, ExitCode.USAGE) == (
        f"{ARN}: not an Amazon States Language definition (no 'States')"
    )
