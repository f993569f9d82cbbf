"""sfn_trace.asl.replay: each visit's data flow replayed step by step and checked.

The line-ingest fixtures (recorded by running fixtures/line_ingest/definition.asl.json) give
the seed's failure points; the AWS-recorded corpus gives JSONata states and variables; small
built histories give the shapes neither holds (a catch without a cause, a drifted definition).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import pytest

from sfn_trace.asl import jsonata_eval
from sfn_trace.asl.jsonpath import StatesError, Unreplayable
from sfn_trace.asl.replay import replay_visits
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api, parse_timestamp
from sfn_trace.model.execution import ExecutionData, ExecutionInfo
from sfn_trace.model.replay import Fault, Replay, ReplayStatus
from sfn_trace.model.snapshot import Status
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace import analyze
from sfn_trace.trace.steps import field_step
from sfn_trace.trace.visits import build_visits
from tests.data import (
    DEFINITION,
    corpus_definition,
    corpus_history,
    fixture_describe,
    fixture_history,
)
from tests.data import SCENARIOS as SCENARIOS_FILE
from tests.history_builder import History

SCENARIOS = json.loads(SCENARIOS_FILE.read_text())
FIELD = "poll_results_s3_key"


def line_ingest(name: str) -> tuple[ExecutionData, dict[int, Replay]]:
    """A recorded line-ingest run, replayed with the execution facts DescribeExecution gave."""
    data = load_history_file(fixture_history(name), DEFINITION)
    described = json.loads(fixture_describe(name).read_text())
    info = ExecutionInfo(
        arn=described["executionArn"],
        name=described["name"],
        state_machine_arn=described["stateMachineArn"],
        start=parse_timestamp(described["startDate"]),
    )
    assert data.definition is not None
    tree = build_visits(data.events, data.definition)
    return data, replay_visits(tree, data.definition, info)


def by_state(replays: dict[int, Replay], state: str) -> Replay:
    return next(r for r in replays.values() if r.state == state)


def corpus(name: str) -> dict[int, Replay]:
    data = load_history_file(corpus_history(name), corpus_definition(name))
    assert data.definition is not None
    return replay_visits(build_visits(data.events, data.definition), data.definition)


def replay_built(
    definition: dict[str, Any],
    build: Callable[[History], None],
    execution: ExecutionInfo | None = None,
) -> list[Replay]:
    history = History()
    build(history)
    parsed = Definition.from_text(json.dumps(definition))
    tree = build_visits(events_from_api(history.events), parsed)
    return list(replay_visits(tree, parsed, execution).values())


def machine(**states: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


# --- the line-ingest runs -----------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_every_line_ingest_visit_replays_to_its_recorded_output(scenario: dict[str, Any]) -> None:
    _, replays = line_ingest(scenario["name"])
    assert {r.state: (r.status, r.reason) for r in replays.values()} == {
        r.state: (ReplayStatus.MATCH, None) for r in replays.values()
    }


def test_the_seed_task_is_replayed_step_by_step() -> None:
    _, replays = line_ingest("flat_split_drops_key")
    split = by_state(replays, "SplitIntoChunks")
    assert [s.name for s in split.steps] == [
        "InputPath",
        "Parameters",
        "Result",
        "ResultSelector",
        "ResultPath",
        "OutputPath",
    ]
    parameters = split.steps[1].value["Payload"]
    assert parameters["poll_results_s3_key"].startswith("poll_results/8ee0d036")
    # $$.Execution.Name comes from DescribeExecution.
    assert parameters["execution_id"] == "8ee0d036-2881-4a5d-b6d5-57022197226a"
    assert split.steps[2].recorded and split.steps[3].value[FIELD] is None
    assert split.steps[4].expression == "$.chunked_data"


def test_the_seed_null_enters_with_the_lambda_result() -> None:
    _, replays = line_ingest("flat_split_drops_key")
    change = field_step(by_state(replays, "SplitIntoChunks"), FIELD)
    assert change is not None
    assert change.step.name == "Result" and change.expression is None
    assert (change.before.status, change.after.status) == (Status.SET, Status.NULL)
    assert change.path == "$.Payload.poll_results_s3_key"


def test_the_seed_last_copy_is_dropped_by_parameters() -> None:
    _, replays = line_ingest("flat_split_drops_key")
    change = field_step(by_state(replays, "PrepareFinalMerge"), FIELD)
    assert change is not None
    assert change.step.name == "Parameters"
    assert change.expression == (
        'Parameters "poll_results_s3_key.$": "$.chunked_data.poll_results_s3_key"'
    )
    assert (change.before.status, change.after.status) == (Status.MIXED, Status.NULL)


FAILURE_POINTS = [
    # scenario, which finding, the step that changed the field, its expression
    ("flat_normalize_returns_null", "first_null", "Result", None),
    ("flat_split_drops_key", "first_null", "Result", None),
    (
        "flat_split_drops_key",
        "lost_at",
        "Parameters",
        'Parameters "poll_results_s3_key.$": "$.chunked_data.poll_results_s3_key"',
    ),
    ("hierarchical_split_drops_key", "first_null", "Result", None),
    ("hierarchical_create_groups_drops_key", "first_null", "Result", None),
    (
        "hierarchical_create_groups_drops_key",
        "lost_at",
        "Parameters",
        'Parameters "poll_results_s3_key.$": "$.chunk_groups.poll_results_s3_key"',
    ),
    ("flat_final_merge_returns_null", "first_null", "Result", None),
    (
        "flat_final_merge_returns_null",
        "lost_at",
        "Parameters",
        'Parameters "poll_results_s3_key.$": "$.final_merge_result.poll_results_s3_key"',
    ),
]


@pytest.mark.parametrize(
    ("scenario", "finding", "step", "expression"),
    FAILURE_POINTS,
    ids=[f"{s}-{f}" for s, f, _, _ in FAILURE_POINTS],
)
def test_each_failure_point_names_the_step_and_expression(
    scenario: str, finding: str, step: str, expression: str | None
) -> None:
    data, replays = line_ingest(scenario)
    found = getattr(analyze(data, FIELD), finding)
    expected = next(s for s in SCENARIOS if s["name"] == scenario)["expected"][finding]
    assert found is not None and found.visit.state == expected["state"]
    change = field_step(replays[found.visit.seq], FIELD)
    assert change is not None
    assert (change.step.name, change.expression) == (step, expression)


def test_intact_visits_change_nothing() -> None:
    _, replays = line_ingest("flat_intact")
    assert field_step(by_state(replays, "CheckChunkCount"), FIELD) is None
    assert field_step(by_state(replays, "FinalMerge"), FIELD) is None


def test_context_values_the_history_lacks_make_a_pass_unreplayable() -> None:
    definition = machine(
        P={"Type": "Pass", "Parameters": {"name.$": "$$.Execution.Name"}, "End": True}
    )

    def build(h: History) -> None:
        h.start({})
        h.pass_state("P", {}, {"name": "run-1"})
        h.succeed({"name": "run-1"})

    [replay] = replay_built(definition, build)
    assert replay.status is ReplayStatus.NOT_REPLAYED and replay.fault is Fault.HISTORY
    assert "$$.Execution.Name" in (replay.reason or "")
    arn = "arn:aws:states:us-east-1:1:execution:sm:run-1"
    [replay] = replay_built(definition, build, ExecutionInfo(arn=arn))
    assert replay.status is ReplayStatus.MATCH


# --- errors -------------------------------------------------------------------------------------


TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"}


def failing_task(h: History, error: str | None, cause: str | None, output: Any) -> None:
    h.start({"F": "set", "keep": 1})
    h.add("TaskStateEntered", name="T", input={"F": "set", "keep": 1})
    h.add(
        "TaskScheduled", parameters={"FunctionName": "f"}, resource="invoke", resourceType="lambda"
    )
    h.add("TaskStarted", resource="invoke", resourceType="lambda")
    details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
    h.add("TaskFailed", resource="invoke", resourceType="lambda", **details)
    if output is not None:
        h.add("TaskStateExited", name="T", output=output)
        h.add("ExecutionSucceeded", output=output)
    else:
        h.add("ExecutionFailed", error=error or "", cause=cause or "")


def test_a_catcher_result_path_places_the_error_output() -> None:
    definition = machine(
        T={
            **TASK,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "X"}],
            "End": True,
        },
        X={"Type": "Succeed"},
    )
    output = {"F": "set", "keep": 1, "err": {"Error": "Boom", "Cause": "why"}}
    [replay] = replay_built(definition, lambda h: failing_task(h, "Boom", "why", output))
    assert replay.status is ReplayStatus.MATCH
    assert replay.caught is not None and replay.caught.error == "Boom"
    assert replay.steps[-1].name == "Catch" and replay.output == output


def test_a_catch_with_the_default_result_path_drops_the_input() -> None:
    definition = machine(
        T={**TASK, "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "X"}], "End": True},
        X={"Type": "Succeed"},
    )
    # An error without a cause gets an empty Cause, as AWS records for States.Timeout.
    output = {"Error": "States.Timeout", "Cause": ""}
    [replay] = replay_built(definition, lambda h: failing_task(h, "States.Timeout", None, output))
    assert replay.status is ReplayStatus.MISMATCH, "States.TaskFailed does not catch a timeout"
    definition["States"]["T"]["Catch"][0]["ErrorEquals"] = ["States.Timeout"]
    [replay] = replay_built(definition, lambda h: failing_task(h, "States.Timeout", None, output))
    assert replay.status is ReplayStatus.MATCH
    change = field_step(replay, "F")
    assert change is not None and change.step.name == "Catch"
    assert change.after.status is Status.MISSING


def test_an_uncaught_task_error_is_replayed_as_the_same_failure() -> None:
    definition = machine(T={**TASK, "End": True})
    [replay] = replay_built(definition, lambda h: failing_task(h, "Boom", "why", None))
    assert replay.status is ReplayStatus.MATCH
    assert replay.failure is not None and replay.failure.error == "Boom"
    assert not replay.produced and replay.output is None


def test_a_path_error_fails_like_aws_with_its_cause() -> None:
    definition = machine(P={"Type": "Pass", "OutputPath": "$.nope", "End": True})
    cause = (
        "An error occurred while executing the state 'P' (entered at the event id #2). "
        "Invalid path '$.nope' : No results for path: $['nope']"
    )

    def build(h: History) -> None:
        h.start({"a": 1})
        h.add("PassStateEntered", name="P", input={"a": 1})
        h.add("ExecutionFailed", error="States.Runtime", cause=cause)

    [replay] = replay_built(definition, build)
    assert replay.status is ReplayStatus.MATCH
    assert replay.failure is not None and replay.failure.cause == cause


def test_no_choice_matched_is_replayed() -> None:
    definition = machine(
        C={
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 4, "Next": "X"}],
        },
        X={"Type": "Succeed"},
    )

    def build(h: History) -> None:
        h.start({"n": 1})
        h.add("ChoiceStateEntered", name="C", input={"n": 1})
        prefix = "An error occurred while executing the state 'C' (entered at the event id #2)."
        h.add("ExecutionFailed", error="States.NoChoiceMatched", cause=f"{prefix} No Matches!")

    [replay] = replay_built(definition, build)
    assert replay.status is ReplayStatus.MATCH
    assert replay.failure is not None and replay.failure.error == "States.NoChoiceMatched"


# --- drift and gaps -----------------------------------------------------------------------------


def two_passes(h: History, middle: Any) -> None:
    h.start({"a": 1})
    h.pass_state("P", {"a": 1}, middle)
    h.succeed(middle)


def test_a_difference_without_evidence_of_drift_is_sfn_traces_own() -> None:
    """The definition has the state, of the type that ran: nothing shows it is not the one
    that ran, so a replay that differs is sfn-trace's gap, never blamed on the deployment.
    The reason names the step and the first JSON path where replay and record differ."""
    definition = machine(P={"Type": "Pass", "ResultPath": "$.x", "Result": 2, "End": True})
    [replay] = replay_built(definition, lambda h: two_passes(h, {"a": 1, "y": 2}))
    assert replay.status is ReplayStatus.MISMATCH and replay.fault is Fault.SFN_TRACE
    assert replay.reason == (
        "sfn-trace cannot reproduce this step: the replayed output (after OutputPath) differs "
        "from the recorded one at $.x"
    )


def test_a_state_the_definition_lacks_is_evidence_of_drift() -> None:
    [replay] = replay_built(machine(Q={"Type": "Pass", "End": True}), lambda h: two_passes(h, {}))
    assert replay.status is ReplayStatus.MISMATCH and replay.fault is Fault.DEFINITION
    assert replay.reason == "definition drift: the definition has no state named P"
    [replay] = replay_built(machine(P={"Type": "Succeed"}), lambda h: two_passes(h, {"a": 1}))
    assert replay.fault is Fault.DEFINITION
    assert replay.reason == "definition drift: P is a Succeed in the definition, a Pass ran"


def test_with_evidence_of_drift_every_difference_is_attributed_to_it() -> None:
    """One visit of a state the definition lacks shows the definition is not the one that
    ran: then a difference elsewhere may come from the same drift, and says so."""
    definition = machine(P={"Type": "Pass", "ResultPath": "$.x", "Result": 2, "Next": "Q"})
    definition["States"]["Q"] = {"Type": "Pass", "End": True}

    def build(h: History) -> None:
        h.start({"a": 1})
        h.pass_state("P", {"a": 1}, {"a": 1, "y": 2})
        h.pass_state("Gone", {"a": 1, "y": 2}, {"a": 1, "y": 2})
        h.succeed({"a": 1, "y": 2})

    first, gone = replay_built(definition, build)
    assert gone.fault is Fault.DEFINITION and first.fault is Fault.DEFINITION
    assert first.status is ReplayStatus.MISMATCH
    assert first.reason == (
        "definition drift: the replayed output (after OutputPath) differs from the recorded one "
        "at $.x (the history shows the definition is not the one that ran: the definition has "
        "no state named Gone)"
    )


def test_an_unsupported_feature_is_sfn_traces_gap_not_a_mismatch() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "ItemBatcher": {"MaxItemsPerBatch": 2},
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    )

    def build(h: History) -> None:
        h.start([1, 2])
        h.add("MapStateEntered", name="M", input=[1, 2])
        h.add("MapStateStarted", length=1)

    [replay] = replay_built(definition, build)
    assert replay.status is ReplayStatus.NOT_REPLAYED and replay.fault is Fault.SFN_TRACE
    assert (
        replay.reason
        == "sfn-trace cannot reproduce this step: it does not evaluate Map ItemBatcher"
    )


def test_a_random_intrinsic_is_unreplayable() -> None:
    definition = machine(P={"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "End": True})
    [replay] = replay_built(definition, lambda h: two_passes(h, {"id": "x"}))
    assert replay.status is ReplayStatus.NOT_REPLAYED and "States.UUID" in (replay.reason or "")
    assert replay.fault is Fault.HISTORY and replay.reason.startswith(
        "the history lacks the data: "
    )


def test_a_visit_without_recorded_input_is_not_replayed() -> None:
    definition = machine(P={"Type": "Pass", "End": True})

    def build(h: History) -> None:
        h.start({})
        h.add("PassStateEntered", name="P")
        h.add("PassStateExited", name="P")

    [replay] = replay_built(definition, build)
    assert replay.status is ReplayStatus.NOT_REPLAYED and replay.steps == ()


# --- containers ---------------------------------------------------------------------------------


def test_a_map_assembles_its_result_from_the_iterations() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "ResultPath": "$.out",
            "End": True,
        }
    )
    document = {"items": ["a", "b"], "k": "K"}
    inputs = [{"i": 0, "v": "a", "k": "K"}, {"i": 1, "v": "b", "k": "K"}]
    output = {**document, "out": inputs}

    def build(h: History) -> None:
        h.start(document)
        entered = h.add("MapStateEntered", name="M", input=document)
        started = h.add("MapStateStarted", entered, length=2)
        for index, item in enumerate(inputs):
            h.add("MapIterationStarted", name="M", index=index)
            h.pass_state("I", item, item)
            h.add("MapIterationSucceeded", name="M", index=index)
        h.add("MapStateSucceeded", started)
        h.add("MapStateExited", name="M", output=output)
        h.succeed(output)

    replays = replay_built(definition, build)
    assert [r.status for r in replays] == [ReplayStatus.MATCH] * 3
    assert [s.name for s in replays[0].steps] == [
        "InputPath",
        "ItemsPath",
        "ItemSelector",
        "Result",
        "ResultPath",
        "OutputPath",
    ]


def test_a_parallel_result_is_the_branch_outputs_in_order() -> None:
    branch = {"StartAt": "B{}", "States": {"B{}": {"Type": "Pass", "Result": "r{}", "End": True}}}
    branches = [json.loads(json.dumps(branch).replace("{}", str(i))) for i in range(2)]
    definition = machine(P={"Type": "Parallel", "Branches": branches, "End": True})

    def build(h: History) -> None:
        h.start({"x": 1})
        entered = h.add("ParallelStateEntered", name="P", input={"x": 1})
        started = h.add("ParallelStateStarted", entered)
        h.add("PassStateEntered", started, name="B1", input={"x": 1})
        h.add("PassStateExited", name="B1", output="r1")
        h.add("PassStateEntered", started, name="B0", input={"x": 1})
        last = h.add("PassStateExited", name="B0", output="r0")
        h.add("ParallelStateSucceeded", last)
        h.add("ParallelStateExited", last, name="P", output=["r0", "r1"])
        h.succeed(["r0", "r1"])

    replays = replay_built(definition, build)
    assert [r.status for r in replays] == [ReplayStatus.MATCH] * 3
    assert replays[0].output == ["r0", "r1"]


# --- variables ----------------------------------------------------------------------------------


def test_jsonpath_assign_is_checked_and_later_paths_read_the_variable() -> None:
    definition = machine(
        A={"Type": "Pass", "Assign": {"key.$": "$.F"}, "Next": "B"},
        B={"Type": "Pass", "Parameters": {"F.$": "$key"}, "End": True},
    )

    def build(h: History, assigned: str = '"set"') -> None:
        h.start({"F": "set"})
        h.add("PassStateEntered", name="A", input={"F": "set"})
        h.add("PassStateExited", name="A", output={"F": "set"}, assignedVariables={"key": assigned})
        h.pass_state("B", {"F": "set"}, {"F": "set"})
        h.succeed({"F": "set"})

    first, second = replay_built(definition, build)
    assert (first.status, second.status) == (ReplayStatus.MATCH, ReplayStatus.MATCH)
    assert first.assigned == {"key": "set"} and second.variables == {"key": "set"}
    first, _ = replay_built(definition, lambda h: build(h, '"other"'))
    assert first.status is ReplayStatus.MISMATCH and "Assign sets $key" in (first.reason or "")


def test_jsonata_states_and_variables_from_the_corpus() -> None:
    task, fallback = corpus(
        "test_error_output__test_catch_error_variable_sampling_TASK_CATCH_ERROR_VARIABLE_SAMPLING"
    ).values()
    assert (task.status, fallback.status) == (ReplayStatus.MATCH, ReplayStatus.MATCH)
    assert task.query_language == "JSONata" and task.caught is not None
    # Only the catcher's Assign ran, with $states.errorOutput.
    assert task.assigned is not None and set(task.assigned) == {"inputVar", "errorVar"}
    assert fallback.variables["errorVar"]["Error"] == "Exception"
    assert fallback.steps[-1].name == "Output" and fallback.output == {
        "error": fallback.variables["errorVar"]
    }


def test_a_jsonata_choice_assigns_from_the_matched_rule() -> None:
    choice, after = corpus("test_assign_base__test_assign_in_choice_CONDITION_TRUE").values()
    assert choice.status is ReplayStatus.MATCH
    assert choice.assigned == {"Assignment": "Condition assignment"}
    assert after.variables == {"Assignment": "Condition assignment"}


def test_a_jsonata_field_that_evaluates_to_nothing_fails_with_aws_cause() -> None:
    *_, last = corpus(
        "test_assign_reference_variables__test_undefined_reference_BASE_UNDEFINED_OUTPUT_MULTIPLE_STATES"
    ).values()
    assert last.status is ReplayStatus.MATCH and last.failure is not None
    assert last.failure.error == "States.QueryEvaluationError"
    assert last.failure.cause == (
        "An error occurred while executing the state 'State2' (entered at the event id #6). "
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' "
        "returned nothing (undefined)."
    )


def nested(depth: int) -> Any:
    document: Any = "leaf"
    for _ in range(depth):
        document = {"a": document}
    return document


def deep_pass(h: History, document: Any) -> None:
    h.start(document)
    h.pass_state("P", document, document)
    h.succeed(document)


def test_deep_documents_replay_and_too_deep_ones_are_not_replayed() -> None:
    [replay] = replay_built(
        machine(P={"Type": "Pass", "End": True}), lambda h: deep_pass(h, nested(600))
    )
    assert replay.status is ReplayStatus.MATCH
    jsonata = machine(P={"Type": "Pass", "Output": "{% $states.input %}", "End": True})
    [replay] = replay_built(
        {**jsonata, "QueryLanguage": "JSONata"}, lambda h: deep_pass(h, nested(900))
    )
    assert replay.status is ReplayStatus.NOT_REPLAYED and replay.fault is Fault.SFN_TRACE
    assert replay.reason == (
        "sfn-trace cannot reproduce this step: a document is nested too deeply to replay"
    )


# --- JSONata as Step Functions runs it ----------------------------------------------------------


def test_jsonata_tells_null_from_undefined() -> None:
    states = {"input": {"n": None}}
    assert jsonata_eval.evaluate("$states.input.n", states, {}) is None
    assert jsonata_eval.evaluate("$states.input.missing", states, {}) is jsonata_eval.UNDEFINED
    with pytest.raises(StatesError, match=r"returned nothing \(undefined\)"):
        jsonata_eval.render({"k": "{% $states.input.missing %}"}, states, {}, "Output")


def test_jsonata_has_the_functions_step_functions_adds() -> None:
    def run(expression: str) -> Any:
        return jsonata_eval.evaluate(expression, {"input": {}}, {})

    assert run("$partition([0, 1, 2, 3], 3)") == [[0, 1, 2], [3]]
    assert run("$range(0, 9, 3)") == [0, 3, 6, 9]
    assert run("$range(1, 9, 9)") == 1, "AWS returns a one-item sequence as the item"
    assert run("$parse('[1, \"a\"]')") == [1, "a"]
    assert run("$hash('input data', 'MD5')") == "812f45842bc6d66ee14572ce20db8e86"
    for random in ("$uuid()", "$random()", "$now()", "$millis()"):
        with pytest.raises(Unreplayable):
            run(random)


def test_jsonata_does_not_leave_the_recursion_limit_raised() -> None:
    limit = sys.getrecursionlimit()
    jsonata_eval.evaluate("1 + 1", {}, {})
    assert sys.getrecursionlimit() == limit
