"""``sfn-trace lint DEFINITION... --field F``: find the seed's bug class before it ships (a
DEFINITION is a file, or a state machine ARN whose definition is read from AWS)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sfn_trace.cli import output
from sfn_trace.cli.app import SubCommand, app, guarded
from sfn_trace.cli.options import DebugOption, MaxInputOption, max_input, with_aws_options
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions
from sfn_trace.report.registry import Command, LintFormat

CONVENTIONAL_CONFIG = Path(".sfn-trace.json")
"""Read when ``--config`` is not given and it exists (docs/lint.md)."""

LINT_HELP = """Find paths where a state reads FIELD but an earlier state can drop it.

From the definition alone: for every path from StartAt to a state that reads the field
(a `.$` expression or JSONata that references it), report the states before it on that
path that can drop it: Parameters without it, ResultPath overwriting its parent, OutputPath
narrowing, a Catch with ResultPath "$", or a copy that depends on a Lambda returning it.

Several DEFINITION files are checked in turn (as pre-commit passes them). --format sarif
writes one SARIF 2.1.0 log for them all, each finding at the key of the state that can
drop the field, for code scanning.

A DEFINITION may also be a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME,
or a version or alias ARN, ...:NAME:3 or ...:NAME:PROD): its definition is read from AWS
with DescribeStateMachine (IAM permission states:DescribeStateMachine), in the ARN's region
unless --region says otherwise, and the report names the ARN.

\b
Example:
  sfn-trace lint line_workflow.asl.json --field poll_results_s3_key
  sfn-trace lint statemachines/*.asl.json -f poll_results_s3_key --format sarif > lint.sarif
  sfn-trace lint arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest:PROD \\
      --field poll_results_s3_key

Findings are grouped: one per state and step that can drop the field, listing every
reader it affects. A definite drop is an error; a field that survives only if a task
returns it is a warning. --severity error fails only on errors. A state whose Comment
holds "sfn-trace: ignore RULE" (a rule id, or all) suppresses its findings of that rule;
so do the "ignore" entries of --config FILE (default: .sfn-trace.json, if present).
Suppressed findings are still reported, and do not count toward the exit code.

\b
Exit codes:
  0  nothing at or above --severity
  1  findings
  2  bad usage (malformed ARN), an unreadable definition or config file
  3  an AWS error reading a state machine (not found, access denied, throttled, ...)
  130 interrupted (Ctrl-C)
Each unreadable definition gets one line on stderr; the others are still checked.
"""


@app.command("lint", cls=SubCommand, help=LINT_HELP)
@with_aws_options
def lint_command(
    definitions: Annotated[
        list[str],
        typer.Argument(
            metavar="DEFINITION",
            help="ASL definitions (JSON files) or state machine ARNs to check.",
        ),
    ],
    field: Annotated[
        str, typer.Option("--field", "-f", metavar="NAME", help="The JSON field to check.")
    ],
    output_format: Annotated[
        LintFormat, typer.Option("--format", case_sensitive=False, help="Output format.")
    ] = LintFormat.TABLE,
    severity: Annotated[
        str | None,
        typer.Option(
            "--severity",
            metavar="LEVEL",
            help="Exit 1 only for findings at or above LEVEL: warning or error "
            "[default: the config file's, else warning].",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="A JSON file with lint settings and suppressions (see docs/lint.md) "
            "[default: .sfn-trace.json if present].",
        ),
    ] = None,
    max_input_size: MaxInputOption = None,
    aws: AwsOptions = DEFAULT_OPTIONS,
    debug: DebugOption = False,
) -> None:
    # The pipeline is imported when a command runs, not for --help or --version.
    from sfn_trace import api
    from sfn_trace.report.lines import exit_reason

    with guarded(debug):
        if config is None and CONVENTIONAL_CONFIG.is_file():
            config = CONVENTIONAL_CONFIG
        report = api.lint(
            definitions,
            field,
            max_input(max_input_size),
            severity=severity,
            config=config,
            aws=aws,
        )
        for each in report.unreadable:
            output.err(f"error: {each.error}")
        # One unreadable definition alone leaves nothing to report.
        if len(report.definitions) > 1 or not report.unreadable:
            output.deliver(api.render(report, output_format), None)
    output.exit_with(report.exit_code, exit_reason(Command.LINT, report))
