"""Lambda log lines end to end: functions that really log into moto's CloudWatch Logs."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest
from typer.testing import CliRunner

from fixtures.line_ingest.handlers import MARK_COMPLETE, SPLIT, VECTOR_COMPACT
from fixtures.line_ingest.scenarios import SEED
from fixtures.line_ingest.scenarios import run as run_scenario
from sfn_trace.api import trace_execution
from sfn_trace.cli import app
from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws import client as client_module
from sfn_trace.sources.lambda_logs import readable

pytestmark = pytest.mark.moto_server
FIELD = "poll_results_s3_key"


@pytest.fixture
def filter_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts FilterLogEvents calls per log group, as AWS would bill the quota."""
    calls: Counter[str] = Counter()
    make_client = client_module.make_client

    def counting(service: str, region: str, options: AwsOptions, **kwargs: Any) -> Any:
        client = make_client(service, region, options, **kwargs)
        if service == "logs":

            def count(params: dict[str, Any], **_: Any) -> None:
                calls[params["logGroupName"]] += 1

            client.meta.events.register("provide-client-params.logs.FilterLogEvents", count)
        return client

    monkeypatch.setattr(client_module, "make_client", counting)
    return calls


@pytest.mark.usefixtures("aws_env")
def test_seed_incident_shows_each_lambda_its_own_lines(
    lab: Any, filter_calls: Counter[str]
) -> None:
    start = len(lab.invocations)
    arn = run_scenario(lab, SEED, execution_name="")
    recorded = {inv.request_id: inv for inv in lab.invocations[start:]}
    result = trace_execution(arn, FIELD, AwsOptions(endpoint_url=lab.endpoint_url))

    lambda_visits = [t for t in result.visits if t.calls]
    assert [t.visit.state for t in lambda_visits] == [
        "NormalizePollBatchesData",
        "SplitIntoChunks",
        "FinalMerge",
        "MarkBatchesComplete",
    ]
    for trace in lambda_visits:
        call = trace.last_call
        assert call is not None and call.logs is not None
        assert call.logs.matched_by == "request_id"
        mine = recorded[call.invocation.request_id]
        assert [line.message.rstrip("\n") for line in call.logs.lines] == [
            line.message.rstrip("\n") for line in mine.lines
        ]
        assert call.log_group == mine.log_group

    mark = next(t for t in lambda_visits if t.visit.state == "MarkBatchesComplete")
    assert mark.last_call.log_group == "/embedding/dev/mark-batches-complete"
    messages = [readable(line.message) for line in mark.last_call.logs.lines]
    assert "[INFO] No poll results to mark as complete" in messages
    assert result.consumer is mark
    assert result.first_null.visit.state == "SplitIntoChunks"
    # One query (no further pages here) per log group, never one per invocation: the groups
    # of the five functions the definition names, each read once over the execution's window
    # while its history was on its way (CreateChunkGroups' did not run in this execution).
    assert set(filter_calls.values()) == {1}
    assert len(filter_calls) == 5
    functions = {t.last_call.invocation.function for t in lambda_visits}
    assert {SPLIT, VECTOR_COMPACT, MARK_COMPLETE} <= functions


@pytest.mark.usefixtures("aws_env")
def test_map_of_one_function_keeps_each_invocations_lines_apart(
    lab: Any, filter_calls: Counter[str]
) -> None:
    def work(event: Any, ctx: Any) -> Any:
        ctx.logger.info(f"item {event['n']} starts")
        ctx.print(f"plain print from item {event['n']}")
        ctx.logger.info(f"item {event['n']} done")
        return {**event, FIELD: event[FIELD] if event["n"] != 7 else None}

    function = f"fan-worker-{uuid.uuid4().hex[:6]}"
    lab.deploy_function(function, work)
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 5,
                "ItemProcessor": {
                    "StartAt": "Work",
                    "States": {
                        "Work": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": function, "Payload.$": "$"},
                            "OutputPath": "$.Payload",
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
    machine = lab.deploy_state_machine(f"fan-{uuid.uuid4().hex[:6]}", definition)
    items = [{"n": n, FIELD: f"key-{n}"} for n in range(12)]
    arn = lab.run(machine, name=str(uuid.uuid4()), input={"items": items})
    result = trace_execution(arn, FIELD, AwsOptions(endpoint_url=lab.endpoint_url))

    works = [t for t in result.visits if t.visit.state == "Work"]
    assert len(works) == 12
    request_ids = set()
    for trace in works:
        n = trace.visit.map_iteration
        logs = trace.last_call.logs
        texts = [readable(line.message) for line in logs.lines]
        assert f"[INFO] item {n} starts" in texts
        assert f"plain print from item {n}" in texts
        others = [t for t in texts if "item" in t and f"item {n} " not in t + " "]
        assert others == [], f"iteration {n} got another invocation's lines: {others}"
        request_ids.add(logs.request_id)
    assert len(request_ids) == 12
    assert filter_calls == Counter({f"/aws/lambda/{function}": 1})
    assert result.first_null.visit.scope == ("Fan[7]", "Work")


@pytest.mark.usefixtures("aws_env")
def test_cli_no_logs_and_log_lines(lab: Any) -> None:
    arn = run_scenario(lab, SEED, execution_name="")
    runner = CliRunner()
    args = [arn, "--field", FIELD, "--endpoint-url", lab.endpoint_url]
    no_logs = runner.invoke(app, [*args, "--no-logs", "--format", "json"])
    assert no_logs.exit_code == 1
    document = json.loads(no_logs.stdout)
    assert document["logs_fetched"] is False
    split = next(v for v in document["visits"] if v["state"] == "SplitIntoChunks")
    assert split["lambda"]["log_lines"] is None

    with_logs = runner.invoke(app, [*args, "--format", "json"])
    split = next(
        v for v in json.loads(with_logs.stdout)["visits"] if v["state"] == "SplitIntoChunks"
    )
    assert split["lambda"]["matched_by"] == "request_id"
    assert any(
        "Returning poll_results_s3_key=None" in line for line in split["lambda"]["log_lines"]
    )

    table = runner.invoke(app, [*args, "--format", "table", "--log-lines", "2"])
    assert "Lambda logs (up to 2 lines per invocation" in table.stdout
    assert "Consumer:  MarkBatchesComplete" in table.stdout
    assert "No poll results to mark as complete" in table.stdout
    assert "(+" in table.stdout  # lines beyond the bound are counted, not dropped silently
