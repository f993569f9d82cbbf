"""``--confirm``'s judgement: which states are sent, what is sent, and each verdict.

AWS's answers come from the reference evaluator of :mod:`tests.teststate` (the data flow as
the Amazon States Language defines it, not sfn-trace's replay), altered where a test needs
AWS to disagree.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from sfn_trace.checks import confirm_plan
from sfn_trace.checks.confirm import NOT_STORED, confirm, plan
from sfn_trace.errors import word
from sfn_trace.model.confirm import (
    MAX_STATES,
    MOCKED_TYPES,
    AskFailure,
    ConfirmVerdict,
    StateTestAnswer,
    StateTestRequest,
)
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api
from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.result import Finding, Hop, TraceResult
from sfn_trace.sources.files import history_data
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import Verdict, analyze
from sfn_trace.trace.redact import redact_all
from tests.data import (
    CORPUS,
    DEFINITION,
    corpus_definition,
    corpus_history,
    corpus_names,
    fixture_history,
    fixture_names,
)
from tests.history_builder import History
from tests.teststate import (
    CULPRITS,
    FIELD,
    aws_answer,
    expected_request,
    recorded,
    seed_data,
    seed_events,
)


class Aws:
    """TestState as the tests want it: the reference answers, some replaced; every request
    kept."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.answers = answers or {}
        self.requests: list[StateTestRequest] = []

    def __call__(self, request: StateTestRequest) -> StateTestAnswer | AskFailure:
        self.requests.append(request)
        answer = self.answers.get(request.state_name)
        if isinstance(answer, AskFailure):
            return answer
        return StateTestAnswer.from_api(answer or aws_answer(request.state_name))


def seed() -> tuple[TraceResult, ExecutionData]:
    data = seed_data()
    return analyze(data, FIELD), data


def verdicts(result: TraceResult) -> dict[str, tuple[str, str | None, str | None]]:
    assert result.confirmation is not None
    return {c.state: (c.verdict.value, c.step, c.path) for c in result.confirmation}


# --- confirmed ---------------------------------------------------------------------------------


def test_aws_confirms_the_seed_step_by_step() -> None:
    result, data = seed()
    aws = Aws()
    confirmed, exchanges = confirm(result, data, ask=aws)
    assert [r.state_name for r in aws.requests] == list(CULPRITS)
    for request in aws.requests:
        expected = expected_request(request.state_name)
        sent = request.api_params()
        assert sent.keys() == expected.keys()  # no roleArn, a mock and a context for Tasks
        assert {k: v for k, v in sent.items() if k != "context"} == {
            k: v for k, v in expected.items() if k != "context"
        }
    assert verdicts(confirmed) == {
        # The recorded Lambda result (the mock) held the null; AWS's ResultSelector put it
        # at $.poll_results_s3_key and ResultPath at $.chunked_data (aws_steps below).
        "SplitIntoChunks": ("confirmed", "Result", "$.Payload.poll_results_s3_key"),
        # Parameters read the null and dropped the rest: the last set copy went.
        "PrepareFinalMerge": ("confirmed", "Parameters", "$.poll_results_s3_key"),
        "FinalMerge": ("confirmed", None, None),
        "PrepareMarkBatchesComplete": ("confirmed", None, None),
        "MarkBatchesComplete": ("confirmed", "Result", None),
    }
    assert confirmed.confirmation is not None
    split = confirmed.confirmation[0]
    assert split.aws_status == "SUCCEEDED"
    assert [(s.step, s.status.value, s.path) for s in split.aws_steps] == [
        ("InputPath", "set", "$.poll_results_data.poll_results_s3_key"),
        ("Parameters", "set", "$.Payload.poll_results_s3_key"),
        ("Result", "null", "$.Payload.poll_results_s3_key"),
        ("ResultSelector", "null", "$.poll_results_s3_key"),
        ("ResultPath", "mixed", "$.chunked_data.poll_results_s3_key"),
        ("OutputPath", "mixed", "$.chunked_data.poll_results_s3_key"),
    ]
    assert [e.state for e in exchanges] == list(CULPRITS)
    assert all(e.answer is not None and e.error is None for e in exchanges)
    # The trace itself is untouched: verdict, findings, exit code.
    assert confirmed.verdict is Verdict.LOST and confirmed.exit_code == result.exit_code
    assert confirmed.warnings == result.warnings


def test_the_task_context_carries_what_the_history_and_describe_hold() -> None:
    result, data = seed()
    aws = Aws()
    confirm(result, data, ask=aws)
    split = next(r for r in aws.requests if r.state_name == "SplitIntoChunks")
    assert split.context is not None
    assert json.loads(split.context) == {
        "Execution": {
            "Id": data.info.arn,
            "Name": data.info.name,
            "StartTime": "2026-11-25T23:14:04.112Z",
        },
        "StateMachine": {
            "Id": data.info.state_machine_arn,
            "Name": "line-ingest-sf-dev-1554303",
        },
        "State": {
            "Name": "SplitIntoChunks",
            "RetryCount": 0,
            "EnteredTime": "2026-11-25T23:14:04.199Z",
        },
    }


# --- disagrees ---------------------------------------------------------------------------------


def _with(state: str, **changes: Any) -> dict[str, Any]:
    answer = aws_answer(state)
    inspection = {**answer["inspectionData"], **changes.pop("inspectionData", {})}
    return {**answer, **changes, "inspectionData": inspection}


def test_another_result_selector_in_aws_disagrees_at_that_step_and_path() -> None:
    result, data = seed()
    text, _ = recorded("SplitIntoChunks")
    kept = json.loads(text)["poll_results_data"]["poll_results_s3_key"]
    selected = json.loads(aws_answer("SplitIntoChunks")["inspectionData"]["afterResultSelector"])
    answer = _with(
        "SplitIntoChunks",
        inspectionData={"afterResultSelector": json.dumps({**selected, FIELD: kept})},
    )
    confirmed, _ = confirm(result, data, ask=Aws({"SplitIntoChunks": answer}))
    assert verdicts(confirmed)["SplitIntoChunks"] == (
        "disagrees",
        "ResultSelector",
        "$.poll_results_s3_key",
    )
    assert confirmed.confirmation is not None
    assert "afterResultSelector differs from sfn-trace's replayed ResultSelector" in (
        confirmed.confirmation[0].reason
    )


def test_an_output_other_than_the_record_disagrees() -> None:
    result, data = seed()
    answer = aws_answer("PrepareFinalMerge")
    output = {**json.loads(answer["output"]), "total_chunks": 4}
    changed = {"status": "SUCCEEDED", "output": json.dumps(output), "nextState": "FinalMerge"}
    confirmed, _ = confirm(result, data, ask=Aws({"PrepareFinalMerge": changed}))
    assert verdicts(confirmed)["PrepareFinalMerge"] == ("disagrees", "OutputPath", "$.total_chunks")


def test_a_failure_where_the_visit_succeeded_disagrees() -> None:
    result, data = seed()
    failed = {
        "status": "FAILED",
        "error": "States.Runtime",
        "cause": "The JSONPath '$.chunked_data.chunks' could not be found in the input",
    }
    confirmed, _ = confirm(result, data, ask=Aws({"PrepareFinalMerge": failed}))
    assert confirmed.confirmation is not None
    item = confirmed.confirmation[1]
    assert (item.verdict, item.step, item.aws_status) == (ConfirmVerdict.DISAGREES, None, "FAILED")
    assert item.reason.startswith("AWS TestState ended FAILED (States.Runtime: The JSONPath")
    assert item.reason.endswith("the execution's visit succeeded")
    # Redacted, AWS's cause (which may quote the payload) stays out.
    redacted, _ = confirm(result, data, ask=Aws({"PrepareFinalMerge": failed}), redacted=True)
    assert redacted.confirmation is not None
    assert "could not be found" not in redacted.confirmation[1].reason


def test_a_retry_aws_would_make_disagrees_at_retry() -> None:
    result, data = seed()
    retriable = {"status": "RETRIABLE", "error": "Lambda.ServiceException", "cause": "x"}
    confirmed, _ = confirm(result, data, ask=Aws({"FinalMerge": retriable}))
    assert verdicts(confirmed)["FinalMerge"] == ("disagrees", "Retry", None)


def test_another_next_state_disagrees() -> None:
    result, data = seed()
    answer = {**aws_answer("PrepareFinalMerge"), "nextState": "GroupChunksForMerge"}
    confirmed, _ = confirm(result, data, ask=Aws({"PrepareFinalMerge": answer}))
    assert verdicts(confirmed)["PrepareFinalMerge"] == ("disagrees", "Next", None)


# --- unconfirmed -------------------------------------------------------------------------------


def test_an_answer_without_intermediates_cannot_name_the_step() -> None:
    result, data = seed()
    answer = aws_answer("SplitIntoChunks")
    bare = {"status": "SUCCEEDED", "output": answer["output"], "nextState": answer["nextState"]}
    confirmed, _ = confirm(result, data, ask=Aws({"SplitIntoChunks": bare}))
    assert confirmed.confirmation is not None
    item = confirmed.confirmation[0]
    assert (item.verdict, item.step, item.path) == (ConfirmVerdict.UNCONFIRMED, None, None)
    assert "shows the field's change only after InputPath or Parameters or Result" in item.reason


def test_access_denied_asks_once_and_leaves_every_state_unconfirmed_with_one_warning() -> None:
    result, data = seed()
    denied = AskFailure("access denied: the credentials lack IAM permission states:TestState", True)
    aws = Aws({state: denied for state in CULPRITS})
    confirmed, exchanges = confirm(result, data, ask=aws)
    assert len(aws.requests) == 1
    assert confirmed.confirmation is not None
    assert {c.verdict for c in confirmed.confirmation} == {ConfirmVerdict.UNCONFIRMED}
    assert {c.reason for c in confirmed.confirmation} == {denied.line}
    assert [w for w in confirmed.warnings if w.startswith("confirm=True")] == [
        f"confirm=True: {denied.line} (5 states left unconfirmed)"
    ]
    assert len(exchanges) == 5 and all(e.error == denied.line for e in exchanges)
    assert confirmed.verdict is result.verdict and confirmed.exit_code == result.exit_code


def test_a_refused_request_leaves_the_others_asked() -> None:
    result, data = seed()
    refused = AskFailure("TestState refused the request (ValidationException)", False, "bad")
    aws = Aws({"FinalMerge": refused})
    confirmed, _ = confirm(result, data, ask=aws)
    assert len(aws.requests) == 5
    assert verdicts(confirmed)["FinalMerge"] == ("unconfirmed", None, None)
    assert verdicts(confirmed)["MarkBatchesComplete"][0] == "confirmed"
    assert confirmed.confirmation is not None
    assert confirmed.confirmation[2].reason == f"{refused.line}: bad"


def test_a_history_file_without_the_execution_name_does_not_send_states_that_read_it() -> None:
    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    result = analyze(data, FIELD)
    aws = Aws()
    confirmed, _ = confirm(result, data, ask=aws)
    # SplitIntoChunks and FinalMerge pass $$.Execution.Name to their Lambda.
    assert [r.state_name for r in aws.requests] == [
        "PrepareFinalMerge",
        "PrepareMarkBatchesComplete",
        "MarkBatchesComplete",
    ]
    assert confirmed.confirmation is not None
    skipped = {c.state: c.reason for c in confirmed.confirmation if c.aws_status is None}
    assert skipped == {
        "SplitIntoChunks": "it reads $$.Execution.Name, which the history does not hold",
        "FinalMerge": "it reads $$.Execution.Name, which the history does not hold",
    }


def test_without_a_definition_nothing_is_sent() -> None:
    data = dataclasses.replace(seed_data(), definition=None)
    aws = Aws()
    confirmed, _ = confirm(analyze(data, FIELD), data, ask=aws)
    assert not aws.requests
    assert confirmed.confirmation is not None
    assert {c.reason for c in confirmed.confirmation} == {
        "no definition: TestState needs the definition that ran"
    }
    assert "confirm=True: no definition to test the states with" in confirmed.warnings


def test_an_intact_field_has_nothing_to_confirm() -> None:
    data = load_target_file(fixture_history("flat_intact"), DEFINITION)
    confirmed, exchanges = confirm(analyze(data, FIELD), data, ask=Aws())
    assert confirmed.confirmation == () and exchanges == ()
    nowhere = "confirm=True: no culprit state to confirm (the field went null nowhere)"
    assert nowhere in confirmed.warnings


# --- stored answers ----------------------------------------------------------------------------


def test_stored_answers_are_judged_again_without_asking() -> None:
    result, data = seed()
    first, exchanges = confirm(result, data, ask=Aws())
    again, reused = confirm(result, data, ask=None, stored=exchanges)
    assert again.confirmation == first.confirmation and reused == exchanges
    aws = Aws()
    with_ask, _ = confirm(result, data, ask=aws, stored=exchanges)
    assert not aws.requests and with_ask.confirmation == first.confirmation
    # Another field's culprits are other requests: not in the store.
    none, _ = confirm(result, data, ask=None, stored=())
    assert none.confirmation is not None
    assert {c.reason for c in none.confirmation} == {word(*NOT_STORED)}


# --- which states ------------------------------------------------------------------------------


def _pass_chain(length: int) -> ExecutionData:
    """``length`` Pass states copying ``k``; the first sets it null: a chain of ``length``."""
    history = History()
    history.start({"k": "v"})
    names = [f"P{i}" for i in range(length)]
    states: dict[str, Any] = {}
    document: Any = {"k": "v"}
    for number, name in enumerate(names):
        history.pass_state(name, document, {"k": None})
        document = {"k": None}
        states[name] = {
            "Type": "Pass",
            "Parameters": {"k": None} if number == 0 else {"k.$": "$.k"},
            **({"Next": names[number + 1]} if number + 1 < length else {"End": True}),
        }
    history.succeed(document)
    definition = Definition.from_text(json.dumps({"StartAt": "P0", "States": states}))
    return dataclasses.replace(
        history_data(history.document(), "chain.json", None), definition=definition
    )


def test_more_culprits_than_the_cap_send_the_nearest_to_the_loss_and_say_so() -> None:
    data = _pass_chain(MAX_STATES + 2)
    result = analyze(data, "k")
    assert len(result.chain) == MAX_STATES + 2
    aws = Aws({f"P{i}": {"status": "SUCCEEDED", "output": '{"k":null}'} for i in range(10)})
    confirmed, _ = confirm(result, data, ask=aws)
    assert [r.state_name for r in aws.requests] == [f"P{i}" for i in range(MAX_STATES)]
    assert confirmed.confirmation is not None and len(confirmed.confirmation) == MAX_STATES
    assert (
        f"confirm=True: {MAX_STATES + 2} culprit states, only {MAX_STATES} sent to TestState "
        "(not: P8, P9)"
    ) in confirmed.warnings


def test_a_task_in_a_map_iteration_is_sent_with_its_item_its_error_and_its_retries() -> None:
    name = "test_error_output__test_map_catch_error_MAP_CATCH_ERROR_OUTPUT_WITH_RETRY"
    data = load_target_file(corpus_history(name), corpus_definition(name))
    result = analyze(data, "stateInput")
    trace = next(t for t in result.visits if t.visit.state == "ProcessItem")
    finding = Finding(trace, "null", None, None, None, "")
    targets, _ = plan(dataclasses.replace(result, first_null=finding, chain=()), data)
    assert [t.visit.state for t in targets] == ["ProcessItem"]
    request = targets[0].request
    assert request is not None
    assert request.mock is not None and request.mock.error == "Exception"
    assert request.retrier_retry_count == 1  # the second attempt failed too, then was caught
    assert request.context is not None
    context = json.loads(request.context)
    assert context["Map"] == {"Item": {"Index": 0, "Value": 1}}
    assert context["State"]["RetryCount"] == 1


def test_a_redacted_trace_sends_the_real_values() -> None:
    data = seed_data()
    shown = redact_all(data, FIELD)
    result = analyze(shown, FIELD, replay_source=data)
    aws = Aws()
    confirm(result, data, ask=aws, redacted=True)
    for request in aws.requests:
        assert request.input == recorded(request.state_name)[0]


@pytest.mark.parametrize("source", ["corpus", "fixtures"])
def test_every_task_map_and_parallel_request_carries_a_mock(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every state of every recorded history planned as a culprit: each Task, Map and
    Parallel that is sent has its mock, and the planner never proposes one without (the
    request's gate would refuse it: "not sent: ...")."""
    monkeypatch.setattr(confirm_plan, "MAX_STATES", 10**6)
    histories = (
        [(corpus_history(n), corpus_definition(n)) for n in corpus_names()]
        if source == "corpus"
        else [(fixture_history(n), DEFINITION) for n in fixture_names()]
    )
    mocked = sent = 0
    for history, definition in histories:
        if definition is None:
            continue
        data = load_target_file(history, definition)
        result = analyze(data, "__any__")
        hops = tuple(
            Hop(t.visit.state, t.visit.seq, t.visit.scope, None, "input", None, None, None)
            for t in result.visits
        )
        targets, _ = plan(dataclasses.replace(result, chain=hops), data)
        for target in targets:
            assert not (target.skipped or "").startswith("not sent"), (history, target.skipped)
            if target.request is None:
                continue
            sent += 1
            if target.request.state_type in MOCKED_TYPES:
                assert target.request.mock is not None
                assert "mock" in target.request.api_params()
                mocked += 1
    assert sent > 20 and mocked >= 10, (sent, mocked)
    assert CORPUS.is_dir()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("truncated", "the visit's input is truncated in the history"),
        ("not included", "the visit's input was not recorded (execution data not included)"),
    ],
)
def test_a_visit_whose_input_was_not_recorded_whole_is_not_sent(damage: str, reason: str) -> None:
    events = seed_events()
    entered = next(
        e
        for e in events
        if e["type"] == "PassStateEntered"
        and e["stateEnteredEventDetails"]["name"] == "PrepareFinalMerge"
    )
    details = entered["stateEnteredEventDetails"]
    if damage == "truncated":
        details["inputDetails"] = {"truncated": True}
    else:
        del details["input"]
    data = dataclasses.replace(seed_data(), events=events_from_api(events))
    result = analyze(data, FIELD)
    trace = next(t for t in result.visits if t.visit.state == "PrepareFinalMerge")
    finding = Finding(trace, "null", None, None, None, "")
    aws = Aws()
    confirmed, _ = confirm(
        dataclasses.replace(result, first_null=finding, lost_at=None, chain=()), data, ask=aws
    )
    assert not aws.requests
    assert confirmed.confirmation is not None
    assert [(c.state, c.verdict.value, c.reason) for c in confirmed.confirmation] == [
        ("PrepareFinalMerge", "unconfirmed", reason)
    ]
