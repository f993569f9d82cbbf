"""Progress bars: drawn on a terminal's stderr only, never on a redirected one."""

from __future__ import annotations

import dataclasses
import io
import sys

import pytest

from sfn_trace.checks.fleet import ScanStats
from sfn_trace.cli.progress import HistoryProgress, ScanProgressBar, scan_line


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
        scan.on_row(_Row())
        scan.on_stats(STATS)
    drawn = terminal.getvalue()
    assert "fetching history: 2 page(s), 2000 events" in drawn
    assert "judged 3 of 10+ listed (1 lost the field)" in drawn


STATS = ScanStats(
    listed=10,
    listing_done=False,
    fetched=4,
    judged=3,
    resumed=0,
    pages=8,
    elapsed=2.0,
    rate=5.0,
    quota=20.0,
    throttles=7,
    limit=100,
)


def test_the_scan_line_says_where_the_scan_is_and_what_is_left_at_the_granted_rate() -> None:
    line = scan_line(STATS, lost=1)
    # 97 executions may be left (the listing goes on, up to --limit 100), at 2 pages each
    # (8 pages for 4 histories), at the 5 calls a second the account grants: 38.8 s.
    assert line == (
        "judged 3 of 10+ listed (1 lost the field) · ETA 39s+ · fetched 4 · "
        "4.0 pages/s, granted 5/s (quota 20/s) · 7 throttles absorbed"
    )
    done = scan_line(dataclasses.replace(STATS, listing_done=True, throttles=1), lost=1)
    assert done.startswith("judged 3 of 10 listed ") and done.endswith("1 throttle absorbed")
    assert "· ETA 3s ·" in done  # 7 left x 2 pages / 5 per second = 2.8 s


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
