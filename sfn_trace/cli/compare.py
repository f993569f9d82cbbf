"""``sfn-trace compare GOOD BAD --field F``: where does a bad run part from a good one?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sfn_trace.cli import output
from sfn_trace.cli.app import SubCommand, app, guarded
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
from sfn_trace.errors import UsageError
from sfn_trace.model.arn import looks_like_arn
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions
from sfn_trace.report.registry import Command, CompareFormat

COMPARE_HELP = """Compare how a field flows through a good and a bad execution.

GOOD and BAD are execution ARNs or saved history files (any mix; one may be - for stdin).
Both are traced, their visits are aligned by state name and scope (Map iterations by index,
Parallel branches by their first state, a loop's passes in order; retries stay inside one
visit), and the report names the first state, in the bad run's order, where the field's
status (set, null, mixed, missing) differs, with both runs' input and output side by side,
then the states only one run visited (other Choice branches, extra Map iterations).

\b
Examples:
  sfn-trace compare arn:aws:states:...:execution:line-ingest:good-run \\
      arn:aws:states:...:execution:line-ingest:bad-run --field poll_results_s3_key
  sfn-trace compare good.json bad.json --definition definition.asl.json \\
      --field poll_results_s3_key --format json

\b
Exit codes:
  0  no divergence: the field has the same status wherever both runs went
  1  the field's status diverges (the report names where)
  2  bad usage or unreadable input
  3  an AWS error (not found, access denied, throttled past retries, unreachable)
  4  no divergence where both could be seen, but some visit could not be compared
  130 interrupted (Ctrl-C)
"""


@app.command("compare", cls=SubCommand, help=COMPARE_HELP)
@with_aws_options
def compare_command(
    good: Annotated[
        str,
        typer.Argument(metavar="GOOD", help="Execution ARN or history file of the good run."),
    ],
    bad: Annotated[
        str,
        typer.Argument(metavar="BAD", help="Execution ARN or history file of the bad run."),
    ],
    field: FieldOption,
    definition: Annotated[
        Path | None,
        typer.Option(
            "--definition",
            help="ASL definition for history files (an ARN uses the definition that ran).",
        ),
    ] = None,
    output_format: Annotated[CompareFormat | None, FORMAT_OPTION] = None,
    output_file: OutputOption = None,
    aws: AwsOptions = DEFAULT_OPTIONS,
    max_input_size: MaxInputOption = None,
    debug: DebugOption = False,
) -> None:
    # The pipeline is imported when a command runs, not for --help or --version.
    from sfn_trace import api
    from sfn_trace.report.lines import exit_reason

    fmt = default_format(output_format, CompareFormat)
    with guarded(debug):
        if good == bad == output.STDOUT:
            raise UsageError("GOOD and BAD cannot both be read from stdin (-)")
        # Before anything is read: the report must not replace a run or the definition.
        output.check_outputs(
            [("--output" if output_file is not None else "the report", output_file or "-")],
            inputs=[
                ("GOOD", None if looks_like_arn(good) else good),
                ("BAD", None if looks_like_arn(bad) else bad),
                ("--definition", definition),
            ],
        )
        if definition is not None and all(looks_like_arn(t) for t in (good, bad)):
            output.err(
                "warning: --definition is only used for history files; ARNs use the one that ran"
            )
        comparison = api.compare(
            good,
            bad,
            field,
            definition=definition,
            aws=aws,
            max_input=max_input(max_input_size),
        )
        output.warn(comparison.good.warnings, about="good run: ")
        output.warn(comparison.bad.warnings, about="bad run: ")
        output.warn(comparison.warnings)
        output.deliver(api.render(comparison, fmt), output_file)
    output.exit_with(comparison.exit_code, exit_reason(Command.COMPARE, comparison))
