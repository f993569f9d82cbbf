"""How to reach AWS: plain values, importable without boto3 (offline runs never load it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sfn_trace.model.definition import Definition
    from sfn_trace.model.events import HistoryEvent
    from sfn_trace.model.execution import ExecutionInfo

DEFAULT_SCAN_LIMIT = 100
"""How many executions ``scan`` traces when ``--limit`` is not given (the newest first)."""

DEFAULT_TIMEOUT = 90.0
"""``--timeout``: seconds an AWS request may go without an answer, its retries included."""


@dataclass(frozen=True)
class RetryNotice:
    """One retry of an AWS request, as a progress line shows it (``str(notice)``).

    Sent by the client (``sources/aws/client.py``) just before botocore backs off and tries
    again; whoever draws progress decides whether and where to show it.
    """

    operation: str
    """The API operation, e.g. ``GetExecutionHistory``."""
    reason: str
    """What the failed attempt got, as words: ``a read timeout``, ``throttling (HTTP 400
    ThrottlingException)``, ``a closed connection``..."""
    attempt: int
    """The attempt about to be made (2 for the first retry)."""
    max_attempts: int
    """``--max-attempts``."""
    silent: float | None = None
    """Seconds the request has gone without an answer so far; None when the failed attempt
    was answered (throttling, a server error), which restarts the ``--timeout`` clock."""
    timeout: float = DEFAULT_TIMEOUT
    """``--timeout``."""

    def __str__(self) -> str:
        text = (
            f"retrying {self.operation} after {self.reason} "
            f"(attempt {self.attempt} of {self.max_attempts}"
        )
        if self.silent is not None:
            text += f"; no answer for {self.silent:.0f} of {self.timeout:g} s"
        return text + ")"


RetryCallback = Callable[[RetryNotice], None]
"""Called, from the thread making the request, each time an AWS request is retried."""


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS; ``None`` means boto3's normal resolution."""

    region: str | None = None
    """Default: the region in the ARN."""
    profile: str | None = None
    endpoint_url: str | None = None
    """When None, botocore itself honours ``AWS_ENDPOINT_URL``."""
    max_attempts: int = 10
    """Total attempts per request (first try included) before throttling becomes an error."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds one request (one API call: one page of a paginated read) may go without any
    answer, its retries and their back-off included, before it fails. An answer (even
    throttling or a server error) restarts the clock, so throttled requests keep their
    ``max_attempts``, and a read of many pages is never cut by it."""
    on_retry: RetryCallback | None = field(default=None, compare=False, repr=False)
    """Told of each retry (a progress line); never changes what is fetched."""


ProgressCallback = Callable[[int, int], None]

EventsCallback = Callable[["ExecutionInfo", "Definition | None", "Sequence[HistoryEvent]"], None]
"""Called with each history page's events as they are converted, in id order, and what was
fetched before the history: the execution and the definition that ran (None: none)."""
"""Called after each history page with (pages fetched so far, events so far)."""

DEFAULT_OPTIONS = AwsOptions()


FollowChildren = int | Literal["all"]
"""``--follow-children``: at most N child executions in all, or every one."""
