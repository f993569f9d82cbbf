"""sfn_trace.sources.bundle: events back to the API shape, and bundles that replay a trace offline.

The round trip ``HistoryEvent.from_api(event_to_api(e)) == e`` is checked on every event of
the recorded AWS corpus and of the line-ingest fixtures; a bundle written from a fixture and
read back (plain and gzip) must give byte-identical JSON output.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sfn_trace.cli.output import write_atomically
from sfn_trace.errors import ExitCode, InputError, SfnTraceError
from sfn_trace.model.confirm import Exchange, StateTestAnswer
from sfn_trace.model.events import HistoryEvent
from sfn_trace.model.execution import ExecutionData, ExecutionInfo
from sfn_trace.report import Command, TraceFormat, render
from sfn_trace.sources.bundle import (
    SCHEMA,
    bundle_bytes,
    bundle_document,
    event_to_api,
    read_bundle,
)
from sfn_trace.sources.files import load_history_file, read_json
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import analyze
from tests.bundles import write_bundle
from tests.data import (
    DEFINITION,
    corpus_history,
    corpus_names,
    fixture_describe,
    fixture_history,
    fixture_names,
)

FIELD = "poll_results_s3_key"
FETCHED = datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=timezone.utc)
COMMAND = ("sfn-trace", "arn:...", "--field", FIELD, "--save-bundle", "b.json.gz")


def _raw_events(path: Path) -> list[dict[str, Any]]:
    document = read_json(path)
    events: list[dict[str, Any]] = document["events"] if isinstance(document, dict) else document
    return events


def _histories() -> list[Path]:
    corpus = [corpus_history(name) for name in corpus_names()]
    return corpus + [fixture_history(name) for name in fixture_names()]


def test_every_recorded_event_round_trips_through_the_api_shape() -> None:
    histories = _histories()
    assert len(histories) >= 329 + 7, "the recorded corpus is missing"
    count = 0
    for path in histories:
        for raw in _raw_events(path):
            event = HistoryEvent.from_api(raw)
            shaped = json.loads(json.dumps(event_to_api(event)))  # as it is stored
            assert HistoryEvent.from_api(shaped) == event, f"{path.name} event {event.id}"
            count += 1
    assert count > 2000


def test_api_shape_matches_the_cli_output_for_what_the_tracer_reads() -> None:
    raw = _raw_events(fixture_history("flat_split_drops_key"))[9]
    shaped = event_to_api(HistoryEvent.from_api(raw))
    assert shaped["type"] == raw["type"] and shaped["id"] == raw["id"]
    assert shaped["timestamp"] == raw["timestamp"]
    member = next(k for k in raw if k.endswith("EventDetails"))
    assert set(shaped) == {"timestamp", "type", "id", "previousEventId", member}
    for key, value in shaped[member].items():
        assert raw[member][key] == value, key


def test_included_null_and_not_included_payloads_stay_different() -> None:
    base = {"id": 9, "previousEventId": 8, "type": "TaskStateExited"}
    not_included = HistoryEvent.from_api({**base, "stateExitedEventDetails": {"name": "S"}})
    assert not not_included.data_included
    explicit = HistoryEvent.from_api(
        {**base, "stateExitedEventDetails": {"name": "S", "output": None}}
    )
    assert explicit.data_included and explicit.output is None
    for event in (not_included, explicit):
        assert HistoryEvent.from_api(event_to_api(event)) == event


def _fixture_data(name: str) -> ExecutionData:
    data = load_history_file(fixture_history(name), DEFINITION)
    describe = json.loads(fixture_describe(name).read_text())
    # What a live fetch has: DescribeExecution's facts and a warning.
    return dataclasses.replace(
        data,
        info=ExecutionInfo(
            arn=describe["executionArn"],
            name=describe["name"],
            status=describe["status"],
            state_machine_arn=describe["stateMachineArn"],
            start=datetime.fromisoformat(describe["startDate"]),
            stop=datetime.fromisoformat(describe["stopDate"]),
        ),
        source="aws",
        warnings=("a warning the live fetch gave",),
    )


def _json_report(data: ExecutionData, field: str = FIELD) -> str:
    return render(Command.TRACE, TraceFormat.JSON, analyze(data, field))


NAMES = fixture_names()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("file_name", ["bundle.json", "incident.json.gz"])
def test_bundle_replays_to_byte_identical_json(tmp_path: Path, name: str, file_name: str) -> None:
    data = _fixture_data(name)
    path = tmp_path / file_name
    write_bundle(path, data, command=COMMAND, fetched_at=FETCHED)
    assert path.read_bytes().startswith(b"\x1f\x8b") == file_name.endswith(".gz")

    replayed = load_target_file(path)
    assert _json_report(replayed) == _json_report(data)
    assert replayed.definition is not None and replayed.definition.text == DEFINITION.read_text()
    assert replayed.events == data.events
    assert replayed.warnings == data.warnings
    # Any other field can be traced from the same bundle later.
    assert _json_report(replayed, "batch_type") == _json_report(data, "batch_type")


def test_bundle_carries_how_it_was_made(tmp_path: Path) -> None:
    path = tmp_path / "b.json.gz"
    write_bundle(path, _fixture_data("flat_split_drops_key"), command=COMMAND, fetched_at=FETCHED)
    document = json.loads(gzip.decompress(path.read_bytes()))
    assert document["schema"] == SCHEMA == "sfn-trace-bundle/1"
    assert document["tool"]["name"] == "sfn-trace" and document["tool"]["version"]
    assert document["command"] == list(COMMAND)
    assert document["fetched_at"] == "2026-11-26T08:00:00.123456+00:00"
    assert document["execution"]["executionArn"].startswith("arn:aws:states:us-west-2:")
    assert document["redacted_field"] is None and document["logs"] is None
    bundle = read_bundle(path)
    assert bundle.command == COMMAND and bundle.original_source == "aws"
    assert bundle.fetched_at == document["fetched_at"] and bundle.redacted_field is None


def test_gzip_bundles_are_deterministic() -> None:
    document = bundle_document(_fixture_data("flat_intact"), fetched_at=FETCHED)
    assert bundle_bytes(document, compress=True) == bundle_bytes(document, compress=True)


def test_a_definition_file_replaces_the_bundled_one(tmp_path: Path) -> None:
    data = dataclasses.replace(_fixture_data("flat_intact"), definition=None)
    path = tmp_path / "b.json"
    write_bundle(path, data, fetched_at=FETCHED)
    assert load_target_file(path).definition is None
    with_definition = load_target_file(path, DEFINITION)
    assert with_definition.definition is not None


def test_a_history_file_still_loads_as_a_history() -> None:
    path = fixture_history("flat_intact")
    assert load_target_file(path, DEFINITION) == load_history_file(path, DEFINITION)


def test_bundled_lambda_logs_round_trip(tmp_path: Path) -> None:
    from sfn_trace.model.execution import InvocationLogs, LambdaLogs, LogLine

    data = _fixture_data("flat_split_drops_key")
    scheduled = next(e.id for e in data.events if e.type == "TaskScheduled")
    logs = LambdaLogs(
        by_attempt={
            scheduled: InvocationLogs(
                request_id="r-1",
                log_group="/aws/lambda/f",
                log_stream="2026/11/25/[$LATEST]abc",
                matched_by="request_id",
                lines=(
                    LogLine(1795646667851, "START RequestId: r-1 Version: $LATEST\n", "s", "e1"),
                    LogLine(1795646667852, 'wrote "x", ünïcode\n', "s", "e2"),
                ),
            )
        },
        log_groups={"f": "/aws/lambda/f"},
        warnings=("g: access denied",),
    )
    data = dataclasses.replace(data, lambda_logs=logs)
    path = tmp_path / "b.json.gz"
    write_bundle(path, data, fetched_at=FETCHED)
    replayed = load_target_file(path)
    assert replayed.lambda_logs == logs
    assert _json_report(replayed) == _json_report(data)


# --- unreadable bundles: one line, exit 2 ------------------------------------------------------


def _write_document(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _message(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_target_file(path)
    error = caught.value
    assert error.exit_code is ExitCode.USAGE and isinstance(error, SfnTraceError)
    assert "\n" not in error.message
    return error.message


def _valid_document() -> dict[str, Any]:
    return bundle_document(_fixture_data("flat_intact"), fetched_at=FETCHED)


def test_a_newer_bundle_asks_for_an_upgrade(tmp_path: Path) -> None:
    path = _write_document(
        tmp_path / "b.json", {**_valid_document(), "schema": "sfn-trace-bundle/2"}
    )
    message = _message(path)
    assert "bundle written by a newer sfn-trace (sfn-trace-bundle/2); upgrade" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"schema": "sfn-trace-bundle/x"}, "unknown bundle schema"),
        ({"events": {"not": "a list"}}, "'events' must be a list"),
        ({"events": [1]}, "event #1 is not an object"),
        ({"events": [{"type": "ExecutionStarted"}]}, "needs 'id' and 'type'"),
        ({"events": []}, "holds no events"),
        ({"execution": None}, "'execution' must be an object"),
        ({"definition": {"States": {}}}, "'definition' must be the definition's text"),
        ({"definition": "{not json"}, "not valid JSON"),
        ({"logs": {"invocations": [{"lines": []}]}}, "'logs' is malformed"),
    ],
)
def test_a_malformed_bundle_is_one_line(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    path = _write_document(tmp_path / "b.json", {**_valid_document(), **change})
    assert expected in _message(path)


def test_a_cut_gzip_bundle_is_one_line(tmp_path: Path) -> None:
    whole = bundle_bytes(_valid_document(), compress=True)
    path = tmp_path / "b.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    assert "corrupt or truncated gzip" in _message(path)


def test_a_cut_plain_bundle_is_one_line(tmp_path: Path) -> None:
    whole = bundle_bytes(_valid_document(), compress=False)
    path = tmp_path / "b.json"
    path.write_bytes(whole[: len(whole) // 2])
    assert "not valid JSON" in _message(path)


def test_read_bundle_refuses_a_plain_history() -> None:
    with pytest.raises(InputError, match="not an sfn-trace bundle"):
        read_bundle(fixture_history("flat_intact"))


# --- atomic writes ------------------------------------------------------------------------------


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "out.md"
    path.write_text("old", encoding="utf-8")
    write_atomically(path, "new ünïcode\n")
    assert path.read_bytes() == "new ünïcode\n".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "b.json"
    path.write_text("old", encoding="utf-8")

    def fail(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sfn_trace.cli.output.os.replace", fail)
    with pytest.raises(SfnTraceError, match=r"cannot write .*No space left on device"):
        write_atomically(
            path, bundle_bytes(bundle_document(_fixture_data("flat_intact")), compress=False)
        )
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


def test_writing_into_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SfnTraceError, match="cannot write"):
        write_atomically(tmp_path / "missing" / "b.json", b"{}")


def test_teststate_answers_round_trip_and_old_bundles_have_none(tmp_path: Path) -> None:
    data = load_target_file(fixture_history("flat_split_drops_key"), DEFINITION)
    answer = StateTestAnswer("SUCCEEDED", '{"a":1}', next_state="N", inspection={"input": "{}"})
    exchanges = (
        Exchange("SplitIntoChunks", 2, "a" * 64, answer),
        Exchange("FinalMerge", 5, "b" * 64, None, "access denied"),
    )
    for stored in (exchanges, ()):
        path = tmp_path / "with.json"
        document = bundle_document(data, teststate=stored)
        path.write_bytes(bundle_bytes(document, compress=False))
        assert load_target_file(path).teststate == stored
    # Without --confirm the member is not written, and such a bundle holds no answers.
    assert "teststate" not in bundle_document(data)
    old = tmp_path / "old.json"
    write_bundle(old, data)
    assert load_target_file(old).teststate is None
