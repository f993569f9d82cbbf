"""Which Lambda functions a definition names, as the history's attempts will name them."""

from __future__ import annotations

import json

import pytest

from sfn_trace import api
from sfn_trace.model.definition import Definition
from sfn_trace.trace.invocations import all_invocations, definition_functions
from sfn_trace.trace.visits import build_visits
from tests.data import DEFINITION, corpus_definition, corpus_history, corpus_names, fixture_history

SEED = "flat_split_drops_key"
INVOKE = "arn:aws:states:::lambda:invoke"
LEGACY = "arn:aws:lambda:us-east-1:123456789012:function:legacy-fn:live"


def task(resource: str, **members: object) -> dict[str, object]:
    return {"Type": "Task", "Resource": resource, "End": True, **members}


def named(function: str) -> dict[str, str]:
    return {"FunctionName": function}


def test_constant_names_of_every_kind_and_depth() -> None:
    body = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Parallel",
                "Next": "Items",
                "Branches": [
                    {
                        "StartAt": "A",
                        "States": {"A": task(INVOKE, Parameters={"FunctionName": "a"})},
                    },
                    {"StartAt": "L", "States": {"L": task(LEGACY)}},
                ],
            },
            "Items": {
                "Type": "Map",
                "Next": "Dynamic",
                "ItemProcessor": {
                    "StartAt": "B",
                    "States": {
                        "B": task(INVOKE + ".waitForTaskToken", Parameters={"FunctionName": "b"})
                    },
                },
            },
            "Dynamic": task(INVOKE, Next="Computed", Parameters={"FunctionName.$": "$.fn"}),
            "Computed": task(
                INVOKE,
                Next="Jsonata",
                QueryLanguage="JSONata",
                Arguments={"FunctionName": "{% $states.input.fn %}"},
            ),
            "Jsonata": task(
                INVOKE, Next="Other", QueryLanguage="JSONata", Arguments={"FunctionName": "c"}
            ),
            "Other": task(
                "arn:aws:states:::sns:publish", Parameters={"FunctionName": "not-a-lambda"}
            ),
        },
    }
    definition = Definition.from_text(json.dumps(body))
    assert sorted(definition_functions(definition)) == sorted(["a", LEGACY, "b", "c"])


def test_the_seed_names_every_function_its_history_invoked() -> None:
    definition = Definition.from_text(DEFINITION.read_text())
    data = api.load(fixture_history(SEED), definition=definition)
    invoked = {i.reference for i in all_invocations(build_visits(data.events, definition).visits)}
    assert invoked and invoked <= set(definition_functions(definition))


@pytest.mark.parametrize("name", [n for n in corpus_names() if corpus_definition(n) is not None])
def test_recorded_histories_invoke_constant_names_as_the_definition_names_them(name: str) -> None:
    """On real AWS histories: a function the definition names with a constant is named by
    definition_functions exactly as the attempt that invoked it names it."""
    path = corpus_definition(name)
    assert path is not None
    definition = Definition.from_text(path.read_text())
    data = api.load(corpus_history(name), definition=definition)
    named = set(definition_functions(definition))
    for invocation in all_invocations(build_visits(data.events, definition).visits):
        if json.dumps(invocation.reference) in definition.text:
            assert invocation.reference in named, invocation.reference
