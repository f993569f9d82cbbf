"""Progress on stderr while AWS is read: drawn only when stderr is a terminal (a redirected
stderr gets no bar and no carriage returns). rich is imported only when a bar is drawn."""

from __future__ import annotations

import sys
from typing import Any


class HistoryProgress:
    """A progress bar for long history fetches on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self.on_page: Any = None
        if sys.stderr.isatty():
            self.on_page = self._page

    def __enter__(self) -> HistoryProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _page(self, pages: int, events: int) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("")
        self._bar.update(
            self._task, description=f"fetching history: {pages} page(s), {events} events"
        )


class ScanProgressBar:
    """A progress bar on stderr while executions are traced, only when stderr is a terminal
    (a redirected stderr gets no bar and no carriage returns)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._lost = 0
        self._unreadable = 0
        self.on_listed: Any = None
        self.on_progress: Any = None
        if sys.stderr.isatty():
            self.on_listed = self._listed
            self.on_progress = self._progress

    def __enter__(self) -> ScanProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _listed(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("tracing executions", total=total)

    def _progress(self, done: int, total: int, row: Any) -> None:
        if self._bar is None:
            return
        self._lost += row.lost_the_field
        self._unreadable += row.error is not None
        description = f"tracing executions ({self._lost} lost the field"
        if self._unreadable:
            description += f", {self._unreadable} unreadable"
        self._bar.update(self._task, completed=done, description=description + ")")
