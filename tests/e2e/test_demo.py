"""``make demo``: the seed incident reproduced in moto and diagnosed by the CLI, end to end.

The README's first command. The demo runs the real CLI in a subprocess against the lab, so
this test proves what a new user sees: exit 0 (the CLI found the loss), and an incident
report with the Mermaid flowchart and the CSV timeline written to ``out/``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fixtures import demo
from fixtures.lab import Lab


@pytest.mark.moto_server
def test_make_demo_diagnoses_the_seed_and_writes_the_report(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert demo.diagnose(lab) == 0
    shown = capfd.readouterr()
    assert "Went null  SplitIntoChunks" in shown.out
    assert "Last copy  PrepareFinalMerge" in shown.out
    assert "No poll results to mark as complete" in shown.out
    report = (tmp_path / demo.REPORT).read_text(encoding="utf-8")
    assert "```mermaid\nflowchart TD" in report
    assert "SplitIntoChunks<br/>output: mixed<br/>went null" in report
    rows = list(csv.DictReader((tmp_path / demo.TIMELINE).open(encoding="utf-8")))
    assert [r["state"] for r in rows][:2] == ["NormalizePollBatchesData", "SplitIntoChunks"]
