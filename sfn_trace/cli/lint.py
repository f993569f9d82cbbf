"""``sfn-trace lint DEFINITION --field F``: find the seed's bug class before it ships."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from sfn_trace.cli.app import DebugOption, app, guarded
from sfn_trace.cli.subcommands import mention_in_main_help
from sfn_trace.definition import Definition
from sfn_trace.errors import ExitCode, UsageError
from sfn_trace.lint import LintFinding, lint

LINT_HELP = """Find paths where a state reads FIELD but an earlier state can drop it.

From the definition alone: for every path from StartAt to a state that reads the field
(a `.$` expression or JSONata that references it), report the states before it on that
path that can drop it: Parameters without it, ResultPath overwriting its parent, OutputPath
narrowing, a Catch with ResultPath "$", or a copy that depends on a Lambda returning it.

\b
Example:
  sfn-trace lint line_workflow.asl.json --field poll_results_s3_key

\b
Exit codes: 0 no such path, 1 findings, 2 unreadable definition.
"""


class LintFormat(str, Enum):
    TABLE = "table"
    JSON = "json"


@app.command("lint", help=LINT_HELP)
def lint_command(
    definition: Annotated[
        Path, typer.Argument(metavar="DEFINITION", help="ASL definition (JSON) to check.")
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
        findings = lint(Definition.from_file(definition), field)
        if output_format is LintFormat.JSON:
            text = json.dumps(
                {
                    "schema": "sfn-trace-lint/1",
                    "definition": str(definition),
                    "field": field,
                    "findings": [_finding_json(f) for f in findings],
                },
                indent=2,
            )
        else:
            text = _table(findings, field)
        sys.stdout.write(text + "\n")
    raise typer.Exit(ExitCode.FINDING if findings else ExitCode.INTACT)


def _finding_json(finding: LintFinding) -> dict[str, object]:
    return {
        "reader": finding.reader,
        "expression": finding.expression,
        "read": finding.read,
        "path": list(finding.path),
        "dropper": finding.dropper,
        "reason": finding.reason,
        "hint": finding.hint,
    }


def _table(findings: list[LintFinding], field: str) -> str:
    if not findings:
        return f"No path lets a state drop {field} before a state that reads it."
    lines = [f"{len(findings)} way(s) {field} can be dropped before it is read:"]
    for number, finding in enumerate(findings, start=1):
        lines += [
            "",
            f"{number}. {finding.reader} reads {finding.read}: {finding.expression}",
            f"   {finding.dropper} can drop it: {finding.reason}",
            f"   path: {' -> '.join(finding.path)}",
            f"   fix: {finding.hint}",
        ]
    return "\n".join(lines)


mention_in_main_help(
    "sfn-trace lint DEFINITION --field NAME", "paths where the field can be dropped before use"
)
