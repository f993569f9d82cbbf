"""A 14,000-event history (benchmarks/generate_history.py): every answer within its budget,
the cursors walking the visits without a gap or a repeat, the history traced once."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client

from benchmarks.generate_history import generate
from sfn_trace.mcp.server import build
from tests.mcp import valid


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    folder = tmp_path_factory.mktemp("big")
    generated = generate(14_000)
    generated.write(folder / "history.json")
    generated.write_definition(folder / "definition.json")
    target = {
        "target": str(folder / "history.json"),
        "field": generated.field,
        "definition": str(folder / "definition.json"),
    }
    return target, str((folder / "history.json").stat().st_size)


def test_a_14k_event_history_comes_back_within_budget_with_working_cursors(
    big: tuple[dict[str, str], str],
) -> None:
    target, size = big
    assert int(size) > 1_000_000  # the raw history is megabytes; no answer is

    async def go() -> dict[str, Any]:
        answers: dict[str, Any] = {}
        async with Client(build()) as client:
            answers["field"] = await client.call_tool("trace_field", target)
            pages = []
            cursor = None
            for _ in range(3):
                page = await client.call_tool("trace_visits", {**target, "cursor": cursor})
                pages.append(page)
                cursor = page.structured_content["next_cursor"]  # type: ignore[index]
            answers["first"] = pages
            total = pages[0].structured_content["visits_total"]  # type: ignore[index]
            cursor, tail = str(total - 40), []
            while cursor is not None:
                page = await client.call_tool("trace_visits", {**target, "cursor": cursor})
                tail.append(page)
                cursor = page.structured_content["next_cursor"]  # type: ignore[index]
            answers["tail"] = tail
            answers["merge"] = await client.call_tool(
                "trace_visits", {**target, "state": "FinalMerge"}
            )
        return answers

    answers = anyio.run(go)
    field = valid("trace_field", answers["field"])
    assert field["report"]["first_null"]["state"] == "ProcessChunk"
    assert field["report"]["lost_at"] is not None
    head = answers["field"].content[0].text.partition("\n\n")[0]
    assert "went null: ProcessChunk" in head

    seen = [v["seq"] for page in answers["first"] for v in valid("trace_visits", page)["visits"]]
    assert seen == list(range(1, len(seen) + 1))
    total = field["visits_total"]
    tail = [v["seq"] for page in answers["tail"] for v in valid("trace_visits", page)["visits"]]
    assert tail == list(range(total - 40, total + 1))
    merge = valid("trace_visits", answers["merge"])
    assert [v["state"] for v in merge["visits"]] == ["FinalMerge"]
    assert merge["next_cursor"] is None
