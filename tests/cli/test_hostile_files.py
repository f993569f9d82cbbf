"""Hostile and odd history files through the CLI: one clear line and the right exit code.

Unreadable input is exit 2 with exactly one line on stderr, nothing on stdout, no output
file and never a traceback; a history in another order is the same history; data the file
does not hold (``includeExecutionData`` off, ``truncated: true``) is exit 4 with a verdict
of ``unknown`` and an ``unseen`` list naming exactly what could not be seen
(docs/cli.md; docs/design.md, "Field semantics"; issue 7, "Hostile and odd input").

A file far larger than any real history is checked by ``make bench``, not here.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from benchmarks.generate_history import generate
from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from tests.data import ROOT, fixture_history

runner = CliRunner()
FIELD = "poll_results_s3_key"
SEED_HISTORY = fixture_history("flat_split_drops_key")


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def stderr_line(result: Any) -> str:
    """The one line on stderr; fails on none, several, or a traceback."""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {result.stderr!r}"
    return lines[0]


def seed_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(SEED_HISTORY.read_text())["events"]
    return events


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=4, ensure_ascii=False), encoding="utf-8")
    return path


# --- unreadable input: exit 2, one line -------------------------------------------------


def _gzip_cut(path: Path) -> None:
    whole = gzip.compress(SEED_HISTORY.read_bytes())
    path.write_bytes(whole[: len(whole) // 2])


def _binary(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(4096))


def _gzip_of_garbage(path: Path) -> None:
    path.write_bytes(gzip.compress(random.Random(8).randbytes(2048)))


HOSTILE: dict[str, Callable[[Path], None]] = {
    "empty": lambda p: p.write_bytes(b""),
    "whitespace only": lambda p: p.write_text(" \n\t\n"),
    "not JSON": lambda p: p.write_text("this is not { json"),
    "JSON cut in the middle": lambda p: p.write_text(SEED_HISTORY.read_text()[:5000]),
    "an object without events": lambda p: write(p, {"executionArn": "arn:x", "foo": []}),
    "events not a list": lambda p: write(p, {"events": {"id": 1}}),
    "a list of numbers": lambda p: write(p, [1, 2, 3]),
    "a string": lambda p: write(p, "events"),
    "null": lambda p: write(p, None),
    "a number": lambda p: p.write_text("1e999"),
    "an event without id": lambda p: write(p, {"events": [{"type": "ExecutionStarted"}]}),
    "an event without type": lambda p: write(p, {"events": [{"id": 1}]}),
    "an id that is not a number": lambda p: write(p, {"events": [{"id": "one", "type": "X"}]}),
    "no events": lambda p: write(p, {"events": []}),
    "gzip cut in the middle": _gzip_cut,
    "gzip of nothing": lambda p: p.write_bytes(gzip.compress(b"")),
    "gzip of garbage": _gzip_of_garbage,
    "binary garbage": _binary,
    "UTF-16 text": lambda p: p.write_bytes(json.dumps({"events": []}).encode("utf-16")),
    "nested 100,000 levels": lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_unreadable_file_exits_2_with_one_line(tmp_path: Path, make: Callable) -> None:
    path = tmp_path / "history.json"
    make(path)
    output = tmp_path / "report.json"
    result = invoke(str(path), "--field", FIELD, "--format", "json", "-o", str(output))
    assert result.exit_code == ExitCode.USAGE, result.stderr
    line = stderr_line(result)
    assert line.startswith("sfn-trace: error: "), line
    assert result.stdout == ""
    assert not output.exists(), "a failed trace must not leave an output file"


def test_a_directory_and_a_missing_file_exit_2(tmp_path: Path) -> None:
    for target in (tmp_path, tmp_path / "missing.json"):
        result = invoke(str(target), "--field", FIELD)
        assert result.exit_code == ExitCode.USAGE
        assert stderr_line(result).startswith("sfn-trace: error: ")


# Numbers that JSON allows but Python's int() cannot take: json.loads reads 1e400 as inf
# (int(inf) raises OverflowError, which once escaped as an 'internal error').
OVERFLOWING = {
    "id": {"id": 1e400, "type": "ExecutionStarted", "previousEventId": 0},
    "previousEventId": {"id": 1, "type": "ExecutionStarted", "previousEventId": 1e400},
    "map index": {
        "id": 1,
        "type": "MapIterationStarted",
        "previousEventId": 0,
        "mapIterationStartedEventDetails": {"name": "M", "index": 1e400},
    },
}


@pytest.mark.parametrize("event", OVERFLOWING.values(), ids=OVERFLOWING.keys())
def test_a_number_too_large_for_an_id_is_an_input_error(tmp_path: Path, event: dict) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"events": [event]}).replace("Infinity", "1e400"))
    result = invoke(str(path), "--field", FIELD, "--format", "json")
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr, result.stderr
    # Refused as input (one line), or traced as far as the damaged event allows.
    assert result.exit_code in (ExitCode.USAGE, ExitCode.INCOMPLETE), result.stderr
    if result.exit_code == ExitCode.USAGE:
        stderr_line(result)


# --- other orders are the same history ---------------------------------------------------


def _reports(tmp_path: Path, events: list[dict[str, Any]], orders: dict[str, list]) -> dict:
    reports = {}
    for name, ordered in {"forward": events, **orders}.items():
        path = write(tmp_path / f"{name}.json", {"events": ordered})
        result = invoke(str(path), "--field", FIELD, "--format", "json")
        assert result.exit_code in (ExitCode.INTACT, ExitCode.FINDING), result.stderr
        reports[name] = result.stdout
    return reports


@pytest.mark.parametrize("source", ["seed incident", "generated Map with Parallel"])
def test_reverse_and_shuffled_histories_give_the_same_report(tmp_path: Path, source: str) -> None:
    events = seed_events() if source == "seed incident" else generate(400, seed=3).events
    shuffled = list(events)
    random.Random(1).shuffle(shuffled)
    reports = _reports(tmp_path, events, {"reverse": events[::-1], "shuffled": shuffled})
    assert json.loads(reports["forward"])["verdict"] == "lost"
    assert reports["reverse"] == reports["forward"]
    assert reports["shuffled"] == reports["forward"]


def test_a_gzip_history_reads_like_the_plain_one(tmp_path: Path) -> None:
    plain = invoke(str(SEED_HISTORY), "--field", FIELD, "--format", "json")
    packed = tmp_path / "history.json.gz"
    packed.write_bytes(gzip.compress(SEED_HISTORY.read_bytes()))
    result = invoke(str(packed), "--field", FIELD, "--format", "json")
    assert result.exit_code == plain.exit_code == ExitCode.FINDING
    assert result.stdout == plain.stdout


# --- data the history does not hold: exit 4, unseen names it ----------------------------

_DATA = ("input", "inputDetails", "output", "outputDetails")


def without_execution_data(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What GetExecutionHistory returns with includeExecutionData=false."""
    stripped = []
    for event in events:
        copy = {}
        for key, value in event.items():
            if key.endswith("EventDetails") and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k not in _DATA}
            copy[key] = value
        stripped.append(copy)
    return stripped


def test_history_without_execution_data_is_unknown_and_names_every_visit(tmp_path: Path) -> None:
    path = write(tmp_path / "history.json", {"events": without_execution_data(seed_events())})
    result = invoke(str(path), "--field", FIELD, "--format", "json")
    assert result.exit_code == ExitCode.INCOMPLETE, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "unknown"
    visits = {(v["seq"], v["state"]) for v in report["visits"]}
    assert visits, "the visits are still rebuilt from the events"
    unseen = report["unseen"]
    named = {(u["seq"], u["state"]) for u in unseen if u["seq"] is not None}
    assert named == visits, "every visit's documents are unseen, and only visits are named"
    for visit in report["visits"]:
        documents = {u["document"] for u in unseen if u["seq"] == visit["seq"]}
        assert "input" in documents, visit["state"]
        if visit["exited_event_id"] is not None:
            assert "output" in documents, visit["state"]
        assert visit["input"]["status"] == "unknown"
    assert all(u["reason"] for u in unseen)
    assert any(u["seq"] is None and "execution" in u["document"] for u in unseen)


def test_a_truncated_payload_on_the_fields_path_is_unknown_and_named(tmp_path: Path) -> None:
    events = seed_events()
    # PrepareFinalMerge is where the last set copy went (lost_at): cut its output.
    exited = next(
        e
        for e in events
        if e["type"] == "PassStateExited"
        and e["stateExitedEventDetails"]["name"] == "PrepareFinalMerge"
    )
    exited["stateExitedEventDetails"]["outputDetails"] = {"truncated": True}
    path = write(tmp_path / "history.json", {"events": events})
    result = invoke(str(path), "--field", FIELD, "--format", "json")
    assert result.exit_code == ExitCode.INCOMPLETE, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "unknown"
    assert [(u["state"], u["document"]) for u in report["unseen"]] == [
        ("PrepareFinalMerge", "output")
    ]
    visit = next(v for v in report["visits"] if v["state"] == "PrepareFinalMerge")
    assert visit["output"]["status"] == "unknown"
    assert report["partial_verdict"] == "lost"


def test_table_output_of_an_incomplete_history_names_the_unseen(tmp_path: Path) -> None:
    path = write(tmp_path / "history.json", {"events": without_execution_data(seed_events())})
    result = invoke(str(path), "--field", FIELD, "--format", "table")
    assert result.exit_code == ExitCode.INCOMPLETE
    assert "UNKNOWN" in result.stdout
    assert "SplitIntoChunks" in result.stdout
    assert "Traceback" not in result.stderr


# --- text that JSON allows but UTF-8 cannot carry ------------------------------------------


def _lone_surrogate_history(tmp_path: Path) -> Path:
    """A payload holding "\\ud800": valid JSON (a Lambda returning a broken string writes
    it), but a lone surrogate, which no UTF-8 text can hold."""
    document = '{"poll_results_s3_key": "key-\\ud800"}'
    events = [
        {
            "id": 1,
            "type": "ExecutionStarted",
            "previousEventId": 0,
            "executionStartedEventDetails": {"input": document},
        },
        {
            "id": 2,
            "type": "ExecutionSucceeded",
            "previousEventId": 1,
            "executionSucceededEventDetails": {"output": document},
        },
    ]
    return write(tmp_path / "history.json", {"events": events})


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "-o file"])
def test_a_lone_surrogate_in_a_payload_is_reported(tmp_path: Path, to_file: bool) -> None:
    history = _lone_surrogate_history(tmp_path)
    output = tmp_path / "report.json"
    command = [sys.executable, "-m", "sfn_trace", str(history), "--field", FIELD]
    command += ["--format", "json", *(["-o", str(output)] if to_file else [])]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert "internal error" not in done.stderr, done.stderr
    assert done.returncode == ExitCode.INTACT, done.stderr
    report = json.loads(output.read_text() if to_file else done.stdout)
    assert report["final"]["occurrences"][0]["value"] == "key-\ud800"
