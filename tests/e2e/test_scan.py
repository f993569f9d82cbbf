"""``sfn-trace scan`` end to end: 200 executions really run by moto, then scanned live.

A small machine (one Lambda, a Choice, Pass states) where a third of the executions lose the
field, in three different states and two different ways:

- ``Normalize`` (the Lambda) returns it as null when the item says so (30 executions);
- ``Enrich`` (a Pass) re-maps the document without it: it goes missing (20);
- ``PublishBroken`` (a Pass) writes it as null (16);
- 124 keep it, and 10 more keep it but then fail (status FAILED).

The executions are started back to back and run concurrently in moto's interpreter (about
7 s for 200 on a laptop; waiting for each one before starting the next takes twice as long).
The scan itself takes 10 s by design: 200 GetExecutionHistory calls paced at 20 per second.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from sfn_trace.sources.aws import executions as executions_module

pytestmark = pytest.mark.moto_server

F = "poll_results_s3_key"
INVOKE = "arn:aws:states:::lambda:invoke"
FUNCTION = "scan-e2e-normalize"
MODES = ["ok"] * 124 + ["fail"] * 10 + ["normalize"] * 30 + ["enrich"] * 20 + ["publish"] * 16
EXPECTED_CULPRITS = [
    {"state": "Normalize", "executions": 30},
    {"state": "Enrich", "executions": 20},
    {"state": "PublishBroken", "executions": 16},
]
DEFINITION = {
    "StartAt": "Normalize",
    "States": {
        "Normalize": {
            "Type": "Task",
            "Resource": INVOKE,
            "Parameters": {"FunctionName": FUNCTION, "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.mode", "StringEquals": "enrich", "Next": "Enrich"},
                {"Variable": "$.mode", "StringEquals": "publish", "Next": "PublishBroken"},
                {"Variable": "$.mode", "StringEquals": "fail", "Next": "Boom"},
            ],
            "Default": "Publish",
        },
        "Enrich": {
            "Type": "Pass",
            "Parameters": {"mode.$": "$.mode", "n.$": "$.n", "enriched": True},
            "Next": "Publish",
        },
        "PublishBroken": {"Type": "Pass", "Parameters": {"mode.$": "$.mode", F: None}, "End": True},
        "Boom": {"Type": "Fail", "Error": "Boom", "Cause": "asked to fail"},
        "Publish": {"Type": "Pass", "End": True},
    },
}
runner = CliRunner()


def normalize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    context.logger.info("normalizing item %s", event["n"])
    if event["mode"] == "normalize":
        return {**event, F: None}  # the bug: the key is dropped for these items
    return event


@pytest.fixture(scope="module")
def machine(lab: Any) -> tuple[str, float]:
    """The state machine ARN once its 200 executions have finished, and how long they took."""
    lab.deploy_function(FUNCTION, normalize)
    arn = lab.deploy_state_machine(f"scan-e2e-{uuid.uuid4().hex[:8]}", DEFINITION)
    began = time.perf_counter()
    started = [
        lab.sfn.start_execution(
            stateMachineArn=arn,
            name=f"run-{i:03d}",
            input=json.dumps({"mode": mode, "n": i, F: f"uploads/{i:03d}.json"}),
        )["executionArn"]
        for i, mode in enumerate(MODES)
    ]
    for execution in started:
        lab.wait(execution, timeout=120)
    return arn, time.perf_counter() - began


@pytest.fixture
def history_calls(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When each GetExecutionHistory request left (time.monotonic), as AWS would count it."""
    times: list[float] = []
    make_client = executions_module.make_client

    def recording(service: str, region: str, options: Any, **kwargs: Any) -> Any:
        client = make_client(service, region, options, **kwargs)
        client.meta.events.register(
            "before-call.states.GetExecutionHistory", lambda **_: times.append(time.monotonic())
        )
        return client

    monkeypatch.setattr(executions_module, "make_client", recording)
    return times


def scan(machine_arn: str, lab: Any, *args: str) -> Any:
    return runner.invoke(
        app,
        ["scan", machine_arn, "--field", F, "--endpoint-url", lab.endpoint_url, *args],
        catch_exceptions=False,
    )


def lowest_tokens(times: list[float], rate: float, capacity: float) -> float:
    """Replay the calls through a token bucket (AWS's throttling model): the lowest level.
    Below 0, AWS would have throttled."""
    tokens, last, lowest = capacity, times[0], capacity
    for moment in times:
        tokens = min(capacity, tokens + (moment - last) * rate) - 1
        last = moment
        lowest = min(lowest, tokens)
    return lowest


@pytest.mark.usefixtures("aws_env")
def test_scan_of_200_executions_names_the_culprits_and_stays_under_the_quota(
    machine: tuple[str, float], lab: Any, history_calls: list[float]
) -> None:
    arn, ran_for = machine
    began = time.perf_counter()
    result = scan(
        arn,
        lab,
        "--status",
        "SUCCEEDED,FAILED",
        "--since",
        "1h",
        "--limit",
        "500",
        "--format",
        "json",
    )
    took = time.perf_counter() - began
    print(f"\n200 executions ran in {ran_for:.1f} s; the scan took {took:.1f} s")

    assert result.exit_code == ExitCode.FINDING, result.stderr
    document = json.loads(result.stdout)
    rows = document["executions"]
    assert len(rows) == 200 and document["truncated"] is False
    assert [r["name"] for r in rows] == [f"run-{i:03d}" for i in reversed(range(200))]
    summary = document["summary"]
    assert summary["culprits"] == EXPECTED_CULPRITS
    assert summary["lost_the_field"] == 66 and summary["unreadable"] == 0
    assert summary["verdicts"] == {
        "absent": 0,
        "never_set": 0,
        "lost": 66,
        "intact": 134,
        "unknown": 0,
    }
    by_name = {r["name"]: r for r in rows}
    for i, mode in enumerate(MODES):
        row = by_name[f"run-{i:03d}"]
        assert row["status"] == ("FAILED" if mode == "fail" else "SUCCEEDED")
        culprit = {"normalize": "Normalize", "enrich": "Enrich", "publish": "PublishBroken"}
        if mode in culprit:
            assert row["verdict"] == "lost"
            assert row["first_null"]["state"] == culprit[mode]
            assert row["first_null"]["became"] == ("missing" if mode == "enrich" else "null")
        else:
            assert (row["verdict"], row["first_null"]) == ("intact", None)
    assert Counter(r["status"] for r in rows) == {"SUCCEEDED": 190, "FAILED": 10}

    # The quota: one call per history (moto returns each in one page). AWS's bucket for
    # GetExecutionHistory holds 400 and refills at 20 a second: the 200 calls fit its burst,
    # and it never runs dry however the threads run.
    assert len(history_calls) == summary["history_calls"] == 200
    assert lowest_tokens(history_calls, rate=20.0, capacity=400) >= 0


@pytest.mark.usefixtures("aws_env")
def test_scan_of_one_status(machine: tuple[str, float], lab: Any) -> None:
    arn, _ = machine
    result = scan(arn, lab, "--status", "FAILED", "--format", "table")
    assert result.exit_code == ExitCode.INTACT, result.stderr
    assert "10 scanned, newest first (status FAILED)" in result.stdout
    assert "0 of 10 executions lost poll_results_s3_key" in result.stdout
    assert len(re.findall(r"\bFAILED +intact\b", result.stdout)) == 10


@pytest.mark.usefixtures("aws_env")
def test_scan_limit_keeps_the_newest(machine: tuple[str, float], lab: Any) -> None:
    arn, _ = machine
    result = scan(arn, lab, "--limit", "5", "--format", "csv")
    assert result.exit_code == ExitCode.FINDING  # run-199..195 are PublishBroken losses
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["name"] for r in rows] == [f"run-{i}" for i in range(199, 194, -1)]
    assert {r["first_null"] for r in rows} == {"PublishBroken"}
    assert "only the newest 5 were scanned" in result.stderr
