"""A scan's run over a fleet: listing, fetching and judging at once, at the account's quota.

Three kinds of thread share the work (:func:`run`):

- one reads the listing (:class:`~sfn_trace.sources.aws.executions.ExecutionStream`: pages
  read as they are needed, filters applied to each item as its page arrives) and hands each
  execution to the workers through a small queue, so the next ListExecutions page is read
  while histories are fetched and nothing outside the filters is ever fetched;
- ``workers`` threads each fetch one history and judge it; how many go at once is the
  GetExecutionHistory bucket's business (every page waits for its token), the pool only
  keeps enough calls in flight to spend the tokens as they come;
- the caller's thread takes each row as it is judged: it is counted in the :class:`Tally`,
  handed to ``on_row`` (a JSONL line, a checkpoint record) and then kept only when
  ``keep_rows`` (the table and JSON formats print rows in listing order at the end); the
  history was dropped by the worker once judged, so memory does not grow with the fleet.

Executions already judged (a checkpoint's, ``done``) are not fetched: their recorded row is
taken in their place. Ctrl-C stops the listing and the workers (a history being fetched is
abandoned, not recorded) and goes up as :class:`KeyboardInterrupt`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

from sfn_trace.checks.rows import Loader, ScanRow, Tally, row_of

if TYPE_CHECKING:
    from sfn_trace.sources.aws.executions import ListedExecution


class Pacing(Protocol):
    """The history bucket, as the progress line reads it (a ``GrantedRate``)."""

    @property
    def rate(self) -> float: ...
    @property
    def ceiling(self) -> float: ...
    @property
    def throttles(self) -> int: ...


@dataclass(frozen=True)
class ScanStats:
    """Where a scan is, for a progress line."""

    listed: int
    """Executions listed so far (the filters applied)."""
    listing_done: bool
    fetched: int
    """Histories read (or failed) so far, recorded ones (``resumed``) not included."""
    judged: int
    """Rows so far, recorded ones included."""
    resumed: int
    """Rows taken from the checkpoint, not fetched."""
    pages: int
    """GetExecutionHistory calls answered."""
    elapsed: float
    rate: float | None
    """The calls per second the bucket now allows (what the account grants, as learnt)."""
    quota: float | None
    """The documented (or ``--rate``) calls per second."""
    throttles: int
    """Throttled calls absorbed (each retried, none failed)."""
    limit: int | None

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the granted rate: the executions still to fetch (listed ones, and
        up to ``limit`` while the listing goes on) times the pages each took so far."""
        if not self.rate or not self.fetched:
            return None
        total = self.listed if self.listing_done or self.limit is None else self.limit
        left = max(0, total - self.judged)
        return left * (self.pages / self.fetched) / self.rate


StatsCallback = Callable[[ScanStats], None]
_END = object()


def run(
    listing: Iterable[ListedExecution],
    load: Loader,
    field_name: str,
    *,
    workers: int,
    done: Mapping[str, ScanRow] | None = None,
    on_row: Callable[[ScanRow, bool], None] | None = None,
    keep_rows: bool = True,
    pacing: Pacing | None = None,
    pages: Callable[[], int] | None = None,
    limit: int | None = None,
    on_stats: StatsCallback | None = None,
    stats_every: float = 0.5,
) -> tuple[tuple[ScanRow, ...], Tally]:
    """Judge every execution of ``listing`` (see the module): the rows in listing order
    (empty unless ``keep_rows``) and the tally. ``on_row(row, resumed)`` is called from the
    caller's thread as each row is judged (``resumed``: taken from ``done``)."""
    done = done or {}
    todo: queue.Queue[tuple[int, ListedExecution] | None] = queue.Queue(maxsize=workers * 2)
    results: queue.Queue[object] = queue.Queue()
    stop = threading.Event()
    counts = {"listed": 0, "fetched": 0}
    counting = threading.Lock()
    listing_done = threading.Event()

    def put(item: tuple[int, ListedExecution] | None) -> bool:
        while not stop.is_set():
            try:
                todo.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def lister() -> None:
        try:
            for index, execution in enumerate(listing):
                counts["listed"] = index + 1
                recorded = done.get(execution.arn)
                if recorded is not None:
                    results.put((index, recorded, True))
                elif not put((index, execution)):
                    return
        except BaseException as error:  # the listing's error ends the scan, in the caller
            results.put(error)
        finally:
            listing_done.set()
            for _ in range(workers):
                if not put(None):
                    break

    def worker() -> None:
        try:
            while not stop.is_set():
                item = todo.get()
                if item is None:
                    return
                index, execution = item
                row = row_of(execution, load, field_name)
                with counting:
                    counts["fetched"] += 1
                results.put((index, row, False))
        finally:
            results.put(_END)

    threads = [threading.Thread(target=lister, name="scan-listing", daemon=True)]
    threads += [
        threading.Thread(target=worker, name=f"scan-{n}", daemon=True) for n in range(workers)
    ]
    tally = Tally()
    kept: dict[int, ScanRow] = {}
    started = time.monotonic()
    resumed = 0

    def stats() -> None:
        if on_stats is None:
            return
        on_stats(
            ScanStats(
                listed=counts["listed"],
                listing_done=listing_done.is_set(),
                fetched=counts["fetched"],
                judged=tally.executions,
                resumed=resumed,
                pages=pages() if pages is not None else 0,
                elapsed=time.monotonic() - started,
                rate=pacing.rate if pacing is not None else None,
                quota=pacing.ceiling if pacing is not None else None,
                throttles=pacing.throttles if pacing is not None else 0,
                limit=limit,
            )
        )

    for thread in threads:
        thread.start()
    ended = 0
    last = 0.0
    try:
        while ended < workers:
            try:
                item = results.get(timeout=stats_every)
            except queue.Empty:
                stats()
                continue
            if item is _END:
                ended += 1
                continue
            if isinstance(item, BaseException):
                raise item
            index, row, was_recorded = cast("tuple[int, ScanRow, bool]", item)
            tally.add(row)
            resumed += was_recorded
            if on_row is not None:
                on_row(row, was_recorded)
            if keep_rows:
                kept[index] = row
            now = time.monotonic()
            if now - last >= stats_every / 5:
                last = now
                stats()
        # The listing may have ended with an error after the workers' last rows.
        while not results.empty():
            item = results.get_nowait()
            if isinstance(item, BaseException):
                raise item
        stats()
    finally:
        stop.set()
        _release(todo, workers)
    return tuple(kept[i] for i in sorted(kept)), tally


def _release(todo: queue.Queue[tuple[int, ListedExecution] | None], workers: int) -> None:
    """After the end or Ctrl-C: what was not started is dropped, and each worker still
    waiting is let go (it ends after the history it is fetching, if any)."""
    while True:
        try:
            todo.get_nowait()
        except queue.Empty:
            break
    for _ in range(workers):
        try:
            todo.put_nowait(None)
        except queue.Full:
            break
