"""``sfn-trace lint``: the seed's bug class found from the definition alone."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.errors import ExitCode
from tests.data import DEFINITION as SEED_DEFINITION
from tests.data import FIXED_DEFINITION

runner = CliRunner()


def test_lint_flags_the_seed_workflow() -> None:
    result = runner.invoke(
        app, ["lint", str(SEED_DEFINITION), "--field", "poll_results_s3_key", "--format", "json"]
    )
    assert result.exit_code == ExitCode.FINDING
    findings = json.loads(result.stdout)["findings"]
    split = [f for f in findings if f["dropper"] == "SplitIntoChunks"]
    assert [(f["step"], f["severity"], f["rule"]) for f in split] == [
        ("result", "warning", "depends-on-task-result")
    ]
    flat = [r for r in split[0]["readers"] if r["reader"] == "PrepareFinalMerge"]
    assert flat[0]["read"] == "$.chunked_data.poll_results_s3_key"
    assert flat[0]["expression"].startswith("Parameters ")
    assert flat[0]["path"][:2] == ["NormalizePollBatchesData", "SplitIntoChunks"]
    assert flat[0]["paths"] == 1


def test_lint_passes_the_corrected_workflow() -> None:
    result = runner.invoke(app, ["lint", str(FIXED_DEFINITION), "--field", "poll_results_s3_key"])
    assert result.exit_code == ExitCode.INTACT
    assert "No path lets a state drop poll_results_s3_key" in result.stdout


def test_lint_table_names_reader_dropper_and_fix() -> None:
    result = runner.invoke(app, ["lint", str(SEED_DEFINITION), "--field", "poll_results_s3_key"])
    assert result.exit_code == ExitCode.FINDING
    assert "PrepareFinalMerge reads $.chunked_data.poll_results_s3_key" in result.stdout
    assert "SplitIntoChunks can drop it" in result.stdout
    assert "fix: " in result.stdout


def test_lint_unreadable_definition_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = runner.invoke(app, ["lint", str(bad), "--field", "x"])
    assert result.exit_code == ExitCode.USAGE
    assert len(result.stderr.strip().splitlines()) == 1
