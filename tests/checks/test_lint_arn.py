"""``api.lint`` with a state machine ARN: its definition read with DescribeStateMachine
(answered by botocore's Stubber, through ``AwsOptions(session=...)``), linted as the file is,
and the reports naming the ARN; AWS's refusals are the definition's one line and exit 3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from sfn_trace import api
from sfn_trace.errors import ExitCode
from sfn_trace.model.options import AwsOptions
from tests.data import DEFINITION, FIXED_DEFINITION
from tests.stubbing import StubbedSession

F = "poll_results_s3_key"
ARN = "arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest:PROD"


def answering(*answers: tuple[str, str | None]) -> AwsOptions:
    """Options whose Step Functions client answers each (ARN, definition text) in turn; a
    None text: StateMachineDoesNotExist."""

    def prepare(service: str, stubber: Stubber) -> None:
        assert service == "stepfunctions"
        for arn, text in answers:
            if text is None:
                stubber.add_client_error(
                    "describe_state_machine",
                    "StateMachineDoesNotExist",
                    f"State Machine Does Not Exist: '{arn}'",
                    400,
                    expected_params={"stateMachineArn": arn},
                )
            else:
                stubber.add_response(
                    "describe_state_machine",
                    {
                        "stateMachineArn": arn,
                        "name": "line-ingest",
                        "definition": text,
                        "roleArn": "arn:aws:iam::123456789012:role/r",
                        "type": "STANDARD",
                        "creationDate": 0,
                    },
                    {"stateMachineArn": arn},
                )

    return AwsOptions(session=StubbedSession(prepare))


def test_an_arn_is_linted_as_its_definition_file_is() -> None:
    text = DEFINITION.read_text("utf-8")
    from_aws = api.lint([ARN], F, aws=answering((ARN, text)))
    from_file = api.lint([str(DEFINITION)], F)
    assert from_aws.exit_code == from_file.exit_code == ExitCode.FINDING
    [linted] = from_aws.definitions
    assert linted.source == ARN and linted.definition is not None
    assert linted.definition.text == text
    as_json = json.loads(api.render(from_aws, "json"))
    assert as_json["definition"] == ARN
    assert as_json["findings"] == json.loads(api.render(from_file, "json"))["findings"]
    assert api.render(from_aws, "table") == api.render(from_file, "table")


def test_sarif_locates_the_findings_in_the_arns_definition() -> None:
    text = DEFINITION.read_text("utf-8")
    sarif = json.loads(api.render(api.lint([ARN], F, aws=answering((ARN, text))), "sarif"))
    local = json.loads(api.render(api.lint([str(DEFINITION)], F), "sarif"))
    results = sarif["runs"][0]["results"]
    assert results
    for result, same in zip(results, local["runs"][0]["results"], strict=True):
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == ARN
        assert location["region"] == same["locations"][0]["physicalLocation"]["region"]


def test_files_and_arns_together_and_an_unknown_state_machine() -> None:
    missing = ARN.replace("line-ingest:PROD", "gone")
    report = api.lint(
        [str(FIXED_DEFINITION), ARN, missing],
        F,
        aws=answering((ARN, FIXED_DEFINITION.read_text("utf-8")), (missing, None)),
    )
    document = json.loads(api.render(report, "json"))
    assert [each["definition"] for each in document["definitions"]] == [
        str(FIXED_DEFINITION),
        ARN,
        missing,
    ]
    assert [each["error"] is None for each in document["definitions"]] == [True, True, False]
    assert document["definitions"][2]["error"].startswith(f"state machine not found: {missing}")
    assert report.exit_code == ExitCode.AWS
    # An unreadable file as well: AWS's refusal still decides the exit code.
    both = api.lint(["nowhere.asl.json", missing], F, aws=answering((missing, None)))
    assert both.exit_code == ExitCode.AWS
    assert api.lint(["nowhere.asl.json"], F).exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    "given",
    [
        "arn:aws:states:us-west-2:123456789012:stateMachine:",
        "arn:aws:states:us-west-2:123456789012:execution:line-ingest:run-1",
    ],
)
def test_a_malformed_arn_stops_the_lint_before_any_call(given: str) -> None:
    def prepare(service: str, stubber: Stubber) -> None:
        raise AssertionError("no client is made")

    with pytest.raises(api.UsageError) as caught:
        api.lint([str(DEFINITION), given], F, aws=AwsOptions(session=StubbedSession(prepare)))
    assert caught.value.exit_code == ExitCode.USAGE
    assert repr(given) in caught.value.message


def test_a_config_file_ignores_by_the_arn(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    ignore: dict[str, Any] = {"rule": "all", "definition": "arn:aws:states:*:line-ingest:*"}
    config.write_text(json.dumps({"lint": {"ignore": [ignore]}}), "utf-8")
    text = DEFINITION.read_text("utf-8")
    report = api.lint([ARN], F, config=config, aws=answering((ARN, text)))
    causes = report.definitions[0].causes
    assert causes and all(cause.suppressed is not None for cause in causes)
    assert report.exit_code == ExitCode.INTACT
