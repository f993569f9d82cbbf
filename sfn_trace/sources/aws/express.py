"""Fetch an Express execution from its state machine's CloudWatch Logs execution records.

Express executions have no GetExecutionHistory and no DescribeExecution (reference
section 6). Their history exists only when the state machine logs at level ``ALL`` with
``includeExecutionData``; the call sequence is:

1. ``DescribeStateMachine(stateMachineArn)``: the definition, and ``loggingConfiguration``.
   Logging off, a level other than ``ALL``, or execution data excluded is one line and exit 4
   (:class:`~sfn_trace.sources.express_records.ExpressLoggingError`): the history was never written.
   The destination ``arn:aws:logs:R:A:log-group:NAME:*`` gives the log group NAME.
2. ``FilterLogEvents(logGroupName=NAME, filterPattern='{ $.execution_arn = "<arn>" }')``,
   every page (pages may be empty while ``nextToken`` is present), each call taking a token
   from the FilterLogEvents bucket (:mod:`sfn_trace.sources.aws.pacing`).

The time window: AWS documents ``[startDate - 1 s, stopDate + 60 s]``, but an Express ARN has
no DescribeExecution to give those dates, and its id is a random UUID. So the records are
first *searched* over the last :data:`SEARCH_LOOKBACK` (14 days), stopping at the first page
that holds one; an Express execution lasts at most five minutes, so every record lies within
five minutes of that one, and the records are then read over ``[start - 1 s, stop + 60 s]``
with start/stop taken from the records themselves (five minutes either side of the first
hit when the start or end record is not among them). With a Standard ARN
(``--express-log-group``), DescribeExecution gives the window directly.
https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sfn_trace.errors import AwsError, InputError, Option, word
from sfn_trace.model.arn import ExecutionArn, parse_execution_arn
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import EventKind, HistoryEvent, parse_timestamp
from sfn_trace.model.execution import TERMINAL_STATUS, ExecutionData, ExecutionInfo, infer_info
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions, ProgressCallback
from sfn_trace.sources.aws.client import (
    ACCESS_DENIED,
    CHECK_ACCOUNT,
    Context,
    error_code,
    make_client,
    one_line,
    stepfunctions_client,
    translate,
)
from sfn_trace.sources.aws.pacing import TokenBucket, meter
from sfn_trace.sources.express_records import (
    EXPRESS_MAX_DURATION,
    ExpressLoggingError,
    LoggingConfig,
    filter_pattern,
    log_group_name,
    log_group_region,
    records_notes,
    records_to_events,
)

SEARCH_LOOKBACK = timedelta(days=14)
"""How far back an Express execution's records are searched for."""
SEARCH_PAGE_LIMIT = 300
"""FilterLogEvents pages the search may read before giving up (about a minute, paced)."""
_BEFORE = timedelta(seconds=1)
_AFTER = timedelta(seconds=60)  # records are delivered late, best effort


def fetch_express_execution(
    arn: str,
    options: AwsOptions = DEFAULT_OPTIONS,
    *,
    log_group: str | None = None,
    client: Any = None,
    logs_client: Any = None,
    limiter: TokenBucket | None = None,
    now: Callable[[], datetime] | None = None,
    on_page: ProgressCallback | None = None,
) -> ExecutionData:
    """Everything the trace needs about one execution, read from its execution records.

    ``log_group`` (``--express-log-group``, a name or an ARN) replaces the state machine's
    log destination, and then the logging configuration is only advice: a warning when it
    looks wrong or cannot be read, since records written under an earlier configuration may
    still be there.
    """
    parsed = parse_execution_arn(arn)
    if client is None:
        client = stepfunctions_client(parsed, options)
    ctx = Context(parsed, client, options.max_attempts, target=parsed.state_machine_arn)
    warnings: list[str] = []
    described = _describe_state_machine(client, ctx, parsed, log_group, warnings)
    config = LoggingConfig.from_api(described.get("loggingConfiguration"))
    problem = config.problem(parsed.state_machine_arn) if described else None
    if problem is not None:
        if log_group is None:
            raise ExpressLoggingError(problem)
        warnings.append(
            word(
                f"{problem}; reading {log_group} anyway, as ", Option("express_log_group"), " asks"
            )
        )
    group = log_group or (config.log_group_arns[0] if config.log_group_arns else "")
    try:
        name = log_group_name(group)
    except InputError as exc:
        raise AwsError(
            f"the logging destination of {parsed.state_machine_arn}: ", *exc.parts
        ) from exc
    region = options.region or log_group_region(group) or parsed.region
    if logs_client is None:
        logs_client = make_client("logs", region, options)
    logs_ctx = Context(parsed, logs_client, options.max_attempts, name)
    pace = limiter or meter("FilterLogEvents", region, options)
    reader = _Reader(logs_client, logs_ctx, pace, parsed.arn, on_page)
    clock = now or (lambda: datetime.now(timezone.utc))

    info = None if parsed.express else _describe_execution(client, ctx, parsed)
    if info is not None and info.start is not None:
        begin, end = info.start - _BEFORE, (info.stop or clock()) + _AFTER
    else:
        begin, end = _search(reader, clock())
    messages = list(reader.read(begin, end))
    records = records_to_events(messages, parsed.arn)
    warnings.extend(records_notes(records))
    if not records.events:
        raise AwsError(
            f"no execution records of {parsed.arn} in log group {name} between "
            f"{_iso(begin)} and {_iso(end)} (was logging at level ALL when it ran?)"
        )
    events = records.events
    inferred = infer_info(events, arn=parsed.arn, unended="RUNNING")
    status = info.status if info is not None and info.status else inferred.status
    if status == "RUNNING" and parsed.express and _over(events, clock()):
        # An Express execution cannot run longer than five minutes: the end is missing.
        status = "UNKNOWN"
        warnings.append(
            "the execution records end without a terminal event although an Express "
            "execution lasts at most 5 minutes: CloudWatch Logs delivery is best effort, "
            "some records are missing"
        )
    execution = ExecutionInfo(
        arn=parsed.arn,
        name=parsed.name,
        status=status,
        state_machine_arn=(info.state_machine_arn if info else None) or parsed.state_machine_arn,
        start=(info.start if info else None) or inferred.start,
        stop=(info.stop if info else None) or (inferred.stop if status != "UNKNOWN" else None),
    )
    return ExecutionData(
        info=execution,
        events=events,
        definition=_definition(described, warnings),
        source="aws",
        warnings=tuple(warnings),
    )


class _Reader:
    """Paced, fully paginated FilterLogEvents over one log group for one execution."""

    def __init__(
        self,
        client: Any,
        ctx: Context,
        limiter: TokenBucket,
        arn: str,
        on_page: ProgressCallback | None,
    ) -> None:
        self.client, self.ctx, self.limiter, self.arn = client, ctx, limiter, arn
        self.on_page = on_page
        self.pages = 0
        self.found = 0

    def pages_of(self, begin: datetime, end: datetime) -> Iterator[list[str]]:
        arguments = {
            "logGroupName": self.ctx.target,
            "filterPattern": filter_pattern(self.arn),
            "startTime": _ms(begin),
            "endTime": _ms(end),
        }
        token: str | None = None
        while True:
            self.limiter.wait()
            try:
                response = self.client.filter_log_events(
                    **arguments, **({"nextToken": token} if token else {})
                )
            except ClientError as exc:
                raise self._error(exc) from exc
            except BotoCoreError as exc:
                raise translate(exc, self.ctx, "FilterLogEvents", (self.pages, self.found)) from exc
            self.pages += 1
            page = [str(e.get("message", "")) for e in response.get("events", [])]
            self.found += len(page)
            if self.on_page is not None:
                self.on_page(self.pages, self.found)
            yield page
            token = response.get("nextToken")
            if not token:
                return

    def read(self, begin: datetime, end: datetime) -> Iterator[str]:
        for page in self.pages_of(begin, end):
            yield from page

    def _error(self, exc: ClientError) -> AwsError | Exception:
        code, group = error_code(exc), self.ctx.target
        if code == "ResourceNotFoundException":
            return AwsError(
                f"log group {group} does not exist (the state machine's logging destination; "
                "check ",
                Option("region"),
                ", or pass ",
                Option("express_log_group"),
                ")",
            )
        if code in ACCESS_DENIED:
            return AwsError(
                "access denied: the credentials lack IAM permission logs:FilterLogEvents "
                f"on {group}"
            )
        return translate(exc, self.ctx, "FilterLogEvents", (self.pages, self.found))


def _search(reader: _Reader, now: datetime) -> tuple[datetime, datetime]:
    """The window of an execution known only by its ARN: find one of its records first."""
    begin = now - SEARCH_LOOKBACK
    for number, page in enumerate(reader.pages_of(begin, now), start=1):
        records = records_to_events(page, reader.arn)
        if records.events:
            return _window_around(records.events)
        if number >= SEARCH_PAGE_LIMIT:
            break
    raise AwsError(
        f"no execution records of {reader.arn} in log group {reader.ctx.target} in the last "
        f"{SEARCH_LOOKBACK.days} days (searched {reader.pages} page(s)): check the ARN and "
        "the region, and that logging was at level ALL when it ran"
    )


def _window_around(events: tuple[HistoryEvent, ...]) -> tuple[datetime, datetime]:
    stamps = [e.timestamp for e in events if e.timestamp is not None]
    started = next((e for e in events if e.kind is EventKind.EXECUTION_STARTED), None)
    ended = next((e for e in events if e.kind in TERMINAL_STATUS), None)
    if not stamps:
        raise AwsError("the execution records carry no event_timestamp")
    start = started.timestamp if started and started.timestamp else None
    stop = ended.timestamp if ended and ended.timestamp else None
    if start is None:
        start = min(stamps) - EXPRESS_MAX_DURATION
    if stop is None:
        stop = max(stamps) + EXPRESS_MAX_DURATION
    return start - _BEFORE, stop + _AFTER


def _describe_state_machine(
    client: Any, ctx: Context, parsed: ExecutionArn, log_group: str | None, warnings: list[str]
) -> Mapping[str, Any]:
    try:
        response: Mapping[str, Any] = client.describe_state_machine(
            stateMachineArn=parsed.state_machine_arn
        )
        return response
    except ClientError as exc:
        code = error_code(exc)
        if code == "StateMachineDoesNotExist":
            raise AwsError(
                f"state machine not found: {parsed.state_machine_arn} (looked in region "
                f"{ctx.region} — check ",
                *CHECK_ACCOUNT,
                ")",
            ) from exc
        error = translate(exc, ctx, "DescribeStateMachine")
        if log_group is None or code not in ACCESS_DENIED:
            raise error from exc
        warnings.append(
            f"{error.message}; reading {log_group} without checking the logging configuration "
            "and without the definition"
        )
        return {}
    except BotoCoreError as exc:
        raise translate(exc, ctx, "DescribeStateMachine") from exc


def _describe_execution(client: Any, ctx: Context, parsed: ExecutionArn) -> ExecutionInfo | None:
    """A Standard execution's dates, for the window; None when it cannot be described (its
    history may have expired while the logs were kept), and the records are searched."""
    try:
        described = client.describe_execution(executionArn=parsed.arn)
    except ClientError as exc:
        if error_code(exc) in ("ExecutionDoesNotExist", *ACCESS_DENIED):
            return None
        execution_ctx = Context(parsed, client, ctx.max_attempts, parsed.arn)
        raise translate(exc, execution_ctx, "DescribeExecution") from exc
    except BotoCoreError as exc:
        raise translate(exc, ctx, "DescribeExecution") from exc
    return ExecutionInfo(
        arn=described.get("executionArn", parsed.arn),
        name=described.get("name"),
        status=described.get("status"),
        state_machine_arn=described.get("stateMachineArn"),
        start=parse_timestamp(described.get("startDate")),
        stop=parse_timestamp(described.get("stopDate")),
    )


def _definition(described: Mapping[str, Any], warnings: list[str]) -> Definition | None:
    """The state machine's current definition: Express executions have no
    DescribeStateMachineForExecution, so an update since the run is not visible here."""
    text = described.get("definition")
    if not isinstance(text, str) or not text:
        return None
    try:
        return Definition.from_text(text, origin="definition from DescribeStateMachine")
    except InputError as exc:
        warnings.append(f"definition not used, tracing without it: {one_line(exc.message)}")
        return None


def _over(events: tuple[HistoryEvent, ...], now: datetime) -> bool:
    stamps = [e.timestamp for e in events if e.timestamp is not None]
    return bool(stamps) and now - min(stamps) > EXPRESS_MAX_DURATION + _AFTER


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
