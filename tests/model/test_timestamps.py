"""Timestamps in every form AWS's SDKs and tools write them; a form sfn-trace cannot read is a
warning, never a silent null."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.model.events import events_from_api, parse_timestamp, timestamp_warning
from tests.data import fixture_history

FIELD = "poll_results_s3_key"
HISTORY = fixture_history("flat_split_drops_key")
MOMENT = datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value",
    [
        MOMENT,  # boto3
        MOMENT.replace(tzinfo=None),  # a datetime without a zone is UTC
        "2023-11-14T22:13:20.123000+00:00",  # the AWS CLI
        "2023-11-14T22:13:20.123Z",  # the JavaScript and Java SDKs
        "2023-11-14T22:13:20.123000000Z",  # Go's RFC3339Nano
        "2023-11-14T22:13:20.123z",
        "2023-11-14 22:13:20.123",  # no zone: UTC
        "2023-11-15T00:13:20.123+02:00",
        "2023-11-14T15:13:20.123-0700",
        1700000000.123,  # epoch seconds (cli_timestamp_format = none)
        "1700000000.123",
        1700000000123,  # epoch milliseconds (Java's Date, pandas, CloudWatch Logs)
        "1700000000123",
        1700000000123000,  # microseconds
        1700000000123000000,  # nanoseconds
    ],
)
def test_every_form_reads_as_the_same_moment(value: Any) -> None:
    parsed = parse_timestamp(value)
    assert parsed is not None
    assert abs(parsed - MOMENT) < timedelta(microseconds=1)
    assert parsed.tzinfo is not None


def test_an_http_date_and_small_epochs() -> None:
    assert parse_timestamp("Tue, 14 Nov 2023 22:13:20 GMT") == MOMENT.replace(microsecond=0)
    assert parse_timestamp(0) == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert parse_timestamp(-5) == datetime(1969, 12, 31, 23, 59, 55, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value", ["yesterday", "", True, [1], {"t": 1}, "nan", 1e300, "2023-13-45"]
)
def test_what_is_not_a_moment(value: Any) -> None:
    assert parse_timestamp(value) is None


def test_no_timestamp_is_not_a_warning() -> None:
    raw = [{"id": 1, "type": "PassStateEntered"}, {"id": 2, "type": "X", "timestamp": None}]
    assert timestamp_warning(raw, events_from_api(raw)) is None
    read = [{"id": 1, "type": "ExecutionStarted", "timestamp": 1700000000123}]
    assert timestamp_warning(read, events_from_api(read)) is None


def _rewrite(tmp_path: Path, timestamp: Any) -> Path:
    """The seed history with every event's timestamp rewritten by ``timestamp(iso)``."""
    document = json.loads(HISTORY.read_text())
    for event in document["events"]:
        event["timestamp"] = timestamp(event["timestamp"])
    path = tmp_path / "h.json"
    path.write_text(json.dumps(document))
    return path


def _trace(path: Path) -> Any:
    return CliRunner().invoke(app, [str(path), "--field", FIELD, "--format", "json"])


def _epoch_ms(iso: str) -> int:
    parsed = parse_timestamp(iso)
    assert parsed is not None
    return round(parsed.timestamp() * 1000)


def test_epoch_milliseconds_trace_as_iso_does(tmp_path: Path) -> None:
    expected = _trace(HISTORY)
    got = _trace(_rewrite(tmp_path, _epoch_ms))
    assert got.exit_code == expected.exit_code == 1
    assert got.stderr == expected.stderr
    assert json.loads(got.stdout) == json.loads(expected.stdout)


def test_an_unreadable_form_is_a_warning(tmp_path: Path) -> None:
    first = json.loads(HISTORY.read_text())["events"][0]["timestamp"]
    got = _trace(_rewrite(tmp_path, lambda iso: f"at {iso}"))
    assert got.exit_code == 1
    warning = (
        "28 event(s) have a timestamp in a form sfn-trace cannot read (event 1: "
        f'"at {first}"); their moments are unknown (ISO 8601 and epoch '
        "seconds or milliseconds are read)"
    )
    assert f"sfn-trace: warning: {warning}" in got.stderr.splitlines()
    report = json.loads(got.stdout)
    assert warning in report["warnings"]
    assert report["execution"]["start"] is None
