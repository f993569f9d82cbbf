"""The command line: parse options, run the pipeline, pick the renderer, map errors to exits.

The only module that prints to the terminal or exits. ``sfn-trace TARGET --field F`` is the
main form; sub-commands (``lint``, ``compare``, ``scan``) sit beside it, and any first word
that is not a sub-command is taken as a TARGET of the main form.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from sfn_trace import __version__
from sfn_trace.errors import ExitCode, SfnTraceError, UsageError
from sfn_trace.report import OutputFormat, renderer_for

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
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    fmt = output_format or (OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.JSON)
    try:
        result = _run_trace(target, field, definition, region, profile, endpoint_url, max_attempts)
        for warning in result.warnings:
            _err(f"warning: {warning}")
        text = renderer_for(fmt).render(result)
        if output is not None:
            write_atomically(output, text)
        else:
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


def _run_trace(
    target: str,
    field: str,
    definition: Path | None,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    max_attempts: int,
) -> Any:
    from sfn_trace import api
    from sfn_trace.arn import looks_like_arn

    if not field:
        raise UsageError("--field must not be empty")
    if looks_like_arn(target):
        from sfn_trace.fetch import AwsOptions

        options = AwsOptions(
            region=region, profile=profile, endpoint_url=endpoint_url, max_attempts=max_attempts
        )
        return api.trace_execution(
            target, field, options, on_page=_progress(), definition=definition
        )
    if region or profile or endpoint_url:
        _err("warning: --region/--profile/--endpoint-url are ignored for a history file")
    if not Path(target).exists():
        raise UsageError(
            f"{target!r} is neither an execution ARN (arn:aws:states:...:execution:...) "
            "nor an existing file"
        )
    return api.trace_file(target, field, definition)


def _progress() -> Any:
    """Pages fetched, on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def on_page(pages: int, events: int) -> None:
        sys.stderr.write(f"\rsfn-trace: fetched {pages} page(s), {events} events")
        sys.stderr.flush()

    return on_page


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a failure never leaves a half file."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _err(message: str) -> None:
    sys.stderr.write(f"sfn-trace: {message}\n")
    sys.stderr.flush()


def main() -> None:
    app(prog_name="sfn-trace")
