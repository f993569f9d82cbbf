"""The main form: ``sfn-trace TARGET --field NAME``."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated

import typer

from sfn_trace.cli import output
from sfn_trace.cli.app import EXIT_CODES_HELP, SUBCOMMANDS_HELP, MainFormCommand, app, guarded
from sfn_trace.cli.options import (
    FORMAT_OPTION,
    DebugOption,
    FieldOption,
    MaxInputOption,
    OutputOption,
    default_format,
    max_input,
    with_aws_options,
)
from sfn_trace.cli.progress import HistoryProgress
from sfn_trace.errors import UsageError
from sfn_trace.model.arn import looks_like_arn
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions, FollowChildren
from sfn_trace.report.registry import Command, RenderOptions, TraceFormat

MAIN_HELP = f"""Find the state where a field of a Step Functions execution went null.

TARGET is an execution ARN (read live with boto3's normal credential chain; the region is
taken from the ARN unless --region is given) or a history file saved with
`aws stepfunctions get-execution-history --output json` (or a JSON list of events), or a
bundle saved with --save-bundle (replayed offline, no AWS call). A file TARGET may be - (stdin)
or a pipe: `sfn-trace <(aws stepfunctions get-execution-history ...) --field F`.

\b
Examples:
  sfn-trace arn:aws:states:us-west-2:123456789012:execution:line-ingest:8ee0d036 \\
      --field poll_results_s3_key
  sfn-trace history.json --definition definition.asl.json --field poll_results_s3_key
  sfn-trace history.json --field poll_results_s3_key --format json -o trace.json
  sfn-trace arn:aws:states:us-west-2:123456789012:express:ingest:run-7:5f1c... \\
      --field poll_results_s3_key          (Express: read from its CloudWatch Logs)
  sfn-trace <execution-arn> --field poll_results_s3_key --follow-children 10
  sfn-trace <execution-arn> --field poll_results_s3_key --confirm
      (ask AWS TestState to confirm the culprit states; every Task is mocked)

{EXIT_CODES_HELP}"""


@app.command("trace", cls=MainFormCommand, help=MAIN_HELP, epilog=SUBCOMMANDS_HELP)
@with_aws_options
def trace_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="Execution ARN, or a saved history file (- reads it from stdin).",
            show_default=False,
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
    output_format: Annotated[TraceFormat | None, FORMAT_OPTION] = None,
    output_file: OutputOption = None,
    aws: AwsOptions = DEFAULT_OPTIONS,
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
    all_visits: Annotated[
        bool,
        typer.Option(
            "--all-visits",
            help="One timeline row per visit in the table and the Markdown report (by default "
            "a run of visits of one state that say the same about the field is one row; CSV "
            "and JSON always have every visit).",
        ),
    ] = False,
    all_logs: Annotated[
        bool,
        typer.Option(
            "--all-logs",
            help="Show every Lambda invocation's log lines in the table (by default those of "
            "where the field went null, its last copy, the blame chain and the consumer).",
        ),
    ] = False,
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
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm",
            help="Ask AWS's own evaluator (states:TestState) to confirm the culprit states, "
            "every Task mocked with its recorded result (nothing is invoked).",
        ),
    ] = False,
    max_input_size: MaxInputOption = None,
    debug: DebugOption = False,
) -> None:
    # The pipeline is imported when a command runs, not for --help or --version.
    from sfn_trace import api
    from sfn_trace.report.lines import exit_reason

    fmt = default_format(output_format, TraceFormat)
    with guarded(debug):
        if logs and no_logs:
            raise UsageError("--logs and --no-logs contradict each other")
        # Before anything is read: no output may replace an input or another output, and
        # each must be writable (a long live fetch must not end in an unwritable path).
        output.check_outputs(
            [
                ("--output" if output_file is not None else "the report", output_file or "-"),
                ("--csv", csv_file),
                ("--report", report_file),
                ("--save-bundle", save_bundle),
            ],
            inputs=[
                ("TARGET", None if looks_like_arn(target) else target),
                ("--definition", definition),
                ("--expect-definition", expect_definition),
            ],
        )
        follow = parse_follow_children(follow_children) if follow_children is not None else None
        if (
            not looks_like_arn(target)
            and not logs
            and not confirm
            and (aws.region or aws.profile or aws.endpoint_url)
        ):
            output.err(
                "warning: --region/--profile/--endpoint-url only matter for a file with --logs "
                "or --confirm"
            )
        with HistoryProgress() as progress:
            run = api.trace(
                target,
                field,
                definition=definition,
                aws=dataclasses.replace(aws, on_retry=progress.on_retry),
                on_page=progress.on_page,
                on_total=progress.on_total,
                logs=not no_logs,
                file_logs=logs,
                express_log_group=express_log_group,
                follow_children=follow,
                redact=redact,
                expect_definition=expect_definition,
                confirm=confirm,
                max_input=max_input(max_input_size),
            )
        result = run.result
        output.warn(result.warnings)
        # Everything is rendered before anything is written: a failure leaves no file.
        options = RenderOptions(
            log_lines=log_lines,
            target=target,
            definition=str(definition) if definition else None,
            all_visits=all_visits,
            all_logs=all_logs,
        )
        files: list[tuple[Path, output.Content]] = []
        if csv_file is not None:
            files.append((csv_file, api.render(result, TraceFormat.CSV, options)))
        if report_file is not None:
            markdown = api.render(result, TraceFormat.MARKDOWN, options)
            files.append((report_file, markdown))
        if save_bundle is not None:
            bundle = api.bundle(
                run, command=("sfn-trace", *sys.argv[1:]), compress=save_bundle.name.endswith(".gz")
            )
            files.append((save_bundle, bundle))
        output.deliver(api.render(result, fmt, options), output_file, files)
    output.exit_with(result.exit_code, exit_reason(Command.TRACE, result))


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
