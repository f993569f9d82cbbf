"""sfn_trace.asl.jsonpath: ASL paths, one test per data-flow step and per root.

Expected messages are the ones AWS recorded (docs/aws-reference.md section 3 and the histories
in tests/data/aws-recorded).
"""

from __future__ import annotations

from typing import Any

import pytest

from sfn_trace.asl.jsonpath import (
    PathMissing,
    PathSyntaxError,
    Roots,
    StatesRuntime,
    Unreplayable,
    apply_result_path,
    format_path,
    jayway_path,
    parse_location,
    parse_path,
    read,
    read_parameter,
    select,
    unknown,
    value_at,
)
from sfn_trace.trace.field import find_occurrences

DOCUMENT: dict[str, Any] = {
    "a": {"b": 1, "n": None},
    "a b": "spaced",
    "delivery-partner": "dash",
    "where": "keyword",
    "é": "accent",
    "items": [{"v": 0, "status": 0}, {"v": 1, "status": 1}, {"v": 2, "status": 0}],
}


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "root", "segments"),
    [
        ("$", "$", ()),
        ("$.a.b", "$", ("a", "b")),
        ("$['a b']", "$", ("a b",)),
        ('$["a"]["b"]', "$", ("a", "b")),
        ("$['it\\'s']", "$", ("it's",)),
        ("$.items[0].v", "$", ("items", 0, "v")),
        ("$.items[-1]", "$", ("items", -1)),
        ("$.delivery-partner", "$", ("delivery-partner",)),
        ("$.where", "$", ("where",)),
        ("$.é", "$", ("é",)),
        ("$$", "$$", ()),
        ("$$.Execution.Input.k", "$$", ("Execution", "Input", "k")),
        ("$answer", "answer", ()),
        ("$answer.list[1]", "answer", ("list", 1)),
    ],
)
def test_definite_paths_name_one_node(text: str, root: str, segments: tuple[Any, ...]) -> None:
    parsed = parse_path(text)
    assert (parsed.root, parsed.segments, parsed.definite) == (root, segments, True)


@pytest.mark.parametrize(
    "text",
    ["$.items[*]", "$.items[1:]", "$.items[0,1]", "$..v", "$.items[?(@.status == 0)]", "$.a.*"],
)
def test_wildcards_slices_unions_and_filters_are_indefinite(text: str) -> None:
    assert not parse_path(text).definite


@pytest.mark.parametrize("text", ["a.b", "$.a[", "$.items[?(@.x ==)]"])
def test_bad_syntax_is_a_states_runtime_error(text: str) -> None:
    with pytest.raises(PathSyntaxError) as raised:
        parse_path(text)
    assert raised.value.error == "States.Runtime"


# --- reading ----------------------------------------------------------------------------------


def test_definite_path_reads_the_node_and_json_null_is_null() -> None:
    roots = Roots(DOCUMENT)
    assert read("$.a.b", roots) == 1
    assert read("$.a.n", roots) is None
    assert read("$['a b']", roots) == "spaced"


def test_definite_path_to_nothing_is_missing_not_null() -> None:
    with pytest.raises(PathMissing):
        read("$.a.zzz", Roots(DOCUMENT))
    with pytest.raises(PathMissing):
        read("$.items[10]", Roots(DOCUMENT))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.items[*].v", [0, 1, 2]),
        ("$.items[1:].v", [1, 2]),
        ("$.items[:1].v", [0]),
        ("$.items[?(@.status == 0)].v", [0, 2]),
        ("$..b", [1]),
        ("$.nothing[*]", []),
    ],
)
def test_indefinite_paths_return_lists(text: str, expected: list[Any]) -> None:
    assert read(text, Roots(DOCUMENT)) == expected


def test_context_and_variables_are_roots() -> None:
    roots = Roots({}, {"State": {"Name": "S"}}, {"answer": {"list": [1, 2]}})
    assert read("$$.State.Name", roots) == "S"
    assert read("$answer.list[1]", roots) == 2


def test_an_unknown_variable_is_a_states_runtime_error() -> None:
    with pytest.raises(StatesRuntime, match="'nope' is not defined"):
        read("$nope", Roots({}))


def test_a_context_value_the_history_lacks_is_unreplayable() -> None:
    roots = Roots({}, {"Execution": {"RoleArn": unknown("$$.Execution.RoleArn")}})
    with pytest.raises(Unreplayable, match="RoleArn"):
        read("$$.Execution.RoleArn", roots)
    with pytest.raises(Unreplayable):
        read("$$", roots)


# --- InputPath / OutputPath / ItemsPath ---------------------------------------------------------


def test_path_step_null_gives_an_empty_object_and_dollar_the_document() -> None:
    assert select(None, Roots(DOCUMENT)) == {}
    assert select("$", Roots(DOCUMENT)) is DOCUMENT
    assert select("$.a", Roots(DOCUMENT)) == {"b": 1, "n": None}


def test_path_step_to_a_missing_leaf_has_aws_message() -> None:
    with pytest.raises(StatesRuntime) as raised:
        select("$.NoSuchInputPath", Roots({"a": 1}))
    assert raised.value.cause == (
        "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    )


def test_path_step_through_a_missing_member_has_aws_message() -> None:
    with pytest.raises(StatesRuntime) as raised:
        select("$.no.such", Roots({"a": 1}))
    assert raised.value.cause == "Invalid path '$.no.such' : Missing property in path $['no']"


# --- Parameters values ------------------------------------------------------------------------


def test_parameter_path_to_null_is_null() -> None:
    assert read_parameter("$.a.n", "k.$", Roots(DOCUMENT)) is None


def test_parameter_path_to_nothing_fails_with_aws_message() -> None:
    with pytest.raises(StatesRuntime) as raised:
        read_parameter("$.x", "k.$", Roots({"a": 1, "s": "é"}))
    assert raised.value.cause == (
        "The JSONPath '$.x' specified for the field 'k.$' could not be found in the input "
        '\'{"a":1,"s":"é"}\''
    )


# --- ResultPath ---------------------------------------------------------------------------------


def test_result_path_dollar_replaces_the_input() -> None:
    assert apply_result_path("$", {"a": 1}, {"r": 2}) == {"r": 2}


def test_result_path_null_discards_the_result() -> None:
    raw = {"a": 1}
    assert apply_result_path(None, raw, {"r": 2}) is raw


def test_result_path_writes_into_a_copy_of_the_raw_input_creating_nodes() -> None:
    raw = {"a": {"keep": 1}, "b": 2}
    out = apply_result_path("$.a.new.deep", raw, "R")
    assert out == {"a": {"keep": 1, "new": {"deep": "R"}}, "b": 2}
    assert raw == {"a": {"keep": 1}, "b": 2}, "the raw input is not modified"


def test_result_path_overwrites_an_existing_node() -> None:
    assert apply_result_path("$.a", {"a": {"F": "set"}, "b": 1}, {"x": 1}) == {
        "a": {"x": 1},
        "b": 1,
    }


def test_result_path_into_an_array_element() -> None:
    assert apply_result_path("$.l[1]", {"l": [0, 1]}, "R") == {"l": [0, "R"]}


@pytest.mark.parametrize(("path", "raw"), [("$.a", "scalar"), ("$.a.b", {"a": 3}), ("$$.x", {})])
def test_result_path_that_cannot_apply_is_a_states_runtime_error(path: str, raw: Any) -> None:
    with pytest.raises(StatesRuntime):
        apply_result_path(path, raw, 1)


# --- spelling -----------------------------------------------------------------------------------


def test_format_path_spells_locations_as_field_occurrences_do() -> None:
    document = {"a b": {"F": 1}, "l": [{"F": 2}], "x": {"it's": {"F": 3}}}
    for occurrence in find_occurrences(document, "F"):
        segments = parse_location(occurrence.path)
        assert format_path(segments) == occurrence.path
        assert value_at(document, segments) == occurrence.value


def test_jayway_spelling_for_messages() -> None:
    assert jayway_path(("a", 0, "b")) == "$['a'][0]['b']"


def test_value_at_has_a_default_for_nothing() -> None:
    marker = object()
    assert value_at({"a": [1]}, ("a", 3), marker) is marker
    assert value_at({"a": [1]}, ("a", -1)) == 1
