"""asl/walkback.py: the one home of "reads the field" and of the walk back's small rules."""

from __future__ import annotations

from typing import Any

import pytest

from sfn_trace.asl import walkback
from sfn_trace.asl.walkback import FieldRead, From, JsonataPath, Merge

D, RAW, CTX, VAR = From.DOCUMENT, From.RAW_INPUT, From.CONTEXT, From.VARIABLE


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        # JSONPath: a path whose last step is the field, from the input, the context or a
        # variable
        ("F.$", "$.a.F", [FieldRead(("a", "F"), D)]),
        ("F.$", "$.F", [FieldRead(("F",), D)]),
        ("x.$", "States.Format('{}', $.a[0].F)", [FieldRead(("a", 0, "F"), D)]),
        ("F.$", "$$.Execution.Input.F", [FieldRead(("Execution", "Input", "F"), CTX)]),
        ("F.$", "$var.F", [FieldRead(("F",), VAR, "var")]),
        ("F.$", "$.F.inner", []),  # reads inside F, not F
        ("F.$", "$.items[*].F", []),  # indefinite
        ("F", "$.F", []),  # a literal string
        # JSONata: a plain path ending in the field, anywhere in the expression
        ("F", "{% $states.input.F %}", [FieldRead(("F",), RAW)]),
        (
            "",
            "{% $states.input.a.F & $states.input.b[1].F %}",
            [FieldRead(("a", "F"), RAW), FieldRead(("b", 1, "F"), RAW)],
        ),
        ("F", "{% $v.F %}", [FieldRead(("F",), VAR, "v")]),
        (
            "F",
            "{% $states.context.Execution.Input.F %}",
            [FieldRead(("Execution", "Input", "F"), CTX)],
        ),
        ("F", "{% $partition($states.input.F.fst, 2) %}", []),  # reads F's members
        ("F", "{% $states.result.F %}", []),  # the state's own result
        ("F", "{% $states.errorOutput.F %}", []),
        ("F", "{% $count($states.input.F.x) %}", []),
        ("F", "{% 'F' %}", []),  # named, not read
        ("F", "$states.input.F", []),  # not an expression
    ],
)
def test_field_reads(key: str, value: Any, expected: list[FieldRead]) -> None:
    assert list(walkback.field_reads(key, value, "F")) == expected


def test_reading_steps_read_the_input_not_the_result() -> None:
    names = [s.name for s in walkback.reading_steps("JSONPath", "Task")]
    assert names == ["Parameters"]  # not ResultSelector, not Assign (it reads the result)
    assert [s.name for s in walkback.reading_steps("JSONPath", "Choice")] == ["Assign"]
    assert [s.name for s in walkback.reading_steps("JSONPath", "Map")] == ["ItemSelector"]
    assert [s.name for s in walkback.reading_steps("JSONata", "Task")] == [
        "Arguments",
        "Output",
        "Assign",
    ]
    assert walkback.reading_steps("JSONata", "Fail") == ()


def test_computed_members_in_template_order_with_locations() -> None:
    template = {
        "a.$": "$.x",
        "b": {"c": "{% $states.input.y %}", "d": 1},
        "e": ["lit", "{% 1 + 1 %}"],
    }
    assert list(walkback.computed_members(template)) == [
        (("a",), "a.$", "$.x"),
        (("b", "c"), "c", "{% $states.input.y %}"),
        (("e", 1), "", "{% 1 + 1 %}"),
    ]
    assert list(walkback.computed_members("{% $states.input %}")) == [
        ((), "", "{% $states.input %}")
    ]
    assert list(walkback.computed_members(None)) == []


def test_a_deep_template_is_walked_without_recursion() -> None:
    template: Any = {"k.$": "$.F"}
    for _ in range(5000):
        template = {"n": template}
    ((location, key, _),) = walkback.computed_members(template)
    assert len(location) == 5001 and key == "k.$"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$states.input.a[2].b", JsonataPath("input", ("a", 2, "b"))),
        ("$states.result", JsonataPath("result", ())),
        ("$states.errorOutput.Cause", JsonataPath("errorOutput", ("Cause",))),
        ("$states.context.Execution.Id", JsonataPath("context", ("Execution", "Id"))),
        ("$v.x", JsonataPath("v", ("x",), variable=True)),
        ("$states", None),
        ("$states.input.a + 1", None),
        ("$count($states.input)", None),
    ],
)
def test_jsonata_path(text: str, expected: JsonataPath | None) -> None:
    assert walkback.jsonata_path(text) == expected


def test_under_result_path() -> None:
    assert walkback.under_result_path(("r",), ("r", "F")) == ("F",)
    assert walkback.under_result_path(("r",), ("F",)) is None
    assert walkback.under_result_path((), ("F",)) == ("F",)


def test_path_location_is_a_definite_path_rooted_at_the_document() -> None:
    assert walkback.path_location("$.a[0]") == ("a", 0)
    assert walkback.path_location("$") == ()
    assert walkback.path_location("$$.Execution") is None
    assert walkback.path_location("$.a[*]") is None
    assert walkback.path_location("not a path") is None
    assert walkback.path_location(None) is None


@pytest.mark.parametrize(
    ("template", "location", "expected"),
    [
        ({"a.$": "$.x.y"}, ("a", "F"), (From.DOCUMENT, ("x", "y", "F"), None)),
        (
            {"a.$": "$$.Execution.Input"},
            ("a",),
            (From.CONTEXT, ("Execution", "Input"), "$$.Execution.Input"),
        ),
        ({"a.$": "$v.x"}, ("a",), (From.VARIABLE, ("x",), "v")),
        ({"a.$": "States.UUID()"}, ("a",), (From.COMPUTED, None, "States.UUID()")),
        ({"a": "{% $states.input.b %}"}, ("a", "F"), (From.RAW_INPUT, ("b", "F"), None)),
        ({"a": "{% $states.result.b %}"}, ("a",), (From.RESULT, ("b",), None)),
        ({"a": "{% $states.errorOutput %}"}, ("a",), (From.ERROR, (), None)),
        (
            {"a": "{% $states.context.Execution %}"},
            ("a",),
            (From.CONTEXT, ("Execution",), "$states.context.Execution"),
        ),
        ({"a": "{% $v.x %}"}, ("a",), (From.VARIABLE, ("x",), "v")),
        ({"a": "{% 1 + 1 %}"}, ("a",), (From.COMPUTED, None, "1 + 1")),
        ({"a": {"b": 1}}, ("a", "b"), (From.LITERAL, ("a", "b"), None)),
        ("{% $states.input %}", ("F",), (From.RAW_INPUT, ("F",), None)),
    ],
)
def test_member_source(template: Any, location: tuple[Any, ...], expected: tuple[Any, ...]) -> None:
    found = walkback.member_source(template, location)
    assert found is not None
    assert (found.source, found.location, found.detail) == expected


def test_a_template_without_the_location_writes_nothing() -> None:
    assert walkback.member_source({"a.$": "$.x"}, ("b",)) is None
    assert walkback.member_source("literal", ("b",)) is None


def test_result_path_back() -> None:
    """Inside its node: what it put there; outside: the raw input; null: the raw input."""
    assert walkback.result_path_back("$.r", ("r", "F")) == Merge(("F",), True, ("r",))
    assert walkback.result_path_back("$.r", ("F",)) == Merge(("F",), False)
    assert walkback.result_path_back(None, ("F",)) == Merge(("F",), False)
    assert walkback.result_path_back("$", ("F",)) == Merge(("F",), True, ())
    assert walkback.result_path_back("$.r[*]", ("F",)) == Merge(None, False)
