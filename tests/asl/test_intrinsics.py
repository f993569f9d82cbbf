"""sfn_trace.asl.intrinsics: one test per States.* function, and the call syntax.

Where AWS's behaviour is not in the documentation, the expected values are the ones AWS
recorded in tests/data/aws-recorded (test_math_add, test_format_2, test_string_split...).
"""

from __future__ import annotations

from typing import Any

import pytest

from sfn_trace.asl.intrinsics import (
    Call,
    Literal,
    PathArg,
    evaluate_intrinsic,
    parse_intrinsic,
    paths_in,
)
from sfn_trace.asl.jsonpath import Roots, StatesRuntime, Unreplayable


def run(text: str, document: Any = None, **roots: Any) -> Any:
    return evaluate_intrinsic(text, Roots(document if document is not None else {}, **roots))


# --- syntax -------------------------------------------------------------------------------------


def test_parser_reads_nested_calls_literals_and_paths() -> None:
    call = parse_intrinsic(
        "States.Format('a \\'q\\' {}', States.MathAdd($.n, -1.5), null, true, $$.State.Name)"
    )
    assert call.name == "Format"
    template, inner, null, true, context = call.args
    assert template == Literal("a 'q' {}", "a \\'q\\' {}")
    assert isinstance(inner, Call) and inner.args == (PathArg("$.n"), Literal(-1.5))
    assert (null, true, context) == (Literal(None), Literal(True), PathArg("$$.State.Name"))


def test_path_arguments_may_hold_commas_inside_brackets() -> None:
    call = parse_intrinsic("States.Array($['a,b'], $.c[0])")
    assert list(paths_in(call)) == ["$['a,b']", "$.c[0]"]


@pytest.mark.parametrize(
    "text", ["States.Format('x'", "States.Nope(", "Format('x')", "States.A(@)"]
)
def test_bad_calls_do_not_parse(text: str) -> None:
    with pytest.raises(StatesRuntime):
        parse_intrinsic(text)


def test_unknown_function_and_wrong_arity_are_runtime_errors() -> None:
    with pytest.raises(StatesRuntime, match="not supported"):
        run("States.Nope()")
    with pytest.raises(StatesRuntime, match="takes 1"):
        run("States.ArrayLength($.a, $.a)", {"a": []})


def test_a_missing_path_argument_is_a_runtime_error() -> None:
    with pytest.raises(StatesRuntime, match="could not be found"):
        run("States.ArrayLength($.missing)", {})


# --- one test per function ----------------------------------------------------------------------


def test_format_prints_values_as_java_does() -> None:
    document = {"s": "HelloWorld", "f": 1.1, "o": {"Arg1": 1, "Arg2": []}, "l": [1, "a"]}
    text = "States.Format('s={} f={} o={} l={} n={}', $.s, $.f, $.o, $.l, $.n)"
    assert run(text, {**document, "n": None}) == (
        "s=HelloWorld f=1.1 o={Arg1=1, Arg2=[]} l=[1, a] n=null"
    )


def test_format_keeps_escaped_braces_and_counts_placeholders() -> None:
    assert run("States.Format('\\{\\} {}', $.x)", {"x": 1}) == "{} 1"
    with pytest.raises(StatesRuntime, match="placeholder"):
        run("States.Format('{} {}', $.x)", {"x": 1})


def test_string_to_json_parses_and_blank_is_null() -> None:
    assert run("States.StringToJson($.s)", {"s": '[1, 2, "HelloWorld"]'}) == [1, 2, "HelloWorld"]
    assert run("States.StringToJson($.s)", {"s": " "}) is None
    with pytest.raises(StatesRuntime):
        run("States.StringToJson($.s)", {"s": "{nope"})


def test_json_to_string_is_compact() -> None:
    assert run("States.JsonToString($.v)", {"v": {"a": [1, "é"]}}) == '{"a":[1,"é"]}'
    assert run("States.JsonToString($.v)", {"v": "HelloWorld"}) == '"HelloWorld"'


def test_array_collects_its_arguments() -> None:
    assert run("States.Array($.a, 'x', 1, null)", {"a": {"k": 1}}) == [{"k": 1}, "x", 1, None]


def test_array_partition_chunks_and_rejects_non_positive_sizes() -> None:
    assert run("States.ArrayPartition($.a, 3)", {"a": [0, 1, 2, 3]}) == [[0, 1, 2], [3]]
    assert run("States.ArrayPartition($.a, 1)", {"a": []}) == []
    with pytest.raises(StatesRuntime):
        run("States.ArrayPartition($.a, 0)", {"a": [1]})


def test_array_contains_compares_json_values() -> None:
    assert run("States.ArrayContains($.a, $.v)", {"a": [{"1": 2, "2": []}], "v": {"1": 2, "2": []}})
    assert not run("States.ArrayContains($.a, $.v)", {"a": [1], "v": True})


def test_array_range_includes_the_end() -> None:
    assert run("States.ArrayRange(1, 9, 2)") == [1, 3, 5, 7, 9]
    assert run("States.ArrayRange(0, 10, 3)") == [0, 3, 6, 9]
    with pytest.raises(StatesRuntime):
        run("States.ArrayRange(0, 1, 0)")


def test_array_get_item_by_index() -> None:
    assert run("States.ArrayGetItem($.a, 5)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}) == 6
    with pytest.raises(StatesRuntime, match="out of bounds"):
        run("States.ArrayGetItem($.a, 1)", {"a": [1]})


def test_array_length() -> None:
    assert run("States.ArrayLength($.a)", {"a": [1, 2]}) == 2


def test_array_unique_keeps_first_occurrences() -> None:
    assert run("States.ArrayUnique($.a)", {"a": [1, 2, 1, True, {"x": 1}, {"x": 1}]}) == [
        1,
        2,
        True,
        {"x": 1},
    ]


def test_base64_encode_and_decode() -> None:
    assert run("States.Base64Encode($.s)", {"s": "Data to encode"}) == "RGF0YSB0byBlbmNvZGU="
    assert run("States.Base64Decode($.s)", {"s": "RGF0YSB0byBlbmNvZGU="}) == "Data to encode"
    with pytest.raises(StatesRuntime):
        run("States.Base64Decode($.s)", {"s": "***"})


def test_hash_with_the_documented_algorithms() -> None:
    assert run("States.Hash($.d, 'MD5')", {"d": "input data"}) == (
        "812f45842bc6d66ee14572ce20db8e86"
    )
    assert run("States.Hash($.d, 'SHA-1')", {"d": "input data"}) == (
        "aaff4a450a104cd177d28d18d74485e8cae074b7"
    )
    with pytest.raises(StatesRuntime, match="algorithm"):
        run("States.Hash($.d, 'CRC32')", {"d": "x"})


def test_json_merge_is_shallow_only() -> None:
    document = {"a": {"a": {"a1": 1}, "b": 2, "d": 3}, "b": {"a": {"a3": 1}, "c": 3, "d": 4}}
    assert run("States.JsonMerge($.a, $.b, false)", document) == {
        "a": {"a3": 1},
        "b": 2,
        "c": 3,
        "d": 4,
    }
    with pytest.raises(StatesRuntime, match="shallow"):
        run("States.JsonMerge($.a, $.b, true)", document)


def test_math_random_is_unreplayable() -> None:
    with pytest.raises(Unreplayable):
        run("States.MathRandom(0, 999, 3)")


@pytest.mark.parametrize(
    ("first", "second", "total"),
    [(-1.51, 0, -2), (0.5, 0, 1), (2.5, 0, 3), (-0.5, 0, 0), (-2.5, 0, -2), (1.5, 1.51, 4)],
)
def test_math_add_rounds_each_operand_half_up(first: float, second: float, total: int) -> None:
    assert run("States.MathAdd($.a, $.b)", {"a": first, "b": second}) == total


def test_string_split_drops_empty_tokens() -> None:
    assert run("States.StringSplit($.s, ',')", {"s": ", , ,"}) == [" ", " "]
    assert run("States.StringSplit($.s, '-_')", {"s": "a-b_c"}) == ["a", "b", "c"]


def test_uuid_is_unreplayable() -> None:
    with pytest.raises(Unreplayable):
        run("States.UUID()")


def test_nested_calls_from_the_corpus() -> None:
    text = (
        "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
        "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))"
    )
    assert run(text, {}, context={"StateMachine": {"Name": "line-ingest-dev"}}) == "dev"
