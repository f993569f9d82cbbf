"""How to reach AWS, and how much of a file to read: plain values, importable without boto3
(offline runs never load it)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sfn_trace.errors import Option, UsageError

if TYPE_CHECKING:
    from sfn_trace.model.definition import Definition
    from sfn_trace.model.events import HistoryEvent
    from sfn_trace.model.execution import ExecutionInfo

DEFAULT_SCAN_LIMIT = 100
"""How many executions ``scan`` traces when ``--limit`` is not given (the newest first)."""

DEFAULT_TIMEOUT = 90.0
"""``--timeout``: seconds an AWS request may go without an answer, its retries included."""

MAX_INPUT = 1 << 30
"""``--max-input-size``: the most bytes of JSON sfn-trace reads from one file, pipe or stdin,
counted after gzip inflation (1 GiB).

A history AWS returns holds at most 25,000 events, each payload at most 256 KiB
(https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html): 6.1 GiB if every
event were as large as it can be, which no real execution comes near (the 25,000-event
benchmark history is 55.5 MB). Reading a history takes four to five times its size in
memory,
so 1 GiB is about a sixth of that theoretical maximum and keeps a file someone else wrote,
such as a gzip file of a few megabytes that inflates to gigabytes, from taking the machine's
memory. The option raises it for the rare history that needs more."""

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_size(text: str) -> int:
    """``--max-input-size``'s value in bytes: a number of bytes, or with a unit (``500MB``,
    ``2GiB``, ``1.5G``; ``k``/``M``/``G``/``T`` are powers of 1000, ``KiB``/``MiB``/``GiB``/
    ``TiB`` of 1024). Raises :class:`ValueError` with the reason."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size (e.g. 2GiB, 500MB, 1000000)")
    number, unit = float(match[1]), (match[2] or "").lower()
    if "i" in unit:
        factor = 1024 ** ("kmgt".index(unit[0]) + 1)
    else:
        factor = _UNITS[unit.rstrip("b") if unit != "b" else "b"]
    size = int(number * factor)
    if size < 1:
        raise ValueError(f"{text!r} is not a size of at least one byte")
    return size


def format_size(size: int) -> str:
    """A size as people read it: ``1 GiB``, ``512 MiB``, ``1,000,000 bytes``."""
    for exponent, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        whole, rest = divmod(size, 1024**exponent)
        if whole and not rest:
            return f"{whole:,} {unit}"
    return f"{size:,} bytes"


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
    session: Any = field(default=None, compare=False, repr=False)
    """A ``boto3.Session`` to make every client from, with the credentials and region the
    caller gave it (a notebook, a tool that assumed a role itself); None: boto3's normal
    credential chain, with ``profile``. Typed ``Any``: this module is imported without
    boto3."""

    def check(self) -> None:
        """A :class:`~sfn_trace.errors.UsageError` for a value no request can be made with,
        asked before any client is made."""
        if self.max_attempts < 1:
            raise UsageError(
                Option("max_attempts"), f" must be at least 1, not {self.max_attempts}"
            )
        if not (math.isfinite(self.timeout) and self.timeout >= 1):
            raise UsageError(Option("timeout"), f" must be at least 1 second, not {self.timeout:g}")


ProgressCallback = Callable[[int, int], None]
"""Called after each history page with (pages fetched so far, events so far)."""

EventsCallback = Callable[["ExecutionInfo", "Definition | None", "Sequence[HistoryEvent]"], None]
"""Called with each history page's events as they are converted, in id order, and what was
fetched before the history: the execution and the definition that ran (None: none)."""

DescribedCallback = Callable[["ExecutionInfo", "Definition | None"], None]
"""Called once the execution's description and the definition that ran (None: none) are in,
before the history's first page is (from the thread that fetched the last of the two)."""

DEFAULT_OPTIONS = AwsOptions()


FollowChildren = int | Literal["all"]
"""``--follow-children``: at most N child executions in all, or every one."""
