"""``sfn-trace scan STATE_MACHINE_ARN --field F``: how many executions lost it, and where?"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from sfn_trace.checks.scan import DEFAULT_LIMIT, ScanQuery, ScanResult, ScanRow, parse_moment, scan
from sfn_trace.cli.app import (
    DebugOption,
    EndpointOption,
    FieldOption,
    MaxAttemptsOption,
    OutputOption,
    ProfileOption,
    RegionOption,
    app,
    aws_options,
    err,
    exit_with,
    guarded,
)
from sfn_trace.cli.subcommands import mention_in_main_help
from sfn_trace.errors import UsageError
from sfn_trace.model.result import Verdict
from sfn_trace.report.scan_report import ScanFormat, scan_renderer_for
from sfn_trace.sources.bundle import write_atomically

MAX_NAMED = 3
"""Executions named in the exit-4 line; the report has a row for each."""

SCAN_HELP = f"""Trace a field through the recent executions of a state machine.

Lists the executions of STATE_MACHINE_ARN (ListExecutions, newest first), traces the field
through each one's history, and prints one row per execution (start, name, status, verdict,
where the field went null, where the last copy went), then how many lost the field and a
histogram of the states where it went null.

Several --status values are listed one status at a time and merged by start date; --since
stops the listing at the first older execution. History reads are paced at 20
GetExecutionHistory calls per second (its quota) by a few workers; an execution that cannot
be read gets its error in its row and the scan goes on. Lambda logs and the definition are
not read: run `sfn-trace EXECUTION_ARN --field F` on a row for the full explanation.

\b
Examples:
  sfn-trace scan arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest \\
      --field poll_results_s3_key --since 24h
  sfn-trace scan arn:...:stateMachine:line-ingest --field poll_results_s3_key \\
      --status SUCCEEDED,FAILED --since 2025-11-17 --until 2025-11-18 --format csv > scan.csv

\b
Exit codes:
  0  every execution scanned kept the field (or none matched)
  1  at least one execution lost the field (lost, never set, or never present)
  2  bad usage (malformed ARN, unknown status, unreadable time)
  3  an AWS error on the listing (state machine not found, access denied, ...)
  4  none lost it, but some could not be read or traced to a verdict
  130 interrupted (Ctrl-C)

--limit defaults to {DEFAULT_LIMIT}: the newest executions that match are scanned.
"""


@app.command("scan", help=SCAN_HELP)
def scan_command(
    state_machine_arn: Annotated[
        str,
        typer.Argument(
            metavar="STATE_MACHINE_ARN",
            help="arn:aws:states:REGION:ACCOUNT:stateMachine:NAME (a version or alias ARN "
            "lists only its executions).",
        ),
    ],
    field: FieldOption,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="STATUS[,STATUS]",
            help="Only these statuses: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED "
            "[default: all].",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="WHEN",
            help="Only executions started since WHEN: 30m, 24h, 7d, 2w ago, or ISO 8601 "
            "(UTC when no zone).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", metavar="WHEN", help="Only executions started until WHEN (same forms)."
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, metavar="N", help="Scan at most the N newest matches."),
    ] = DEFAULT_LIMIT,
    output_format: Annotated[
        ScanFormat | None,
        typer.Option(
            "--format",
            case_sensitive=False,
            help="Report format [default: table on a terminal, json otherwise].",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
    max_attempts: MaxAttemptsOption = 10,
    debug: DebugOption = False,
) -> None:
    from sfn_trace.sources.aws.executions import parse_state_machine_arn, statuses_from_text

    fmt = output_format or (ScanFormat.TABLE if sys.stdout.isatty() else ScanFormat.JSON)
    with guarded(debug):
        if not field:
            raise UsageError("--field must not be empty")
        parse_state_machine_arn(state_machine_arn)  # exit 2 before any call
        query = ScanQuery(
            state_machine_arn=state_machine_arn.strip(),
            field=field,
            statuses=statuses_from_text(status),
            since=parse_moment(since) if since else None,
            until=parse_moment(until) if until else None,
            limit=limit,
        )
        aws = aws_options(region, profile, endpoint_url, max_attempts)
        with _Progress() as progress:
            result = scan(
                query, aws, on_listed=progress.on_listed, on_progress=progress.on_progress
            )
        if not result.rows:
            err("no execution matched: nothing to scan")
        elif result.truncated:
            err(f"note: more executions matched; only the newest {limit} were scanned (--limit)")
        text = scan_renderer_for(fmt).render(result)
        if fmt is ScanFormat.CSV:
            _summary_to_stderr(result)
        if output is not None:
            write_atomically(output, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    exit_with(result.exit_code, _exit_reason(result))


def _exit_reason(result: ScanResult) -> str:
    """Exit 4: none lost the field; which executions could not be read or traced to a
    verdict (their rows say why)."""
    untold = [r for r in result.rows if r.error is not None or r.verdict is Verdict.UNKNOWN]
    named = [
        f"{r.execution.name or r.execution.arn} ({'not read' if r.error else 'unknown'})"
        for r in untold[:MAX_NAMED]
    ]
    if len(untold) > MAX_NAMED:
        named.append(f"+{len(untold) - MAX_NAMED} more")
    total = len(result.rows)
    return (
        f"incomplete: none of the {total} execution{'s' if total != 1 else ''} lost "
        f"{result.query.field}, but {len(untold)} could not be read or traced to a verdict: "
        f"{', '.join(named)}"
    )


def _summary_to_stderr(result: ScanResult) -> None:
    """CSV keeps stdout to rows only: the summary and the histogram go to stderr."""
    from sfn_trace.report.scan.table import summary_sentences

    for sentence in summary_sentences(result):
        err(sentence)
    if result.culprits:
        err("went null in: " + ", ".join(f"{state} ({count})" for state, count in result.culprits))


class _Progress:
    """A progress bar on stderr while executions are traced, only when stderr is a terminal
    (a redirected stderr gets no bar and no carriage returns)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._lost = 0
        self._unreadable = 0
        self.on_listed: Any = None
        self.on_progress: Any = None
        if sys.stderr.isatty():
            self.on_listed = self._listed
            self.on_progress = self._progress

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _listed(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("tracing executions", total=total)

    def _progress(self, done: int, total: int, row: ScanRow) -> None:
        if self._bar is None:
            return
        self._lost += row.lost_the_field
        self._unreadable += row.error is not None
        description = f"tracing executions ({self._lost} lost the field"
        if self._unreadable:
            description += f", {self._unreadable} unreadable"
        self._bar.update(self._task, completed=done, description=description + ")")


mention_in_main_help(
    "sfn-trace scan STATE_MACHINE_ARN --field NAME", "how many executions lost it, and where"
)
