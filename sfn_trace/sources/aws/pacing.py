"""Pacing: AWS's request quotas, kept from the client side.

Every paced read (GetExecutionHistory across a scan's workers, FilterLogEvents, a Map Run's
children) goes through one :class:`RateLimiter` per quota, shared by the threads that spend
it, so that throttling is the exception, not the way the rate is found.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """At most ``rate`` calls per second across threads (evenly spaced)."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            moment = max(now, self._next)
            self._next = moment + self.interval
        if moment > now:
            self._sleep(moment - now)
