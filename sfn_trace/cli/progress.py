"""Progress on stderr while AWS is read: drawn only when stderr is a terminal (a redirected
stderr gets no bar and no carriage returns). rich is imported only when a bar is drawn.

Each bar's ``on_retry`` (None when nothing is drawn) goes in ``AwsOptions.on_retry``: the
line then says when a request is being retried and why, until the next progress replaces it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from sfn_trace.model.options import RetryNotice
from sfn_trace.model.secrets import scrub
from sfn_trace.report.neutral import neutral


class _Bar:
    """A transient rich progress bar on stderr, started on first use, stopped on exit."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self.drawn = sys.stderr.isatty()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _start(
        self,
        columns: Callable[[Any], tuple[Any, ...]],
        description: str = "",
        total: int | None = None,
    ) -> None:
        """Start the bar with ``columns(rich.progress)``."""
        from rich import progress
        from rich.console import Console

        self._bar = progress.Progress(
            *columns(progress), console=Console(stderr=True), transient=True
        )
        self._bar.start()
        self._task = self._bar.add_task(description, total=total)


class HistoryProgress(_Bar):
    """Pages and events of a long history fetch, and the retries of its requests. Once the
    history's size is known (``on_total``: the newest end's first page gives the newest
    event's id), a bar with the share read and the time left; until then, a counter."""

    def __init__(self) -> None:
        super().__init__()
        self._fetched = "reading AWS"
        self._events = 0
        self._total: int | None = None
        self._lock = threading.Lock()
        self.on_page: Any = self._page if self.drawn else None
        self.on_retry: Any = self._retry if self.drawn else None
        self.on_total: Any = self._set_total if self.drawn else None

    def _show(self, description: str) -> None:
        """(Under the lock.)"""
        if self._bar is None:
            if self._total is None:
                self._start(
                    lambda p: (p.SpinnerColumn(), p.TextColumn("{task.description}", markup=False))
                )
            else:
                self._start(
                    lambda p: (
                        p.TextColumn("{task.description}", markup=False),
                        p.BarColumn(),
                        p.TaskProgressColumn(),
                        p.TimeRemainingColumn(),
                    ),
                    total=self._total,
                )
        self._bar.update(self._task, description=description, completed=self._events)

    def _page(self, pages: int, events: int) -> None:
        with self._lock:
            self._events = events
            self._fetched = self._words(pages, events)
            self._show(self._fetched)

    def _words(self, pages: int, events: int) -> str:
        if self._total is None:
            return f"fetching history: {pages} page(s), {events} events"
        return f"fetching history: {events:,} of {self._total:,} events"

    def _set_total(self, total: int) -> None:
        """Called from the reading thread: the counter becomes a bar."""
        with self._lock:
            if self._total is not None:
                return
            self._total = max(total, self._events)
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
            self._fetched = f"fetching history: {self._events:,} of {self._total:,} events"
            self._show(self._fetched)

    def _retry(self, notice: RetryNotice) -> None:
        with self._lock:
            self._show(f"{self._fetched}: {neutral(scrub(str(notice)))}")


class ScanProgressBar(_Bar):
    """A scan's line: executions listed, fetched and judged; history pages a second against
    the rate the account grants (as the scan learnt it from throttling) and the quota;
    throttles absorbed; the time left at the granted rate."""

    def __init__(self) -> None:
        super().__init__()
        self._lost = 0
        self._retrying = ""
        self._last = ""
        self.on_stats: Any = self._stats if self.drawn else None
        self.on_row: Any = self._row if self.drawn else None
        self.on_retry: Any = self._retry if self.drawn else None
        # The line is fed by on_stats; these remain for callers of the earlier interface.
        self.on_listed: Any = None
        self.on_progress: Any = None

    def _row(self, row: Any) -> None:
        self._lost += row.lost_the_field

    def _stats(self, stats: Any) -> None:
        if self._bar is None:
            self._start(
                lambda p: (p.SpinnerColumn(), p.TextColumn("{task.description}", markup=False))
            )
        self._last = scan_line(stats, self._lost)
        self._retrying = ""
        self._bar.update(self._task, description=self._last)

    def _retry(self, notice: RetryNotice) -> None:
        """Called from the scan's worker threads on a retry other than a throttle (those are
        counted on the line); shown until the next update."""
        if self._bar is not None and notice.reason != "throttling":
            self._bar.update(self._task, description=f"{self._last}: {neutral(scrub(str(notice)))}")


def scan_line(stats: Any, lost: int = 0) -> str:
    """``judged 4210 of 10000 listed (842 lost the field) · fetched 4210 · 99.1 pages/s,
    granted 100/s (quota 100/s) · 37 throttles absorbed · ETA 1m 34s``: what matters most
    first, as a narrow terminal cuts the end."""
    listed = f"{stats.listed}" + ("" if stats.listing_done else "+")
    parts = [f"judged {stats.judged} of {listed} listed ({lost} lost the field)"]
    eta = stats.eta
    if eta is not None:
        parts.append(f"ETA {_duration(eta)}" + ("" if stats.listing_done else "+"))
    parts.append(f"fetched {stats.fetched}")
    if stats.resumed:
        parts.append(f"{stats.resumed} from the checkpoint")
    if stats.rate is not None:
        rate = f"{stats.pages_per_second:.1f} pages/s, granted {stats.rate:.3g}/s"
        parts.append(f"{rate} (quota {stats.quota:.3g}/s)")
    parts.append(f"{stats.throttles} throttle{'s' if stats.throttles != 1 else ''} absorbed")
    return " · ".join(parts)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
