"""sfn_trace.asl.drift: which states differ between the definition that ran and another."""

from __future__ import annotations

import copy
import json
from typing import Any

from sfn_trace.asl.drift import compare_definitions
from sfn_trace.model.definition import Change, Definition, StateDrift
from sfn_trace.sources.files import read_definition
from tests.data import DEFINITION as SEED
from tests.data import FIXED_DEFINITION as FIXED


def definition(body: dict[str, Any]) -> Definition:
    return Definition.from_text(json.dumps(body))


def test_formatting_and_key_order_do_not_count() -> None:
    body = json.loads(SEED.read_text())
    reordered = json.dumps(
        {k: body[k] for k in reversed(list(body))}, indent=None, separators=(",", ":")
    )
    drift = compare_definitions(read_definition(SEED), Definition.from_text(reordered))
    assert drift.identical and drift.states == ()


def test_the_corrected_line_ingest_differs_in_the_merge_inputs() -> None:
    drift = compare_definitions(read_definition(SEED), read_definition(FIXED))
    assert {d.state: (d.change, d.keys) for d in drift.states} == {
        "PrepareFinalMerge": (Change.CHANGED, ("Parameters",)),
        "PrepareHierarchicalFinalMerge": (Change.CHANGED, ("Parameters",)),
        "PrepareMarkBatchesComplete": (Change.CHANGED, ("Parameters",)),
        "MarkBatchesComplete": (Change.CHANGED, ("Parameters",)),
    }
    assert drift.machine_keys == ("Comment",)


def test_added_removed_and_changed_states() -> None:
    ran = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "ResultPath": "$.x", "End": True},
        },
    }
    expected = copy.deepcopy(ran)
    del expected["States"]["B"]
    expected["States"]["A"] = {"Type": "Pass", "OutputPath": "$.y", "Next": "C"}
    expected["States"]["C"] = {"Type": "Succeed"}
    drift = compare_definitions(definition(ran), definition(expected))
    assert set(drift.states) == {
        StateDrift("A", Change.CHANGED, ("Next", "OutputPath"), "States.A"),
        StateDrift("B", Change.REMOVED, (), "States.B"),
        StateDrift("C", Change.ADDED, (), "States.C"),
    }


def test_a_change_inside_a_map_is_reported_on_the_inner_state_only() -> None:
    inner = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    ran = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemProcessor": inner, "End": True}},
    }
    expected = copy.deepcopy(ran)
    expected["States"]["M"]["ItemProcessor"]["States"]["I"]["Parameters"] = {"a": 1}
    drift = compare_definitions(definition(ran), definition(expected))
    assert drift.states == (
        StateDrift("I", Change.CHANGED, ("Parameters",), "States.M.ItemProcessor.States.I"),
    )


def test_machine_level_keys_are_compared() -> None:
    ran = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    expected = {**ran, "QueryLanguage": "JSONata"}
    drift = compare_definitions(definition(ran), definition(expected))
    assert drift.machine_keys == ("QueryLanguage",) and not drift.identical
