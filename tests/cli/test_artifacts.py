"""Incident artifacts from the CLI: CSV timeline, Markdown report, bundle, redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from tests.data import DEFINITION, fixture_history

SEED = fixture_history("flat_split_drops_key")
FIELD = "poll_results_s3_key"
runner = CliRunner()


def trace(*args: str):
    return runner.invoke(app, [str(SEED), "--definition", str(DEFINITION), "--field", FIELD, *args])


def test_csv_and_report_beside_the_terminal_view(tmp_path: Path) -> None:
    csv_path, report_path = tmp_path / "timeline.csv", tmp_path / "incident.md"
    result = trace("--format", "table", "--csv", str(csv_path), "--report", str(report_path))
    assert result.exit_code == ExitCode.FINDING
    assert "Verdict    LOST" in result.stdout  # the terminal view is still printed
    frame = pd.read_csv(csv_path, parse_dates=["entered", "exited"])
    assert list(frame["state"])[:2] == ["NormalizePollBatchesData", "SplitIntoChunks"]
    assert frame.loc[frame["state"] == "SplitIntoChunks", "first_null"].item()
    assert frame.loc[frame["state"] == "PrepareFinalMerge", "lost_at"].item()
    assert str(frame["entered"].dtype).startswith("datetime64")
    report = report_path.read_text(encoding="utf-8")
    assert report.startswith("# ")
    assert "SplitIntoChunks" in report and "PrepareFinalMerge" in report
    assert f"sfn-trace {SEED}" in report or "sfn-trace " in report


@pytest.mark.parametrize("output_format", ["csv", "markdown"])
def test_single_output_formats(tmp_path: Path, output_format: str) -> None:
    out = tmp_path / f"out.{output_format}"
    result = trace("--format", output_format, "--output", str(out))
    assert result.exit_code == ExitCode.FINDING
    assert result.stdout == ""
    assert "SplitIntoChunks" in out.read_text(encoding="utf-8")


def test_bundle_replays_byte_for_byte(tmp_path: Path) -> None:
    bundle = tmp_path / "incident.json.gz"
    first = trace("--format", "json", "--save-bundle", str(bundle))
    assert first.exit_code == ExitCode.FINDING
    assert bundle.read_bytes()[:2] == b"\x1f\x8b"
    replay = runner.invoke(app, [str(bundle), "--field", FIELD, "--format", "json"])
    assert replay.exit_code == ExitCode.FINDING
    assert replay.stdout == first.stdout
    other = runner.invoke(app, [str(bundle), "--field", "poll_results_s3_bucket"])
    assert other.exit_code in (ExitCode.INTACT, ExitCode.FINDING)
    assert json.loads(other.stdout)["field"] == "poll_results_s3_bucket"


def test_redacted_outputs_hold_no_payload_value_but_the_fields(tmp_path: Path) -> None:
    bundle, report = tmp_path / "b.json", tmp_path / "r.md"
    result = trace(
        "--format", "json", "--redact", "--save-bundle", str(bundle), "--report", str(report)
    )
    assert result.exit_code == ExitCode.FINDING
    written = result.stdout + bundle.read_text() + report.read_text()
    assert "chromadb-dev-shared-buckets-vectors-c239843" not in written  # the bucket name
    assert "LINE_EMBEDDING" not in written  # a value from the execution input
    assert "poll_results/8ee0d036-2881-4a5d-b6d5-57022197226a/poll_results.json" in written
    assert "<redacted:" in written


def test_outputs_are_not_written_when_the_trace_fails(tmp_path: Path) -> None:
    csv_path, bundle = tmp_path / "t.csv", tmp_path / "b.json"
    result = runner.invoke(
        app,
        [
            str(tmp_path / "missing.json"),
            "--field",
            FIELD,
            "--csv",
            str(csv_path),
            "--save-bundle",
            str(bundle),
        ],
    )
    assert result.exit_code == ExitCode.USAGE
    assert not csv_path.exists() and not bundle.exists()


def test_two_outputs_naming_one_file_is_a_usage_error(tmp_path: Path) -> None:
    same = tmp_path / "same.txt"
    result = trace("--csv", str(same), "--report", str(same))
    assert result.exit_code == ExitCode.USAGE
    assert "same file" in result.stderr
    assert not same.exists()


def test_corrupt_bundle_is_one_line_exit_2(tmp_path: Path) -> None:
    bundle = tmp_path / "b.json.gz"
    trace("--save-bundle", str(bundle))
    bundle.write_bytes(bundle.read_bytes()[:40])
    result = runner.invoke(app, [str(bundle), "--field", FIELD])
    assert result.exit_code == ExitCode.USAGE
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
