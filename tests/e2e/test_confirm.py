"""``--confirm`` end to end on the seed incident: the execution read live (botocore's
Stubber serving DescribeExecution, DescribeStateMachineForExecution and the recorded
history), TestState answering as AWS computes the data flow (:mod:`tests.teststate`; moto
does not implement TestState). Loopback only: no request leaves the process, and any client
but the stubbed Step Functions one fails the test.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from sfn_trace.sources.aws import client as client_module
from sfn_trace.sources.aws import history as history_module
from sfn_trace.sources.aws import maprun as maprun_module
from sfn_trace.sources.aws import teststate as teststate_module
from sfn_trace.sources.aws.pacing import Meters
from tests.report.test_schemas import assert_valid
from tests.teststate import (
    ARN,
    CULPRITS,
    FIELD,
    TASKS,
    stepfunctions,
    stub_execution,
    stub_teststate,
)


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


runner = _runner()


@dataclass
class Served:
    """The stubbed AWS: what TestState was sent, the clients made, the pacing's waits."""

    client: Any
    stubber: Stubber
    sent: list[dict[str, Any]] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Served]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client, stubber = stepfunctions()
    served = Served(client, stubber)
    client.meta.events.register(
        "provide-client-params.sfn.TestState", lambda params, **_: served.sent.append(params)
    )

    def make_client(service: str, region: str, options: Any, **_: Any) -> Any:
        served.clients.append(f"{service}@{region}")
        return client

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"no other AWS client may be made: {args}")

    monkeypatch.setattr(
        history_module, "stepfunctions_client", lambda arn, options, clients=None: client
    )
    monkeypatch.setattr(teststate_module, "make_client", make_client)
    monkeypatch.setattr(client_module, "make_client", forbidden)
    monkeypatch.setattr(maprun_module, "make_client", forbidden)
    monkeypatch.setattr(
        teststate_module, "meter", Meters(clock=lambda: 0.0, sleep=served.waits.append)
    )
    yield served


def trace(*args: str) -> Any:
    return runner.invoke(app, [ARN, "--field", FIELD, "--no-logs", *args], catch_exceptions=False)


def test_aws_confirms_the_seed_and_nothing_is_invoked(aws: Served) -> None:
    stub_execution(aws.stubber)
    stub_teststate(aws.stubber)
    result = trace("--confirm", "--format", "json")
    assert result.exit_code == ExitCode.FINDING, result.stderr
    aws.stubber.assert_no_pending_responses()
    document = json.loads(result.stdout)
    assert_valid("trace", document)
    confirmation = {c["state"]: c for c in document["confirmation"]}
    assert list(confirmation) == list(CULPRITS)
    assert {c["verdict"] for c in confirmation.values()} == {"confirmed"}
    split, prepare = confirmation["SplitIntoChunks"], confirmation["PrepareFinalMerge"]
    # SplitIntoChunks: the Lambda's result (the mock) held null, and AWS's own ResultSelector
    # produced the null at $.poll_results_s3_key that ResultPath put in $.chunked_data.
    assert (split["step"], split["path"], split["aws_status"]) == (
        "Result",
        "$.Payload.poll_results_s3_key",
        "SUCCEEDED",
    )
    steps = {s["step"]: (s["status"], s["path"]) for s in split["aws_steps"]}
    assert steps["Parameters"] == ("set", "$.Payload.poll_results_s3_key")
    assert steps["ResultSelector"] == ("null", "$.poll_results_s3_key")
    assert steps["ResultPath"] == ("mixed", "$.chunked_data.poll_results_s3_key")
    # PrepareFinalMerge: its Parameters read the null and dropped the last set copy.
    assert (prepare["step"], prepare["path"]) == ("Parameters", "$.poll_results_s3_key")
    prepare_steps = {s["step"]: s["status"] for s in prepare["aws_steps"]}
    assert (prepare_steps["InputPath"], prepare_steps["Parameters"]) == ("mixed", "null")
    # Nothing invoked: every Task went with its recorded result as the mock, no role.
    assert [p["stateName"] for p in aws.sent] == list(CULPRITS)
    for params in aws.sent:
        assert "roleArn" not in params
        assert ("mock" in params) is (params["stateName"] in TASKS)
        if "mock" in params:
            assert set(params["mock"]) == {"result", "fieldValidationMode"}
    assert aws.clients == ["stepfunctions@us-west-2"]
    # Five calls, well within TestState's bucket: none waits for pacing (the clock stands
    # still in the test, so a call beyond the bucket would show a wait here).
    assert aws.waits == []
    # The finding itself is the same as without --confirm.
    assert document["verdict"] == "lost"
    assert document["first_null"]["state"] == "SplitIntoChunks"
    assert not [w for w in document["warnings"] if "confirm" in w]


def test_the_headline_and_the_report_say_confirmed_only_where_it_is(
    aws: Served, tmp_path: Path
) -> None:
    stub_execution(aws.stubber)
    disagreeing = {
        "status": "SUCCEEDED",
        "output": json.dumps({"other": 1}),
        "nextState": "FinalMerge",
    }
    stub_teststate(aws.stubber, {"PrepareFinalMerge": disagreeing})
    report = tmp_path / "report.md"
    result = trace("--confirm", "--format", "table", "--report", str(report))
    assert result.exit_code == ExitCode.FINDING, result.stderr
    lines = result.stdout.splitlines()
    confirmed = [line for line in lines if "confirmed by AWS TestState" in line]
    # Each confirmed state on its own line, with its name; the one AWS disagrees with not.
    assert [line.removeprefix("TestState").split()[0] for line in confirmed] == [
        "SplitIntoChunks",
        "FinalMerge",
        "PrepareMarkBatchesComplete",
        "MarkBatchesComplete",
    ]
    assert confirmed[0].startswith("TestState  SplitIntoChunks (#2): confirmed by AWS TestState")
    assert any(
        "PrepareFinalMerge (#4): AWS TestState disagrees at OutputPath $" in line for line in lines
    )
    assert not any("PrepareFinalMerge" in line and "confirmed by" in line for line in lines)
    markdown = report.read_text(encoding="utf-8")
    assert "### AWS TestState" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| `")]
    by_state = {row.split("|")[1].strip(" `"): row for row in rows if "AWS TestState" in row}
    assert "confirmed by AWS TestState" in by_state["SplitIntoChunks"]
    assert "AWS TestState disagrees" in by_state["PrepareFinalMerge"]
    assert "confirmed by AWS TestState" not in by_state["PrepareFinalMerge"]
    assert "--confirm" in markdown.split("## Reproduce", 1)[1]


def test_access_denied_is_one_warning_and_the_exit_code_does_not_change(aws: Served) -> None:
    stub_execution(aws.stubber)
    aws.stubber.add_client_error(
        "test_state",
        service_error_code="AccessDeniedException",
        service_message="User: x is not authorized to perform: states:TestState",
        http_status_code=400,
    )
    result = trace("--confirm", "--format", "json")
    assert result.exit_code == ExitCode.FINDING
    aws.stubber.assert_no_pending_responses()  # asked once, not once per state
    warnings = [line for line in result.stderr.splitlines() if "TestState" in line]
    assert warnings == [
        "sfn-trace: warning: --confirm: access denied: the credentials lack IAM permission "
        "states:TestState (optional, used only by --confirm) (5 states left unconfirmed)"
    ]
    document = json.loads(result.stdout)
    assert {c["verdict"] for c in document["confirmation"]} == {"unconfirmed"}
    assert "Traceback" not in result.stderr


def test_the_bundle_keeps_the_answers_and_its_replay_shows_them_offline(
    aws: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_execution(aws.stubber)
    stub_teststate(aws.stubber)
    bundle, live = tmp_path / "incident.json.gz", tmp_path / "live.json"
    result = trace("--confirm", "--format", "json", "-o", str(live), "--save-bundle", str(bundle))
    assert result.exit_code == ExitCode.FINDING, result.stderr
    document = json.loads(gzip.decompress(bundle.read_bytes()))
    assert_valid("bundle", document)
    assert [e["state"] for e in document["teststate"]] == list(CULPRITS)
    assert all(e["answer"]["status"] == "SUCCEEDED" for e in document["teststate"])

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the replay of a bundle must not call AWS")

    monkeypatch.setattr(teststate_module, "make_client", offline)
    for extra in ((), ("--confirm",)):
        replay = runner.invoke(
            app, [str(bundle), "--field", FIELD, "--format", "json", *extra], catch_exceptions=False
        )
        assert replay.exit_code == ExitCode.FINDING, replay.stderr
        assert replay.stdout == live.read_text(encoding="utf-8")
