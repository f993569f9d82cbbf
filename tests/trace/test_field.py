"""sfn_trace.trace.field: occurrences of the tracked field, their JSONPaths, and statuses.

docs/design.md, "Field semantics": an occurrence is any object member whose key is the field, at
any depth, with its JSONPath; set means not null; null and missing differ; a document we
cannot see is unknown.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from sfn_trace.model.events import Payload
from sfn_trace.model.jsontext import MAX_DEPTH
from sfn_trace.model.snapshot import MISSING, Occurrence, Status
from sfn_trace.trace.field import find_occurrences, snapshot, snapshot_of

F = "poll_results_s3_key"


def paths(document: Any, field: str = F) -> list[str]:
    return [o.path for o in find_occurrences(document, field)]


# --- paths ------------------------------------------------------------------------------------


def test_top_level_and_nested_paths() -> None:
    assert paths({F: "k"}) == [f"$.{F}"]
    assert paths({"a": {"b": 1}}, "b") == ["$.a.b"]
    assert paths({"chunked_data": {F: None}}) == [f"$.chunked_data.{F}"]


def test_array_indexes() -> None:
    document = {"items": [{"x": 1}, 2, "F", {"F": 0}, [{"F": 1}]]}
    assert paths(document, "F") == ["$.items[3].F", "$.items[4][0].F"]
    assert paths([{"F": 1}, [], {"F": 2}], "F") == ["$[0].F", "$[2].F"]


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("a b", "$['a b']"),
        ("a.b", "$['a.b']"),
        ("$", "$['$']"),
        ("$x", "$['$x']"),
        ("it's", "$['it\\'s']"),
        ('say "hi"', "$['say \"hi\"']"),
        ("back\\slash", "$['back\\\\slash']"),
        ("a[0]", "$['a[0]']"),
        ("1st", "$['1st']"),
        ("", "$['']"),
        ("clé", "$['clé']"),
        ("_ok9", "$._ok9"),
    ],
)
def test_keys_needing_brackets(key: str, path: str) -> None:
    assert paths({key: 1}, key) == [path]
    # the bracketed member is also used for containers on the way down
    assert paths({key: {"F": 1}}, "F") == [path + ".F"]


def test_values_are_returned() -> None:
    document = {"a": {"F": {"nested": True}}, "b": [{"F": 0}, {"F": False}, {"F": ""}]}
    found = find_occurrences(document, "F")
    assert [o.value for o in found] == [{"nested": True}, 0, False, ""]
    assert all(o.is_set for o in found)  # 0, False and "" are values, not null
    assert Occurrence("$.F", None).is_set is False


def test_occurrence_inside_occurrence() -> None:
    assert paths({"F": {"F": None}}, "F") == ["$.F", "$.F.F"]


def test_order_of_siblings_and_subtrees() -> None:
    document = {"b": [{"F": 3}, {"c": {"F": None}}], "z": {"F": 4}}
    assert paths(document, "F") == ["$.b[0].F", "$.b[1].c.F", "$.z.F"]


def test_document_order() -> None:
    # pre-order: a member's subtree comes before the members that follow it
    document = {"a": {"F": 1}, "F": 2, "b": [{"F": 3}, {"x": {"F": 4}}], "c": {"F": 5}}
    assert paths(document, "F") == ["$.a.F", "$.F", "$.b[0].F", "$.b[1].x.F", "$.c.F"]


def test_no_occurrence() -> None:
    assert find_occurrences({"a": 1, "b": ["F", {"f": 1}]}, "F") == []
    for scalar in (None, 1, "F", True, 1.5):
        assert find_occurrences(scalar, "F") == []


@pytest.mark.parametrize(
    "field",
    ["a.b", "a[0]", "it's", 'x"y', "$", "$.a", "clé", "日本", "a b", ""],
)
def test_field_names_are_matched_exactly(field: str) -> None:
    # a dotted or bracketed field name is one key, never a path
    document = {"a": {"b": 1, "0": 2}, field: "v", "nested": [{field: None}]}
    found = find_occurrences(document, field)
    assert [o.value for o in found] == ["v", None]
    assert snapshot_of(document, field).status is Status.MIXED


# --- statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "status"),
    [
        ({F: "k"}, Status.SET),
        ({F: "k", "x": {F: 0}}, Status.SET),
        ({F: None}, Status.NULL),
        ({F: None, "x": [{F: None}]}, Status.NULL),
        ({F: "k", "x": {F: None}}, Status.MIXED),
        ({"x": 1}, Status.MISSING),
        ({}, Status.MISSING),
        ([], Status.MISSING),
        (None, Status.MISSING),
    ],
)
def test_snapshot_of_status(document: Any, status: Status) -> None:
    snap = snapshot_of(document, F)
    assert snap.status is status
    assert snap.known
    assert snap.has_set is (status in (Status.SET, Status.MIXED))
    assert snap.has_null is (status in (Status.NULL, Status.MIXED))
    assert len(snap.occurrences) == len(find_occurrences(document, F))


def test_missing_is_not_null() -> None:
    assert snapshot_of({}, F) == MISSING
    assert snapshot_of({}, F) != snapshot_of({F: None}, F)
    assert MISSING.occurrences == ()


def test_snapshot_helpers() -> None:
    snap = snapshot_of({"a": {F: None}, "b": {F: "k"}}, F)
    assert snap.value_at(f"$.a.{F}") == Occurrence(f"$.a.{F}", None)
    assert snap.value_at("$.nowhere") is None
    assert snap.first_set() == Occurrence(f"$.b.{F}", "k")
    assert snapshot_of({F: None}, F).first_set() is None


@pytest.mark.parametrize(
    ("text", "status"),
    [
        (json.dumps({F: "k"}), Status.SET),
        (json.dumps({F: None}), Status.NULL),
        (json.dumps({"x": {F: None}, F: "k"}), Status.MIXED),
        (json.dumps({"other": 1}), Status.MISSING),
        ("{}", Status.MISSING),
        ('"just a string"', Status.MISSING),
    ],
)
def test_snapshot_of_payload(text: str, status: Status) -> None:
    snap = snapshot(Payload(text), F, absent="never used")
    assert snap.status is status
    assert snap.reason is None


def test_snapshot_of_payload_with_escaped_key() -> None:
    text = '{"\\u0046": null}'
    assert snapshot(Payload(text), "F", absent="").status is Status.NULL


# --- unknown ----------------------------------------------------------------------------------


def test_unknown_without_payload() -> None:
    snap = snapshot(None, F, absent="execution data not included")
    assert snap.status is Status.UNKNOWN
    assert snap.reason == "execution data not included"
    assert not snap.known and not snap.has_set and not snap.has_null
    assert snap.occurrences == ()


def test_unknown_when_truncated() -> None:
    # even when the visible text holds a set copy: a truncated document cannot be trusted
    snap = snapshot(Payload(json.dumps({F: "k"}), truncated=True), F, absent="")
    assert snap.status is Status.UNKNOWN
    assert snap.reason == "payload truncated"
    cut = snapshot(Payload('{"a": 1, "b', truncated=True), F, absent="")
    assert cut.status is Status.UNKNOWN


def test_unknown_when_not_json() -> None:
    snap = snapshot(Payload(f'{{"{F}": "k", oops'), F, absent="")
    assert snap.status is Status.UNKNOWN
    assert snap.reason == "payload is not JSON"


@pytest.mark.parametrize(
    "cut",
    ['{"chunked_data": {"poll_res', "[1, 2, ", '{"a": 1} {'],
)
def test_unknown_when_not_json_and_key_not_spelled(cut: str) -> None:
    # e.g. a payload a tool cut without setting the truncated flag: the cheap "key not
    # spelled" pre-check must not turn an unreadable document into "missing"
    snap = snapshot(Payload(cut), F, absent="")
    assert snap.status is Status.UNKNOWN
    assert snap.reason == "payload is not JSON"


@pytest.mark.parametrize(
    ("text", "field"),
    [('{"clé": "v"}', "clé"), ('{"日本": "v"}', "日本"), ('{"cl\\u00e9": "v"}', "clé")],
)
def test_non_ascii_field_in_payload(text: str, field: str) -> None:
    # AWS payloads carry raw UTF-8; an escaped spelling must be found too
    snap = snapshot(Payload(text), field, absent="")
    assert snap.status is Status.SET
    assert snap.occurrences == (Occurrence(f"$['{field}']", "v"),)


# --- depth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "closing"),
    [('{"a":', "}"), ("[", "]")],
    ids=["objects", "arrays"],
)
def test_deeply_nested_text_is_read_up_to_the_limit(opening: str, closing: str) -> None:
    # 5000 levels: beyond Python's own parser, within the documented limit: read, and found
    depth = 5000
    text = opening * depth + f'{{"{F}": "k"}}' + closing * depth
    snap = snapshot(Payload(text), F, absent="")
    assert snap.status is Status.SET
    assert snap.occurrences[0].value == "k"


@pytest.mark.parametrize(
    ("opening", "closing"),
    [('{"a":', "}"), ("[", "]")],
    ids=["objects", "arrays"],
)
def test_text_nested_beyond_the_limit_is_unknown_and_says_why(opening: str, closing: str) -> None:
    depth = MAX_DEPTH + 1
    text = opening * depth + f'{{"{F}": "k"}}' + closing * depth
    snap = snapshot(Payload(text), F, absent="")
    assert snap.status is Status.UNKNOWN
    assert snap.reason == f"payload nested deeper than {MAX_DEPTH} levels"
    assert snap.occurrences == ()


def test_find_occurrences_on_a_deep_structure() -> None:
    depth = sys.getrecursionlimit() * 5
    document: dict[str, Any] = {F: None}
    for _ in range(depth):
        document = {"a": document, "l": []}
    wrapped: Any = document
    for _ in range(depth):
        wrapped = [wrapped]
    found = find_occurrences(wrapped, F)
    assert len(found) == 1
    assert found[0].value is None
    assert found[0].path == "$" + "[0]" * depth + ".a" * depth + f".{F}"
    assert snapshot_of(wrapped, F).status is Status.NULL
