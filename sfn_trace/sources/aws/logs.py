"""The CloudWatch Logs lines of the Lambda invocations in one execution, in few calls.

Per function, ``GetFunctionConfiguration`` says where it logs (``LoggingConfig.LogGroup``,
else ``/aws/lambda/<name>``); the functions are asked about all at once, then every log
group is read at once. Per log group, ONE ``FilterLogEvents`` query over the time
window of that group's invocations (plus a small margin), paginated to the end, returns
everything needed to split lines per invocation (:mod:`sfn_trace.sources.lambda_logs`): platform
lines, application lines with their request id, and ``print()`` lines that have none and are
known only by their place in the stream. So the number of calls is log groups × pages, never
the number of invocations.

A request-id filter pattern (``?"id1" ?"id2" ...``) cannot return ``print()`` lines and needs
a query per 26 ids (patterns are limited to 1,024 characters), so it is only the fallback for
a shared function whose window holds more than :data:`WINDOW_PAGE_BUDGET` pages of other
invocations' lines.

Each call takes a token from its API's bucket (:mod:`.pacing`: FilterLogEvents 5 at once and
5 a second per account and region, GetFunctionConfiguration 15), and a few log groups are
read at a time. A log group that cannot be read (access denied, missing,
throttled past retries) costs only its lines: the trace goes on and a warning says why.
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sfn_trace.model.options import AwsOptions
from sfn_trace.model.visits import LambdaInvocation
from sfn_trace.sources.aws.client import ACCESS_DENIED, Clients, Context, error_code, translate
from sfn_trace.sources.aws.pacing import QUOTAS, TokenBucket, meter, take
from sfn_trace.sources.lambda_logs import LambdaLogs, LogLine, assign

ClientFactory = Callable[[str, str], Any]
"""(service, region) -> boto3 client: a :class:`~.client.Clients`, or a stand-in of tests."""

FILTER_PATTERN_LIMIT = 1024
WINDOW_PAGE_BUDGET = 10
MAX_PARALLEL_GROUPS = 4
MAX_PARALLEL_LOOKUPS = 8
_MARGIN_BEFORE_MS = 2_000
_MARGIN_AFTER_MS = 10_000
_MAX_RUN_MS = 15 * 60 * 1000  # Lambda's longest run: the window of an unfinished attempt


@dataclass(frozen=True)
class _Group:
    region: str
    name: str
    invocations: tuple[LambdaInvocation, ...]


def fetch_lambda_logs(
    invocations: Sequence[LambdaInvocation],
    options: AwsOptions,
    region: str,
    *,
    clients: ClientFactory | None = None,
    limiter: TokenBucket | None = None,
    early: EarlyLookups | None = None,
) -> LambdaLogs:
    """Find the log lines of every invocation; never raises for a log group it cannot read.
    ``early``: the lookups begun while the history was on its way."""
    if not invocations:
        return LambdaLogs()
    factory = clients or Clients(options)
    warnings: list[str] = []
    log_groups = _log_groups(invocations, region, factory, options, warnings, early)
    grouped: dict[tuple[str, str], list[LambdaInvocation]] = defaultdict(list)
    for invocation in invocations:
        grouped[(invocation.region or region, log_groups[invocation.function])].append(invocation)
    groups = [_Group(r, name, tuple(items)) for (r, name), items in grouped.items()]

    def read(group: _Group) -> tuple[dict[int, Any], list[str]]:
        return _read_group(group, factory, options, limiter, early)

    by_attempt: dict[int, Any] = {}
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_GROUPS, len(groups))) as pool:
        for found, notes in pool.map(read, groups):
            by_attempt.update(found)
            warnings.extend(notes)
    return LambdaLogs(by_attempt=by_attempt, log_groups=log_groups, warnings=tuple(warnings))


def _log_groups(
    invocations: Sequence[LambdaInvocation],
    region: str,
    factory: ClientFactory,
    options: AwsOptions,
    warnings: list[str],
    early: EarlyLookups | None = None,
) -> dict[str, str]:
    """Function name -> log group, one GetFunctionConfiguration per function, all at once
    (none waits for another's answer); those ``early`` began are taken from it."""
    first: dict[str, LambdaInvocation] = {}
    for invocation in invocations:
        first.setdefault(invocation.function, invocation)

    def lookup(i: LambdaInvocation) -> tuple[str, str | None]:
        begun = early.result(i.reference, i.region or region) if early is not None else None
        if begun is not None:
            return begun
        return _log_group(i.function, i.reference, i.region or region, factory, options)

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_LOOKUPS, len(first))) as pool:
        found = list(pool.map(lookup, first.values()))
    groups: dict[str, str] = {}
    for name, (group, warning) in zip(first, found, strict=True):
        groups[name] = group
        if warning is not None:
            warnings.append(warning)
    return groups


def _log_group(
    name: str, reference: str, region: str, factory: ClientFactory, options: AwsOptions
) -> tuple[str, str | None]:
    """The log group of function ``name`` (``reference``: as the task named it), and a
    warning when the default had to be assumed."""
    default = f"/aws/lambda/{name}"
    client = factory("lambda", region)
    ctx = Context(None, client, options.max_attempts, target=name)
    try:
        take("GetFunctionConfiguration", client, options)
        config = client.get_function_configuration(FunctionName=reference)
    except (ClientError, BotoCoreError) as exc:
        if isinstance(exc, ClientError) and error_code(exc) == "ResourceNotFoundException":
            why = f"function {name} not found (deleted since?)"
        else:
            why = translate(exc, ctx, "GetFunctionConfiguration").message
        return default, f"{why}; reading its logs from the default group {default}"
    logging = config.get("LoggingConfig") or {}
    return str(logging.get("LogGroup") or default), None


class EarlyLookups:
    """Log-group lookups, and reads, begun before the history is in.

    The functions a definition names are looked up (GetFunctionConfiguration, all at once)
    while the first history page is on its way, and :func:`fetch_lambda_logs` takes their
    answers instead of asking again. A definition that names more than
    :data:`MAX_PARALLEL_LOOKUPS` functions begins none (their lookups would wait in the
    bucket ahead of those the history invoked).

    Given the execution's ``window`` (a finished execution's start and stop, in epoch
    milliseconds), and when the FilterLogEvents bucket's burst covers every group at once,
    each group is also read over that window as soon as it is known: one FilterLogEvents
    page at most (a group busier than that is read after the history, as usual). A group
    the history shows was read so needs no call after it: :meth:`lines` hands its lines
    within the invocations' own window, the ones that window's query returns. A function
    the history never invoked costs a lookup and one read, nothing else.
    """

    def __init__(
        self,
        functions: Iterable[tuple[str, str, str]],
        options: AwsOptions,
        clients: ClientFactory,
        window: tuple[int, int] | None = None,
    ) -> None:
        """``functions``: (reference, name, region) of each function, as
        :func:`_log_group` takes them."""
        self._found: dict[tuple[str, str], Future[tuple[str, str | None]]] = {}
        self._read: dict[tuple[str, str], Future[list[LogLine] | None]] = {}
        self._lock = threading.Lock()
        self._options, self._clients, self._window = options, clients, window
        named = list(dict.fromkeys(functions))
        if len(named) > MAX_PARALLEL_LOOKUPS:
            return
        burst, _ = QUOTAS["FilterLogEvents"].bucket_in(None)
        self._reads = window is not None and len(named) <= burst
        pool = ThreadPoolExecutor(MAX_PARALLEL_LOOKUPS, thread_name_prefix="sfn-trace-lookup")
        for reference, name, region in named:
            if (reference, region) not in self._found:
                self._found[(reference, region)] = Future()
                pool.submit(self._look_up, name, reference, region)
        pool.shutdown(wait=False)  # what was submitted still runs

    def _look_up(self, name: str, reference: str, region: str) -> None:
        """The lookup (told at once), then the group's read if reads were begun."""
        told = self._found[(reference, region)]
        try:
            group, warning = _log_group(name, reference, region, self._clients, self._options)
        except BaseException as error:  # raised where the answer is asked for
            told.set_exception(error)
            return
        told.set_result((group, warning))
        if not self._reads or warning is not None:
            return
        with self._lock:
            mine = (region, group) not in self._read
            if mine:
                self._read[(region, group)] = Future()
        if mine:
            try:
                read = self._read_window(region, group)
            except Exception:  # a head start only: the group is read after the history
                read = None
            self._read[(region, group)].set_result(read)

    def _read_window(self, region: str, group: str) -> list[LogLine] | None:
        """The group's lines over the execution's window, if one page holds them."""
        assert self._window is not None
        begin, end = self._window
        client = self._clients("logs", region)
        limiter = meter("FilterLogEvents", region, self._options)
        try:
            return list(_filter(client, limiter, group, begin, end, None, 1))
        except (_TooManyPages, ClientError, BotoCoreError):
            return None  # read after the history, where a failure is worded

    def result(self, reference: str, region: str) -> tuple[str, str | None] | None:
        """The lookup of ``reference`` in ``region`` (waited for), or None if none began."""
        future = self._found.get((reference, region))
        return None if future is None else future.result()

    def lines(self, region: str, group: str, begin: int, end: int) -> list[LogLine] | None:
        """The lines the query of ``group`` from ``begin`` to ``end`` returns, from the read
        begun early (waited for), or None if none began, it failed, or its window does not
        hold that one."""
        with self._lock:
            future = self._read.get((region, group))
        if future is None or self._window is None:
            return None
        read = future.result()
        if read is None or not (self._window[0] <= begin and end <= self._window[1]):
            return None
        return [line for line in read if begin <= line.timestamp <= end]


def execution_window(start: datetime | None, stop: datetime | None) -> tuple[int, int] | None:
    """The window that holds every finished invocation of an execution that ran from
    ``start`` to ``stop``, with the margins a group's own window has; None while it runs."""
    if start is None or stop is None:
        return None
    return _ms(start) - _MARGIN_BEFORE_MS, _ms(stop) + _MARGIN_AFTER_MS


def _read_group(
    group: _Group,
    factory: ClientFactory,
    options: AwsOptions,
    limiter: TokenBucket | None,
    early: EarlyLookups | None = None,
) -> tuple[dict[int, Any], list[str]]:
    client = factory("logs", group.region)
    limiter = limiter or meter("FilterLogEvents", group.region, options)
    ctx = Context(None, client, options.max_attempts, target=group.name)
    functions = sorted({i.function for i in group.invocations})
    begin, end = _window(group.invocations)
    read = early.lines(group.region, group.name, begin, end) if early is not None else None
    lines: list[LogLine] = read or []
    note = None
    try:
        try:
            if read is None:
                lines = list(
                    _filter(client, limiter, group.name, begin, end, None, WINDOW_PAGE_BUDGET)
                )
        except _TooManyPages:
            lines, note = _by_request_ids(client, limiter, group, begin, end)
    except ClientError as exc:
        code = error_code(exc)
        if code == "ResourceNotFoundException":
            why = f"log group {group.name} does not exist (logging off, or another group?)"
        elif code in ACCESS_DENIED:
            why = f"access denied (logs:FilterLogEvents on {group.name})"
        else:
            why = translate(exc, ctx, "FilterLogEvents").message
        return {}, [f"logs of {', '.join(functions)} not read: {why}"]
    except BotoCoreError as exc:
        why = translate(exc, ctx, "FilterLogEvents").message
        return {}, [f"logs of {', '.join(functions)} not read: {why}"]
    found = assign(group.invocations, group.name, lines)
    notes = [note] if note else []
    missing = [
        i
        for i in group.invocations
        if not found.get(i.start_event_id, None) or not found[i.start_event_id].lines
    ]
    if missing:
        notes.append(
            f"no log lines in {group.name} for {len(missing)} of {len(group.invocations)} "
            f"invocation(s) of {', '.join(functions)} (not yet ingested, or retention expired)"
        )
    return found, notes


class _TooManyPages(Exception):
    pass


def _filter(
    client: Any,
    limiter: TokenBucket,
    log_group: str,
    begin: int,
    end: int,
    pattern: str | None,
    page_budget: int | None,
) -> Iterator[LogLine]:
    """FilterLogEvents to the last page (pages may be empty while nextToken is present)."""
    arguments: dict[str, Any] = {"logGroupName": log_group, "startTime": begin, "endTime": end}
    if pattern:
        arguments["filterPattern"] = pattern
    pages = 0
    token: str | None = None
    while True:
        if page_budget is not None and pages >= page_budget:
            raise _TooManyPages
        limiter.wait()
        response = client.filter_log_events(**arguments, **({"nextToken": token} if token else {}))
        pages += 1
        for event in response.get("events", []):
            yield LogLine(
                timestamp=int(event.get("timestamp", 0)),
                message=str(event.get("message", "")).rstrip("\n"),
                stream=str(event.get("logStreamName", "")),
                event_id=str(event.get("eventId", "")),
            )
        token = response.get("nextToken")
        if not token:
            return


def request_id_patterns(request_ids: Sequence[str], limit: int = FILTER_PATTERN_LIMIT) -> list[str]:
    """``?"id1" ?"id2" ...`` patterns, each within the API's length limit.

    Quotes are required: request ids contain hyphens, which the unquoted term syntax splits.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
    """
    patterns: list[str] = []
    current = ""
    for rid in dict.fromkeys(request_ids):
        term = f'?"{rid}"'
        candidate = f"{current} {term}" if current else term
        if len(candidate) > limit and current:
            patterns.append(current)
            candidate = term
        current = candidate
    if current:
        patterns.append(current)
    return patterns


def _by_request_ids(
    client: Any, limiter: TokenBucket, group: _Group, begin: int, end: int
) -> tuple[list[LogLine], str]:
    ids = [i.request_id for i in group.invocations if i.request_id]
    lines: dict[str, LogLine] = {}
    for pattern in request_id_patterns(ids):
        for line in _filter(client, limiter, group.name, begin, end, pattern, None):
            lines[line.event_id or f"{line.stream}/{line.timestamp}/{line.message}"] = line
    note = (
        f"{group.name} is busy with other invocations: read only the lines that name a "
        "request id (plain print() lines are not shown)"
    )
    return list(lines.values()), note


def _window(invocations: Sequence[LambdaInvocation]) -> tuple[int, int]:
    starts = [_ms(i.start) for i in invocations if i.start is not None]
    ends = [
        _ms(i.end) if i.end is not None else _ms(i.start) + _MAX_RUN_MS
        for i in invocations
        if i.start is not None
    ]
    begin = min(starts) if starts else 0
    end = max(ends) if ends else int(time.time() * 1000)
    return begin - _MARGIN_BEFORE_MS, end + _MARGIN_AFTER_MS


def _ms(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp() * 1000)
