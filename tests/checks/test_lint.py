"""sfn_trace.checks.lint: from the definition alone, the paths on which a read field can be lost."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sfn_trace.checks.lint import LintFinding, lint, reads
from sfn_trace.model.definition import Definition
from sfn_trace.sources.files import read_definition
from tests.data import DEFINITION as SEED
from tests.data import FIXED_DEFINITION as FIXED
from tests.data import corpus_definition, corpus_names

FIELD = "poll_results_s3_key"


def lint_of(states: dict[str, Any], field: str = "F", **top: Any) -> list[LintFinding]:
    body = {"StartAt": next(iter(states)), "States": states, **top}
    return lint(Definition.from_text(json.dumps(body)), field)


def reader(next_state: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "use", "Payload": {"F.$": "$.F"}},
    }
    return {**state, "Next": next_state} if next_state else {**state, "End": True}


def test_the_seed_flat_path_depends_on_split_into_chunks_returning_the_key() -> None:
    findings = lint(read_definition(SEED), FIELD)
    flat = next(f for f in findings if f.reader == "PrepareFinalMerge")
    assert flat.dropper == "SplitIntoChunks"
    assert flat.expression == (
        'Parameters "poll_results_s3_key.$": "$.chunked_data.poll_results_s3_key"'
    )
    assert flat.read == "$.chunked_data.poll_results_s3_key"
    assert flat.path == (
        "NormalizePollBatchesData",
        "SplitIntoChunks",
        "CheckChunkCount",
        "PrepareFinalMerge",
    )
    assert '"poll_results_s3_key.$": "$.Payload.poll_results_s3_key"' in flat.reason
    assert "$.poll_results_data.poll_results_s3_key" in flat.hint


def test_the_seed_hierarchical_path_has_the_same_bug_in_create_chunk_groups() -> None:
    findings = lint(read_definition(SEED), FIELD)
    droppers = {(f.reader, f.dropper) for f in findings}
    assert ("PrepareHierarchicalFinalMerge", "CreateChunkGroups") in droppers
    assert ("MarkBatchesComplete", "FinalMerge") in droppers


def test_the_corrected_definition_is_clean() -> None:
    assert lint(read_definition(FIXED), FIELD) == []


def test_parameters_without_the_field_drop_it() -> None:
    [finding] = lint_of(
        {"P": {"Type": "Pass", "Parameters": {"other.$": "$.o"}, "Next": "R"}, "R": reader()}
    )
    assert (finding.reader, finding.dropper) == ("R", "P")
    assert finding.reason == "Parameters builds a new document without $.F"


def test_output_path_null_and_a_narrowing_output_path() -> None:
    [finding] = lint_of({"P": {"Type": "Pass", "OutputPath": None, "Next": "R"}, "R": reader()})
    assert finding.dropper == "P" and "OutputPath: null" in finding.reason
    narrowed = {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "OutputPath": "$.r"}
    narrowed["Next"] = "R"
    [finding] = lint_of({"P": narrowed, "R": reader()})
    assert finding.dropper == "P" and "Result" in finding.reason


def test_a_result_path_over_the_fields_parent_depends_on_the_task() -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"Payload": {"F.$": "$.F"}},
        "ResultPath": "$",
        "OutputPath": "$.Payload",
        "Next": "R",
    }
    [finding] = lint_of({"T": task, "R": reader()})
    assert finding.dropper == "T" and "only set if the task returns the F" in finding.reason


def test_a_task_that_makes_the_field_is_not_a_risk() -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"Payload": {"other.$": "$.x"}},
        "ResultSelector": {"F.$": "$.Payload.F"},
        "ResultPath": "$.made",
        "Next": "R",
    }
    use = reader()
    use["Parameters"]["Payload"] = {"F.$": "$.made.F"}
    assert lint_of({"T": task, "R": use}) == []


def test_a_catch_with_the_default_result_path_drops_the_input() -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "R"}],
        "ResultPath": None,
        "Next": "R",
    }
    [finding] = lint_of({"T": task, "R": reader()})
    assert finding.dropper == "T" and "error output" in finding.reason
    assert '"$.error"' in finding.hint
    task["Catch"][0]["ResultPath"] = "$.error"
    assert lint_of({"T": task, "R": reader()}) == []


def test_choice_branches_are_separate_paths_and_loops_are_cut() -> None:
    states = {
        "Start": {"Type": "Pass", "Next": "C"},
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Drop"}],
            "Default": "R",
        },
        "Drop": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Next": "C"},
        "R": reader(),
    }
    [finding] = lint_of(states)
    assert finding.dropper == "Drop"
    assert finding.path == ("Start", "C", "Drop", "C", "R")


def test_a_reader_inside_a_map_is_traced_through_the_item_selector() -> None:
    inner = {"StartAt": "R", "States": {"R": reader()}}
    mapped = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"item.$": "$$.Map.Item.Value"},
        "ItemProcessor": inner,
        "End": True,
    }
    [finding] = lint_of({"M": mapped})
    assert (finding.reader, finding.dropper, finding.path) == ("R", "M", ("M", "R"))
    mapped["ItemSelector"] = {"F.$": "$.F"}
    assert lint_of({"M": mapped}) == []


def test_a_jsonata_reader_and_a_jsonata_output_without_the_field() -> None:
    use = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"Payload": {"F": "{% $states.input.F %}"}},
        "End": True,
    }
    before = {"Type": "Pass", "Output": {"other": "{% $states.input.o %}"}, "Next": "R"}
    [finding] = lint_of({"P": before, "R": use}, QueryLanguage="JSONata")
    assert (finding.reader, finding.dropper) == ("R", "P")
    before["Output"] = {"F": "{% $states.input.F %}"}
    assert lint_of({"P": before, "R": use}, QueryLanguage="JSONata") == []


@pytest.mark.parametrize("field", ["Payload", "result", "Value1", "input_value"])
def test_lint_reads_every_corpus_definition(field: str) -> None:
    found = (corpus_definition(name) for name in corpus_names())
    definitions = [path for path in found if path is not None]
    assert len(definitions) > 300
    for path in definitions:
        lint(read_definition(path), field)


def test_reads_are_those_of_the_shared_rule() -> None:
    """A JSONPath Task's ``Assign`` reads its result, a JSONata ``$states.result`` too: not
    reads; a variable's or the context's field is read, but not followed back (no location
    in the input); ``$states.input…F`` and a Choice's ``Assign`` (its input) are."""
    states = {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"a.$": "$$.Execution.Input.F", "b.$": "$v.F"},
            "Assign": {"x.$": "$.F"},
            "Next": "C",
        },
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "J"}],
            "Default": "J",
            "Assign": {"y.$": "$.F"},
        },
        "J": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Output": {"r": "{% $states.result.F %}", "i": "{% $states.input.F %}"},
            "End": True,
        },
    }
    definition = Definition.from_text(json.dumps({"StartAt": "T", "States": states}))
    assert [(r.state, r.step, r.location) for r in reads(definition, "F")] == [
        ("T", "Parameters", None),
        ("T", "Parameters", None),
        ("C", "Assign", ("F",)),
        ("J", "Output", ("F",)),
    ]


def test_a_choice_rules_output_and_assign_are_reads() -> None:
    """A Choice Rule's own ``Output``/``Assign`` runs when it matches (the replay renders it,
    so the chain can take it as the read): lint reads it too."""
    states = {
        "C": {
            "Type": "Choice",
            "QueryLanguage": "JSONata",
            "Choices": [
                {
                    "Condition": "{% true %}",
                    "Output": {"o": "{% $states.input.a.F %}"},
                    "Assign": {"v": "{% $states.input.F %}"},
                    "Next": "E",
                }
            ],
            "Default": "E",
        },
        "E": {"Type": "Succeed"},
    }
    definition = Definition.from_text(json.dumps({"StartAt": "C", "States": states}))
    assert [(r.state, r.step, r.location) for r in reads(definition, "F")] == [
        ("C", "Output", ("a", "F")),
        ("C", "Assign", ("F",)),
    ]
