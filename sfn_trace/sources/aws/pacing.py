"""Pacing: AWS's request quotas, kept from the client side the way AWS meters them.

AWS throttles each API action with a token bucket per account and region: a request takes a
token, the bucket refills at a steady rate up to its size, and a request that finds it empty
is throttled. :data:`QUOTAS` is the one table of the buckets sfn-trace spends, with the
sizes and refill rates AWS documents; :class:`TokenBucket` keeps the same account on this
side, so that a small trace (a few calls, well within the bucket) never waits, and a scan of
thousands of executions settles at the refill rate instead of being throttled.

Every paced call takes its token from :func:`meter` (one shared bucket per action, account,
region and credentials, for every thread and every trace of the process, as AWS's own bucket is
shared). When another client spends the same account's tokens, AWS throttles anyway:
botocore's standard retry mode backs off, and ``AwsOptions.on_retry`` puts it on the
progress line (:mod:`sfn_trace.sources.aws.client`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfn_trace.model.options import AwsOptions

_SFN = (
    "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
    "#service-limits-api-action-throttling-general"
)
_LOGS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html"
_LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests"

LARGE_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})
"""Where Step Functions documents larger buckets for some actions (its quota table's
"US East (N. Virginia), US West (Oregon), and Europe (Ireland)" columns)."""


@dataclass(frozen=True)
class Quota:
    """One action's token bucket, as AWS documents it (per account and region)."""

    service: str
    action: str
    burst: float
    """Bucket size: requests that may go at once after a quiet spell."""
    rate: float
    """Refill rate: requests per second over time."""
    source: str
    large: tuple[float, float] | None = None
    """(burst, rate) in :data:`LARGE_REGIONS`, where it differs."""

    def bucket_in(self, region: str | None) -> tuple[float, float]:
        if self.large is not None and region in LARGE_REGIONS:
            return self.large
        return self.burst, self.rate


QUOTAS: dict[str, Quota] = {
    quota.action: quota
    for quota in (
        # Step Functions: "Quotas related to API action throttling" (bucket size, refill
        # rate per second; the smaller "all other regions" values unless `large`).
        Quota("states", "DescribeExecution", 250, 10, _SFN, large=(300, 15)),
        Quota("states", "DescribeStateMachineForExecution", 200, 1, _SFN),
        Quota("states", "DescribeStateMachine", 200, 20, _SFN),
        Quota("states", "GetExecutionHistory", 400, 20, _SFN),
        Quota("states", "ListExecutions", 100, 2, _SFN, large=(200, 5)),
        Quota("states", "ListMapRuns", 100, 1, _SFN),
        Quota("states", "DescribeMapRun", 200, 1, _SFN),
        Quota("states", "TestState", 50, 10, _SFN),
        # CloudWatch Logs documents a rate only ("5 transactions per second per account per
        # Region", not adjustable); no bucket size is published, so one second's worth.
        Quota("logs", "FilterLogEvents", 5, 5, _LOGS),
        # Lambda: "Remainder of the control plane API requests (excludes invocation,
        # GetFunction, and GetPolicy requests): 15 requests per second across all APIs".
        Quota("lambda", "GetFunctionConfiguration", 15, 15, _LAMBDA),
    )
}


class TokenBucket:
    """A token bucket: at most ``burst`` calls at once, ``rate`` per second over time,
    shared by any number of threads.

    A call that finds the bucket empty reserves the next token (the count goes below zero)
    and sleeps until it has refilled, so waiting calls are served in the order they came and
    the calls never go faster than the bucket allows: by any moment ``t`` after the bucket
    was made full, at most ``burst + rate * t`` calls have gone. ``TokenBucket(1, r)`` spaces
    calls evenly, ``1 / r`` seconds apart."""

    def __init__(
        self,
        burst: float,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if burst < 1 or rate <= 0:
            raise ValueError(f"a token bucket needs burst >= 1 and rate > 0, not {burst}, {rate}")
        self.burst, self.rate = float(burst), float(rate)
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._stamp = clock()

    def wait(self) -> float:
        """Take a token, sleeping until there is one; the seconds slept (0.0: none)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            delay = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if delay > 0:
            self._sleep(delay)
        return delay


class GrantedRate(TokenBucket):
    """A token bucket whose refill rate follows what the account actually grants.

    AWS's bucket is per account and region: another client spending it leaves this one less
    than the documented rate, and AWS says so only by throttling. This bucket starts at the
    documented size and rate (its ``ceiling``), and:

    - on a throttle (:meth:`throttled`), AWS's bucket is empty, so this one lends nothing
      more either (its tokens go to zero); then, at most once per ``window`` seconds, the
      rate becomes the rate AWS *accepted* over the last window (:meth:`granted` calls per
      second), measured, not guessed: a client that sends faster than it is granted is
      accepted at exactly the granted rate. With nothing accepted, the rate is halved;
    - after a whole ``window`` without a throttle it rises by ``step`` of the ceiling, step
      by step, so a rate freed by the other client is found again; never above the ceiling.

    botocore's adaptive mode halves on a throttle and climbs back on a cubic curve, which
    leaves it well under the granted rate on average; the measured cut lands on it
    (benchmarks/README.md, the fleet rows). Never below ``floor`` calls per second.
    """

    def __init__(
        self,
        burst: float,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        window: float = 2.0,
        step: float = 0.05,
        floor: float = 0.2,
    ) -> None:
        super().__init__(burst, rate, clock, sleep)
        self.ceiling = self.rate
        self.window = float(window)
        self.step = float(step) * self.ceiling
        self.floor = min(float(floor), self.ceiling)
        self.throttles = 0
        """Throttled calls told so far (each was retried, none failed)."""
        self.accepted = 0
        """Calls AWS answered without throttling."""
        self._accepted: deque[float] = deque()
        self._changed = self._stamp
        self._quiet_since = self._stamp

    def granted(self) -> None:
        """A call was answered (not throttled)."""
        with self._lock:
            now = self._clock()
            self.accepted += 1
            self._accepted.append(now)
            self._forget(now)
            if self.rate < self.ceiling and now - max(self._changed, self._quiet_since) >= (
                self.window
            ):
                self._set(now, min(self.ceiling, self.rate + self.step))

    def throttled(self) -> None:
        """A call was throttled by AWS (it will be retried after a token)."""
        with self._lock:
            now = self._clock()
            self.throttles += 1
            self._quiet_since = now
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens = min(self._tokens, 0.0)  # AWS's bucket is empty: so is ours
            if now - self._changed < self.window:
                return  # one cut per window: the throttles of one overshoot come together
            self._forget(now)
            measured = len(self._accepted) / self.window
            cut = measured if measured > 0 else self.rate / 2
            self._set(now, max(self.floor, min(self.rate, cut)))

    def _forget(self, now: float) -> None:
        while self._accepted and self._accepted[0] < now - self.window:
            self._accepted.popleft()

    def _set(self, now: float, rate: float) -> None:
        # Tokens already earned are kept at the old rate; from now on, the new one.
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self.rate = rate
        self._changed = now


class Meters:
    """The buckets of one process: one per (action, account, region, profile, endpoint),
    made full on first use. AWS meters each account and region apart, so a scan of state
    machines in two accounts spends two buckets, and a throttle in one never slows the
    other. The account is known where an ARN gives it (a scan's state machines); a call
    without one (``account=None``) shares the bucket of its credentials."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._buckets: dict[
            tuple[str, str | None, str | None, str | None, float | None, str | None], GrantedRate
        ] = {}
        self._lock = threading.Lock()

    def __call__(
        self,
        action: str,
        region: str | None,
        options: AwsOptions,
        *,
        rate: float | None = None,
        account: str | None = None,
    ) -> GrantedRate:
        """The bucket of ``action`` in ``account`` (when known) and ``region``; ``rate``
        (calls per second) when the account was granted more (or less) than AWS documents:
        a bucket of its own."""
        key = (action, region, options.profile, options.endpoint_url, rate, account)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                burst, documented = QUOTAS[action].bucket_in(region)
                bucket = self._buckets[key] = GrantedRate(
                    burst, rate or documented, self._clock, self._sleep
                )
            return bucket


meter = Meters()
"""The process's buckets: ``meter("FilterLogEvents", region, options).wait()`` before a call."""


def take(action: str, client: Any, options: AwsOptions) -> float:
    """Take a token for ``action`` from the process's bucket for ``client``'s region (and
    ``options``' credentials and endpoint); the seconds slept."""
    region = getattr(getattr(client, "meta", None), "region_name", None)
    return meter(action, region if isinstance(region, str) else None, options).wait()
