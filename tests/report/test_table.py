"""The terminal table: each occurrence under its own path, as Markdown and CSV spell it.

The "value in input" / "value in output" cells name the field's own path
(``$.poll_results_data.poll_results_s3_key``), not the object that holds it; a long path
loses the middle of its parent's path, never its last segment (the field's name); the
marker column has a header; an ``unknown`` verdict has its one-line exit reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sfn_trace.model.result import Verdict
from sfn_trace.model.text import ELLIPSIS
from sfn_trace.report import Command, TraceFormat, render
from sfn_trace.report.lines import exit_reason as exit_reason_of
from sfn_trace.report.trace.table import PATH_WIDTH, VALUE_WIDTH, short_path
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import TraceResult, analyze
from sfn_trace.trace.field import find_occurrences
from tests.cli.test_hostile_files import seed_events, without_execution_data
from tests.data import DEFINITION, fixture_history, fixture_names
from tests.history_builder import History
from tests.make_golden import field_of

FIELD = "poll_results_s3_key"


def table_of(result: TraceResult) -> str:
    return render(Command.TRACE, TraceFormat.TABLE, result)


def traced_file(path: Path, field: str = FIELD) -> TraceResult:
    return analyze(load_target_file(path), field)


def timeline(table: str) -> list[str]:
    """The timeline's lines: its header, its rule, its rows."""
    lines = table.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Timeline of ")) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def cells(table: str) -> set[str]:
    """Every ``path: value`` of the timeline's value columns, one per occurrence."""
    found = set()
    for line in timeline(table)[2:]:
        for part in line.split("  "):
            if part.strip().startswith("$"):
                found.add(part.strip())
    return found


# --- the field's own path ---------------------------------------------------------------------


@pytest.mark.parametrize("name", fixture_names())
def test_every_occurrence_is_shown_under_its_own_path(name: str) -> None:
    result = analyze(load_target_file(fixture_history(name), DEFINITION), field_of(name))
    table = table_of(result)
    shown = cells(table)
    expected = set()
    for trace in result.visits:
        for snapshot in (trace.input, trace.output):
            for occurrence in snapshot.occurrences[:4]:
                assert occurrence.path.endswith(f".{result.field}")
                assert len(occurrence.path) <= PATH_WIDTH, "the fixtures' paths fit whole"
                expected.add(occurrence.path)
    assert expected, "the fixture has occurrences to show"
    assert {cell.split(": ", 1)[0] for cell in shown} == expected
    assert not any(cell.startswith("$: ") for cell in shown), "never the holder's path"


def test_the_seed_row_reads_like_the_markdown_report() -> None:
    result = analyze(load_target_file(fixture_history("flat_split_drops_key"), DEFINITION), FIELD)
    row = next(line for line in timeline(table_of(result)) if "PrepareFinalMerge" in line)
    columns = [part.strip() for part in row.split("  ") if part.strip()]
    assert columns == [
        "4",
        "-",
        "PrepareFinalMerge",
        "Pass",
        "mixed",
        '$.poll_results_data.poll_results_s3_key: "poll_results/8e…l_results.json"',
        "null",
        "$.poll_results_s3_key: null",
        "yes (Parameters)",
        "<- last copy",
    ]


def test_a_300_character_path_keeps_its_last_segment_whole(tmp_path: Path) -> None:
    document: Any = {FIELD: "s3://bucket/key"}
    keys = [f"level_{i:02d}_of_a_deep_document" for i in range(12)]
    for key in reversed(keys):
        document = {key: document}
    (path,) = [o.path for o in find_occurrences(document, FIELD)]
    assert len(path) >= 300
    history = History()
    history.start(document)
    history.pass_state("Copy", document, document)
    history.succeed(document)
    table = table_of(traced_file(history.write(tmp_path / "history.json")))
    (cell,) = {c for c in cells(table)}
    shown_path, value = cell.split(": ", 1)
    assert shown_path == short_path(path)
    assert shown_path.endswith(f".{FIELD}") and ELLIPSIS in shown_path
    assert shown_path.startswith("$.level_00")
    assert len(shown_path) == PATH_WIDTH
    assert value == '"s3://bucket/key"'
    rule = timeline(table)[1]
    assert max(len(dashes) for dashes in rule.split()) <= PATH_WIDTH + len(": ") + VALUE_WIDTH


@pytest.mark.parametrize(
    ("path", "last"),
    [
        (
            "$." + ".".join(f"k{i}" for i in range(150)) + ".poll_results_s3_key",
            ".poll_results_s3_key",
        ),
        ("$" + "[7]" * 120 + "['a key, with spaces']", "['a key, with spaces']"),
        ("$.a" * 100 + "['it\\'s.quoted']", "['it\\'s.quoted']"),
        ("$.a" * 100 + ".x", ".x"),
    ],
)
def test_short_path_cuts_the_middle_of_the_parent(path: str, last: str) -> None:
    shown = short_path(path)
    assert len(shown) == PATH_WIDTH
    assert shown.endswith(last)
    assert shown.startswith("$")
    assert shown.count(ELLIPSIS) == 1
    head, tail = shown.split(ELLIPSIS)
    assert path.startswith(head) and path.endswith(tail)


def test_short_path_never_cuts_a_name_longer_than_the_width() -> None:
    name = "n" * (PATH_WIDTH * 2)
    assert short_path(f"$.a.b.c.{name}") == f"${ELLIPSIS}.{name}"
    assert short_path(f"$.{name}") == f"$.{name}"


def test_short_path_leaves_short_paths_alone_and_keeps_them_on_one_line() -> None:
    assert short_path("$.a.poll_results_s3_key") == "$.a.poll_results_s3_key"
    assert short_path("$['line\nbreak']") == "$['line\\nbreak']"


def test_the_cell_stays_within_path_and_value_widths(tmp_path: Path) -> None:
    document: Any = {"x" * 80: {FIELD: "v" * 200}}
    history = History()
    history.start(document)
    history.pass_state("Copy", document, document)
    history.succeed(document)
    table = table_of(traced_file(history.write(tmp_path / "history.json")))
    (cell,) = cells(table)
    assert len(cell) == PATH_WIDTH + len(": ") + VALUE_WIDTH
    assert cell.split(": ", 1)[0].endswith(f".{FIELD}")


# --- the marker column ------------------------------------------------------------------------


def test_the_marker_column_has_a_header() -> None:
    result = analyze(load_target_file(fixture_history("flat_split_drops_key"), DEFINITION), FIELD)
    header, rule, *rows = timeline(table_of(result))
    assert header.split()[-1] == "finding"
    column = header.index("finding")
    assert rule[column - 2 : column] == "  " and rule[column] == "-"
    marked = [row for row in rows if "<- " in row]
    assert [row[column:].strip() for row in marked] == ["<- went null", "<- last copy"]


# --- unknown: the headline and the exit reason ------------------------------------------------


def _without_data(tmp_path: Path) -> Path:
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"events": without_execution_data(seed_events())}))
    return path


def test_unseen_lines_line_up_with_the_other_labels(tmp_path: Path) -> None:
    table = table_of(traced_file(_without_data(tmp_path)))
    unseen = [line for line in table.splitlines() if line.startswith("Unseen")]
    assert unseen[0] == ("Unseen     execution input: execution input not included in the history")
    assert unseen[1] == "Unseen     #1 NormalizePollBatchesData input: execution data not included"


def test_exit_reason_of_a_history_without_execution_data(tmp_path: Path) -> None:
    result = traced_file(_without_data(tmp_path))
    assert result.verdict is Verdict.UNKNOWN and result.partial_verdict is None
    assert exit_reason_of(Command.TRACE, result) == (
        f"incomplete: the answer needs {len(result.unseen)} documents the history does not "
        "hold (execution input not included in the history; execution data not included); "
        "no partial verdict: the execution output could not be seen (execution output not "
        "included in the history)"
    )


def test_exit_reason_names_the_partial_verdict(tmp_path: Path) -> None:
    events = seed_events()
    exited = next(
        e
        for e in events
        if e["type"] == "PassStateExited"
        and e["stateExitedEventDetails"]["name"] == "PrepareFinalMerge"
    )
    exited["stateExitedEventDetails"]["outputDetails"] = {"truncated": True}
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"events": events}))
    assert exit_reason_of(Command.TRACE, traced_file(path)) == (
        "incomplete: the answer needs 1 document the history does not hold "
        "(payload truncated); partial verdict: lost"
    )


@pytest.mark.parametrize("name", fixture_names())
def test_no_exit_reason_for_a_verdict(name: str) -> None:
    result = analyze(load_target_file(fixture_history(name), DEFINITION), field_of(name))
    assert result.verdict is not Verdict.UNKNOWN
    assert exit_reason_of(Command.TRACE, result) is None
