"""The command line: parse options, run the pipeline, pick the renderer, map errors to exits.

The only module that prints to the terminal or exits. ``sfn-trace TARGET --field F`` is the
main form; sub-commands (``lint``, ``compare``, ``scan``) sit beside it, and any first word
that is not a sub-command is taken as a TARGET of the main form.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from sfn_trace import __version__, api
from sfn_trace.arn import looks_like_arn
from sfn_trace.bundle import write_atomically
from sfn_trace.errors import ExitCode, SfnTraceError, UsageError
from sfn_trace.redact import redact as redact_data
from sfn_trace.report import OutputFormat, RenderOptions, renderer_for
from sfn_trace.trace import analyze

EXIT_CODES_HELP = """\b
Exit codes:
  0  the field is intact
  1  a finding: the field was lost, never set, or never present
  2  bad usage or unreadable input
  3  an AWS error (not found, access denied, throttled past retries, unreachable)
  4  the answer is incomplete (truncated payloads, data not included, history cut)
  130 interrupted (Ctrl-C)
"""

MAIN_HELP = f"""Find the state where a field of a Step Functions execution went null.

TARGET is an execution ARN (read live with boto3's normal credential chain; the region is
taken from the ARN unless --region is given) or a history file saved with
`aws stepfunctions get-execution-history --output json` (or a JSON list of events).

\b
Examples:
  sfn-trace arn:aws:states:us-west-2:123456789012:execution:line-ingest:8ee0d036 \\
      --field poll_results_s3_key
  sfn-trace history.json --definition definition.asl.json --field poll_results_s3_key
  sfn-trace history.json --field poll_results_s3_key --format json -o trace.json

{EXIT_CODES_HELP}"""


class _MainFormGroup(TyperGroup):
    """A group whose default command is ``trace``: ``sfn-trace TARGET ...`` works as is."""

    default_command = "trace"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if (not args or args[0] not in self.commands) and not _asks_version(args):
            args = [self.default_command, *args]
        parsed: list[str] = super().parse_args(ctx, args)
        return parsed

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage("sfn-trace", "TARGET --field NAME [OPTIONS]")


class _MainFormCommand(TyperCommand):
    """The ``trace`` command, whose usage line reads as the main form."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage("sfn-trace", "TARGET --field NAME [OPTIONS]")


def _asks_version(args: list[str]) -> bool:
    return args == ["--version"]


app = typer.Typer(
    cls=_MainFormGroup,
    add_completion=False,
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sfn-trace {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Forensic diagnosis of AWS Step Functions executions."""


@app.command("trace", cls=_MainFormCommand, help=MAIN_HELP)
def trace_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET", help="Execution ARN, or a saved history file.", show_default=False
        ),
    ],
    field: Annotated[
        str,
        typer.Option(
            "--field", "-f", metavar="NAME", help="The JSON field to track (a key, at any depth)."
        ),
    ],
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
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the report to FILE (only after the trace succeeded)."
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="AWS region [default: the ARN's region].")
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            help="Step Functions endpoint (e.g. a local emulator); AWS_ENDPOINT_URL also works.",
        ),
    ] = None,
    max_attempts: Annotated[
        int,
        typer.Option("--max-attempts", min=1, help="Attempts per AWS request (standard retries)."),
    ] = 10,
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
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    fmt = output_format or (OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.JSON)
    try:
        if logs and no_logs:
            raise UsageError("--logs and --no-logs contradict each other")
        if not field:
            raise UsageError("--field must not be empty")
        _check_outputs(output, csv_file, report_file, save_bundle)
        aws = _aws_options(region, profile, endpoint_url, max_attempts)
        if not looks_like_arn(target) and not logs and (region or profile or endpoint_url):
            _err("warning: --region/--profile/--endpoint-url only matter for a file with --logs")
        with _Progress() as progress:
            data = api.load(
                target,
                definition=definition,
                options=aws,
                on_page=progress.on_page,
                logs=not no_logs,
                file_logs=logs,
            )
        if redact:
            data = redact_data(data, field)
        result = analyze(data, field)
        for warning in result.warnings:
            _err(f"warning: {warning}")
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
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    except SfnTraceError as error:
        if debug:
            traceback.print_exc()
        _err(f"error: {error.message}")
        raise typer.Exit(error.exit_code) from None
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        sys.stderr.close()
        raise typer.Exit(ExitCode.INTACT) from None
    except Exception as error:  # a bug: one line, and the traceback only on request
        if debug:
            traceback.print_exc()
        _err(
            f"internal error: {type(error).__name__}: {error} "
            "(please report it; --debug shows the traceback)"
        )
        raise typer.Exit(ExitCode.USAGE) from None
    raise typer.Exit(result.exit_code)


def _aws_options(
    region: str | None, profile: str | None, endpoint_url: str | None, max_attempts: int
) -> Any:
    from sfn_trace.fetch.aws import AwsOptions

    return AwsOptions(
        region=region, profile=profile, endpoint_url=endpoint_url, max_attempts=max_attempts
    )


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
            from sfn_trace.report.markdown import MarkdownRenderer

            markdown = MarkdownRenderer(
                target=target, definition=str(definition) if definition else None
            )
            return markdown.render(result, options)
        return renderer_for(output_format).render(result, options)

    return render


def _bundle(data: Any, path: Path, redacted_field: str | None) -> bytes:
    from sfn_trace.bundle import bundle_bytes, bundle_document

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


def _err(message: str) -> None:
    sys.stderr.write(f"sfn-trace: {message}\n")
    sys.stderr.flush()


def main() -> None:
    app(prog_name="sfn-trace")
