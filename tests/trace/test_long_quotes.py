"""Warnings, reasons and error lines quote at most QUOTE_LIMIT characters of a value from the
input, and say its length: a history may hold a 16 MB state name, a bundle a 16 MB warning.

Each case puts one huge value where a warning, an anomaly, a reason or an error quotes it,
runs the command line, and checks every stderr line and every warning of the JSON report
(and, for lint, every reason and hint) stays under 1,000 characters. The values in the
report's visits (a state's name, its snapshots) are the data itself, not quotes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.model.text import ELLIPSIS, QUOTE_LIMIT, quote, quote_repr
from tests.data import DEFINITION, LINE_INGEST

runner = CliRunner()
FIELD = "poll_results_s3_key"
HUGE = 16 * 1024 * 1024
"""16 MiB: the size of the value that once went whole into a warning."""
LONGEST = 1000


def test_quote_keeps_short_text_and_cuts_long_text_saying_its_length() -> None:
    assert quote("Normalize") == "Normalize"
    assert quote("a" * QUOTE_LIMIT) == "a" * QUOTE_LIMIT
    assert quote("a" * HUGE) == "a" * QUOTE_LIMIT + f"{ELLIPSIS} (16,777,216 characters)"
    assert quote_repr("Normalize") == "'Normalize'"
    assert quote_repr("it's" * 100) == repr(("it's" * 100)[:QUOTE_LIMIT])[:-1] + (
        f'{ELLIPSIS}" (400 characters)'
    )


def _history() -> dict[str, Any]:
    return json.loads((LINE_INGEST / "flat_intact.history.json").read_text(encoding="utf-8"))


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return next(value for key, value in event.items() if key.endswith("EventDetails"))


def _first(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(event for event in events if event["type"] == kind)


def _entered_name(events: list[dict[str, Any]]) -> None:
    """A state the definition lacks: the replay's drift warning names it."""
    _details(_first(events, "TaskStateEntered"))["name"] = "n" * HUGE


def _exited_name(events: list[dict[str, Any]]) -> None:
    """A StateExited naming no open visit: the anomaly names it."""
    _details(_first(events, "TaskStateExited"))["name"] = "x" * (HUGE // 16)


def _unknown_type(events: list[dict[str, Any]]) -> None:
    after = events[2]
    events.insert(3, {"timestamp": after["timestamp"], "type": "T" * (HUGE // 16), "id": 999})
    events[3]["previousEventId"] = after["id"]


def _duplicate_id(events: list[dict[str, Any]]) -> None:
    twin = copy.deepcopy(events[3])
    twin["type"] = "D" * (HUGE // 16)
    events.insert(4, twin)


def _catch_error(events: list[dict[str, Any]]) -> None:
    """A failed task with a huge error name and cause."""
    scheduled = _first(events, "TaskStarted")
    failed = {
        "timestamp": scheduled["timestamp"],
        "type": "TaskFailed",
        "id": 9999,
        "previousEventId": scheduled["id"],
        "taskFailedEventDetails": {"error": "E" * (HUGE // 16), "cause": "c" * HUGE},
    }
    events.insert(events.index(scheduled) + 1, failed)


CASES: dict[str, Callable[[list[dict[str, Any]]], None]] = {
    "a state name the definition lacks": _entered_name,
    "a StateExited naming no open visit": _exited_name,
    "an unknown event type": _unknown_type,
    "a duplicate event id with another type": _duplicate_id,
    "a task error and cause": _catch_error,
}


def _long_lines(text: str) -> list[int]:
    return [len(line) for line in text.splitlines() if len(line) >= LONGEST]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("definition", [True, False], ids=["definition", "no definition"])
def test_a_huge_value_in_a_history_is_quoted_short(
    tmp_path: Path, case: str, definition: bool
) -> None:
    history = _history()
    CASES[case](history["events"])
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history), encoding="utf-8")
    extra = ["--definition", str(DEFINITION)] if definition else []
    result = runner.invoke(app, [str(path), "--field", FIELD, "--format", "json", *extra])
    assert result.exit_code in (0, 1, 2, 4), result.stderr[:2000]
    assert not _long_lines(result.stderr)
    if result.stdout:
        report = json.loads(result.stdout)
        assert [len(w) for w in report["warnings"] if len(w) >= LONGEST] == []
        reasons = [v["replay_reason"] or "" for v in report["visits"]]
        assert [len(r) for r in reasons if len(r) >= LONGEST] == []


def test_a_bundle_with_a_huge_warning_and_schema_is_quoted_short(tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps(_history()), encoding="utf-8")
    bundle = tmp_path / "run.bundle.json"
    saved = runner.invoke(app, [str(history), "--field", FIELD, "--save-bundle", str(bundle)])
    assert saved.exit_code == 0, saved.stderr
    document = json.loads(bundle.read_text(encoding="utf-8"))
    document["warnings"] = ["w" * HUGE]
    bundle.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(app, [str(bundle), "--field", FIELD, "--format", "json"])
    assert not _long_lines(result.stderr)
    assert "(16,777,216 characters)" in result.stderr
    assert [len(w) for w in json.loads(result.stdout)["warnings"] if len(w) >= LONGEST] == []

    for schema, said in (
        ("sfn-trace-bundle/v" + "s" * HUGE, "unknown bundle schema"),
        ("sfn-trace-bundle/" + "9" * HUGE, "bundle written by a newer sfn-trace"),
    ):
        document["schema"] = schema
        bundle.write_text(json.dumps(document), encoding="utf-8")
        result = runner.invoke(app, [str(bundle), "--field", FIELD])
        assert result.exit_code == 2, result.stderr[:2000]
        assert not _long_lines(result.stderr)
        assert said in result.stderr and f"({len(schema):,} characters)" in result.stderr


def test_lint_reasons_quote_a_huge_state_name_short(tmp_path: Path) -> None:
    name = "N" * HUGE
    states = {
        name: {"Type": "Pass", "Parameters": {"other": 1}, "Next": "R"},
        "R": {"Type": "Pass", "Parameters": {"F.$": "$.F"}, "End": True},
    }
    path = tmp_path / "definition.asl.json"
    path.write_text(json.dumps({"StartAt": name, "States": states}), encoding="utf-8")
    result = runner.invoke(app, ["lint", str(path), "--field", "F", "--format", "json"])
    assert result.exit_code == 1, result.stderr[:2000]
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["dropper"] == name
    [hint] = finding["hints"]
    assert len(hint) < LONGEST and "(16,777,216 characters)" in hint
    assert all(len(reason) < LONGEST for reason in finding["reasons"])


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_huge_state_name_does_not_widen_every_timeline_row(tmp_path: Path, fmt: str) -> None:
    """A state name is cut to AWS's limit (80 characters) in a timeline cell, so that the
    table's padding does not repeat a crafted name's length on every row."""
    history = _history()
    for event in history["events"]:
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        if details.get("name") == "SplitIntoChunks":
            details["name"] = "n" * 100_000
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history), encoding="utf-8")
    result = runner.invoke(app, [str(path), "--field", FIELD, "--format", fmt])
    timeline = result.stdout.split("Timeline of", 1)[1].split("\n\n", 2)
    rows = "\n".join(timeline[:2]).splitlines()
    assert rows and max(len(row) for row in rows) < LONGEST
