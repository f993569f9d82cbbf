"""The token buckets AWS meters its APIs with, kept from this side: on a fake clock.

A bucket lets its burst go at once, then one call per refill; over any span it never lets
more than ``burst + rate * span`` calls go; threads that wait are served in turn; and the
one table of quotas holds the values AWS documents.
"""

from __future__ import annotations

import threading

import pytest

from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws.pacing import QUOTAS, GrantedRate, Meters, TokenBucket


class FakeClock:
    """A clock that moves only when the test says so; sleeps are recorded, not slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_the_burst_goes_at_once_then_one_call_per_refill() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, 5.0, clock=clock, sleep=clock.sleep)
    waits = [bucket.wait() for _ in range(8)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == [pytest.approx(0.2), pytest.approx(0.4), pytest.approx(0.6)]
    assert clock.slept == waits[5:]


def test_the_bucket_refills_while_idle_up_to_its_size() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4, 2.0, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        assert bucket.wait() == 0.0
    clock.now = 1.0  # two tokens back
    assert [bucket.wait(), bucket.wait()] == [0.0, 0.0]
    assert bucket.wait() == pytest.approx(0.5)
    clock.now = 100.0  # a long quiet spell refills to the size, not beyond
    assert [bucket.wait() for _ in range(4)] == [0.0] * 4
    assert bucket.wait() == pytest.approx(0.5)


def test_a_small_trace_never_sleeps() -> None:
    """The calls of one trace of a small execution (the seed's shape) stay in the buckets."""
    meters = Meters(clock=lambda: 0.0, sleep=lambda s: pytest.fail(f"slept {s} s"))
    options = AwsOptions()
    calls = ["DescribeExecution", "DescribeStateMachineForExecution", "GetExecutionHistory"]
    calls += ["GetFunctionConfiguration"] * 4 + ["FilterLogEvents"] * 4
    for action in calls:
        assert meters(action, "us-west-2", options).wait() == 0.0


def test_never_over_the_rate_over_time() -> None:
    """Calls at their granted moments: in every window of ``span`` seconds at most
    ``burst + rate * span`` of them, and over a long run the average is the refill rate."""
    now = [0.0]
    granted: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    bucket = TokenBucket(10, 4.0, clock=lambda: now[0], sleep=sleep)
    for n in range(400):
        if n % 7 == 0:
            now[0] += 0.3  # callers come unevenly
        bucket.wait()
        granted.append(now[0])
    for span in (0.5, 1.0, 5.0, 30.0):
        for i, start in enumerate(granted):
            inside = sum(1 for t in granted[i:] if t < start + span + 1e-9)
            assert inside <= 10 + 4.0 * span + 1e-6, (span, start, inside)
    assert len(granted) / granted[-1] == pytest.approx(4.0, rel=0.05)


def test_threads_share_one_bucket_and_are_served_in_turn() -> None:
    """Eight threads, one bucket, a standing clock: each call sleeps to its own reserved
    moment, the moments are one refill apart after the burst, and none is given twice."""
    moments: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            moments.append(seconds)

    bucket = TokenBucket(3, 10.0, clock=lambda: 0.0, sleep=sleep)
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(10):
            bucket.wait()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(moments) == 80 - 3  # the burst did not sleep
    assert sorted(moments) == [pytest.approx(n / 10.0) for n in range(1, 78)]


def test_one_bucket_per_action_region_and_credentials() -> None:
    meters = Meters(clock=lambda: 0.0, sleep=lambda _: None)
    options = AwsOptions()
    one = meters("FilterLogEvents", "us-west-2", options)
    assert meters("FilterLogEvents", "us-west-2", AwsOptions(max_attempts=3)) is one
    assert meters("FilterLogEvents", "eu-central-1", options) is not one
    assert meters("FilterLogEvents", "us-west-2", AwsOptions(profile="other")) is not one
    assert meters("GetExecutionHistory", "us-west-2", options) is not one


def test_the_table_holds_what_aws_documents() -> None:
    """The values of the Step Functions, CloudWatch Logs and Lambda quota pages, each with
    its source."""
    expected = {
        "DescribeExecution": (250, 10),
        "DescribeStateMachineForExecution": (200, 1),
        "DescribeStateMachine": (200, 20),
        "GetExecutionHistory": (400, 20),
        "ListExecutions": (100, 2),
        "ListMapRuns": (100, 1),
        "DescribeMapRun": (200, 1),
        "TestState": (50, 10),
        "FilterLogEvents": (5, 5),
        "GetFunctionConfiguration": (15, 15),
    }
    assert {a: (q.burst, q.rate) for a, q in QUOTAS.items()} == expected
    assert QUOTAS["DescribeExecution"].bucket_in("us-east-1") == (300, 15)
    assert QUOTAS["ListExecutions"].bucket_in("eu-west-1") == (200, 5)
    assert QUOTAS["ListExecutions"].bucket_in("ap-south-1") == (100, 2)
    assert all(q.source.startswith("https://docs.aws.amazon.com/") for q in QUOTAS.values())


def test_a_bucket_needs_a_size_and_a_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 1.0)
    with pytest.raises(ValueError):
        TokenBucket(1, 0.0)


# --- the rate the account grants ---------------------------------------------------------------


def test_a_throttle_empties_the_bucket_and_cuts_to_the_measured_accepted_rate() -> None:
    """AWS grants 5 a second while the bucket believes in 20: over the window before the
    throttle, 10 calls in 2 s were accepted, so the rate becomes 5 a second."""
    clock = FakeClock()
    bucket = GrantedRate(400, 20.0, clock=clock, sleep=clock.sleep, window=2.0)
    for n in range(10):
        clock.now = 1.0 + n * 0.2  # accepted at 5 a second
        bucket.granted()
    clock.now = 3.0
    bucket.throttled()
    assert bucket.rate == pytest.approx(5.0)
    assert bucket.throttles == 1 and bucket.accepted == 10
    # Its 400 tokens are gone (AWS's bucket is empty): the next call waits a refill.
    assert bucket.wait() == pytest.approx(0.2)


def test_one_cut_per_window_and_none_to_above_the_current_rate() -> None:
    clock = FakeClock()
    bucket = GrantedRate(10, 20.0, clock=clock, sleep=clock.sleep, window=2.0)
    clock.now = 2.5
    for _ in range(60):  # a burst accepted: 60 calls in the window, 30 a second
        bucket.granted()
    bucket.throttled()
    assert bucket.rate == 20.0  # measured above the rate: no cut
    clock.now = 5.0
    bucket.granted()
    bucket.throttled()
    assert bucket.rate == pytest.approx(0.5)  # 1 call in the last 2 s
    clock.now = 5.5
    bucket.throttled()  # the same overshoot's other throttles: no second cut
    assert bucket.rate == pytest.approx(0.5) and bucket.throttles == 3


def test_nothing_accepted_halves_and_the_floor_holds() -> None:
    clock = FakeClock()
    bucket = GrantedRate(10, 1.0, clock=clock, sleep=clock.sleep, window=1.0, floor=0.2)
    rates = []
    for second in range(2, 8):
        clock.now = float(second)
        bucket.throttled()
        rates.append(bucket.rate)
    assert rates == [0.5, 0.25, 0.2, 0.2, 0.2, 0.2]


def test_quiet_windows_raise_the_rate_step_by_step_up_to_the_ceiling() -> None:
    clock = FakeClock()
    bucket = GrantedRate(10, 20.0, clock=clock, sleep=clock.sleep, window=1.0, step=0.25)
    clock.now = 1.0
    bucket.throttled()  # nothing accepted yet: halved to 10
    assert bucket.rate == 10.0
    seen = []
    for tenth in range(11, 61):
        clock.now = tenth / 10
        bucket.granted()
        seen.append(bucket.rate)
    # +5 (a quarter of the ceiling) after each quiet second, never above 20.
    assert sorted(set(seen)) == [10.0, 15.0, 20.0]
    assert seen[-1] == 20.0 and seen.index(15.0) == 9 and seen.index(20.0) == 19


def test_meters_give_a_rate_of_its_own_when_asked() -> None:
    meters = Meters(clock=lambda: 0.0, sleep=lambda s: None)
    options = AwsOptions()
    documented = meters("GetExecutionHistory", "us-west-2", options)
    raised = meters("GetExecutionHistory", "us-west-2", options, rate=100)
    assert (documented.burst, documented.ceiling) == (400, 20)
    assert (raised.burst, raised.ceiling) == (400, 100)
    assert meters("GetExecutionHistory", "us-west-2", options) is documented
