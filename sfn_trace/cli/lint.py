"""``sfn-trace lint DEFINITION... --field F``: find the seed's bug class before it ships."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from sfn_trace.checks.lint import lint_files
from sfn_trace.cli.app import DebugOption, app, err, guarded
from sfn_trace.cli.subcommands import mention_in_main_help
from sfn_trace.errors import ExitCode, UsageError
from sfn_trace.report.lint.text import render_json, render_table

LINT_HELP = """Find paths where a state reads FIELD but an earlier state can drop it.

From the definition alone: for every path from StartAt to a state that reads the field
(a `.$` expression or JSONata that references it), report the states before it on that
path that can drop it: Parameters without it, ResultPath overwriting its parent, OutputPath
narrowing, a Catch with ResultPath "$", or a copy that depends on a Lambda returning it.

Several DEFINITION files are checked in turn (as pre-commit passes them). --format sarif
writes one SARIF 2.1.0 log for them all, each finding at the key of the state that can
drop the field, for code scanning.

\b
Example:
  sfn-trace lint line_workflow.asl.json --field poll_results_s3_key
  sfn-trace lint statemachines/*.asl.json -f poll_results_s3_key --format sarif > lint.sarif

\b
Exit codes: 0 no such path, 1 findings, 2 an unreadable definition (one line each on
stderr; the others are still checked and reported).
"""


class LintFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"


@app.command("lint", help=LINT_HELP)
def lint_command(
    definitions: Annotated[
        list[Path],
        typer.Argument(metavar="DEFINITION", help="ASL definitions (JSON) to check."),
    ],
    field: Annotated[
        str, typer.Option("--field", "-f", metavar="NAME", help="The JSON field to check.")
    ],
    output_format: Annotated[
        LintFormat, typer.Option("--format", case_sensitive=False, help="Output format.")
    ] = LintFormat.TABLE,
    debug: DebugOption = False,
) -> None:
    with guarded(debug):
        if not field:
            raise UsageError("--field must not be empty")
        linted = lint_files(definitions, field)
        unreadable = [each for each in linted if each.error is not None]
        for each in unreadable:
            err(f"error: {each.error}")
        if len(linted) > 1 or not unreadable:
            if output_format is LintFormat.SARIF:
                from sfn_trace.report.lint.sarif import render_sarif

                sys.stdout.write(render_sarif(linted, field))
            elif output_format is LintFormat.JSON:
                sys.stdout.write(render_json(linted, field))
            else:
                sys.stdout.write(render_table(linted, field))
    if unreadable:
        raise typer.Exit(ExitCode.USAGE)
    raise typer.Exit(ExitCode.FINDING if any(e.findings for e in linted) else ExitCode.INTACT)


mention_in_main_help(
    "sfn-trace lint DEFINITION... --field NAME", "paths where the field can be dropped before use"
)
