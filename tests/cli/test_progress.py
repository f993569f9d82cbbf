"""Progress bars: drawn on a terminal's stderr only, never on a redirected one."""

from __future__ import annotations

import io
import sys

import pytest

from sfn_trace.cli.progress import HistoryProgress, ScanProgressBar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Row:
    lost_the_field = True
    error = "throttled"


def test_bars_are_drawn_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with HistoryProgress() as history:
        history.on_page(2, 2000)
    with ScanProgressBar() as scan:
        scan.on_listed(3)
        scan.on_progress(1, 3, _Row())
    drawn = terminal.getvalue()
    assert "fetching history: 2 page(s), 2000 events" in drawn
    assert "tracing executions (1 lost the field, 1 unreadable)" in drawn


def test_no_bar_on_a_redirected_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    redirected = io.StringIO()
    monkeypatch.setattr(sys, "stderr", redirected)
    with HistoryProgress() as history, ScanProgressBar() as scan:
        assert history.on_page is None
        assert scan.on_listed is None and scan.on_progress is None
    assert redirected.getvalue() == ""


def test_a_known_total_makes_the_counter_a_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with HistoryProgress() as history:
        history.on_page(1, 1000)
        history.on_total(14008)
        history.on_page(2, 2000)
        history.on_total(99)  # told once: later calls change nothing
        history.on_page(3, 3000)
    drawn = terminal.getvalue()
    assert "fetching history: 1 page(s), 1000 events" in drawn
    assert "fetching history: 3,000 of 14,008 events" in drawn
    assert "21%" in drawn  # 3,000 of 14,008


def test_no_total_hook_on_a_redirected_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with HistoryProgress() as history:
        assert history.on_total is None
