"""The main form: ``sfn-trace TARGET --field NAME``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from sfn_trace import api
from sfn_trace.cli.app import (
    EXIT_CODES_HELP,
    DebugOption,
    EndpointOption,
    FieldOption,
    MainFormCommand,
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
from sfn_trace.errors import UsageError
from sfn_trace.model.arn import looks_like_arn
from sfn_trace.model.options import FollowChildren
from sfn_trace.report import OutputFormat, RenderOptions, renderer_for
from sfn_trace.sources.bundle import write_atomically
from sfn_trace.trace import analyze
from sfn_trace.trace.redact import redact as redact_data
from sfn_trace.trace.redact import with_children_data

MAIN_HELP = f"""Find the state where a field of a Step Functions execution went null.

TARGET is an execution ARN (read live with boto3's normal credential chain; the region is
taken from the ARN unless --region is given) or a history file saved with
`aws stepfunctions get-execution-history --output json` (or a JSON list of events), or a
bundle saved with --save-bundle (replayed offline, no AWS call).

\b
Examples:
  sfn-trace arn:aws:states:us-west-2:123456789012:execution:line-ingest:8ee0d036 \\
      --field poll_results_s3_key
  sfn-trace history.json --definition definition.asl.json --field poll_results_s3_key
  sfn-trace history.json --field poll_results_s3_key --format json -o trace.json
  sfn-trace arn:aws:states:us-west-2:123456789012:express:ingest:run-7:5f1c... \\
      --field poll_results_s3_key          (Express: read from its CloudWatch Logs)
  sfn-trace <execution-arn> --field poll_results_s3_key --follow-children 10

{EXIT_CODES_HELP}"""


@app.command("trace", cls=MainFormCommand, help=MAIN_HELP)
def trace_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET", help="Execution ARN, or a saved history file.", show_default=False
        ),
    ],
    field: FieldOption,
    definition: Annotated[
        Path | None,
        typer.Option(
            "--definition",
            help="ASL definition for a history file (live: the definition that ran is fetched).",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat | None,
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
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", metavar="FILE", help="Also write the timeline as CSV to FILE."),
    ] = None,
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report", metavar="FILE", help="Also write a Markdown incident report to FILE."
        ),
    ] = None,
    save_bundle: Annotated[
        Path | None,
        typer.Option(
            "--save-bundle",
            metavar="FILE",
            help="Save everything fetched to FILE (gzip if it ends in .gz) for offline replay.",
        ),
    ] = None,
    expect_definition: Annotated[
        Path | None,
        typer.Option(
            "--expect-definition",
            metavar="FILE",
            help="Compare the definition that ran with FILE (e.g. the one in your repository) "
            "and list the states that differ.",
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Replace every payload value but the field's with a placeholder "
            "(reports and bundles).",
        ),
    ] = False,
    no_logs: Annotated[
        bool,
        typer.Option("--no-logs", help="Do not read the Lambda invocations' CloudWatch logs."),
    ] = False,
    logs: Annotated[
        bool,
        typer.Option(
            "--logs",
            help="For a history file: read the Lambda logs from AWS (normal credentials).",
        ),
    ] = False,
    log_lines: Annotated[
        int,
        typer.Option(
            "--log-lines",
            min=0,
            metavar="N",
            help="Log lines shown per invocation (JSON keeps all).",
        ),
    ] = 20,
    express_log_group: Annotated[
        str | None,
        typer.Option(
            "--express-log-group",
            metavar="NAME",
            help="Read the execution from the execution records in this CloudWatch Logs group "
            "(name or ARN) instead of its history; Express ARNs use their state machine's.",
        ),
    ] = None,
    follow_children: Annotated[
        str | None,
        typer.Option(
            "--follow-children",
            metavar="N|all",
            help="Follow Distributed Map runs into their first N child executions "
            "(in start order), or all of them.",
        ),
    ] = None,
    debug: DebugOption = False,
) -> None:
    fmt = output_format or (OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.JSON)
    with guarded(debug):
        if logs and no_logs:
            raise UsageError("--logs and --no-logs contradict each other")
        if not field:
            raise UsageError("--field must not be empty")
        _check_outputs(output, csv_file, report_file, save_bundle)
        follow = parse_follow_children(follow_children) if follow_children is not None else None
        aws = aws_options(region, profile, endpoint_url, max_attempts)
        if not looks_like_arn(target) and not logs and (region or profile or endpoint_url):
            err("warning: --region/--profile/--endpoint-url only matter for a file with --logs")
        with _Progress() as progress:
            data = api.load(
                target,
                definition=definition,
                options=aws,
                on_page=progress.on_page,
                logs=not no_logs,
                file_logs=logs,
                express_log_group=express_log_group,
                follow_children=follow,
            )
        original = data
        if redact:
            data = redact_data(data, field)
            data = with_children_data(data, lambda child: redact_data(child, field))
        result = analyze(data, field, replay_source=original if redact else None)
        if expect_definition is not None:
            result = _with_drift(result, data, expect_definition)
        for warning in result.warnings:
            err(f"warning: {warning}")
        # Everything is rendered before anything is written: a failure leaves no file.
        render = _renderers(result, RenderOptions(log_lines=log_lines), target, definition)
        text = render(fmt)
        files: list[tuple[Path, str | bytes]] = []
        if csv_file is not None:
            files.append((csv_file, render(OutputFormat.CSV)))
        if report_file is not None:
            files.append((report_file, render(OutputFormat.MARKDOWN)))
        if save_bundle is not None:
            files.append((save_bundle, _bundle(data, save_bundle, field if redact else None)))
        if output is not None:
            files.append((output, text))
        for path, content in files:
            write_atomically(path, content)
        if output is None:
            sys.stdout.write(text)
            sys.stdout.flush()
    from sfn_trace.report.trace.table import exit_reason  # renderers load lazily: keep it so

    exit_with(result.exit_code, exit_reason(result))


def _with_drift(result: Any, data: Any, expected: Path) -> Any:
    import dataclasses

    from sfn_trace.asl.drift import compare_definitions
    from sfn_trace.model.definition import Definition

    wanted = Definition.from_file(expected)
    if data.definition is None:
        raise UsageError(
            "--expect-definition needs the definition that ran: it is fetched for an execution "
            "ARN; for a history file pass it with --definition"
        )
    drift = compare_definitions(data.definition, wanted)
    warnings = result.warnings
    if not drift.identical:
        names = ", ".join(d.state for d in drift.states) or "top-level keys"
        warnings = (*warnings, f"the definition that ran differs from {expected}: {names}")
    return dataclasses.replace(result, drift=drift, warnings=warnings)


def _check_outputs(*paths: Path | None) -> None:
    """Refuse two output options that name the same file (one would silently win)."""
    resolved = [p.resolve() for p in paths if p is not None]
    if len(set(resolved)) != len(resolved):
        raise UsageError("two output options name the same file")


def _renderers(
    result: Any, options: RenderOptions, target: str, definition: Path | None
) -> Callable[[OutputFormat], str]:
    def render(output_format: OutputFormat) -> str:
        if output_format is OutputFormat.MARKDOWN:
            from sfn_trace.report.trace.markdown import MarkdownRenderer

            markdown = MarkdownRenderer(
                target=target, definition=str(definition) if definition else None
            )
            return markdown.render(result, options)
        return renderer_for(output_format).render(result, options)

    return render


def _bundle(data: Any, path: Path, redacted_field: str | None) -> bytes:
    from sfn_trace.sources.bundle import bundle_bytes, bundle_document

    document = bundle_document(
        data, command=("sfn-trace", *sys.argv[1:]), redacted_field=redacted_field
    )
    return bundle_bytes(document, compress=path.name.endswith(".gz"))


class _Progress:
    """A progress bar for long history fetches on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self.on_page: Any = None
        if sys.stderr.isatty():
            self.on_page = self._page

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _page(self, pages: int, events: int) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("")
        self._bar.update(
            self._task, description=f"fetching history: {pages} page(s), {events} events"
        )


def parse_follow_children(text: str) -> FollowChildren:
    """``--follow-children N|all``: a positive count or ``all`` (any case)."""
    value = text.strip().lower()
    if value == "all":
        return "all"
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise UsageError(f"--follow-children takes a positive number or 'all', not {text!r}")
    return count
