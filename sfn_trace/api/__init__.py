"""The library: everything the command line does, as functions that return results.

One function per command, each running the whole pipeline (sources → trace → checks) with
the same options as its command-line form, and :func:`render` for any output format::

    >>> from sfn_trace import api
    >>> run = api.trace("history.json", "poll_results_s3_key", definition="definition.json")
    >>> run.result.verdict, run.result.first_null.visit.state
    >>> print(api.render(run, "markdown"))

Nothing here prints, exits or writes a file (the CLI does, in :mod:`sfn_trace.cli.output`);
AWS is reached only for an ARN or when asked (``file_logs``, ``follow_children``,
``confirm``), with boto3's normal credential chain or the caller's own session
(``AwsOptions(session=...)``), and boto3 is imported only then. Errors name options by
their keyword here (``field=``, ``confirm=True``); the CLI names the same ones as flags.

Import rule: ``api`` imports every stage but :mod:`sfn_trace.cli` (docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfn_trace.api.loading import (
    IN_MEMORY,
    LiveTrace,
    Target,
    _check_field,
    _check_file,
    _check_max_input,
    _check_options,
    _in_background,
    _logs_fetch,
    _needs_definition,
    _read_definition,
    load,
)
from sfn_trace.errors import AwsError, ExitCode, InputError, SfnTraceError, UsageError
from sfn_trace.model.arn import looks_like_arn, parse_execution_arn, parse_state_machine_arn
from sfn_trace.model.confirm import Exchange
from sfn_trace.model.definition import Definition
from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.options import (
    DEFAULT_SCAN_LIMIT,
    MAX_INPUT,
    AwsOptions,
    FollowChildren,
    ProgressCallback,
)
from sfn_trace.model.result import TraceResult, Verdict
from sfn_trace.report.registry import DEFAULT_OPTIONS, FORMATS, Command, RenderOptions
from sfn_trace.report.registry import render as render_result
from sfn_trace.sources.files import read_definition

if TYPE_CHECKING:  # the checks are imported by the commands that run them
    from sfn_trace.checks.compare import Comparison
    from sfn_trace.checks.fleet import ScanStats
    from sfn_trace.checks.lint import LintReport
    from sfn_trace.checks.rows import ScanRow
    from sfn_trace.checks.scan import ScanProgress, ScanResult

__all__ = [
    "DEFAULT_SCAN_LIMIT",
    "IN_MEMORY",
    "MAX_INPUT",
    "AwsError",
    "AwsOptions",
    "Command",
    "Comparison",
    "ExitCode",
    "FollowChildren",
    "InputError",
    "LintReport",
    "RenderOptions",
    "ScanResult",
    "SfnTraceError",
    "Target",
    "TraceResult",
    "TraceRun",
    "UsageError",
    "Verdict",
    "bundle",
    "command_of",
    "compare",
    "lint",
    "load",
    "render",
    "scan",
    "trace",
    "trace_execution",
    "trace_file",
]
"""What a notebook needs: the commands, their options and results, and the errors (each
carries its exit code). ``ScanResult``, ``Comparison`` and ``LintReport`` are imported
when first asked for, as their commands are."""

_LAZY = {
    "ScanResult": "sfn_trace.checks.scan",
    "Comparison": "sfn_trace.checks.compare",
    "LintReport": "sfn_trace.checks.lint",
}


def __getattr__(name: str) -> Any:
    """``api.ScanResult``, ``api.Comparison``, ``api.LintReport``, imported on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class TraceRun:
    """One trace: its result, and the execution data it was made from (as shown: redacted
    when redaction was asked), which :func:`bundle` saves."""

    result: TraceResult
    data: ExecutionData
    redacted_field: str | None = None
    """The field the data was redacted for (None: not redacted)."""
    teststate: tuple[Exchange, ...] | None = None
    """The TestState answers ``confirm`` asked for or reused, which :func:`bundle` keeps
    (None: none, and always for a redacted run: the answers hold real payloads)."""


def trace(
    target: Target,
    field: str,
    *,
    definition: str | Path | Definition | None = None,
    aws: AwsOptions | None = None,
    logs: bool = True,
    file_logs: bool = False,
    express_log_group: str | None = None,
    follow_children: FollowChildren | None = None,
    redact: bool = False,
    expect_definition: str | Path | None = None,
    on_page: ProgressCallback | None = None,
    confirm: bool = False,
    max_input: int = MAX_INPUT,
    on_total: Callable[[int], None] | None = None,
) -> TraceRun:
    """``sfn-trace TARGET --field F``: trace ``field`` through an execution (ARN) or a saved
    history or bundle (a path, a pipe, or ``"-"`` for stdin). The options are the command's
    (docs/cli.md):

    - ``definition``: the definition to use instead of the one that came with the target;
    - ``logs``: read the Lambda invocations' logs for an ARN; ``file_logs``: for a file too;
    - ``express_log_group``: read the execution from these CloudWatch Logs records;
    - ``follow_children``: trace the first N (or ``"all"``) Distributed Map children;
    - ``redact``: every payload value but the field's replaced by a placeholder (the data
      flow is still replayed on the real values);
    - ``expect_definition``: the definition you expect to have run; how the one that ran
      differs is reported (needs the definition that ran);
    - ``confirm``: ask AWS's own evaluator (``states:TestState``, every Task mocked with its
      recorded result) about the culprit states: ``result.confirmation`` (a bundle's stored
      answers are shown without it, and reused with it);
    - ``max_input``: the most bytes of JSON read from any one file, after gzip inflation
      (:data:`~sfn_trace.model.options.MAX_INPUT`);
    - ``on_page``: called after each history page with the pages and events read so far;
      ``on_total``: called once with how many events the history holds, when a long history
      of a finished execution is read from its newest end too (a progress bar's end).

    Options are checked before anything is read or fetched: a combination that cannot work
    (``express_log_group`` for a file), a value no request can use, an unreadable
    ``expect_definition`` or ``definition`` is a :class:`UsageError` or :class:`InputError`
    before the first AWS call; a file without the definition that ``confirm`` or
    ``expect_definition`` needs is one as soon as the file is read, before any AWS call.

    How the result is shown is :func:`render`'s choice (``RenderOptions``: ``all_visits``,
    ``all_logs``, ``log_lines``).
    """
    _check_field(field)
    live = isinstance(target, str) and looks_like_arn(target)
    _check_options(
        live=live,
        aws=aws,
        uses_aws=live or file_logs or confirm or follow_children is not None,
        max_input=max_input,
        express_log_group=express_log_group,
        follow_children=follow_children,
    )
    # Read before anything is fetched: an unreadable file must not cost a long fetch first.
    expected = read_definition(expect_definition, max_input) if expect_definition else None
    if live and definition is not None:
        definition = _read_definition(definition, max_input)
    # The Lambda logs are fetched while the replay runs (mostly network and pacing waits);
    # redaction needs them first, so a redacted trace fetches them before.
    background = (logs if live else file_logs) and not redact
    # Live, each visit is traced as soon as its events are in, while the next history page
    # is on its way (the analysis checks each early replay against the whole history).
    ahead = LiveTrace(str(target), field, aws or AwsOptions(), background) if live else None
    try:
        data = load(
            target,
            definition=definition,
            aws=aws,
            clients=ahead.clients if ahead is not None else None,
            on_page=on_page,
            on_total=on_total,
            on_events=ahead,
            on_described=ahead.described if ahead is not None else None,
            on_sent=ahead.sent if ahead is not None else None,
            logs=logs and not background,
            file_logs=file_logs and not background,
            express_log_group=express_log_group,
            follow_children=follow_children,
            max_input=max_input,
            # A file is read, nothing is fetched yet: it holds the definition or not.
            on_read=None
            if live
            else functools.partial(
                _needs_definition, confirm=confirm, expected=expected is not None
            ),
        )
    finally:
        if ahead is not None:
            ahead.sent()  # (an Express execution's fetch never tells it)
    # One visit tree per trace, passed on: the one followed while the history arrived, or
    # the one the Lambda logs are listed from.
    from sfn_trace.trace import analyze
    from sfn_trace.trace.redact import redact_all
    from sfn_trace.trace.visits import build_visits

    early = ahead.tracer if ahead is not None else None
    tree = early.history_complete(data.events, data.definition) if early is not None else None
    pending = None
    if background and data.lambda_logs is None:
        tree = tree or build_visits(data.events, data.definition)
        clients, lookups = (ahead.clients, ahead.lookups) if ahead is not None else (None, None)
        pending = _in_background(_logs_fetch(data, aws or AwsOptions(), clients, tree, lookups))
    shown = redact_all(data, field) if redact else data
    if live:  # the definition that ran was fetched, or could not be
        _needs_definition(data, confirm=False, expected=expected is not None)
    result = analyze(
        shown,
        field,
        replay_source=data if redact else None,
        expected=expected,
        expected_source=str(expect_definition),
        lambda_logs=pending.result if pending is not None else None,
        ahead=early,
        tree=None if redact else tree,
    )
    if pending is not None:
        data = shown = dataclasses.replace(data, lambda_logs=pending.result())
    exchanges = None
    if confirm or data.teststate is not None:
        result, exchanges = _confirm(result, data, aws or AwsOptions(), ask=confirm, redact=redact)
    return TraceRun(result, shown, field if redact else None, None if redact else exchanges)


def _confirm(
    result: TraceResult, data: ExecutionData, options: AwsOptions, *, ask: bool, redact: bool
) -> tuple[TraceResult, tuple[Exchange, ...]]:
    """``--confirm``: the culprit states asked of TestState (``ask``), or judged from the
    answers the data already holds (a bundle's)."""
    from sfn_trace.checks.confirm import confirm as confirm_culprits

    tester = None
    if ask:
        # Imported here: only --confirm pays for boto3 on a file TARGET.
        from sfn_trace.sources.aws.teststate import StateTester

        arn = data.info.arn
        region = None
        if arn and looks_like_arn(arn):
            try:
                region = parse_execution_arn(arn).region
            except UsageError:  # a history file's executionArn, malformed: no region from it
                region = None
        tester = StateTester(options, region, target=arn or "")
    return confirm_culprits(result, data, ask=tester, stored=data.teststate, redacted=redact)


def trace_file(
    path: str | Path,
    field: str,
    definition: str | Path | Definition | None = None,
    logs: AwsOptions | None = None,
) -> TraceResult:
    """Trace ``field`` through a saved history or bundle; no AWS call unless ``logs`` is
    given (then the Lambda log lines are fetched with those options)."""
    return trace(path, field, definition=definition, aws=logs, file_logs=logs is not None).result


def trace_execution(
    arn: str,
    field: str,
    options: AwsOptions | None = None,
    on_page: ProgressCallback | None = None,
    definition: str | Path | Definition | None = None,
    logs: bool = True,
    *,
    express_log_group: str | None = None,
    follow_children: FollowChildren | None = None,
) -> TraceResult:
    """Fetch an execution from AWS and trace ``field`` through it (see :func:`trace`)."""
    return trace(
        arn,
        field,
        definition=definition,
        aws=options,
        on_page=on_page,
        logs=logs,
        express_log_group=express_log_group,
        follow_children=follow_children,
    ).result


def compare(
    good: str | Path,
    bad: str | Path,
    field: str,
    *,
    definition: str | Path | Definition | None = None,
    aws: AwsOptions | None = None,
    max_input: int = MAX_INPUT,
) -> Comparison:
    """``sfn-trace compare GOOD BAD --field F``: both runs traced (without Lambda logs: they
    do not change a status), aligned, and where the bad one parts from the good one.
    ``definition`` applies to history files; an ARN uses the definition that ran. Each run's
    warnings are in ``comparison.good.result.warnings`` and ``comparison.bad.result``."""
    from sfn_trace.checks.compare import compare as compare_traces

    _check_field(field)
    _check_max_input(max_input)
    for target in (good, bad):  # both before either is read or fetched
        if looks_like_arn(str(target)):
            parse_execution_arn(str(target))
        else:
            _check_file(target)
    if any(looks_like_arn(str(t)) for t in (good, bad)) and aws is not None:
        aws.check()
    if definition is not None and not all(looks_like_arn(str(t)) for t in (good, bad)):
        definition = _read_definition(definition, max_input)  # once: it may be a pipe
    results = [
        trace(
            target,
            field,
            definition=None if looks_like_arn(str(target)) else definition,
            aws=aws,
            logs=False,
            max_input=max_input,
        ).result
        for target in (good, bad)
    ]
    return compare_traces(results[0], results[1], sources=(str(good), str(bad)))


def scan(
    state_machine_arn: str | Sequence[str],
    field: str,
    *,
    status: str | Sequence[str] | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    limit: int = DEFAULT_SCAN_LIMIT,
    aws: AwsOptions | None = None,
    on_listed: Callable[[int], None] | None = None,
    on_progress: ScanProgress | None = None,
    on_row: Callable[[ScanRow], None] | None = None,
    on_stats: Callable[[ScanStats], None] | None = None,
    keep_rows: bool = True,
    checkpoint: str | Path | None = None,
    rate: float | None = None,
    follow_children: FollowChildren | None = None,
    profiles: Mapping[str, str] | None = None,
) -> ScanResult:
    """``sfn-trace scan STATE_MACHINE_ARN --field F``: the newest ``limit`` executions with
    one of the statuses (``"SUCCEEDED,FAILED"`` or a list; default all) started between
    ``since`` and ``until`` (a datetime, ISO 8601, or a duration before now such as ``24h``),
    each traced from its history (docs/cli.md). Several state machine ARNs (a list) are
    scanned at once, the newest ``limit`` of each, each account and region at its own quota.

    ``on_row`` is told each row as it is judged; ``keep_rows=False`` keeps only the tally.
    ``checkpoint``: a file recording each judged execution; the same call with the same file
    fetches only what is left (:mod:`sfn_trace.checks.checkpoint`). ``rate``: the
    GetExecutionHistory calls per second the account is granted when AWS raised its quota.
    ``follow_children``: each execution's Distributed Map children read too (N or ``"all"``).
    ``profiles``: account id -> AWS profile, for state machines in several accounts: that
    account's listings and histories are read with that profile (``aws.profile``, or boto3's
    normal chain, for the others). Profiles are how to reach the accounts, not which scan it
    is: a checkpoint resumes whatever profiles the next run uses.
    """
    from datetime import timezone

    from sfn_trace.checks.scan import ScanQuery, check_profiles, statuses_from_text
    from sfn_trace.checks.scan import scan as scan_executions

    _check_field(field)
    arns = [state_machine_arn] if isinstance(state_machine_arn, str) else list(state_machine_arn)
    arns = list(dict.fromkeys(arn.strip() for arn in arns))
    if not arns:
        raise UsageError("no state machine ARN to scan")
    for arn in arns:
        parse_state_machine_arn(arn)  # a typo is exit 2, before any call
    profiles = check_profiles(profiles or {}, arns)
    if aws is not None:
        aws.check()
    statuses = (
        statuses_from_text(status)
        if status is None or isinstance(status, str)
        else tuple(s.strip().upper() for s in status)
    )
    query = ScanQuery(
        state_machine_arn=arns[0],
        state_machine_arns=tuple(arns) if len(arns) > 1 else (),
        field=field,
        statuses=statuses,
        since=_moment(since),
        until=_moment(until),
        limit=limit,
    )
    journal = None
    if checkpoint is not None:
        from sfn_trace.checks.checkpoint import Checkpoint

        identity: dict[str, object] = {
            "state_machine_arn": query.state_machine_arn,
            "field": field,
            "statuses": sorted(set(statuses)),
            "since": _as_given(since),
            "until": _as_given(until),
            "limit": limit,
            "follow_children": follow_children,
        }
        if query.several:  # a checkpoint covers the whole scan, every state machine
            identity["state_machine_arns"] = list(query.machines)
        # An open end is pinned to now by the first run, so every run lists the same ones.
        window = (query.since, query.until or datetime.now(timezone.utc))
        journal = Checkpoint.open(checkpoint, identity, window)
        query = dataclasses.replace(query, since=journal.window[0], until=journal.window[1])
    try:
        return scan_executions(
            query,
            aws or AwsOptions(),
            on_listed=on_listed,
            on_progress=on_progress,
            on_row=on_row,
            on_stats=on_stats,
            keep_rows=keep_rows,
            checkpoint=journal,
            rate=rate,
            follow_children=follow_children,
            profiles=profiles,
        )
    finally:
        if journal is not None:
            journal.close()


def _as_given(value: str | datetime | None) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return value.strip() if value else None


def _moment(value: str | datetime | None) -> datetime | None:
    from sfn_trace.checks.scan import parse_moment

    if value is None or isinstance(value, datetime):
        return value
    return parse_moment(value) if value else None


def lint(
    definitions: Sequence[str | Path],
    field: str,
    max_input: int = MAX_INPUT,
    *,
    severity: str | None = None,
    config: str | Path | None = None,
    aws: AwsOptions | None = None,
) -> LintReport:
    """``sfn-trace lint DEFINITION... --field F``: from each definition alone, the paths on
    which a state can drop the field before another reads it, one cause per dropping step.

    A DEFINITION given as a ``str`` that starts ``arn:`` is a state machine ARN (or a
    version or alias ARN): its definition is read with DescribeStateMachine, with ``aws``
    (boto3's normal chain for what it leaves out); every ARN is checked before any call.

    ``severity``: the exit threshold (``warning``, the default, or ``error``; else the config
    file's); ``config``: a JSON file with ``lint`` settings and ``lint.ignore``
    suppressions (:mod:`sfn_trace.checks.lint_config`). An AWS API's response shape (an
    ``aws-sdk`` Task's result) is read from botocore's service model, only when a finding
    depends on one."""
    from sfn_trace.checks.lint import lint_files
    from sfn_trace.checks.lint_config import LintConfig, load_config
    from sfn_trace.sources.aws.models import response_holds

    _check_field(field)
    _check_max_input(max_input)
    settings = load_config(Path(config)) if config is not None else LintConfig()
    arns = [each for each in definitions if isinstance(each, str) and looks_like_arn(each)]
    for arn in arns:  # a typo is exit 2, before any call
        parse_state_machine_arn(arn, needed_by="lint")
    return lint_files(
        definitions,
        field,
        max_input,
        sdk_members=response_holds,
        severity=severity or settings.severity or "warning",
        ignore=settings.ignore,
        fetch=_definition_reader(aws or AwsOptions()) if arns else None,
    )


def _definition_reader(options: AwsOptions) -> Callable[[str], Definition]:
    """How ``lint`` reads a state machine ARN's definition: DescribeStateMachine, the ARNs of
    one call sharing one session."""
    from sfn_trace.sources.aws.client import Clients
    from sfn_trace.sources.aws.state_machine import fetch_definition

    return functools.partial(fetch_definition, options=options, clients=Clients(options))


def render(
    result: TraceRun | TraceResult | ScanResult | Comparison | LintReport,
    output_format: str | Enum = "json",
    options: RenderOptions = DEFAULT_OPTIONS,
) -> str:
    """What :func:`trace`, :func:`scan`, :func:`compare` or :func:`lint` returned, as text in
    ``output_format``: the renderer is chosen by the result's type, and a format that kind of
    result does not have is a :class:`UsageError` naming the ones it has."""
    if isinstance(result, TraceRun):
        result = result.result
    command = command_of(result)
    chosen = output_format.value if isinstance(output_format, Enum) else str(output_format)
    formats = [each.value for each in FORMATS[command]]
    if chosen.lower() not in formats:
        raise UsageError(
            f"{chosen!r} is not a format of a {command.value} result: {', '.join(formats)}"
        )
    return render_result(command, chosen.lower(), result, options)


_RESULT_TYPES: dict[str, Command] = {
    "sfn_trace.model.result.TraceResult": Command.TRACE,
    "sfn_trace.checks.scan.ScanResult": Command.SCAN,
    "sfn_trace.checks.compare.Comparison": Command.COMPARE,
    "sfn_trace.checks.lint.LintReport": Command.LINT,
}
"""Each command's result type, by name: nothing is imported to tell them apart."""


def command_of(result: object) -> Command:
    """The command whose result ``result`` is (:class:`UsageError` for anything else)."""
    for kind in type(result).__mro__:
        command = _RESULT_TYPES.get(f"{kind.__module__}.{kind.__qualname__}")
        if command is not None:
            return command
    raise UsageError(
        f"render takes what trace, scan, compare or lint returned, not {type(result).__name__!r}"
    )


def bundle(
    run: TraceRun,
    *,
    command: Sequence[str] = (),
    compress: bool = False,
    fetched_at: datetime | None = None,
) -> bytes:
    """The replayable bundle of ``run`` (``--save-bundle``): everything it was made from,
    gzip-compressed when ``compress``; ``sfn-trace BUNDLE --field F`` replays it offline."""
    from sfn_trace.sources.bundle import bundle_bytes, bundle_document

    document = bundle_document(
        run.data,
        command=command,
        fetched_at=fetched_at,
        redacted_field=run.redacted_field,
        teststate=run.teststate,
    )
    return bundle_bytes(document, compress=compress)
