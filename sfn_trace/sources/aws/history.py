"""Fetch one Standard execution: DescribeExecution, the definition it ran, its history.

API facts: https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
and docs/aws-reference.md section 5.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
    DescribedCallback,
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
from sfn_trace.sources.aws.history_pages import BothEnds, EndsDisagree, history_pages
from sfn_trace.sources.aws.pacing import take

T = TypeVar("T")

# A missing definition only costs the per-step replay, so these do not stop the trace.
_DEFINITION_OPTIONAL = ACCESS_DENIED | {"KmsAccessDeniedException"}


def fetch_execution(
    arn: str,
    options: AwsOptions = DEFAULT_OPTIONS,
    *,
    client: Any = None,
    on_page: ProgressCallback | None = None,
    on_events: EventsCallback | None = None,
    both_ends: bool = True,
    on_total: Callable[[int], None] | None = None,
    clients: Callable[[str, str], Any] | None = None,
    on_described: DescribedCallback | None = None,
    on_sent: Callable[[], None] | None = None,
) -> ExecutionData:
    """Fetch everything the trace needs about one Standard execution (an Express one is
    read from its execution records: :mod:`sfn_trace.sources.aws.express`).

    DescribeExecution, DescribeStateMachineForExecution and the first history page are
    asked for at once (none needs another's answer); a long history is then read from both
    ends (:mod:`.history_pages`; ``both_ends=False``: forward only). ``on_events`` is called
    with each history page's events once they are converted (and, with a definition, their
    payloads parsed), in id order, while the next page is being fetched. ``on_total`` is
    called once with how many events the history holds, when the newest end's first page
    tells it (a long history of a finished execution; from the reading thread).

    The ARN is parsed before any call so that a typo fails with exit 2 and no network. The
    definition is optional (a warning when it cannot be had); the history is all or nothing:
    a failure part way raises, saying how far it got, rather than returning a cut history.
    A failure of the description is reported before one of the history, as when the calls
    went one after the other. ``clients``: where the client comes from when ``client`` is
    not given (:class:`~.client.Clients`, shared with the trace's other clients).
    ``on_described`` is called with the description and the definition as soon as both are
    in (a head start for what needs them: a failure there is the caller's to report, and
    does not stop the fetch). ``on_sent`` is called once the first calls have gone, just
    before the first history page's request is sent (from the sending thread: it must only
    signal), or at the end if it never was: CPU work the caller has to do can wait for it,
    so that it does not delay the first calls.
    """
    parsed = parse_execution_arn(arn)
    if parsed.express:
        # No GetExecutionHistory for Express: the history is in the CloudWatch Logs records.
        return fetch_express_execution(arn, options, client=client, on_page=on_page)
    if client is None:
        client = stepfunctions_client(parsed, options, clients)
    ctx = Context(parsed, client, options.max_attempts, target=parsed.arn)
    with _told_when_sent(client, on_sent):
        return _fetch_standard(
            client, ctx, options, on_page, on_events, both_ends, on_total, on_described
        )


@contextlib.contextmanager
def _told_when_sent(client: Any, on_sent: Callable[[], None] | None) -> Iterator[None]:
    """``on_sent()`` once: just before the first GetExecutionHistory request is sent, or
    when the fetch ends if none was."""
    if on_sent is None:
        yield
        return
    told = threading.Event()

    def tell(**_: Any) -> None:
        if not told.is_set():
            told.set()
            on_sent()

    service = client.meta.service_model.service_id.hyphenize()
    event = f"before-send.{service}.GetExecutionHistory"
    client.meta.events.register(event, tell)
    try:
        yield
    finally:
        client.meta.events.unregister(event, tell)
        tell()


def _fetch_standard(
    client: Any,
    ctx: Context,
    options: AwsOptions,
    on_page: ProgressCallback | None,
    on_events: EventsCallback | None,
    both_ends: bool,
    on_total: Callable[[int], None] | None,
    on_described: DescribedCallback | None,
) -> ExecutionData:
    """:func:`fetch_execution` of a Standard execution, once its client is made."""
    warnings: list[str] = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="sfn-trace-describe") as pool:
        described = pool.submit(_describe_execution, client, ctx, options)
        definition = pool.submit(_fetch_definition, client, ctx, options, warnings)
        if on_described is not None:
            _when_both(described, definition, on_described)

        def before_history() -> tuple[ExecutionInfo, Definition | None]:
            """What the history's pages wait for (and whose failure is told first)."""
            return described.result(), definition.result()

        events, info, history_warnings = _fetch_history(
            client,
            ctx,
            options,
            before_history,
            on_page,
            on_events=on_events,
            both_ends=both_ends,
            on_total=on_total,
        )
        info, ran = before_history()
    warnings.extend(history_warnings)
    if info.status == "RUNNING":
        warnings.append(
            f"execution is still RUNNING: traced as far as it got ({len(events)} events)"
        )
    return ExecutionData(
        info=info, events=events, definition=ran, source="aws", warnings=tuple(warnings)
    )


def _when_both(
    described: Future[ExecutionInfo],
    definition: Future[Definition | None],
    then: DescribedCallback,
) -> None:
    """``then(info, definition)`` once both are in, from the thread that finished last;
    not at all if either failed (the fetch reports that)."""
    lock = threading.Lock()
    pending = [described, definition]

    def done(future: Future[Any]) -> None:
        with lock:
            pending.remove(future)
            last = not pending
        if last and described.exception() is None and definition.exception() is None:
            # A head start only: what it begins is done again later if it fails here.
            with contextlib.suppress(Exception):
                then(described.result(), definition.result())

    described.add_done_callback(done)
    definition.add_done_callback(done)


def _describe_execution(client: Any, ctx: Context, options: AwsOptions) -> ExecutionInfo:
    try:
        take("DescribeExecution", client, options)
        described = client.describe_execution(executionArn=ctx.target)
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, ctx, "DescribeExecution") from exc
    return ExecutionInfo(
        arn=described.get("executionArn", ctx.target),
        name=described.get("name"),
        status=described.get("status"),
        state_machine_arn=described.get("stateMachineArn"),
        start=parse_timestamp(described.get("startDate")),
        stop=parse_timestamp(described.get("stopDate")),
    )


def _fetch_definition(
    client: Any, ctx: Context, options: AwsOptions, warnings: list[str]
) -> Definition | None:
    """The definition the execution actually ran (not the machine's current one), if allowed."""
    try:
        take("DescribeStateMachineForExecution", client, options)
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
    options: AwsOptions,
    before: Callable[[], tuple[ExecutionInfo, Definition | None]],
    on_page: ProgressCallback | None,
    *,
    on_events: EventsCallback | None = None,
    both_ends: bool = True,
    on_total: Callable[[int], None] | None = None,
) -> tuple[tuple[HistoryEvent, ...], ExecutionInfo, list[str]]:
    """All history events, in id order, with execution data; the description; warnings.

    The forward pages are fetched one ahead, by a thread (:func:`read_ahead`): while the
    next page is on its way, this one is converted into events and, with a definition (a
    replay will read them all), its payloads are parsed. ``before`` gives the description
    and the definition, which the first page waits for. A ``nextToken`` expires
    (``InvalidToken``) and cannot be refreshed, so the only recovery is to start again from
    the first page, in one direction; that is tried once.
    """
    warnings: list[str] = []
    for attempt in (1, 2):
        intake = _Intake(before, on_page, on_events)
        ends = None
        if both_ends and attempt == 1:
            ends = BothEnds(client, ctx.target, options, lambda: _finished(before), on_total)
        try:
            _read(client, ctx, options, intake, ends, warnings)
            return intake.reader.events(), intake.described(), warnings
        except ClientError as exc:
            if error_code(exc) == "InvalidToken" and attempt == 1:
                continue
            error = translate(exc, ctx, "GetExecutionHistory", intake.progress)
            if error_code(exc) == "InvalidToken":
                error = AwsError(*error.parts, " (also after restarting from the first page)")
            raise error from exc
        except BotoCoreError as exc:
            raise translate(exc, ctx, "GetExecutionHistory", intake.progress) from exc
        finally:
            if ends is not None:
                ends.cancel()
    raise AssertionError("unreachable: the loop returns or raises")


class _Intake:
    """The pages of one read, converted in id order: counted, parsed, handed on."""

    def __init__(
        self,
        before: Callable[[], tuple[ExecutionInfo, Definition | None]],
        on_page: ProgressCallback | None,
        on_events: EventsCallback | None,
    ) -> None:
        self.before, self.on_page, self.on_events = before, on_page, on_events
        self.reader = EventReader()
        self.pages = 0
        self._handed: Callable[[list[HistoryEvent]], None] | None = None
        self._parse = False
        self._info: ExecutionInfo | None = None
        self._aside: dict[int, HistoryEvent] = {}

    @property
    def progress(self) -> tuple[int, int]:
        return self.pages, len(self.reader)

    def described(self) -> ExecutionInfo:
        """The description (waited for; its failure raised here)."""
        if self._info is None:
            self._info, definition = self.before()
            self._parse = definition is not None
            if self.on_events is not None:
                self._handed = functools.partial(self.on_events, self._info, definition)
        return self._info

    def take(self, raw: Sequence[Mapping[str, Any]], pages: int = 1) -> None:
        """The next page, converted (its payloads parsed) and handed on."""
        self.described()
        added = self.reader.add(raw)
        if self._parse:
            _parse_payloads(added)
        self._hand(added, pages)

    def aside(self, raw: Sequence[Mapping[str, Any]]) -> None:
        """Events of the newest-first reader, converted and parsed while the forward pages
        come, kept aside by id until the two ends are found to agree."""
        self.described()
        for event in raw:
            number = int(event.get("id", 0))
            if number not in self._aside:
                (converted,) = self.reader.convert([event], start=number)
                self._aside[number] = converted
                if self._parse:
                    _parse_payloads([converted])

    def take_tail(self, raw: Sequence[Mapping[str, Any]], pages: int) -> None:
        """The events past the forward read, in id order (those set aside are not converted
        again)."""
        self.aside(raw)
        added = self.reader.extend(self._aside[int(event.get("id", 0))] for event in raw)
        self._hand(added, pages)

    def _hand(self, added: list[HistoryEvent], pages: int) -> None:
        self.pages += pages
        if self.on_page is not None:
            self.on_page(self.pages, len(self.reader))
        if self._handed is not None:
            self._handed(added)


def _read(
    client: Any,
    ctx: Context,
    options: AwsOptions,
    intake: _Intake,
    ends: BothEnds | None,
    warnings: list[str],
) -> None:
    """One read of the whole history into ``intake``: forward, and from the newest end too
    when ``ends`` is given and the history has more than one page."""
    last: Mapping[str, Any] = {}
    stop = ends.forward_page if ends is not None else None
    try:
        for page in read_ahead(history_pages(client, ctx.target, options, stop=stop)):
            last = page
            intake.take(page.get("events", []))
            if ends is not None:
                intake.aside(ends.drain())
    except (ClientError, BotoCoreError):
        intake.described()  # a failed description is told first, as when it came first
        raise
    intake.described()
    if ends is None:
        return
    if ends.met and last.get("nextToken"):
        try:
            tail = ends.tail(len(intake.reader))
        except EndsDisagree as why:
            warnings.append(
                f"the history's two ends did not agree ({why}): read on from event "
                f"{len(intake.reader) + 1} in one direction"
            )
            token = str(last["nextToken"])
            for page in read_ahead(history_pages(client, ctx.target, options, token=token)):
                intake.take(page.get("events", []))
            return
        intake.take_tail(tail, ends.reverse_pages)
        return
    failure = ends.failure()
    if failure is not None:
        warnings.append(f"{failure}: the history was read in one direction")


def _finished(before: Callable[[], tuple[ExecutionInfo, Definition | None]]) -> bool:
    """Whether the execution has finished (its history no longer grows): only then is it
    read from both ends. Waits for DescribeExecution; a failed one says no."""
    try:
        info, _ = before()
    except Exception:  # reported by the caller, where the first page would come
        return False
    return info.status not in (None, "RUNNING")


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
