"""sfn_trace.model.definition: the ASL definition indexed by (machine-unique) state name."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from sfn_trace.errors import ExitCode, InputError
from sfn_trace.model.definition import Definition
from sfn_trace.sources.files import read_definition
from tests.data import DEFINITION, corpus_definition, corpus_names


def pass_state(next_state: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Type": "Pass", **extra}
    if next_state:
        body["Next"] = next_state
    else:
        body["End"] = True
    return body


NESTED = {
    "StartAt": "Outer",
    "States": {
        "Outer": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Inner",
                "States": {
                    "Inner": {
                        "Type": "Map",
                        "Iterator": {
                            "StartAt": "Leaf",
                            "States": {"Leaf": pass_state()},
                        },
                        "Next": "Par",
                    },
                    "Par": {
                        "Type": "Parallel",
                        "Branches": [
                            {
                                "StartAt": "A1",
                                "States": {"A1": pass_state("A2"), "A2": pass_state()},
                            },
                            {"StartAt": "B1", "States": {"B1": pass_state()}},
                        ],
                        "End": True,
                    },
                },
            },
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


def test_nested_index() -> None:
    definition = Definition.from_text(json.dumps(NESTED))
    assert set(definition.states) == {"Outer", "Inner", "Leaf", "Par", "A1", "A2", "B1", "Done"}
    outer = definition.states["Outer"]
    assert (outer.type, outer.parent, outer.branch) == ("Map", None, None)
    assert outer.location == "States.Outer"
    inner = definition.states["Inner"]
    assert (inner.type, inner.parent, inner.branch) == ("Map", "Outer", None)
    assert inner.location == "States.Outer.ItemProcessor.States.Inner"
    leaf = definition.states["Leaf"]
    assert (leaf.type, leaf.parent, leaf.branch) == ("Pass", "Inner", None)
    assert leaf.location == "States.Outer.ItemProcessor.States.Inner.Iterator.States.Leaf"
    assert definition.states["Done"].type == "Succeed"
    assert definition.states["Done"].parent is None


def test_parallel_branch_index() -> None:
    definition = Definition.from_text(json.dumps(NESTED))
    par = definition.states["Par"]
    assert (par.parent, par.branch) == ("Outer", None)
    for name, branch in (("A1", 0), ("A2", 0), ("B1", 1)):
        state = definition.states[name]
        assert (state.parent, state.branch) == ("Par", branch)
        assert state.location == (
            f"States.Outer.ItemProcessor.States.Par.Branches[{branch}].States.{name}"
        )


def test_body_and_lookup() -> None:
    text = json.dumps(NESTED)
    definition = Definition.from_text(text)
    assert definition.text == text
    assert definition.body == NESTED
    assert definition.state("B1") is definition.states["B1"]
    assert definition.states["A1"].body == pass_state("A2")
    assert definition.state("Nope") is None


def test_map_inside_parallel_branch() -> None:
    body = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "X", "States": {"X": pass_state()}},
                    {
                        "StartAt": "M",
                        "States": {
                            "M": {
                                "Type": "Map",
                                "ItemProcessor": {"StartAt": "Y", "States": {"Y": pass_state()}},
                                "End": True,
                            }
                        },
                    },
                ],
                "End": True,
            }
        },
    }
    definition = Definition.from_text(json.dumps(body))
    assert (definition.states["M"].parent, definition.states["M"].branch) == ("P", 1)
    # inside the Map's iterations there is no Parallel branch any more
    assert (definition.states["Y"].parent, definition.states["Y"].branch) == ("M", None)


def test_malformed_members_are_skipped() -> None:
    body = {
        "StartAt": "A",
        "States": {
            "A": pass_state(),
            "Junk": "not a state",
            "M": {"Type": "Map", "ItemProcessor": "nonsense", "Iterator": {"States": []}},
            "P": {"Type": "Parallel", "Branches": [None, {"States": {"Q": pass_state()}}]},
            "NoType": {"End": True},
        },
    }
    definition = Definition.from_text(json.dumps(body))
    assert set(definition.states) == {"A", "M", "P", "Q", "NoType"}
    assert definition.states["NoType"].type == ""
    assert (definition.states["Q"].parent, definition.states["Q"].branch) == ("P", 1)


# --- QueryLanguage ----------------------------------------------------------------------------


def test_query_language_defaults_to_jsonpath() -> None:
    definition = Definition.from_text(json.dumps(NESTED))
    assert {s.query_language for s in definition.states.values()} == {"JSONPath"}


def test_top_level_jsonata_is_inherited() -> None:
    definition = Definition.from_text(json.dumps({**NESTED, "QueryLanguage": "JSONata"}))
    assert {s.query_language for s in definition.states.values()} == {"JSONata"}


def test_per_state_override_and_nested_inheritance() -> None:
    body = {
        "StartAt": "A",
        "States": {
            "A": pass_state("M", QueryLanguage="JSONata"),
            "M": {
                "Type": "Map",
                "QueryLanguage": "JSONata",
                "ItemProcessor": {
                    "StartAt": "In",
                    "States": {
                        "In": pass_state("Own"),
                        "Own": pass_state(QueryLanguage="JSONPath"),
                    },
                },
                "Next": "B",
            },
            "B": pass_state(),
        },
    }
    definition = Definition.from_text(json.dumps(body))
    languages = {name: s.query_language for name, s in definition.states.items()}
    assert languages == {
        "A": "JSONata",
        "M": "JSONata",
        "In": "JSONata",  # inherited from the Map that holds it
        "Own": "JSONPath",  # its own setting wins
        "B": "JSONPath",  # the machine's default
    }


def test_branch_inherits_parallel_language() -> None:
    body = {
        "QueryLanguage": "JSONPath",
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "QueryLanguage": "JSONata",
                "Branches": [{"StartAt": "X", "States": {"X": pass_state()}}],
                "End": True,
            }
        },
    }
    definition = Definition.from_text(json.dumps(body))
    assert definition.states["X"].query_language == "JSONata"


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "{", "not json", '{"States": {}} trailing', "\x00"])
def test_not_json(text: str) -> None:
    with pytest.raises(InputError) as caught:
        Definition.from_text(text, origin="def.json")
    assert caught.value.exit_code is ExitCode.USAGE
    assert caught.value.message.startswith("def.json: not valid JSON")
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    "document",
    [
        [],
        "a string",
        42,
        None,
        {},
        {"StartAt": "A"},
        {"States": []},
        {"States": "A"},
        {"events": []},
    ],
    ids=[
        "list",
        "string",
        "number",
        "null",
        "empty",
        "no-states",
        "states-list",
        "states-str",
        "a-history",
    ],
)
def test_not_asl(document: Any) -> None:
    with pytest.raises(InputError) as caught:
        Definition.from_text(json.dumps(document))
    assert caught.value.exit_code is ExitCode.USAGE
    assert "not an Amazon States Language definition" in caught.value.message


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "sm.asl.json"
    path.write_text(json.dumps(NESTED), encoding="utf-8")
    definition = read_definition(path)
    assert "Leaf" in definition.states
    assert read_definition(str(path)).states.keys() == definition.states.keys()


def test_from_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="definition not found"):
        read_definition(tmp_path / "missing.json")
    with pytest.raises(InputError, match="definition is a directory"):
        read_definition(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"Comment": "no states"}', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_definition(bad)
    assert caught.value.message.startswith(str(bad))


# --- the recorded corpus ----------------------------------------------------------------------


def _corpus_definitions() -> list[Any]:
    found = [(name, corpus_definition(name)) for name in corpus_names()]
    params = [pytest.param(path, id=name) for name, path in found if path is not None]
    if not params:  # an empty parameter list would make pytest skip: fail the collection
        raise LookupError("the recorded corpus holds no definition")
    return params


def _walk(
    states: Mapping[str, Any], parent: str | None, branch: int | None
) -> Iterator[tuple[str, str, str | None, int | None]]:
    """(name, type, parent, branch) for every state, found independently of the code."""
    for name, body in states.items():
        yield name, body["Type"], parent, branch
        for key in ("ItemProcessor", "Iterator"):
            if key in body:
                yield from _walk(body[key]["States"], name, None)
        for i, branch_body in enumerate(body.get("Branches", [])):
            yield from _walk(branch_body["States"], name, i)


@pytest.mark.parametrize("path", _corpus_definitions())
def test_corpus_definition_parses(path: Path) -> None:
    definition = read_definition(path)
    expected = list(_walk(json.loads(path.read_text(encoding="utf-8"))["States"], None, None))
    assert len({name for name, *_ in expected}) == len(expected), "state names are unique"
    assert {name: (s.type, s.parent, s.branch) for name, s in definition.states.items()} == {
        name: (kind, parent, branch) for name, kind, parent, branch in expected
    }
    assert all(s.query_language in ("JSONPath", "JSONata") for s in definition.states.values())


def test_a_definition_saved_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    path = tmp_path / "bom.asl.json"
    path.write_bytes(b"\xef\xbb\xbf" + DEFINITION.read_bytes())
    assert read_definition(path).body == read_definition(DEFINITION).body


def test_a_definition_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.asl.json"
    path.write_bytes('{"StartAt": "Caf\xe9", "States": {}}'.encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_definition(path)
