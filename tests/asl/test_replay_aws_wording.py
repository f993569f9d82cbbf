"""Two histories recorded on AWS that the corpus in tests/data/aws-recorded does not hold,
replayed exactly as AWS recorded them: a JSONata evaluation error, whose cause carries the
JSONata error code, and a JSONPath bracket name holding a backslash and quotes.

Both are LocalStack's AWS recordings (Apache-2.0, see tests/data/aws-recorded/NOTICE): the
events below are theirs, with timestamps synthesised in event-id order as in the corpus.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sfn_trace.asl.jsonpath import Roots, StatesRuntime, select
from sfn_trace.asl.replay import replay_visits
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api
from sfn_trace.model.replay import ReplayStatus
from sfn_trace.trace.visits import build_visits
from tests.history_builder import History


def replayed(definition: dict[str, Any], history: History) -> list[Any]:
    parsed = Definition.from_text(json.dumps(definition))
    tree = build_visits(events_from_api(history.events), parsed)
    return list(replay_visits(tree, parsed).values())


# tests/aws/services/stepfunctions/v2/intrinsic_functions/test_math_operations_jsonata.snapshot
# .json, test_math_random_seeded (recorded 15-11-2024), and its template
# math_random_seeded_jsonata.json5: $randomSeeded is no function on AWS.
RANDOM_SEEDED = {
    "StartAt": "State_0",
    "States": {
        "State_0": {
            "QueryLanguage": "JSONata",
            "Type": "Pass",
            "Output": {"FunctionResult": "{% $randomSeeded($states.input.FunctionInput.fst) %}"},
            "End": True,
        }
    },
}
RANDOM_SEEDED_CAUSE = (
    "An error occurred while executing the state 'State_0' (entered at the event id #2). The "
    "JSONata expression '$randomSeeded($states.input.FunctionInput.fst)' specified for the "
    "field 'Output/FunctionResult' threw an error during evaluation. T1006: Attempted to "
    "invoke a non-function"
)


def test_a_jsonata_evaluation_error_names_its_code_as_aws_does() -> None:
    history = History()
    history.start({"FunctionInput": "fst"})
    history.add("PassStateEntered", 0, name="State_0", input={"FunctionInput": "fst"})
    failed = {"error": "States.QueryEvaluationError", "cause": RANDOM_SEEDED_CAUSE}
    history.add("EvaluationFailed", 0, location="Output/FunctionResult", state="State_0", **failed)
    history.add("ExecutionFailed", **failed)
    [replay] = replayed(RANDOM_SEEDED, history)
    assert replay.failure is not None
    assert replay.failure.cause == RANDOM_SEEDED_CAUSE
    assert replay.status is ReplayStatus.MATCH, replay.reason


# tests/aws/services/stepfunctions/v2/scenarios/test_base_scenarios.snapshot.json,
# test_escape_sequence_parsing[ESCAPE_SEQUENCES_JSONPATH] (recorded 02-02-2025), and its
# template escape_sequences_jsonpath.json5; the input is {'Test\\""Name"': 'Value"\\'}.
KEY = 'Test\\""Name"'
VALUE = 'Value"\\'
ESCAPES = {
    "StartAt": "JsonPathEscapeTest",
    "States": {
        "JsonPathEscapeTest": {
            "Type": "Pass",
            "Parameters": {"value.$": '$[\'Test\\""Name"\']'},
            "End": True,
        }
    },
}


def test_a_bracket_name_keeps_a_backslash_before_the_other_quote_as_aws_does() -> None:
    assert ESCAPES["States"]["JsonPathEscapeTest"]["Parameters"]["value.$"] == f"$['{KEY}']"
    history = History()
    history.start({KEY: VALUE})
    history.add("PassStateEntered", 0, name="JsonPathEscapeTest", input={KEY: VALUE})
    history.add("PassStateExited", name="JsonPathEscapeTest", output={"value": VALUE})
    history.succeed({"value": VALUE})
    [replay] = replayed(ESCAPES, history)
    assert replay.status is ReplayStatus.MATCH, replay.reason


def test_a_backslash_before_the_delimiting_quote_still_escapes_it() -> None:
    assert select("$['it\\'s']", Roots({"it's": 1}, {}, {})) == 1
    assert select('$["say \\"hi\\""]', Roots({'say "hi"': 2}, {}, {})) == 2
    assert select('$["it\\\'s"]', Roots({"it\\'s": 3}, {}, {})) == 3  # the recorded case mirrored
    assert select("$['a\\\"b']", Roots({'a\\"b': 4}, {}, {})) == 4
    with pytest.raises(StatesRuntime):  # the member AWS reads is a\"b, not a"b
        select("$['a\\\"b']", Roots({'a"b': 4}, {}, {}))
