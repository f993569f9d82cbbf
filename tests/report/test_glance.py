"""The terminal answer at a glance on big executions (report/trace/collapse.py).

Golden tables of two generated Map histories: the benchmark generator's 2,000-item Map
(one iteration's Lambda returns the field null) and a 2,000-item Map whose items each carry
their own value of the field, with three separate changes among the iterations. Regenerate
with ``python -m tests.report.test_glance`` and review the diff.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import pytest

from benchmarks.generate_history import generate
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api
from sfn_trace.model.execution import ExecutionData, infer_info
from sfn_trace.report import Command, RenderOptions, TraceFormat, render
from sfn_trace.trace import TraceResult, analyze
from tests.data import GLANCE
from tests.history_builder import History

HERE = GLANCE
FIELD = "poll_results_s3_key"
SCREEN = 60
"""Lines of the default table's headline and timeline on a 2,000-item Map."""


def _traced(document: dict[str, Any], definition: dict[str, Any] | None) -> TraceResult:
    import json

    events = events_from_api(document["events"])
    data = ExecutionData(
        info=infer_info(events),
        events=events,
        definition=Definition.from_text(json.dumps(definition)) if definition else None,
    )
    return analyze(data, FIELD)


@functools.cache
def big_map() -> TraceResult:
    """The benchmark's 2,000-item Map (8,003 visits), traced with its definition."""
    generated = generate(16 + 2_000 * 15, seed=3, payload_bytes=64, retry_rate=0.0)
    return _traced(generated.document, generated.definition)


CHANGES = {500: None, 1200: 1200, 1700: "missing"}
"""Iteration → what ProcessItem's output holds instead of the item's own key: null, a
number (the JSON type changes), or no copy at all."""


@functools.cache
def three_changes() -> TraceResult:
    """2,000 iterations of ProcessItem, each item with its own key; three iterations change
    the field's status or type."""
    history = History()
    document = {"job": "job-1", "items": 2_000}
    history.start(document)
    history.add("MapStateEntered", name="FanOut", input=document)
    started = history.add("MapStateStarted", length=2_000)
    outputs = []
    for index in range(2_000):
        history.add(
            "MapIterationStarted", started if index == 0 else None, name="FanOut", index=index
        )
        item = {FIELD: f"results/job-1/{index:04d}.json", "index": index}
        output: dict[str, Any] = {**item, "done": True}
        change = CHANGES.get(index, "")
        if change == "missing":
            del output[FIELD]
        elif change != "":
            output[FIELD] = change
        history.pass_state("ProcessItem", item, output)
        history.add("MapIterationSucceeded", name="FanOut", index=index)
        outputs.append(output)
    history.add("MapStateSucceeded")
    history.add("MapStateExited", name="FanOut", output=outputs)
    history.pass_state("Summarize", outputs, {"results": outputs})
    history.succeed({"results": outputs})
    return _traced(history.document(), None)


CASES = {"map_2000_items": big_map, "map_2000_items_three_changes": three_changes}


def table(name: str, **options: Any) -> str:
    return render(Command.TRACE, TraceFormat.TABLE, CASES[name](), RenderOptions(**options))


@pytest.mark.parametrize("name", sorted(CASES))
def test_table_matches_golden(name: str) -> None:
    path = HERE / f"{name}.txt"
    assert table(name) == path.read_text(encoding="utf-8"), (
        f"{path.name} differs: run python -m tests.report.test_glance and review the diff"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_default_table_fits_a_screen(name: str) -> None:
    lines = table(name).splitlines()
    assert len(lines) <= SCREEN, f"{len(lines)} lines"


def test_every_visit_on_request() -> None:
    result = big_map()
    text = table("map_2000_items", all_visits=True)
    heading = next(line for line in text.splitlines() if line.startswith("Timeline"))
    assert heading == f"Timeline of {FIELD} ({len(result.visits)} visits)"
    # Every visit's number starts a row.
    numbers = {line.split()[0] for line in text.splitlines() if line[:1].isdigit()}
    assert {str(t.visit.seq) for t in result.visits} <= numbers


def test_the_culprit_rows_are_never_collapsed() -> None:
    result = big_map()
    text = table("map_2000_items")
    assert result.first_null is not None and result.lost_at is not None
    for finding, mark in ((result.first_null, "<- went null"), (result.lost_at, "last copy")):
        row = next(line for line in text.splitlines() if mark in line)
        assert row.split()[0] == str(finding.visit.seq)


def test_each_change_of_status_or_type_has_its_own_row() -> None:
    text = table("map_2000_items_three_changes")
    rows = [line for line in text.splitlines() if line[:1].isdigit() and "ProcessItem" in line]
    for index in CHANGES:
        assert sum(f"FanOut[{index}] " in row for row in rows) == 1
    # Between them, runs of iterations that only pass their own key on.
    assert any("FanOut[0..499]" in row and "ProcessItem ×500" in row for row in rows)
    assert any("FanOut[1701..1999]" in row for row in rows)
    assert "(1,199 different in these visits)" not in text  # counted per row, not overall


def test_markdown_keeps_the_culprit_in_view_and_lists_every_visit() -> None:
    result = big_map()
    text = render(Command.TRACE, TraceFormat.MARKDOWN, result)
    timeline = text.split("## Timeline", 1)[1].split("<details>", 1)[0]
    assert result.first_null is not None
    assert f"| {result.first_null.visit.seq} " in timeline and "← went null" in timeline
    assert len(timeline.splitlines()) < 40
    details = text.split("<details>", 1)[1].split("</details>", 1)[0]
    assert "<summary>Every visit, one row each (" in details
    assert "the CSV timeline (`--csv FILE`) has every visit" in details
    assert len(text) < 65_536  # still fits in a GitHub issue or comment


def test_csv_and_json_keep_one_row_per_visit() -> None:
    result = three_changes()
    csv_text = render(Command.TRACE, TraceFormat.CSV, result)
    assert len(csv_text.splitlines()) == 1 + len(result.visits)


def main() -> int:
    HERE.mkdir(exist_ok=True)
    for name in sorted(CASES):
        (HERE / f"{name}.txt").write_text(table(name), encoding="utf-8")
        print(f"wrote {name}.txt", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
