"""Lint's precision rules and its report per cause: Choice path conditions, what catchers and
integrations write, grouping, severity, suppression and the config file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace.asl import results
from sfn_trace.asl.choice import branch_presence
from sfn_trace.checks.lint import LintFinding, lint, lint_files
from sfn_trace.checks.lint_causes import causes
from sfn_trace.checks.lint_config import load_config
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode, SfnTraceError
from sfn_trace.model.definition import Definition
from sfn_trace.sources.aws.models import response_holds
from tests.data import DEFINITION as SEED
from tests.data import corpus_definition, corpus_names

runner = CliRunner()
LAMBDA = "arn:aws:states:::lambda:invoke"


def lint_of(states: dict[str, Any], field: str = "F", **top: Any) -> list[LintFinding]:
    body = {"StartAt": next(iter(states)), "States": states, **top}
    return lint(Definition.from_text(json.dumps(body)), field, response_holds)


def echo_task(next_state: str, resource: str = LAMBDA, **extra: Any) -> dict[str, Any]:
    """A task given F whose result replaces the document: F survives only if it returns it."""
    body = {"Type": "Task", "Resource": resource, "Parameters": {"F.$": "$.F"}, **extra}
    return {**body, "Next": next_state}


def reader() -> dict[str, Any]:
    return {"Type": "Pass", "Parameters": {"F.$": "$.F"}, "End": True}


# --- Choice path conditions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "absent_too"),
    [
        ({"Variable": "$.F", "IsPresent": True}, False),
        ({"Variable": "$.F", "IsNull": False}, True),
        ({"Variable": "$.F", "StringEquals": "x"}, True),
        ({"Variable": "$.F.inner", "NumericGreaterThan": 1}, True),
        (
            {"And": [{"Variable": "$.F", "IsPresent": True}, {"Variable": "$.k", "IsNull": False}]},
            False,
        ),
        ({"Not": {"Variable": "$.F", "IsPresent": False}}, False),
    ],
)
def test_a_reader_behind_a_rule_that_needs_the_field_is_not_reached_without_it(
    rule: dict[str, Any], absent_too: bool
) -> None:
    states = {
        "T": echo_task("C"),
        "C": {"Type": "Choice", "Choices": [{**rule, "Next": "R"}], "Default": "Done"},
        "R": reader(),
        "Done": {"Type": "Succeed"},
    }
    assert lint_of(states) == []
    # The same reader straight after the task: the seed's class, still reported.
    states["T"]["Next"] = "R"
    [finding] = lint_of(states)
    assert (finding.dropper, finding.kind, finding.severity) == (
        "T",
        "depends-on-task-result",
        "warning",
    )


def test_a_default_branch_taken_only_when_the_field_is_there() -> None:
    rules = [{"Variable": "$.F", "IsPresent": False, "Next": "Done"}]
    states = {
        "T": echo_task("C"),
        "C": {"Type": "Choice", "Choices": rules, "Default": "R"},
        "R": reader(),
        "Done": {"Type": "Succeed"},
    }
    assert lint_of(states) == []
    body = {"Choices": [{"Variable": "$.F", "IsPresent": True, "Next": "R"}]}
    assert branch_presence(body, None, ("F",)) is False  # Default: absent
    assert branch_presence(body, 0, ("F",)) is True
    assert branch_presence(body, 0, ("G",)) is None


def test_a_rule_that_does_not_settle_the_field_leaves_the_finding() -> None:
    rules = [{"Variable": "$.k", "IsPresent": True, "Next": "R"}]
    states = {
        "T": echo_task("C"),
        "C": {"Type": "Choice", "Choices": rules, "Default": "R"},
        "R": reader(),
    }
    assert [f.dropper for f in lint_of(states)] == ["T"]


@pytest.mark.parametrize(
    "condition",
    [
        "{% $exists($states.input.F) %}",
        "{% $states.input.F = 'x' and $states.input.k > 1 %}",
        "{% $states.input.F > 3 %}",
        # a path below F that has a value (guyernest/step-functions-agent's supervisors)
        '{% $count($states.input.F[-1].content[name = "print_output"]) >0 %}',
        "{% $count($states.input.F.items) >= 1 %}",
        '{% $states.input.F[-1].**.name = "print_output" %}',
    ],
)
def test_jsonata_conditions_that_need_the_field(condition: str) -> None:
    use = {"Type": "Pass", "Output": {"F": "{% $states.input.F %}"}, "End": True}
    task = {
        "Type": "Task",
        "Resource": LAMBDA,
        "Arguments": {"Payload": {"F": "{% $states.input.F %}"}},
        "Output": "{% $states.result.Payload %}",
        "Next": "C",
    }
    choice = {"Type": "Choice", "Choices": [{"Condition": condition, "Next": "R"}], "Default": "E"}
    states = {"T": task, "C": choice, "R": use, "E": {"Type": "Succeed"}}
    assert lint_of(states, QueryLanguage="JSONata") == []
    choice["Choices"][0]["Condition"] = "{% $states.input.k = 1 %}"
    assert [f.dropper for f in lint_of(states, QueryLanguage="JSONata")] == ["T"]


@pytest.mark.parametrize(
    "condition",
    [
        "{% $count($states.input.F) = 0 %}",
        "{% $count($states.input.F) > 0 or $states.input.k = 1 %}",
        "{% $count($states.input.F + 1) > 0 %}",
        "{% $count($states.input.Fx) > 0 %}",
        "{% $states.input.F[$i] or $states.input.k = 1 %}",
        "{% $states.input.F[0 = 1 %}",
    ],
)
def test_jsonata_conditions_that_do_not_need_the_field(condition: str) -> None:
    body = {"Choices": [{"Condition": condition, "Next": "R"}], "Default": "E"}
    assert branch_presence(body, 0, ("F",)) is None


# --- what steps write ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "result_path"), [("Error", None), ("Cause", "$.err"), ("err", "$.err")]
)
def test_a_catchers_error_output_writes_error_and_cause(
    field: str, result_path: str | None
) -> None:
    catcher: dict[str, Any] = {"ErrorEquals": ["States.ALL"], "Next": "R"}
    if result_path:
        catcher["ResultPath"] = result_path
    task = {"Type": "Task", "Resource": LAMBDA, "Catch": [catcher], "End": True}
    read = f"$.err.{field}" if result_path and field != "err" else f"$.{field}"
    use = {"Type": "Pass", "Parameters": {f"{field}.$": read}, "End": True}
    assert lint_of({"T": task, "R": use}, field) == []


def test_a_template_that_builds_the_read_value_writes_it() -> None:
    build = {"Type": "Pass", "Parameters": {"a": 1}, "ResultPath": "$.F", "Next": "R"}
    assert lint_of({"B": build, "R": reader()}) == []


def test_a_result_selector_put_at_the_field_writes_it() -> None:
    """A ResultSelector's output put at ``$.F`` by ResultPath is the value a reader of
    ``$.F`` reads (localstack's LoanBroker-RecipientList: ``$.Credit``); a reader of a
    member it does not build still has a finding."""
    selector = {"Score.$": "$.Payload.score"}
    task = {"Type": "Task", "Resource": LAMBDA, "Parameters": {"F.$": "$.F"}, "Next": "R"}
    task |= {"ResultSelector": selector, "ResultPath": "$.F"}
    assert lint_of({"T": task, "R": reader()}) == []
    inner = {"Type": "Pass", "Parameters": {"h.$": "$.F.History"}, "End": True}
    [finding] = lint_of({"T": task, "R": inner}, "History")
    assert (finding.dropper, finding.kind) == ("T", "result-selector-drop")


# --- integration result shapes ------------------------------------------------------------------


def test_lambda_invoke_always_returns_payload() -> None:
    task = echo_task("R", Parameters={"Payload.$": "$.Payload"})
    use = {"Type": "Pass", "Parameters": {"p.$": "$.Payload"}, "End": True}
    assert lint_of({"T": task, "R": use}, "Payload") == []
    # What is inside Payload is the function's.
    assert [f.dropper for f in lint_of({"T": echo_task("R"), "R": reader()})] == ["T"]


@pytest.mark.parametrize(
    ("resource", "location", "holds"),
    [
        ("arn:aws:states:::lambda:invoke", ("StatusCode",), True),
        ("arn:aws:states:::lambda:invoke", ("Payload", "F"), False),
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", ("Payload",), False),
        ("arn:aws:states:::states:startExecution.sync:2", ("Output",), True),
        ("arn:aws:states:::states:startExecution.sync:2", ("Output", "F"), False),
        ("arn:aws:states:::sns:publish", ("MessageId",), True),
        ("arn:aws:states:::sqs:sendMessage", ("MD5OfMessageBody",), True),
        ("arn:aws:states:::dynamodb:getItem", ("Item",), False),
        ("arn:aws:states:::ecs:runTask.sync", ("TaskArn",), True),
        ("arn:aws:states:::aws-sdk:dynamodb:scan", ("LastEvaluatedKey",), False),
        ("arn:aws:states:::aws-sdk:dynamodb:scan", ("Count",), True),
        ("arn:aws:states:::aws-sdk:rds:describeDBClusters", ("DbClusters", 0), False),
        (
            "arn:aws:states:${AWS::Region}:${AWS::AccountId}:aws-sdk:sfn:startExecution",
            ("ExecutionArn",),
            True,
        ),
        ("arn:aws:states:::aws-sdk:nosuchservice:get", ("X",), False),
        ("arn:aws:lambda:us-east-1:123456789012:function:f", ("F",), False),
    ],
)
def test_what_an_integrations_result_always_holds(
    resource: str, location: tuple[str | int, ...], holds: bool
) -> None:
    assert results.always_returned(resource, location, response_holds) is holds


def test_every_optimized_entry_cites_its_aws_page() -> None:
    for members, page in results.OPTIMIZED.values():
        assert members and page.startswith("https://docs.aws.amazon.com/step-functions/")


def test_a_dynamodb_scan_loop_is_settled_by_its_choice_guard() -> None:
    scan = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:scan",
        "Parameters": {"TableName": "t", "ExclusiveStartKey.$": "$.LastEvaluatedKey"},
        "Next": "More",
    }
    rule = {"Variable": "$.LastEvaluatedKey", "IsPresent": True, "Next": "Scan"}
    states = {
        "Start": {"Type": "Pass", "Result": {"LastEvaluatedKey": {}}, "Next": "Scan"},
        "Scan": scan,
        "More": {"Type": "Choice", "Choices": [rule], "Default": "Done"},
        "Done": {"Type": "Succeed"},
    }
    assert lint_of(states, "LastEvaluatedKey") == []
    scan["Next"] = "Scan2"
    states["Scan2"] = {**scan, "Next": "More"}
    [finding] = lint_of(states, "LastEvaluatedKey")
    assert (finding.dropper, finding.reader) == ("Scan", "Scan2")


# --- one finding per cause, severity, suppression ------------------------------------------------


def test_the_seed_gives_one_cause_per_dropping_task() -> None:
    report = lint_files([SEED], "poll_results_s3_key")
    [linted] = report.definitions
    assert [(c.dropper, c.step, c.severity) for c in linted.causes] == [
        ("SplitIntoChunks", "result", "warning"),
        ("FinalMerge", "result", "warning"),
        ("CreateChunkGroups", "result", "warning"),
    ]
    assert "PrepareFinalMerge" in [r.reader for r in linted.causes[0].readers]
    assert report.exit_code == ExitCode.FINDING
    assert lint_files([SEED], "poll_results_s3_key", severity="error").exit_code == ExitCode.INTACT


def test_definite_drops_are_errors() -> None:
    states = {"P": {"Type": "Pass", "Parameters": {"o": 1}, "Next": "R"}, "R": reader()}
    [cause] = causes(lint_of(states))
    assert (cause.kind, cause.step, cause.severity) == ("template-drop", "Parameters", "error")


def _write(tmp_path: Path, states: dict[str, Any]) -> Path:
    path = tmp_path / "d.asl.json"
    path.write_text(json.dumps({"StartAt": next(iter(states)), "States": states}), encoding="utf-8")
    return path


def test_a_comment_suppresses_and_the_exit_code_ignores_it(tmp_path: Path) -> None:
    task = echo_task("R", Comment="sfn-trace: ignore depends-on-task-result (it echoes)")
    path = _write(tmp_path, {"T": task, "R": reader()})
    report = lint_files([path], "F")
    [cause] = report.definitions[0].causes
    assert cause.suppressed is not None and cause.suppressed.kind == "inSource"
    assert report.exit_code == ExitCode.INTACT
    result = runner.invoke(app, ["lint", str(path), "-f", "F", "--format", "sarif"])
    assert result.exit_code == ExitCode.INTACT
    [sarif] = json.loads(result.stdout)["runs"][0]["results"]
    assert sarif["suppressions"][0]["kind"] == "inSource"
    table = runner.invoke(app, ["lint", str(path), "-f", "F"]).stdout
    assert "Suppressed, not counted toward the exit code (1):" in table


def test_a_config_file_suppresses_by_rule_state_and_definition(tmp_path: Path) -> None:
    path = _write(tmp_path, {"T": echo_task("R"), "R": reader()})
    config = tmp_path / "lint.json"
    ignore = {"rule": "depends-on-task-result", "state": "T", "reason": "T returns its input"}
    config.write_text(json.dumps({"lint": {"ignore": [ignore]}}), encoding="utf-8")
    result = runner.invoke(
        app, ["lint", str(path), "-f", "F", "--format", "json", "--config", str(config)]
    )
    assert result.exit_code == ExitCode.INTACT
    [cause] = json.loads(result.stdout)["findings"]
    assert cause["suppressed"] == {"kind": "external", "justification": "T returns its input"}
    ignore["state"] = "Other"
    config.write_text(
        json.dumps({"lint": {"ignore": [ignore], "severity": "error"}}), encoding="utf-8"
    )
    assert load_config(config).severity == "error"
    result = runner.invoke(app, ["lint", str(path), "-f", "F", "--config", str(config)])
    assert result.exit_code == ExitCode.INTACT  # not suppressed, but below the config's severity
    result = runner.invoke(
        app, ["lint", str(path), "-f", "F", "--config", str(config), "--severity", "warning"]
    )
    assert result.exit_code == ExitCode.FINDING


@pytest.mark.parametrize(
    "content",
    ['{"lint": {"ignore": [{"rule": "no-such-rule"}]}}', '{"lint": {"severty": "error"}}', "{"],
)
def test_a_bad_config_file_is_one_line_and_exit_2(tmp_path: Path, content: str) -> None:
    config = tmp_path / "bad.json"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(SfnTraceError):
        load_config(config)
    result = runner.invoke(
        app, ["lint", str(SEED), "-f", "poll_results_s3_key", "--config", str(config)]
    )
    assert result.exit_code == ExitCode.USAGE
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_severity_is_exit_2() -> None:
    result = runner.invoke(app, ["lint", str(SEED), "-f", "x", "--severity", "fatal"])
    assert result.exit_code == ExitCode.USAGE


@pytest.mark.parametrize("field", ["Payload", "result", "Value1", "input_value", "Error"])
def test_no_report_repeats_a_line(field: str) -> None:
    """On every recorded definition: the table prints no line twice."""
    paths = [p for p in (corpus_definition(n) for n in corpus_names()) if p is not None]
    for path in [SEED, *paths]:
        out = runner.invoke(app, ["lint", str(path), "-f", field]).stdout
        lines = [line for line in out.splitlines() if line.strip()]
        assert len(lines) == len(set(lines)), path
