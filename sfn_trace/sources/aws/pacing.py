"""Pacing: AWS's request quotas, kept from the client side the way AWS meters them.

AWS throttles each API action with a token bucket per account and region: a request takes a
token, the bucket refills at a steady rate up to its size, and a request that finds it empty
is throttled. :data:`QUOTAS` is the one table of the buckets sfn-trace spends, with the
sizes and refill rates AWS documents; :class:`TokenBucket` keeps the same account on this
side, so that a small trace (a few calls, well within the bucket) never waits, and a scan of
thousands of executions settles at the refill rate instead of being throttled.

Every paced call takes its token from :func:`meter` (one shared bucket per action, region
and credentials, for every thread and every trace of the process, as AWS's own bucket is
shared). When another client spends the same account's tokens, AWS throttles anyway:
botocore's standard retry mode backs off, and ``AwsOptions.on_retry`` puts it on the
progress line (:mod:`sfn_trace.sources.aws.client`).
"""

from __future__ import annotations

import threading
import time
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


class Meters:
    """The buckets of one process: one per (action, region, profile, endpoint), made full
    on first use."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._buckets: dict[tuple[str, str | None, str | None, str | None], TokenBucket] = {}
        self._lock = threading.Lock()

    def __call__(self, action: str, region: str | None, options: AwsOptions) -> TokenBucket:
        key = (action, region, options.profile, options.endpoint_url)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                burst, rate = QUOTAS[action].bucket_in(region)
                bucket = self._buckets[key] = TokenBucket(burst, rate, self._clock, self._sleep)
            return bucket


meter = Meters()
"""The process's buckets: ``meter("FilterLogEvents", region, options).wait()`` before a call."""


def take(action: str, client: Any, options: AwsOptions) -> float:
    """Take a token for ``action`` from the process's bucket for ``client``'s region (and
    ``options``' credentials and endpoint); the seconds slept."""
    region = getattr(getattr(client, "meta", None), "region_name", None)
    return meter(action, region if isinstance(region, str) else None, options).wait()
