"""Fitting answers into their budget (:mod:`sfn_trace.mcp.budget`), and the schemas it
relies on."""

from __future__ import annotations

import json
from typing import Any

from sfn_trace.mcp import budget
from tests.data import ROOT


def _untyped(schema: Any, found: set[str], typed: set[str]) -> None:
    if isinstance(schema, dict):
        for name, member in (schema.get("properties") or {}).items():
            if isinstance(member, dict):
                kinds = ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const")
                (typed if any(k in member for k in kinds) else found).add(name)
        for value in schema.values():
            _untyped(value, found, typed)
    elif isinstance(schema, list):
        for value in schema:
            _untyped(value, found, typed)


def test_only_members_of_any_json_get_a_marker_object() -> None:
    """The members the schemas leave untyped (any JSON) are the ones budget.VALUE_KEYS
    names, and no typed member shares their names."""
    found: set[str] = set()
    typed: set[str] = set()
    for path in sorted((ROOT / "docs" / "schema").glob("*.schema.json")):
        if path.name != "bundle.schema.json":  # not a tool's report
            _untyped(json.loads(path.read_text("utf-8")), found, typed)
    assert found == budget.VALUE_KEYS
    assert not found & typed


def headline(content: dict[str, Any]) -> list[str]:
    return [f"{len(content['truncated'])} cut(s)"]


def test_values_are_cut_with_markers_and_listed() -> None:
    big = {"k": "x" * 10_000}
    content = {"report": {"value": big, "note": "y" * 9_000, "ok": "short"}, "count": 3}
    fitted, text = budget.fit(content, headline, 5_000, keep=("count",))
    assert len(text) <= 5_000
    value = fitted["report"]["value"]
    assert value["truncated"] is True and value["json_chars"] == len(json.dumps(big))
    assert fitted["report"]["note"].endswith("… [truncated: 9000 chars]")
    assert fitted["report"]["ok"] == "short"
    assert {(c["path"], c["cut"]) for c in fitted["truncated"]} == {
        ("/report/value", "value"),
        ("/report/note", "text"),
    }
    assert content["report"]["value"] is big  # the original is left whole


def test_long_lists_are_halved_and_listed() -> None:
    content = {"report": {"rows": [{"n": n, "s": "z" * 50} for n in range(1_000)]}}
    fitted, text = budget.fit(content, headline, 5_000)
    assert len(text) <= 5_000
    rows = fitted["report"]["rows"]
    assert [row["n"] for row in rows] == list(range(len(rows)))
    assert fitted["truncated"] == [
        {"path": "/report/rows", "cut": "items", "total": 1_000, "kept": len(rows)}
    ]


def test_pages_take_whole_items_and_say_where_to_go_on() -> None:
    items = [{"seq": n, "text": "w" * 300} for n in range(1, 101)]
    content = {"field": "F"}
    seen: list[int] = []
    start = 0
    while True:
        rest = items[start:]
        page, text, taken = budget.page(
            content,
            "visits",
            rest,
            headline,
            4_000,
            lambda taken, rest=rest: str(rest[taken]["seq"]) if taken < len(rest) else None,
        )
        assert len(text) <= 4_000 and taken == len(page["visits"]) >= 1
        seen += [item["seq"] for item in page["visits"]]
        if page["next_cursor"] is None:
            break
        start = int(page["next_cursor"]) - 1
    assert seen == list(range(1, 101))


def test_the_wheel_carries_the_schemas() -> None:
    """pyproject.toml copies docs/schema beside sfn_trace/mcp/schemas.py, where a wheel's
    server finds them."""
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '"docs/schema" = "sfn_trace/mcp/schema"' in text
