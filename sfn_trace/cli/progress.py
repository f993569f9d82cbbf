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
    """Executions traced so far, how many lost the field, how many could not be read."""

    def __init__(self) -> None:
        super().__init__()
        self._lost = 0
        self._unreadable = 0
        self._retrying = ""
        self.on_listed: Any = self._listed if self.drawn else None
        self.on_progress: Any = self._progress if self.drawn else None
        self.on_retry: Any = self._retry if self.drawn else None

    def _listed(self, total: int) -> None:
        self._start(
            lambda p: (
                p.TextColumn("{task.description}", markup=False),
                p.BarColumn(),
                p.MofNCompleteColumn(),
            ),
            description="tracing executions",
            total=total,
        )

    def _progress(self, done: int, total: int, row: Any) -> None:
        if self._bar is None:
            return
        self._lost += row.lost_the_field
        self._unreadable += row.error is not None
        self._retrying = ""
        self._bar.update(self._task, completed=done, description=self._description())

    def _retry(self, notice: RetryNotice) -> None:
        """Called from the scan's worker threads; shown until the next execution is done
        (before the listing, the bar is not started: nothing is shown)."""
        self._retrying = neutral(scrub(str(notice)))
        if self._bar is not None:
            self._bar.update(self._task, description=self._description())

    def _description(self) -> str:
        description = f"tracing executions ({self._lost} lost the field"
        if self._unreadable:
            description += f", {self._unreadable} unreadable"
        description += ")"
        return f"{description}: {self._retrying}" if self._retrying else description
