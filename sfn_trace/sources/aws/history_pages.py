"""GetExecutionHistory's pages: read forward, and from the newest end at the same time.

A ``nextToken`` is opaque, so a history can be read by at most two readers at once: one
from the first event (``reverseOrder=false``) and one from the last (``reverseOrder=true``).
When the first forward page comes back with a ``nextToken``, :class:`BothEnds` starts the
reverse reader at that moment; each reader stops as soon as the two have met (the forward
reader's highest id reaches the reverse reader's lowest), so a long history takes about half
the round trips. :meth:`BothEnds.tail` then hands over the events past the forward reader's
last one, in id order, once each, after checking that the two ends agree: every id from 1
to the last present, and an event both readers saw identical in both. Anything else (a gap,
the same id with other content, a reverse reader that failed or was throttled past its
retries) is a :class:`EndsDisagree`, and the caller reads on from where the forward reader
stopped, in one direction, with a warning. A running execution is read in one direction
only: its newest end moves.

API facts: https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws.pacing import take

PAGE_SIZE = 1000
"""The API's maximum; the default (100) would mean ten times the calls."""

Page = Mapping[str, Any]


def history_pages(
    client: Any,
    arn: str,
    options: AwsOptions,
    *,
    reverse: bool = False,
    token: str | None = None,
    stop: Callable[[Page], bool] | None = None,
) -> Iterator[Page]:
    """Pages from ``token`` (None: the first) to the last, or until ``stop(page)`` says the
    page just read is the last one needed: botocore's paginator, each page asked for only
    when the previous one has been handed on, after taking a GetExecutionHistory token."""
    config: dict[str, Any] = {"PageSize": PAGE_SIZE}
    if token:
        config["StartingToken"] = token
    pages = iter(
        client.get_paginator("get_execution_history").paginate(
            executionArn=arn,
            includeExecutionData=True,
            reverseOrder=reverse,
            PaginationConfig=config,
        )
    )
    while True:
        take("GetExecutionHistory", client, options)
        page: Page | None = next(pages, None)
        if page is None:
            return
        # Asked before the page is handed on: the reverse reader starts as soon as the
        # first page is in (BothEnds.forward_page), not when the next one is wanted.
        halt = stop is not None and stop(page)
        yield page
        if halt:
            return


def _ids(events: Sequence[Mapping[str, Any]]) -> list[int]:
    return [int(event.get("id", 0)) for event in events]


class EndsDisagree(Exception):
    """Reading from both ends gave no sure answer; the message says why."""


class BothEnds:
    """The reverse reader of one history and where the forward one has got to.

    ``forward_page`` is called by the forward reader with each page it fetched (from its
    thread): it starts the reverse reader on the first page that has a ``nextToken`` (when
    ``may_start`` allows: not for a running execution), and says whether the ends have met,
    so that the forward reader fetches no further.
    """

    def __init__(
        self,
        client: Any,
        arn: str,
        options: AwsOptions,
        may_start: Callable[[], bool],
        on_newest: Callable[[int], None] | None = None,
    ) -> None:
        """``on_newest``: called once with the newest event's id, when the first newest-first
        page comes (events are numbered from 1: it is how many the history holds)."""
        self._client, self._arn, self._options = client, arn, options
        self._may_start = may_start
        self._on_newest = on_newest
        self._lock = threading.Lock()
        self._forward_high = 0
        self._forward_page = 0
        self._forward_recent: dict[int, Mapping[str, Any]] = {}
        self._reverse: list[Mapping[str, Any]] = []  # newest first
        self._drained = 0
        self._reverse_low: int | None = None
        self._reverse_pages = 0
        self._error: BaseException | None = None
        self._cancelled = threading.Event()
        self._thread: threading.Thread | None = None
        self.met = False

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def reverse_pages(self) -> int:
        with self._lock:
            return self._reverse_pages

    def forward_page(self, page: Page) -> bool:
        events: Sequence[Mapping[str, Any]] = page.get("events", [])
        ids = _ids(events)
        with self._lock:
            if ids:
                self._forward_high = max(self._forward_high, max(ids))
                self._forward_page = len(ids)
                # What the reverse reader may also have seen: the newest two pages.
                if len(self._forward_recent) > 2 * PAGE_SIZE:
                    self._forward_recent.clear()
                self._forward_recent.update(zip(ids, events, strict=True))
            met = self._met()
        if met:
            return True
        first = self._thread is None and page.get("nextToken") and not self._cancelled.is_set()
        if first and self._may_start():
            self._thread = threading.Thread(target=self._read, name="sfn-reverse", daemon=True)
            self._thread.start()
        return False

    def _met(self) -> bool:
        """(Under the lock.)"""
        self.met = self._reverse_low is not None and self._forward_high + 1 >= self._reverse_low
        return self.met

    def _read(self) -> None:
        try:
            for _ in history_pages(
                self._client, self._arn, self._options, reverse=True, stop=self._reverse_page
            ):
                if self._cancelled.is_set():
                    return
        except BaseException as error:  # the caller falls back to one direction
            with self._lock:
                self._error = error

    def _reverse_page(self, page: Page) -> bool:
        events: Sequence[Mapping[str, Any]] = page.get("events", [])
        ids = _ids(events)
        with self._lock:
            first = self._reverse_pages == 0
            self._reverse_pages += 1
            self._reverse.extend(events)
            if ids:
                low = min(ids) if self._reverse_low is None else min(*ids, self._reverse_low)
                self._reverse_low = low
            done = self._met() or self._cancelled.is_set() or self._covered_by_forward()
        if first and ids and self._on_newest is not None:
            self._on_newest(max(ids))
        return done

    def _covered_by_forward(self) -> bool:
        """(Under the lock.) Whether the forward reader's next page, on its way while the
        ends have not met, holds every event between the two (if it is as long as its last
        one): then a further reverse page would only be read twice (the forward reader goes
        on until they meet, whatever)."""
        return (
            self._reverse_low is not None
            and self._reverse_low - self._forward_high - 1 <= self._forward_page
        )

    def drain(self) -> list[Mapping[str, Any]]:
        """The newest-first reader's events that came since the last call (so that the
        caller converts them while the forward pages are still coming)."""
        with self._lock:
            new = self._reverse[self._drained :]
            self._drained = len(self._reverse)
        return new

    def cancel(self) -> None:
        """No further reverse page is asked for (the one on its way is dropped)."""
        self._cancelled.set()

    def failure(self) -> str | None:
        """Why the reverse reader stopped short, if it failed."""
        with self._lock:
            error = self._error
        if error is None:
            return None
        return _describe(error)

    def tail(self, forward_count: int) -> list[Mapping[str, Any]]:
        """The events past the forward reader's last one, oldest first, each once, when the
        ends met and agree; otherwise :class:`EndsDisagree`. ``forward_count``: the events
        the forward reader handed over (ids 1 to its highest, when nothing is missing)."""
        self.cancel()
        with self._lock:
            high, reverse, recent = self._forward_high, list(self._reverse), self._forward_recent
            met = self._met()
        if not met:
            raise EndsDisagree("the two readers did not meet")
        if forward_count != high:
            raise EndsDisagree(f"{forward_count} events up to id {high}: ids are missing")
        numbers = _ids(reverse)
        if any(later <= earlier for earlier, later in zip(numbers[1:], numbers, strict=False)):
            raise EndsDisagree("the newest-first reader's events are not newest first")
        by_id: dict[int, Mapping[str, Any]] = {}
        for event in reverse:
            number = int(event.get("id", 0))
            known = by_id.get(number) if number > high else recent.get(number)
            if known is not None and known != event:
                raise EndsDisagree(f"event {number} differs between the two ends")
            if number > high:
                by_id[number] = event
        last = max(by_id, default=high)
        missing = [n for n in range(high + 1, last + 1) if n not in by_id]
        if missing:
            raise EndsDisagree(f"event {missing[0]} is in neither end")
        return [by_id[n] for n in range(high + 1, last + 1)]


def _describe(error: BaseException) -> str:
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code") or "an error")
        return f"the newest-first reader got {code}"
    return f"the newest-first reader failed: {type(error).__name__}"
