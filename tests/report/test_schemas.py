"""The JSON Schemas of ``docs/schema/``: valid, strict, and in step with what the code emits.

Every JSON document sfn-trace writes is validated against its schema (draft 2020-12): the
golden reports, the trace of every recorded AWS history (with a field that occurs in it and
with one that never does), the shapes the recordings do not hold (Lambda log lines,
``--expect-definition``, redrives, Distributed Map children, unseen documents, replay
mismatches), ``scan``, ``compare`` and ``lint`` reports, and bundles. Every object in the
schemas is closed, so a key the code starts to emit without the schema (and
``docs/json-output.md``) describing it fails here.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.checks.compare import compare
from sfn_trace.checks.scan import ScanQuery, ScanResult
from sfn_trace.cli import app
from sfn_trace.errors import AwsError, ExitCode, InputError
from sfn_trace.model.events import events_from_api
from sfn_trace.model.execution import (
    ChildExecution,
    ExecutionData,
    InvocationLogs,
    LambdaLogs,
    LogLine,
    MapRunCounts,
    MapRunData,
    MapRunDescription,
    infer_info,
)
from sfn_trace.report import Command, CompareFormat, ScanFormat, TraceFormat, render
from sfn_trace.report.compare.json import SCHEMA as COMPARE_SCHEMA
from sfn_trace.report.lint.json import MULTI_SCHEMA as LINT_MULTI_SCHEMA
from sfn_trace.report.lint.json import SCHEMA as LINT_SCHEMA
from sfn_trace.report.scan.json import SCHEMA as SCAN_SCHEMA
from sfn_trace.report.trace.json import SCHEMA as TRACE_SCHEMA
from sfn_trace.sources.aws.executions import ListedExecution
from sfn_trace.sources.bundle import SCHEMA as BUNDLE_SCHEMA
from sfn_trace.sources.bundle import bundle_bytes, bundle_document
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import TraceResult, Verdict, analyze
from sfn_trace.trace.invocations import all_invocations
from sfn_trace.trace.redact import redact
from sfn_trace.trace.visits import build_visits
from tests.bundles import write_bundle
from tests.data import (
    CORPUS,
    DEFINITION,
    FIXED_DEFINITION,
    GOLDEN,
    LINE_INGEST,
    ROOT,
    corpus_definition,
    corpus_history,
    corpus_names,
    fixture_history,
    fixture_names,
)
from tests.fleet_rows import judge_all
from tests.history_builder import History

DOCS = ROOT / "docs"
SCHEMAS = DOCS / "schema"
JSON_OUTPUT_DOC = DOCS / "json-output.md"
BUNDLE_DOC = DOCS / "bundle.md"

FIELD = "poll_results_s3_key"
NEVER = "sfn_trace_field_that_never_occurs"
"""A field no recorded history holds: its trace is the ``absent`` shape of every history."""

SCHEMA_FILES = {
    "trace": TRACE_SCHEMA,
    "scan": SCAN_SCHEMA,
    "compare": COMPARE_SCHEMA,
    "lint": LINT_SCHEMA,
    "bundle": BUNDLE_SCHEMA,
}
"""``docs/schema/<name>.schema.json`` -> the ``schema`` value its documents carry."""

runner = CliRunner()


@functools.cache
def schema(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    return document


@functools.cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name))


def problems(name: str, document: Any) -> list[str]:
    """Every validation error, one line each, with where it is in the document. The errors
    of an ``anyOf``/``oneOf`` alternative are listed instead of the alternative (``first_null``
    is "a finding or null": the finding's own error is the one that says what is wrong)."""

    def leaves(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
        for error in errors:
            if error.context:
                yield from leaves(error.context)
            else:
                yield error

    found = sorted(leaves(validator(name).iter_errors(document)), key=lambda e: e.json_path)
    return [f"{e.json_path}: {e.message[:300]}" for e in found]


def assert_valid(name: str, document: Any, what: str = "") -> None:
    found = problems(name, document)
    assert not found, f"{what or name}: " + "\n".join(found[:10])


def trace_json(result: TraceResult) -> Any:
    """The JSON report exactly as the CLI prints it, parsed back."""
    return json.loads(render(Command.TRACE, TraceFormat.JSON, result))


# --- the schemas themselves ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    document = schema(name)
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"urn:sfn-trace:schema:{name}:1"


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_schema_names_the_version_the_code_writes(name: str) -> None:
    """The ``schema`` constant of each document shape equals the code's constant."""
    document = schema(name)
    shapes = (
        [document]
        if "properties" in document
        else [document["$defs"][r["$ref"].rsplit("/", 1)[1]] for r in document["oneOf"]]
    )
    constants = {shape["properties"]["schema"]["const"] for shape in shapes}
    expected = {SCHEMA_FILES[name]} | ({LINT_MULTI_SCHEMA} if name == "lint" else set())
    assert constants == expected


def _nodes(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema (dicts only), with a JSON-pointer-like location."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            if key in ("properties", "$defs", "patternProperties"):
                for child, sub in value.items():
                    yield from _nodes(sub, f"{where}/{key}/{child}")
            elif key in ("allOf", "anyOf", "oneOf", "prefixItems"):
                for index, sub in enumerate(value):
                    yield from _nodes(sub, f"{where}/{key}/{index}")
            elif key in ("items", "additionalProperties", "not"):
                yield from _nodes(value, f"{where}/{key}")


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_every_object_is_closed_and_every_property_described(name: str) -> None:
    """A key the code emits and the schema lacks must fail validation: every object
    declares its members and closes itself (``additionalProperties`` false, or a value
    schema for the maps keyed by data such as variable names). A node that only adds
    ``required``/forbids members of a ``$ref``'d closed object is closed by that object."""
    open_objects, undescribed = [], []
    for where, node in _nodes(schema(name)):
        if node.get("type") == "object" or (
            "properties" in node and any(v is not False for v in node["properties"].values())
        ):
            closed = node.get("additionalProperties") is not None or (
                node.get("unevaluatedProperties") is False
            )
            if not closed:
                open_objects.append(where)
        for member, sub in node.get("properties", {}).items():
            if sub is not False and not (isinstance(sub, dict) and sub.get("description")):
                undescribed.append(f"{where}/properties/{member}")
    assert not open_objects, f"objects that accept any key: {open_objects}"
    assert not undescribed, f"properties without a description: {undescribed}"


# --- sfn-trace/1: goldens and the recorded corpus -----------------------------------------------


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden_json_validates(path: Path) -> None:
    assert_valid("trace", json.loads(path.read_text(encoding="utf-8")), path.name)


def _a_field_it_holds(data: ExecutionData) -> str | None:
    """The first key of the first JSON object the history carries (execution input first):
    a field that occurs in the execution, so its trace has occurrences and findings."""
    for event in data.events:
        for payload in (event.input, event.output):
            value = payload.value if payload is not None else None
            if isinstance(value, dict) and value:
                return str(next(iter(value)))
    return None


@pytest.mark.parametrize("name", corpus_names())
def test_trace_of_every_recorded_history_validates(name: str) -> None:
    data = load_target_file(corpus_history(name), corpus_definition(name))
    held = _a_field_it_holds(data)
    for field in (held, NEVER) if held else (NEVER,):
        assert_valid("trace", trace_json(analyze(data, field)), f"{name} --field {field}")


def test_the_corpus_is_there() -> None:
    assert len(corpus_names()) >= 329, f"the recorded corpus in {CORPUS} is incomplete"
    assert len(fixture_names()) >= 7, f"the line-ingest fixtures in {LINE_INGEST} are missing"


# --- sfn-trace/1: shapes the recordings do not hold ----------------------------------------------


def _with_lambda_logs(data: ExecutionData) -> ExecutionData:
    """Every invocation's log group read; lines for all but the last, matched either way."""
    invocations = all_invocations(build_visits(data.events, data.definition).visits)
    by_attempt = {
        invocation.start_event_id: InvocationLogs(
            request_id=invocation.request_id,
            log_group=f"/aws/lambda/{invocation.function}",
            log_stream="2025/11/17/[$LATEST]0123456789abcdef",
            matched_by="request_id" if number % 2 else "time_window",
            lines=(
                LogLine(1763358539677, f"START RequestId: {invocation.request_id}\n", "s", "e1"),
                LogLine(1763358539678, "[INFO] No poll results to mark as complete\n", "s", "e2"),
            ),
        )
        for number, invocation in enumerate(invocations[:-1])
    }
    logs = LambdaLogs(
        by_attempt=by_attempt,
        log_groups={i.function: f"/aws/lambda/{i.function}" for i in invocations},
        warnings=("some-function: access denied on logs:FilterLogEvents",),
    )
    return dataclasses.replace(data, lambda_logs=logs)


def test_lambda_log_lines_validate() -> None:
    data = _with_lambda_logs(
        api.load(fixture_history("flat_split_drops_key"), definition=DEFINITION)
    )
    document = trace_json(analyze(data, FIELD))
    calls = [v["lambda"] for v in document["visits"] if v["lambda"]]
    assert {c["matched_by"] for c in calls} >= {"request_id", "time_window", None}
    assert any(c["log_lines"] == [] for c in calls) and document["logs_fetched"] is True
    assert_valid("trace", document)


def test_expect_definition_and_replay_mismatch_validate() -> None:
    """The fixed definition given as the one that ran: every replay that reaches the fixed
    states mismatches, and --expect-definition lists the drift."""
    result = runner.invoke(
        app,
        [
            str(fixture_history("flat_split_drops_key")),
            "--definition", str(FIXED_DEFINITION),
            "--expect-definition", str(DEFINITION),
            "--field", FIELD,
            "--format", "json",
        ],
    )  # fmt: skip
    assert result.exit_code == ExitCode.FINDING, result.stderr
    document = json.loads(result.stdout)
    assert document["definition_drift"]["states"]
    assert any(v["replay"] == "mismatch" and v["replay_reason"] for v in document["visits"])
    assert_valid("trace", document)


F = "key"
LAMBDA: dict[str, Any] = {"resourceType": "lambda", "resource": "invoke"}


def _task(h: History, name: str, document: Any, *, result: Any = None, error: str = "") -> int:
    h.add("TaskStateEntered", name=name, input=document)
    h.add("TaskScheduled", parameters={"FunctionName": "f", "Payload": document}, **LAMBDA)
    h.add("TaskStarted", **LAMBDA)
    if error:
        failed = h.add("TaskFailed", error=error, cause="boom", **LAMBDA)
        if result is None:
            return failed
        return h.add("TaskStateExited", name=name, output=result)  # caught
    h.add("TaskSucceeded", output={"Payload": result}, **LAMBDA)
    return h.add("TaskStateExited", name=name, output=result)


def _trace(h: History, field: str = F) -> TraceResult:
    events = events_from_api(h.events)
    return analyze(ExecutionData(info=infer_info(events), events=events), field)


def test_redriven_execution_validates() -> None:
    h = History()
    h.start({F: "k1"})
    h.pass_state("A", {F: "k1"}, {F: "k1", "a": 1})
    _task(h, "B", {F: "k1", "a": 1}, error="Lambda.ServiceException")
    h.add("ExecutionFailed", error="Lambda.ServiceException", cause="boom")
    h.add("ExecutionRedriven", redriveCount=1)
    _task(h, "B", {F: "k1", "a": 1}, result={F: None, "a": 1})
    h.succeed({F: None, "a": 1})
    document = trace_json(_trace(h))
    assert len(document["attempts"]) == 2 and document["first_null"]["attempt"] == 2
    assert_valid("trace", document)


def test_unseen_documents_and_partial_verdict_validate() -> None:
    h = History()
    h.start({F: "k"})
    h.pass_state("A", {F: "k"}, {F: None})
    h.add("PassStateEntered", name="B")  # execution data not included
    h.add("PassStateExited", name="B", output={F: None})
    h.succeed({F: None})
    document = trace_json(_trace(h))
    assert (document["verdict"], document["partial_verdict"]) == ("unknown", "lost")
    assert document["unseen"] and document["visits"][1]["input"]["reason"]
    assert_valid("trace", document)


MAP_RUN = (
    "arn:aws:states:us-west-2:123456789012:mapRun:ingest/Fan:5e1a2b3c-0000-4000-8000-000000000001"
)
ITEMS = [{F: "a", "n": 1}, {F: "b", "n": 2}, {F: "c", "n": 3}]
T0 = datetime(2025, 11, 17, 5, 48, 59, tzinfo=timezone.utc)


def _converted(item: dict[str, Any], lossy: bool) -> dict[str, Any]:
    return {F: None if lossy else item[F], "n": item["n"]}


def _child(number: int, lossy: bool) -> ChildExecution:
    arn = f"arn:aws:states:us-west-2:123456789012:execution:ingest/Fan:item-{number}"
    item = ITEMS[number - 1]
    h = History()
    h.start(item)
    h.pass_state("Convert", item, _converted(item, lossy))
    h.succeed(_converted(item, lossy))
    events = events_from_api(h.events)
    info = dataclasses.replace(infer_info(events, arn=arn), name=f"item-{number}")
    data = ExecutionData(info=info, events=events, source="aws")
    start = T0 + timedelta(seconds=number)
    return ChildExecution(number, arn, f"item-{number}", "SUCCEEDED", start, data=data)


def test_distributed_map_children_validate() -> None:
    outputs = [_converted(item, n == 2) for n, item in enumerate(ITEMS, start=1)]
    h = History()
    h.start({"items": ITEMS})
    entered = h.add("MapStateEntered", 0, name="Fan", input={"items": ITEMS})
    h.add("MapStateStarted", entered, length=0)
    run = h.add("MapRunStarted", mapRunArn=MAP_RUN)
    ended = h.add("MapRunSucceeded", run)
    h.add("MapStateSucceeded", ended)
    h.add("MapStateExited", ended, name="Fan", output=outputs)
    h.succeed(outputs)
    events = events_from_api(h.events)
    counts = MapRunCounts(succeeded=3, total=3, results_written=3)
    unreadable = ChildExecution(3, "arn:aws:states:::execution:x", "item-3", error="denied")
    described = MapRunData(
        MAP_RUN,
        description=MapRunDescription(MAP_RUN, "SUCCEEDED", T0, T0, counts, counts, 0),
        followed=True,
        listed=3,
        children=(_child(1, False), _child(2, True), unreadable),
    )
    arn = "arn:aws:states:us-west-2:123456789012:execution:ingest:run-1"
    data = ExecutionData(
        info=infer_info(events, arn=arn), events=events, source="aws", map_runs=(described,)
    )
    document = trace_json(analyze(data, F))
    assert document["first_null"]["child"]["number"] == 2
    assert document["map_runs"][0]["children"][1]["first_null"] is not None
    assert document["map_runs"][0]["item_counts"]["total"] == 3
    assert_valid("trace", document)
    # A live trace without --follow-children: described, not followed.
    not_followed = dataclasses.replace(
        data, map_runs=(dataclasses.replace(described, followed=False, listed=None, children=()),)
    )
    assert_valid("trace", trace_json(analyze(not_followed, F)))


# --- strictness ----------------------------------------------------------------------------------


def _golden(name: str = "flat_split_drops_key") -> Any:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


UNKNOWN_KEY = "a_key_the_schema_does_not_know"


@pytest.mark.parametrize(
    "where",
    [
        (),
        ("execution",),
        ("final",),
        ("first_null",),
        ("lost_at",),
        ("chain", 0),
        ("visits", 0),
        ("visits", 1, "input"),
        ("visits", 1, "input", "occurrences", 0),
        ("visits", 1, "field_step"),
        ("visits", 1, "lambda"),
        ("visits", 1, "lambda", "invocations", 0),
        ("visits", 1, "attempts", 0),
    ],
    ids=lambda w: "/".join(map(str, w)) or "top",
)
def test_a_key_the_schema_lacks_fails_validation(where: tuple[str | int, ...]) -> None:
    document = _golden()
    assert_valid("trace", document)
    node = document
    for step in where:
        node = node[step]
    assert isinstance(node, dict), where
    node[UNKNOWN_KEY] = 1
    found = problems("trace", document)
    assert found and any(UNKNOWN_KEY in p for p in found), found


def test_lost_at_may_not_carry_last_value_and_first_null_must() -> None:
    document = _golden()
    document["lost_at"]["last_value"] = "x"
    assert problems("trace", document)
    document = _golden()
    del document["first_null"]["last_value"]
    assert problems("trace", document)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("verdict",), "maybe"),
        (("visits", 0, "input", "status"), "none"),
        (("visits", 0, "replay"), "skipped"),
        (("visits", 0, "replay_fault"), "user"),
        (("first_null", "became"), "gone"),
        (("schema",), "sfn-trace/2"),
    ],
    ids=lambda x: "/".join(map(str, x)) if isinstance(x, tuple) else str(x),
)
def test_a_value_outside_its_enum_fails_validation(
    where: tuple[str | int, ...], value: str
) -> None:
    document = _golden()
    node = document
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    assert problems("trace", document)


def test_a_missing_required_key_fails_validation() -> None:
    document = _golden()
    del document["visits"][0]["replay_reason"]
    assert problems("trace", document)


# --- sfn-trace-compare/1 -------------------------------------------------------------------------


@functools.cache
def _fixture_trace(name: str) -> TraceResult:
    return analyze(api.load(fixture_history(name), definition=DEFINITION), FIELD)


PAIRS = [(good, bad) for good in fixture_names() for bad in fixture_names()]


@pytest.mark.parametrize(("good", "bad"), PAIRS, ids=[f"{g}-vs-{b}" for g, b in PAIRS])
def test_compare_json_of_fixture_pairs_validates(good: str, bad: str) -> None:
    comparison = compare(_fixture_trace(good), _fixture_trace(bad), sources=(good, bad))
    document = json.loads(render(Command.COMPARE, CompareFormat.JSON, comparison))
    assert_valid("compare", document, f"compare {good} {bad}")


def _mapped(items: int, *, fail: bool = False, unseen: bool = False) -> TraceResult:
    """Fan over ``items`` items, then a Task that fails and is caught when ``fail``, then a
    Pass whose input was not included when ``unseen``."""
    document = {F: "k", "items": list(range(items))}
    h = History()
    h.start(document)
    entered = h.add("MapStateEntered", 0, name="Fan", input=document)
    h.add("MapStateStarted", entered, length=items)
    for index in range(items):
        h.add("MapIterationStarted", name="Fan", index=index)
        h.pass_state("Convert", index, {F: "k"})
        h.add("MapIterationSucceeded", name="Fan", index=index)
    h.add("MapStateSucceeded")
    h.add("MapStateExited", name="Fan", output=document)
    caught = {F: "k", "error": {"Error": "E", "Cause": "boom"}}
    if fail:
        _task(h, "T", document, error="E", result=caught)
    else:
        _task(h, "T", document, result=caught)
    if unseen:
        h.add("PassStateEntered", name="End")
        h.add("PassStateExited", name="End")
    else:
        h.pass_state("End", caught, caught)
    h.succeed(caught)
    events = events_from_api(h.events)
    machine = f"arn:aws:states:us-west-2:123456789012:stateMachine:m{items}"
    info = dataclasses.replace(infer_info(events), state_machine_arn=machine)
    return analyze(ExecutionData(info=info, events=events), F)


def test_compare_json_with_extra_iterations_outcomes_and_unseen_documents_validates() -> None:
    comparison = compare(_mapped(2), _mapped(3, fail=True, unseen=True), sources=("a", "b"))
    document = json.loads(render(Command.COMPARE, CompareFormat.JSON, comparison))
    for key in ("extra_iterations", "outcomes_differ", "undetermined", "warnings"):
        assert document[key], key
    assert_valid("compare", document)


# --- sfn-trace-scan/1 ----------------------------------------------------------------------------


def test_scan_json_validates() -> None:
    machine = "arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest-sf-dev-1554303"
    names = [*fixture_names(), "throttled", "corrupt"]
    listed = [
        ListedExecution(
            f"{machine.replace(':stateMachine:', ':execution:')}:{name}",
            name,
            "SUCCEEDED",
            machine,
            T0 - timedelta(minutes=minutes),
            T0 - timedelta(minutes=minutes - 1),
        )
        for minutes, name in enumerate(names, start=1)
    ]

    def load(execution: ListedExecution) -> ExecutionData:
        if execution.name == "throttled":
            raise AwsError("throttled by AWS on GetExecutionHistory after 10 attempts")
        if execution.name == "corrupt":
            raise InputError("not a history event (needs 'id' and 'type')")
        data = load_target_file(fixture_history(execution.name))
        return dataclasses.replace(data, info=execution.info)

    query = ScanQuery(
        machine, FIELD, statuses=("SUCCEEDED", "FAILED"), since=T0 - timedelta(days=1), until=T0
    )
    rows = judge_all(listed, load, FIELD, workers=4)
    result = ScanResult(query, rows, truncated=True, history_calls=len(rows), list_calls=2)
    document = json.loads(render(Command.SCAN, ScanFormat.JSON, result))
    assert document["summary"]["culprits"] and document["summary"]["unreadable"] == 2
    assert {r["error_exit_code"] for r in document["executions"]} == {None, 2, 3}
    assert_valid("scan", document)
    empty = ScanResult(ScanQuery(machine, FIELD), ())
    assert_valid("scan", json.loads(render(Command.SCAN, ScanFormat.JSON, empty)))


# --- sfn-trace-lint/2 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definitions", "exit_code"),
    [
        ([DEFINITION], ExitCode.FINDING),
        ([FIXED_DEFINITION], ExitCode.INTACT),
        ([DEFINITION, FIXED_DEFINITION], ExitCode.FINDING),
    ],
    ids=["seed", "fixed", "both"],
)
def test_lint_json_validates(definitions: list[Path], exit_code: ExitCode) -> None:
    result = runner.invoke(
        app, ["lint", *map(str, definitions), "--field", FIELD, "--format", "json"]
    )
    assert result.exit_code == exit_code, result.stderr
    document = json.loads(result.stdout)
    assert_valid("lint", document)


def test_lint_json_with_an_unreadable_definition_validates(tmp_path: Path) -> None:
    broken = tmp_path / "broken.asl.json"
    broken.write_text("{", encoding="utf-8")
    result = runner.invoke(
        app, ["lint", str(DEFINITION), str(broken), "--field", FIELD, "--format", "json"]
    )
    assert result.exit_code == ExitCode.USAGE
    document = json.loads(result.stdout)
    assert document["definitions"][1]["error"]
    assert_valid("lint", document)


def test_lint_json_of_a_lint_that_stopped_validates(tmp_path: Path) -> None:
    """Every state reads F and the second drops it: the report would grow with the square of
    the chain, so the lint stops at its bound and says so in ``cut``."""
    states: dict[str, Any] = {}
    for i in range(3000):
        state: dict[str, Any] = {"Type": "Pass", "Parameters": {"F.$": "$.F"}, "ResultPath": "$.r"}
        states[f"S{i}"] = {**state, "Next": f"S{i + 1}"} if i < 2999 else {**state, "End": True}
    states["S1"] = {"Type": "Pass", "Parameters": {"other": 1}, "Next": "S2"}
    definition = tmp_path / "square.asl.json"
    definition.write_text(json.dumps({"StartAt": "S0", "States": states}), encoding="utf-8")
    for paths in ([definition], [definition, DEFINITION]):
        result = runner.invoke(app, ["lint", *map(str, paths), "--field", "F", "--format", "json"])
        assert result.exit_code == ExitCode.FINDING, result.stderr
        document = json.loads(result.stdout)
        one = document if len(paths) == 1 else document["definitions"][0]
        assert one["cut"].startswith(f"stopped after {len(one['findings']):,} finding(s)")
        assert_valid("lint", document)


def test_lint_json_with_an_unknown_key_fails_validation() -> None:
    result = runner.invoke(app, ["lint", str(DEFINITION), "--field", FIELD, "--format", "json"])
    document = json.loads(result.stdout)
    document["findings"][0][UNKNOWN_KEY] = 1
    assert problems("lint", document)


# --- sfn-trace-bundle/1 --------------------------------------------------------------------------


def _fixture_data(name: str = "flat_split_drops_key") -> ExecutionData:
    data = api.load(fixture_history(name), definition=DEFINITION)
    arn = "arn:aws:states:us-west-2:123456789012:execution:line-ingest-sf-dev-1554303:8ee0d036"
    info = dataclasses.replace(data.info, arn=arn, name="8ee0d036")
    return dataclasses.replace(data, info=info, source="aws", warnings=("a warning",))


@pytest.mark.parametrize("file_name", ["bundle.json", "bundle.json.gz"])
def test_bundle_with_logs_validates(tmp_path: Path, file_name: str) -> None:
    path = tmp_path / file_name
    data = _with_lambda_logs(_fixture_data())
    write_bundle(path, data, command=("sfn-trace", "arn:...", "--field", FIELD))
    raw = path.read_bytes()
    document = json.loads(gzip.decompress(raw) if file_name.endswith(".gz") else raw)
    assert document["logs"]["invocations"]
    assert_valid("bundle", document)
    # What the bundle replays to validates as well.
    assert_valid("trace", trace_json(analyze(load_target_file(path), FIELD)))


def test_redacted_bundle_validates() -> None:
    document = bundle_document(redact(_fixture_data(), FIELD), redacted_field=FIELD)
    assert_valid("bundle", json.loads(bundle_bytes(document, compress=False)))


def test_bundle_of_every_recorded_history_validates() -> None:
    failures = []
    for name in corpus_names():
        data = load_target_file(corpus_history(name), corpus_definition(name))
        document = json.loads(bundle_bytes(bundle_document(data), compress=False))
        failures += [f"{name}: {p}" for p in problems("bundle", document)[:3]]
    assert not failures, "\n".join(failures[:20])


def test_bundle_event_with_two_details_members_fails_validation() -> None:
    document = json.loads(bundle_bytes(bundle_document(_fixture_data()), compress=False))
    event = document["events"][1]
    member = next(k for k in event if k.endswith("EventDetails"))
    event["otherEventDetails"] = dict(event[member])
    assert problems("bundle", document)
    document["events"][1] = {**event, member: {**event[member], UNKNOWN_KEY: 1}}
    del document["events"][1]["otherEventDetails"]
    assert problems("bundle", document)


# --- the prose and the schemas stay in step -------------------------------------------------------


def _property_names(node: Any) -> set[str]:
    return {
        member
        for _, sub in _nodes(node)
        for member, value in sub.get("properties", {}).items()
        if value is not False
    }


def _mentioned(doc: Path) -> set[str]:
    """Every name written as code (``name``) in a Markdown document."""
    return set(re.findall(r"`([^`\s]+)`", doc.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        ("trace", JSON_OUTPUT_DOC),
        ("scan", JSON_OUTPUT_DOC),
        ("compare", JSON_OUTPUT_DOC),
        ("lint", JSON_OUTPUT_DOC),
        ("bundle", BUNDLE_DOC),
    ],
    ids=["trace", "scan", "compare", "lint", "bundle"],
)
def test_every_key_of_the_schema_is_documented(name: str, doc: Path) -> None:
    missing = sorted(_property_names(schema(name)) - _mentioned(doc))
    assert not missing, f"{doc.name} does not mention these {name} keys: {missing}"


def test_json_output_doc_names_every_schema_version() -> None:
    mentioned = _mentioned(JSON_OUTPUT_DOC)
    for version in (TRACE_SCHEMA, SCAN_SCHEMA, COMPARE_SCHEMA, LINT_SCHEMA, LINT_MULTI_SCHEMA):
        assert version in mentioned, version
    assert BUNDLE_SCHEMA in _mentioned(BUNDLE_DOC)


def test_verdict_and_status_enums_match_the_code() -> None:
    from sfn_trace.model.snapshot import Status

    defs = schema("trace")["$defs"]
    assert defs["verdict"]["enum"] == [v.value for v in Verdict]
    assert defs["status"]["enum"] == [s.value for s in Status]
