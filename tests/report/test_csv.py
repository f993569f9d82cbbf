"""sfn_trace.report.trace.csv: one row per visit, read back as is by pandas and the csv module."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sfn_trace.report import Command, RenderOptions, TraceFormat, render
from sfn_trace.report.trace import csv as csv_report
from sfn_trace.sources.files import load_history_file
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import TraceResult, analyze
from tests.data import DEFINITION, fixture_history
from tests.history_builder import History

FIELD = "poll_results_s3_key"
TRICKY_STATE = 'Say "hi", ünïcode | ok'
TRICKY_VALUE = 'a,b "c"\nnext line; ünïcode ✓ =1+1'


def _render(result: TraceResult, **options: Any) -> str:
    return render(Command.TRACE, TraceFormat.CSV, result, RenderOptions(**options))


def _read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), parse_dates=["entered", "exited"], keep_default_na=True)


def _fixture(name: str) -> TraceResult:
    return analyze(load_target_file(fixture_history(name), DEFINITION), FIELD)


def _tricky(tmp_path: Path) -> TraceResult:
    """A Pass state with commas, quotes, a pipe and unicode in its name, a field value with a
    line break, then a state that never exits (a history cut short)."""
    history = History()
    history.start({FIELD: "s3://b/k"})
    history.pass_state(TRICKY_STATE, {FIELD: "s3://b/k"}, {FIELD: TRICKY_VALUE, "n": [1, 2]})
    history.add("PassStateEntered", name="Stuck", input={FIELD: None})
    return analyze(load_history_file(history.write(tmp_path / "h.json")), FIELD)


def test_the_header_is_the_documented_column_order() -> None:
    text = _render(_fixture("flat_split_drops_key"))
    assert text.splitlines()[0].split(",") == list(csv_report.COLUMNS)
    documented = re.findall(r"^([a-z_]+) {2,}", csv_report.__doc__ or "", re.MULTILINE)
    assert documented == list(csv_report.COLUMNS), "the module docstring lists every column"


def test_pandas_reads_it_as_is_with_utc_timestamps() -> None:
    result = _fixture("hierarchical_create_groups_drops_key")
    frame = _read(_render(result))
    assert len(frame) == len(result.visits)
    assert str(frame["entered"].dt.tz) == "UTC" and str(frame["exited"].dt.tz) == "UTC"
    first = result.visits[0].visit
    assert frame["entered"][0] == pd.Timestamp(first.entered.timestamp)
    assert list(frame["seq"]) == [t.visit.seq for t in result.visits]
    assert frame["seq"].dtype.kind == "i" and frame["entered_event_id"].dtype.kind == "i"
    assert (frame["duration_ms"] >= 0).all()
    merges = frame[frame["state"] == "MergeGroup"]
    # rows follow entry order; concurrent iterations may enter in any order
    order = [t.visit.map_iteration for t in result.visits if t.visit.state == "MergeGroup"]
    assert sorted(order) == [0, 1, 2]
    assert list(merges["map_iteration"]) == order
    assert list(merges["scope"]) == [f"MergeChunkGroups[{i}] > MergeGroup" for i in order]


def test_markers_and_values() -> None:
    result = _fixture("flat_split_drops_key")
    frame = _read(_render(result))
    assert list(frame[frame["first_null"]]["state"]) == ["SplitIntoChunks"]
    assert list(frame[frame["lost_at"]]["state"]) == ["PrepareFinalMerge"]
    split = frame[frame["state"] == "SplitIntoChunks"].iloc[0]
    assert json.loads(split["output_paths"]) == [
        "$.poll_results_data.poll_results_s3_key",
        "$.chunked_data.poll_results_s3_key",
    ]
    values = json.loads(split["output_value"])
    assert values[1] is None and values[0].startswith("poll_results/8ee0d036")
    assert (split["input_status"], split["output_status"]) == ("set", "mixed")
    assert split["resource"] == "lambda:invoke" and split["attempts"] == 1
    assert split["function"] == "embedding-split-into-chunks-lambda-dev"
    assert split["request_id"] and bool(split["changed"]) is True
    assert frame["log_excerpt"].isna().all(), "no logs fetched: empty"


def test_quoting_unicode_and_empty_cells_round_trip(tmp_path: Path) -> None:
    result = _tricky(tmp_path)
    text = _render(result)
    assert ".0," not in text, "integers never turn into floats"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["state"] for row in rows] == [TRICKY_STATE, "Stuck"]
    assert json.loads(rows[0]["output_value"]) == [TRICKY_VALUE]
    stuck = rows[1]
    assert stuck["exited_event_id"] == stuck["exited"] == stuck["duration_ms"] == ""
    assert stuck["output_status"] == "unknown" and stuck["output_value"] == ""
    assert stuck["outcome"] == "running" and stuck["changed"] == ""

    frame = _read(text)
    assert frame["state"][0] == TRICKY_STATE
    assert json.loads(frame["output_value"][0]) == [TRICKY_VALUE]
    assert pd.isna(frame["exited"][1]) and pd.isna(frame["exited_event_id"][1])


def test_log_excerpt_lights_up_when_logs_were_fetched() -> None:
    from sfn_trace.model.execution import InvocationLogs, LambdaLogs, LogLine

    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    split = next(t for t in analyze(data, FIELD).visits if t.visit.state == "SplitIntoChunks")
    scheduled = split.visit.attempts[-1].start.id
    messages = [f'line {i}, with "quotes"\n' for i in range(5)]
    lines = tuple(LogLine(i, m, "s") for i, m in enumerate(messages))
    logs = LambdaLogs(
        by_attempt={scheduled: InvocationLogs("r", "/aws/lambda/f", "s", "request_id", lines)}
    )
    result = analyze(dataclasses.replace(data, lambda_logs=logs), FIELD)
    frame = _read(_render(result, log_lines=3))
    excerpt = frame[frame["state"] == "SplitIntoChunks"]["log_excerpt"].iloc[0]
    assert excerpt.splitlines() == [
        'line 0, with "quotes"',
        'line 1, with "quotes"',
        'line 2, with "quotes"',
        "(… 2 more lines)",
    ]


@pytest.mark.parametrize("name", ["flat_intact", "hierarchical_split_drops_key"])
def test_only_pandas_and_stdlib_needed_to_read_it(name: str) -> None:
    text = _render(_fixture(name))
    assert text.endswith("\n") and "\r" not in text
    assert len(list(csv.reader(io.StringIO(text)))) == len(_fixture(name).visits) + 1
