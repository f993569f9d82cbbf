"""Payloads nested thousands of levels deep are read, traced and written (issue 14).

Python's ``json`` gives up near 1,000 levels (``RecursionError``), which made a valid payload
5,000 levels deep "not JSON". :func:`sfn_trace.model.jsontext.loads` reads such a document
again with an iterative parser, up to :data:`~sfn_trace.model.jsontext.MAX_DEPTH` (10,000)
levels; a valid document nested deeper is "nested deeper than 10000 levels", an ``unknown``
document, never "not JSON" and never null or missing. Everything that walks a document must
not recurse by its depth: the JSON writers, ``brief``, the field search. Checked here at 2,000,
5,000 and 10,000 levels, with the deep part as the field's value and around the field, through
the CLI in every format, and at 10,001 levels.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.model import jsontext
from sfn_trace.model.events import NOT_JSON, Payload
from sfn_trace.model.jsontext import MAX_DEPTH, TooDeep
from sfn_trace.model.snapshot import Status
from sfn_trace.model.text import brief
from sfn_trace.report.trace import json as trace_json
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import analyze
from sfn_trace.trace.field import snapshot

FIELD = "F"
DEPTHS = [2_000, 5_000, MAX_DEPTH]
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"
runner = CliRunner()


def read_back(text: str | bytes) -> Any:
    """Parse an output at any depth (Python's own parser stops near 1,000 levels; strictness
    is tests/report/test_strict_json.py's business)."""
    return jsontext.loads(text, max_depth=None)


def arrays(depth: int, inner: str = "") -> str:
    """``depth`` nested arrays: ``[[[...]]]``."""
    return "[" * depth + inner + "]" * depth


def objects(depth: int, inner: str) -> str:
    """``inner`` inside ``depth`` nested objects: ``{"a":{"a":...inner...}}``."""
    return '{"a":' * depth + inner + "}" * depth


def as_value(depth: int) -> str:
    """A payload ``depth`` levels deep whose deep part is the field's value."""
    return '{"F": ' + arrays(depth - 1, '"bottom"') + ', "n": 1}'


def around(depth: int) -> str:
    """A payload ``depth`` levels deep with the field at the bottom."""
    return objects(depth - 1, '{"F": "key"}')


PLACEMENTS = {"value": as_value, "around": around}


def history(*states: tuple[str, str, str]) -> Any:
    """Pass states, each ``(name, input text, output text)``; the payloads are kept as text."""
    events: list[dict[str, Any]] = []

    def add(type_: str, member: str, **details: Any) -> None:
        number = len(events) + 1
        events.append(
            {
                "id": number,
                "previousEventId": number - 1,
                "timestamp": f"2025-11-17T05:48:{10 + number:02d}.000Z",
                "type": type_,
                member: details,
            }
        )

    add("ExecutionStarted", "executionStartedEventDetails", input=states[0][1])
    for name, text_in, text_out in states:
        add("PassStateEntered", "stateEnteredEventDetails", name=name, input=text_in)
        add("PassStateExited", "stateExitedEventDetails", name=name, output=text_out)
    add("ExecutionSucceeded", "executionSucceededEventDetails", output=states[-1][2])
    return {"events": events}


def lost_history(deep: str) -> Any:
    """The deep payload starts the execution and passes A; B drops the field to null."""
    return history(("A", deep, deep), ("B", deep, '{"F": null}'))


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


# --- reading and writing ---------------------------------------------------------------------


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("placement", sorted(PLACEMENTS))
def test_a_deep_payload_is_read_and_written_back(depth: int, placement: str) -> None:
    text = PLACEMENTS[placement](depth)
    payload = Payload(text)
    assert payload.value is not NOT_JSON and payload.unreadable is None
    compact = jsontext.dumps(payload.value, separators=(",", ":"))
    assert compact == text.replace(": ", ":").replace(", ", ",")
    indented = jsontext.dumps(payload.value, indent=2)
    assert jsontext.dumps(read_back(indented), separators=(",", ":")) == compact
    assert indented.count("\n") <= 2 * jsontext.INDENTED_LEVELS + 4  # not 10,000 lines
    assert len(brief(payload.value, 40)) == 40


@pytest.mark.parametrize("placement", sorted(PLACEMENTS))
def test_one_level_more_than_the_limit_is_too_deep_never_not_json(placement: str) -> None:
    text = PLACEMENTS[placement](MAX_DEPTH + 1)
    with pytest.raises(TooDeep, match=TOO_DEEP):
        jsontext.loads(text)
    payload = Payload(text)
    assert payload.value is NOT_JSON
    assert payload.unreadable == f"payload {TOO_DEEP}"
    assert Payload(PLACEMENTS[placement](MAX_DEPTH)).unreadable is None
    assert Payload(text[:-1]).unreadable == "payload is not JSON"  # cut: not JSON, at any depth


def test_the_limit_counts_arrays_and_objects_alike() -> None:
    assert jsontext.loads(arrays(MAX_DEPTH)) is not None
    assert jsontext.loads(objects(MAX_DEPTH - 1, "{}")) is not None
    for text in (arrays(MAX_DEPTH + 1), objects(MAX_DEPTH, "{}"), objects(MAX_DEPTH, "[]")):
        with pytest.raises(TooDeep):
            jsontext.loads(text)
    assert jsontext.loads(arrays(MAX_DEPTH + 1), max_depth=None) is not None


def test_text_too_deep_to_judge_is_never_missing_from_its_text_alone() -> None:
    """Without the field in its text, a payload is "missing" without being parsed, unless it
    has more brackets than the limit: then it may be nested too deeply to read."""
    assert Payload(objects(100, "{}")).looks_complete()
    assert not Payload(arrays(MAX_DEPTH + 1)).looks_complete()
    assert snapshot(Payload(arrays(MAX_DEPTH)), FIELD, absent="").status is Status.MISSING


def test_a_too_deep_payload_without_the_field_is_unknown() -> None:
    found = snapshot(Payload('{"x": ' + arrays(MAX_DEPTH) + "}"), FIELD, absent="")
    assert found.status is Status.UNKNOWN and found.reason == f"payload {TOO_DEEP}"


def test_the_trace_writer_writes_deep_values(tmp_path: Path) -> None:
    """The sfn-trace/1 writer, given a document with a 10,000-level value in its indented head
    and in a one-line visit (whatever the field search made of the payloads)."""
    path = write_json(tmp_path / "history.json", lost_history('{"F": "x"}'))
    document = trace_json.to_document(analyze(load_target_file(path), FIELD))
    deep = Payload(as_value(MAX_DEPTH)).value
    document["first_null"]["last_value"] = deep
    document["visits"][0]["input"]["occurrences"][0]["value"] = deep
    text = trace_json.dumps(document)
    parsed = read_back(text)
    assert parsed["schema"] == "sfn-trace/1"
    assert jsontext.dumps(parsed["first_null"]["last_value"]) == jsontext.dumps(deep)
    assert len(text.splitlines()) < 300  # one visit per line; deep levels on one line


def test_a_history_file_with_deep_decoded_payloads_is_read(tmp_path: Path) -> None:
    """Some tools write payloads as objects: the file is as deep as its payloads."""
    deep = as_value(5_000)
    raw = json.dumps(lost_history('{"F": "x"}')).replace(json.dumps('{"F": "x"}'), deep)
    path = tmp_path / "decoded.json"
    path.write_text(raw, encoding="utf-8")
    started = load_target_file(path).events[0].input
    assert started is not None
    assert started.text == deep.replace(": ", ":").replace(", ", ",")
    too_deep = tmp_path / "too-deep.json"
    too_deep.write_text(arrays(jsontext.FILE_DEPTH + 1), encoding="utf-8")
    result = invoke(str(too_deep), "--field", FIELD, "--format", "json")
    assert result.exit_code == 2
    assert "nested too deeply" in result.stderr and "Traceback" not in result.stderr


# --- end to end ------------------------------------------------------------------------------


def _run(path: Path, output_format: str) -> Any:
    result = invoke(str(path), "--field", FIELD, "--format", output_format)
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result


@pytest.mark.parametrize("output_format", ["json", "table", "csv", "markdown"])
@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("placement", sorted(PLACEMENTS))
def test_a_deep_payload_traces_end_to_end(
    tmp_path: Path, placement: str, depth: int, output_format: str
) -> None:
    path = write_json(tmp_path / "history.json", lost_history(PLACEMENTS[placement](depth)))
    result = _run(path, output_format)
    assert result.exit_code == 1  # lost: B made the field null
    assert "not JSON" not in result.stdout
    if output_format != "json":
        assert "B" in result.stdout
        return
    document = read_back(result.stdout)
    assert document["verdict"] == "lost" and document["unseen"] == []
    a, b = document["visits"]
    assert a["input"]["status"] == a["output"]["status"] == b["input"]["status"] == "set"
    assert b["output"]["status"] == "null"
    assert document["first_null"]["state"] == document["lost_at"]["state"] == "B"
    occurrence = a["input"]["occurrences"][0]
    if placement == "around":
        assert occurrence == {"path": "$" + ".a" * (depth - 1) + ".F", "value": "key"}
    else:
        assert occurrence["path"] == "$.F"
        assert jsontext.dumps(occurrence["value"], separators=(",", ":")) == arrays(
            depth - 1, '"bottom"'
        )


@pytest.mark.parametrize("output_format", ["json", "table", "csv", "markdown"])
@pytest.mark.parametrize("placement", sorted(PLACEMENTS))
def test_beyond_the_limit_the_document_is_unknown_and_says_why(
    tmp_path: Path, placement: str, output_format: str
) -> None:
    deep = PLACEMENTS[placement](MAX_DEPTH + 1)
    path = write_json(tmp_path / "history.json", lost_history(deep))
    result = _run(path, output_format)
    assert result.exit_code == 4  # incomplete: never "lost" from documents it could not read
    assert TOO_DEEP in result.stdout + result.stderr
    assert "not JSON" not in result.stdout + result.stderr
    if output_format != "json":
        return
    document = read_back(result.stdout)
    assert document["verdict"] == "unknown"
    a, b = document["visits"]
    for seen in (a["input"], a["output"], b["input"]):
        assert seen == {"status": "unknown", "occurrences": [], "reason": f"payload {TOO_DEEP}"}
    assert b["output"]["status"] == "null"
    assert {u["reason"] for u in document["unseen"]} == {f"payload {TOO_DEEP}"}


@pytest.mark.parametrize("depth", [5_000, MAX_DEPTH + 1])
def test_a_bundle_of_deep_payloads_replays_byte_for_byte(tmp_path: Path, depth: int) -> None:
    path = write_json(tmp_path / "history.json", lost_history(as_value(depth)))
    bundle = tmp_path / "bundle.json.gz"
    live = invoke(str(path), "--field", FIELD, "--format", "json", "--save-bundle", str(bundle))
    assert "Traceback" not in live.stderr
    assert live.exit_code in (1, 4)
    document = read_back(gzip.decompress(bundle.read_bytes()))
    assert document["events"][0]["executionStartedEventDetails"]["input"] == as_value(depth)
    replayed = invoke(str(bundle), "--field", FIELD, "--format", "json")
    assert replayed.exit_code == live.exit_code
    assert replayed.stdout == live.stdout
