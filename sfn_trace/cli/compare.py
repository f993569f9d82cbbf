"""``sfn-trace compare GOOD BAD --field F``: where does a bad run part from a good one?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sfn_trace import api
from sfn_trace.checks.compare import Comparison, compare
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
from sfn_trace.model.arn import looks_like_arn
from sfn_trace.report.compare_report import CompareFormat, compare_renderer_for
from sfn_trace.sources.bundle import write_atomically
from sfn_trace.trace import analyze

MAX_NAMED = 3
"""Visits named in the exit-4 line; the report lists them all."""

COMPARE_HELP = """Compare how a field flows through a good and a bad execution.

GOOD and BAD are execution ARNs or saved history files (any mix). Both are traced, their
visits are aligned by state name and scope (Map iterations by index, Parallel branches by
their first state, a loop's passes in order; retries stay inside one visit), and the report
names the first state, in the bad run's order, where the field's status (set, null, mixed,
missing) differs, with both runs' input and output side by side, then the states only one
run visited (other Choice branches, extra Map iterations).

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


@app.command("compare", help=COMPARE_HELP)
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
    output_format: Annotated[
        CompareFormat | None,
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
    fmt = output_format or (CompareFormat.TABLE if sys.stdout.isatty() else CompareFormat.JSON)
    with guarded(debug):
        if not field:
            raise UsageError("--field must not be empty")
        targets = (good, bad)
        if definition is not None and all(looks_like_arn(t) for t in targets):
            err("warning: --definition is only used for history files; ARNs use the one that ran")
        aws = aws_options(region, profile, endpoint_url, max_attempts)
        results = []
        for name, target in zip(("good", "bad"), targets, strict=True):
            # Lambda logs do not change a status: not fetched, the comparison stays quick.
            data = api.load(
                target,
                definition=None if looks_like_arn(target) else definition,
                options=aws,
                logs=False,
            )
            result = analyze(data, field)
            for warning in result.warnings:
                err(f"warning: {name} run: {warning}")
            results.append(result)
        comparison = compare(results[0], results[1], sources=targets)
        for warning in comparison.warnings:
            err(f"warning: {warning}")
        text = compare_renderer_for(fmt).render(comparison)
        if output is not None:
            write_atomically(output, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    exit_with(comparison.exit_code, _exit_reason(comparison))


def _exit_reason(comparison: Comparison) -> str:
    """Exit 4: no divergence where both runs could be seen; which visits could not be
    compared, and in which documents."""
    pairs = comparison.undetermined
    named = [f"{p.label} ({', '.join(p.undetermined)})" for p in pairs[:MAX_NAMED]]
    if len(pairs) > MAX_NAMED:
        named.append(f"+{len(pairs) - MAX_NAMED} more")
    return (
        f"incomplete: no divergence where both runs could be seen, but {len(pairs)} "
        f"visit{'s' if len(pairs) != 1 else ''} could not be compared (one run's document "
        f"was not seen): {', '.join(named)}"
    )


mention_in_main_help(
    "sfn-trace compare GOOD BAD --field NAME", "where a bad run parts from a good one"
)
