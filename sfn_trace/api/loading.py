"""Loading an execution for the api: an ARN fetched (and, for a live trace, what overlaps
the fetch: :class:`LiveTrace`), a file or a document in memory read, and what AWS adds
(Lambda logs, Map Runs); the checks of the options, made before anything is read or
fetched. :mod:`sfn_trace.api` re-exports :func:`load`, ``Target`` and ``IN_MEMORY``.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfn_trace.errors import Option, UsageError
from sfn_trace.model.arn import looks_like_arn, parse_execution_arn
from sfn_trace.model.definition import Definition
from sfn_trace.model.execution import ExecutionData, LambdaLogs
from sfn_trace.model.options import (
    MAX_INPUT,
    AwsOptions,
    DescribedCallback,
    EventsCallback,
    FollowChildren,
    ProgressCallback,
)
from sfn_trace.model.visits import VisitTree
from sfn_trace.sources.files import STDIN, read_definition
from sfn_trace.sources.target import document_data, load_target_file

if TYPE_CHECKING:
    from sfn_trace.model.events import HistoryEvent
    from sfn_trace.model.execution import ExecutionInfo
    from sfn_trace.sources.aws.logs import ClientFactory, EarlyLookups
    from sfn_trace.trace.ahead import TraceAhead


Target = str | Path | Mapping[str, Any] | Sequence[Mapping[str, Any]]
"""What to trace: an execution ARN; a history or bundle file, a FIFO, or ``"-"`` for stdin;
or a history or bundle already in memory (a parsed document, or the list of events)."""

IN_MEMORY = "events in memory"
"""How a TARGET given in memory is named in messages and reports."""


def _check_field(field: str) -> None:
    if not field:
        raise UsageError(Option("field"), " must not be empty")


def _check_max_input(max_input: int) -> None:
    if isinstance(max_input, bool) or not isinstance(max_input, int) or max_input < 1:
        raise UsageError(
            Option("max_input"), f" must be a number of bytes, at least 1, not {max_input!r}"
        )


def _check_options(
    *,
    live: bool,
    aws: AwsOptions | None,
    uses_aws: bool,
    max_input: int,
    express_log_group: str | None = None,
    follow_children: FollowChildren | None = None,
) -> None:
    """What the options alone say cannot work, before anything is read or fetched."""
    _check_max_input(max_input)
    if express_log_group is not None and not live:
        raise UsageError(
            Option("express_log_group"), " needs an execution ARN as TARGET, not a file"
        )
    if follow_children is not None and follow_children != "all":
        if isinstance(follow_children, bool) or not isinstance(follow_children, int):
            count = None
        else:
            count = follow_children
        if count is None or count < 1:
            raise UsageError(
                Option("follow_children"),
                f" takes a positive number or 'all', not {follow_children!r}",
            )
    if uses_aws and aws is not None:
        aws.check()


def _needs_definition(data: ExecutionData, *, confirm: bool, expected: bool) -> None:
    """``confirm`` and ``expect_definition`` need the definition that ran."""
    if data.definition is not None:
        return
    for asked, name in (
        (confirm, Option("confirm", "True")),
        (expected, Option("expect_definition")),
    ):
        if asked:
            raise UsageError(
                name,
                " needs the definition that ran: it is fetched for an execution ARN; "
                "for a history file pass it with ",
                Option("definition"),
            )


def load(
    target: Target,
    *,
    definition: str | Path | Definition | None = None,
    aws: AwsOptions | None = None,
    on_page: ProgressCallback | None = None,
    logs: bool = True,
    file_logs: bool = False,
    express_log_group: str | None = None,
    follow_children: FollowChildren | None = None,
    on_events: EventsCallback | None = None,
    max_input: int = MAX_INPUT,
    on_total: Callable[[int], None] | None = None,
    clients: ClientFactory | None = None,
    on_described: DescribedCallback | None = None,
    on_sent: Callable[[], None] | None = None,
    on_read: Callable[[ExecutionData], None] | None = None,
) -> ExecutionData:
    """The execution behind TARGET: an execution ARN (fetched, with Lambda logs unless
    ``logs`` is false), or a saved history or bundle (no AWS call unless ``file_logs`` or
    ``follow_children``): a file, a pipe or FIFO (read once), or ``"-"`` for stdin.

    ``definition`` replaces the definition that came with the execution. An Express ARN, or
    any ARN with ``express_log_group``, is read from the execution records in CloudWatch Logs.
    ``follow_children`` (a count or ``"all"``) fetches the child executions of the history's
    Distributed Map runs; without it a live trace only describes the Map Runs.
    ``on_events``: called with each history page's events as they arrive (a Standard
    execution's ARN only). ``clients``: where an ARN's boto3 clients come from,
    ``(service, region) -> client`` (by default one session of ``aws`` for them all).
    ``on_described``: called once the execution's description and the definition that ran
    are in, before the history (from another thread; a Standard execution's ARN only).
    ``on_sent``: called once the first calls have gone (from the sending thread; it must
    only signal), or when the fetch ends if they never did (a Standard execution's ARN).
    TARGET may also be a history or bundle already in memory: a parsed document
    (``{"events": [...]}``, a bundle) or the list of events itself, such as the ``events``
    of boto3's ``get_execution_history`` pages. ``on_read``: called with the execution once
    it is read or fetched, before the Lambda logs and Map Runs are fetched (it may raise: a
    trace refuses options the execution cannot serve there).

    The options are checked before anything is read or fetched (a ``definition`` file
    too, before an ARN's history).
    """
    live = isinstance(target, str) and looks_like_arn(target)
    _check_options(
        live=live,
        aws=aws,
        uses_aws=live or file_logs or follow_children is not None,
        max_input=max_input,
        express_log_group=express_log_group,
        follow_children=follow_children,
    )
    options = aws or AwsOptions()
    if live and definition is not None:
        definition = _read_definition(definition, max_input)
    hooks = _Hooks(on_page, on_events, on_total, on_described, on_sent)
    data = _read(target, definition, options, hooks, express_log_group, max_input, clients)
    if on_read is not None:
        on_read(data)
    logs = logs if live else file_logs
    return _fetch_more(
        data, options, live=live, logs=logs, follow_children=follow_children, clients=clients
    )


def _read(
    target: Target,
    definition: str | Path | Definition | None,
    options: AwsOptions,
    hooks: _Hooks,
    express_log_group: str | None,
    max_input: int,
    clients: ClientFactory | None = None,
) -> ExecutionData:
    """The execution itself: an ARN's fetched (history, description, the definition that
    ran), a file or a document in memory read; nothing else is fetched."""
    if isinstance(target, str) and looks_like_arn(target):
        data = _fetch(target, options, express_log_group, hooks, clients)
        if definition is not None:
            data = dataclasses.replace(data, definition=_read_definition(definition, max_input))
        return data
    definition_path = None if isinstance(definition, Definition) else definition
    if not isinstance(target, (str, Path)):  # a history or bundle already in memory
        data = document_data(target, IN_MEMORY, definition_path, max_input)
    else:
        _check_file(target)
        data = load_target_file(target, definition_path, max_input)
    if isinstance(definition, Definition):
        data = dataclasses.replace(data, definition=definition)
    return data


def _check_file(target: str | Path) -> None:
    """A TARGET that is not an ARN names a file that exists (or stdin)."""
    if str(target) != STDIN and not Path(target).exists():
        raise UsageError(
            f"{str(target)!r} is neither an execution ARN "
            "(arn:aws:states:REGION:ACCOUNT:execution:...) nor an existing file"
        )


def _fetch_more(
    data: ExecutionData,
    options: AwsOptions,
    *,
    live: bool,
    logs: bool,
    follow_children: FollowChildren | None,
    clients: ClientFactory | None = None,
) -> ExecutionData:
    """What AWS adds to the execution: the Lambda invocations' logs (``logs``; a bundle's
    stored ones are kept), the Map Runs described (live) and their children followed."""
    if logs and (live or data.lambda_logs is None):
        data = _with_lambda_logs(data, options, clients)
    if live or follow_children is not None:
        data = _with_map_runs(data, options, follow_children)
    return data


@dataclass(frozen=True)
class _Hooks:
    """What a live fetch tells as it goes (:func:`load`'s callbacks)."""

    on_page: ProgressCallback | None = None
    on_events: EventsCallback | None = None
    on_total: Callable[[int], None] | None = None
    on_described: DescribedCallback | None = None
    on_sent: Callable[[], None] | None = None


def _fetch(
    arn: str,
    options: AwsOptions,
    express_log_group: str | None,
    hooks: _Hooks,
    clients: ClientFactory | None = None,
) -> ExecutionData:
    """An execution from AWS (history, description, the definition that ran); from its
    CloudWatch Logs execution records for an Express ARN or with ``express_log_group``."""
    parse_execution_arn(arn)  # a malformed ARN is exit 2 before boto3 is even imported
    # Imported here so that offline use never pays for importing boto3.
    if express_log_group is not None:
        from sfn_trace.sources.aws.express import fetch_express_execution

        return fetch_express_execution(
            arn, options, log_group=express_log_group, on_page=hooks.on_page
        )
    from sfn_trace.sources.aws.history import fetch_execution

    return fetch_execution(
        arn,
        options,
        on_page=hooks.on_page,
        on_events=hooks.on_events,
        on_total=hooks.on_total,
        on_described=hooks.on_described,
        on_sent=hooks.on_sent,
        clients=clients,
    )


def _with_map_runs(
    data: ExecutionData, options: AwsOptions, follow: FollowChildren | None
) -> ExecutionData:
    """``data`` with its Distributed Map runs described (DescribeMapRun) and, when ``follow``
    is given, their first ``follow`` child executions (or ``"all"``) fetched."""
    if not any(e.type == "MapRunStarted" for e in data.events):
        return data
    from sfn_trace.sources.aws.maprun import follow_map_runs

    return follow_map_runs(data, options, follow)


def _with_lambda_logs(
    data: ExecutionData, options: AwsOptions, clients: ClientFactory | None = None
) -> ExecutionData:
    """``data`` with the log lines of every Lambda invocation its history made."""
    return dataclasses.replace(data, lambda_logs=_logs_fetch(data, options, clients)())


def _logs_fetch(
    data: ExecutionData,
    options: AwsOptions,
    clients: ClientFactory | None = None,
    tree: VisitTree | None = None,
    lookups: EarlyLookups | None = None,
) -> Callable[[], LambdaLogs]:
    """The call that fetches the log lines of every Lambda invocation of ``data``'s history
    (the invocations listed now, from ``tree``, the trace's visit tree, or one built here),
    with the trace's ``clients`` and the log-group ``lookups`` begun early."""
    from sfn_trace.sources.aws.client import default_region
    from sfn_trace.sources.aws.logs import fetch_lambda_logs
    from sfn_trace.trace.invocations import all_invocations
    from sfn_trace.trace.visits import build_visits

    region = options.region
    if region is None and data.info.arn and looks_like_arn(data.info.arn):
        region = parse_execution_arn(data.info.arn).region
    tree = tree or build_visits(data.events, data.definition)
    invocations = all_invocations(tree.visits)
    return functools.partial(
        fetch_lambda_logs,
        invocations,
        options,
        region or default_region(options),
        clients=clients,
        early=lookups,
    )


class LiveTrace:
    """What a live trace does while its history arrives, besides fetching it.

    - Its clients come from one session (:class:`~sfn_trace.sources.aws.client.Clients`).
    - A thread gets the trace ready while the first calls are on their way: it makes the
      Step Functions client (the fetch waits for it, then sends DescribeExecution,
      DescribeStateMachineForExecution and the first history page at once) and, once they
      have gone (:meth:`sent`: CPU work before would delay them), with ``logs`` the Lambda
      and CloudWatch Logs clients (tens of milliseconds of CPU each), then imports the
      replay's modules (~120 ms at a process's start).
    - With ``logs``, the log groups of the functions the definition names are looked up as
      soon as it comes (:meth:`described`) and, for a finished execution, read over its
      window from DescribeExecution (:class:`~sfn_trace.sources.aws.logs.EarlyLookups`), so
      that the logs are in when the history is.
    - The visits are traced as their events arrive (:meth:`__call__`: a
      :class:`~sfn_trace.trace.ahead.TraceAhead`, made when the first page comes).

    ``clients`` is None for an ARN that does not parse (the fetch reports it, before boto3
    is imported).
    """

    def __init__(self, arn: str, field: str, options: AwsOptions, logs: bool) -> None:
        self.field, self.options, self.logs = field, options, logs
        self.tracer: TraceAhead | None = None
        self.lookups: EarlyLookups | None = None
        self._sent = threading.Event()
        self.clients: ClientFactory | None = None
        try:
            self.region = options.region or parse_execution_arn(arn).region
        except UsageError:
            return
        from sfn_trace.sources.aws.client import Clients

        self.clients = Clients(options)
        ready = threading.Thread(target=self._ready, args=(self.clients,), name="sfn-trace-ready")
        ready.daemon = True
        ready.start()

    def sent(self) -> None:
        """The first calls have gone (or the fetch is over)."""
        self._sent.set()

    def _ready(self, clients: ClientFactory) -> None:
        try:
            clients("stepfunctions", self.region)
            self._sent.wait()
            for service in ("lambda", "logs") if self.logs else ():
                clients(service, self.region)
        except Exception:  # made (and reported) again when it is needed
            return
        import sfn_trace.trace.ahead
        import sfn_trace.trace.analyze  # noqa: F401

    def described(self, info: ExecutionInfo, definition: Definition | None) -> None:
        """The description and the definition are in: the log groups of the functions the
        definition names are looked up."""
        if not self.logs or definition is None or self.clients is None:
            return
        from sfn_trace.sources.aws.logs import EarlyLookups, execution_window
        from sfn_trace.trace.invocations import definition_functions, split_function

        functions = []
        for reference in definition_functions(definition):
            name, _, region = split_function(reference)
            functions.append((reference, name, region or self.region))
        finished = info.status not in (None, "RUNNING")
        window = execution_window(info.start, info.stop) if finished else None
        self.lookups = EarlyLookups(functions, self.options, self.clients, window)

    def __call__(
        self,
        info: ExecutionInfo,
        definition: Definition | None,
        events: Sequence[HistoryEvent],
    ) -> None:
        if self.tracer is None:
            from sfn_trace.trace.ahead import TraceAhead

            self.tracer = TraceAhead(self.field)
        self.tracer(info, definition, events)


def _in_background(call: Callable[[], LambdaLogs]) -> Future[LambdaLogs]:
    """``call`` run by a thread while the caller goes on (the log fetch mostly waits: for
    the network, and for the pacing of CloudWatch Logs calls); the future's ``result()``
    waits for it and raises what it raised. The thread is a daemon: Ctrl-C does not wait
    for it."""
    future: Future[LambdaLogs] = Future()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as error:  # raised by result(), in the caller's thread
            future.set_exception(error)

    threading.Thread(target=run, name="sfn-trace-logs", daemon=True).start()
    return future


def _read_definition(definition: str | Path | Definition, max_input: int = MAX_INPUT) -> Definition:
    if isinstance(definition, Definition):
        return definition
    return read_definition(definition, max_input)
