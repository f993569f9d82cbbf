"""Fetch one Standard execution: DescribeExecution, the definition it ran, its history.

API facts: https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
and docs/aws-reference.md section 5.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from sfn_trace.errors import AwsError, InputError
from sfn_trace.model.arn import parse_execution_arn
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import EventReader, HistoryEvent, parse_timestamp
from sfn_trace.model.execution import ExecutionData, ExecutionInfo
from sfn_trace.model.options import (
    DEFAULT_OPTIONS,
    AwsOptions,
    EventsCallback,
    ProgressCallback,
)
from sfn_trace.sources.aws.client import (
    ACCESS_DENIED,
    Context,
    error_code,
    one_line,
    stepfunctions_client,
    translate,
)
from sfn_trace.sources.aws.express import fetch_express_execution

T = TypeVar("T")

_HISTORY_PAGE_SIZE = 1000  # the API maximum; the default (100) would mean 10x the calls
# A missing definition only costs the per-step replay, so these do not stop the trace.
_DEFINITION_OPTIONAL = ACCESS_DENIED | {"KmsAccessDeniedException"}


def fetch_execution(
    arn: str,
    options: AwsOptions = DEFAULT_OPTIONS,
    *,
    client: Any = None,
    on_page: ProgressCallback | None = None,
    on_events: EventsCallback | None = None,
) -> ExecutionData:
    """Fetch everything the trace needs about one Standard execution (an Express one is
    read from its execution records: :mod:`sfn_trace.sources.aws.express`).

    ``on_events`` is called with each history page's events once they are converted (and,
    with a definition, their payloads parsed), while the next page is being fetched.

    The ARN is parsed before any call so that a typo fails with exit 2 and no network. The
    definition is optional (a warning when it cannot be had); the history is all or nothing:
    a failure part way raises, saying how far it got, rather than returning a cut history.
    """
    parsed = parse_execution_arn(arn)
    if parsed.express:
        # No GetExecutionHistory for Express: the history is in the CloudWatch Logs records.
        return fetch_express_execution(arn, options, client=client, on_page=on_page)
    if client is None:
        client = stepfunctions_client(parsed, options)
    ctx = Context(parsed, client, options.max_attempts, target=parsed.arn)
    warnings: list[str] = []

    try:
        described = client.describe_execution(executionArn=parsed.arn)
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, ctx, "DescribeExecution") from exc
    info = ExecutionInfo(
        arn=described.get("executionArn", parsed.arn),
        name=described.get("name"),
        status=described.get("status"),
        state_machine_arn=described.get("stateMachineArn"),
        start=parse_timestamp(described.get("startDate")),
        stop=parse_timestamp(described.get("stopDate")),
    )

    definition = _fetch_definition(client, ctx, warnings)
    handed = None
    if on_events is not None:
        handed = functools.partial(on_events, info, definition)
    events = _fetch_history(client, ctx, on_page, parse=definition is not None, on_events=handed)
    if info.status == "RUNNING":
        warnings.append(
            f"execution is still RUNNING: traced as far as it got ({len(events)} events)"
        )
    return ExecutionData(
        info=info, events=events, definition=definition, source="aws", warnings=tuple(warnings)
    )


def _fetch_definition(client: Any, ctx: Context, warnings: list[str]) -> Definition | None:
    """The definition the execution actually ran (not the machine's current one), if allowed."""
    try:
        response = client.describe_state_machine_for_execution(executionArn=ctx.target)
    except ClientError as exc:
        error = translate(exc, ctx, "DescribeStateMachineForExecution")
        if error_code(exc) not in _DEFINITION_OPTIONAL:
            raise error from exc
        warnings.append(f"definition not available, tracing without it: {error.message}")
        return None
    except BotoCoreError as exc:
        raise translate(exc, ctx, "DescribeStateMachineForExecution") from exc
    try:
        return Definition.from_text(
            str(response.get("definition", "")),
            origin="definition from DescribeStateMachineForExecution",
        )
    except InputError as exc:
        warnings.append(f"definition not used, tracing without it: {one_line(exc.message)}")
        return None


def _fetch_history(
    client: Any,
    ctx: Context,
    on_page: ProgressCallback | None,
    *,
    parse: bool = False,
    on_events: Callable[[list[HistoryEvent]], None] | None = None,
) -> tuple[HistoryEvent, ...]:
    """All history events, in id order, with execution data.

    The pages are fetched one ahead, by a thread (:func:`read_ahead`): while the next page
    is on its way, this one is converted into events and, with ``parse`` (a definition to
    replay will read them all), its payloads are parsed. A ``nextToken`` expires
    (``InvalidToken``) and cannot be refreshed, so the only recovery is to start again from
    the first page; that is tried once.
    """
    paginator = client.get_paginator("get_execution_history")
    for attempt in (1, 2):
        reader = EventReader()
        pages = 0
        try:
            for page in read_ahead(
                paginator.paginate(
                    executionArn=ctx.target,
                    includeExecutionData=True,
                    reverseOrder=False,
                    PaginationConfig={"PageSize": _HISTORY_PAGE_SIZE},
                )
            ):
                pages += 1
                added = reader.add(page.get("events", []))
                if on_page is not None:
                    on_page(pages, len(reader))
                if parse:
                    _parse_payloads(added)
                if on_events is not None:
                    on_events(added)
            return reader.events()
        except ClientError as exc:
            if error_code(exc) == "InvalidToken" and attempt == 1:
                continue
            error = translate(exc, ctx, "GetExecutionHistory", (pages, len(reader)))
            if error_code(exc) == "InvalidToken":
                error = AwsError(f"{error.message} (also after restarting from the first page)")
            raise error from exc
        except BotoCoreError as exc:
            raise translate(exc, ctx, "GetExecutionHistory", (pages, len(reader))) from exc
    raise AssertionError("unreachable: the loop returns or raises")


def _parse_payloads(events: list[HistoryEvent]) -> None:
    """Parse what the replay will read, while the next page is fetched (each payload once:
    equal ones are one object, which keeps its parsed value)."""
    for event in events:
        for payload in (event.input, event.output, event.parameters):
            if payload is not None and not payload.truncated:
                payload.value  # noqa: B018 (parsed and kept on the payload)


_DONE: Final = object()


def read_ahead(items: Iterable[T]) -> Iterator[T]:
    """``items``, produced one ahead by a thread: the next page is being fetched while the
    caller works on this one. Items arrive in order; an exception raised while producing
    them is raised here, where the next item would have come. When the caller stops early
    (an error, Ctrl-C), the thread stops after the item it is producing.

    boto3 clients are thread-safe; only this thread calls the client while the pages come,
    so the calls are made in the order a sequential paginator makes them."""
    handoff: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(ok: bool, item: Any) -> None:
        """Hand ``item`` over, unless the caller has gone (then nobody would take it)."""
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                handoff.put((ok, item), timeout=0.1)
                return

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if stop.is_set():
                    return
                hand(True, item)
            hand(True, _DONE)
        except BaseException as error:  # handed to the caller, who raises it
            hand(False, error)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="sfn-trace-pages", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = handoff.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()  # the producer stops after the page it is fetching, and hands nothing over
