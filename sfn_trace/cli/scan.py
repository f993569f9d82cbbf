"""``sfn-trace scan STATE_MACHINE_ARN --field F``: how many executions lost it, and where?"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from sfn_trace.cli import output
from sfn_trace.cli.app import SubCommand, app, guarded
from sfn_trace.cli.options import (
    FORMAT_OPTION,
    DebugOption,
    FieldOption,
    OutputOption,
    default_format,
    with_aws_options,
)
from sfn_trace.cli.progress import ScanProgressBar
from sfn_trace.errors import UsageError
from sfn_trace.model.options import DEFAULT_OPTIONS, DEFAULT_SCAN_LIMIT, AwsOptions
from sfn_trace.report.registry import Command, ScanFormat

DEFAULT_LIMIT = DEFAULT_SCAN_LIMIT

SCAN_HELP = f"""Trace a field through the recent executions of a state machine.

Lists the executions of STATE_MACHINE_ARN (ListExecutions, newest first), traces the field
through each one's history, and prints one row per execution (start, name, status, verdict,
where the field went null, where the last copy went), then how many lost the field and a
histogram of the states where it went null.

Several --status values are listed one status at a time and merged by start date; --since
stops the listing at the first older execution. Histories are fetched while the listing
goes on, as fast as the GetExecutionHistory quota allows (a bucket of 400 calls, refilled
at 20 a second, as AWS documents; --rate when AWS raised it); a throttle is retried, never
an error, and the scan settles at the rate the account actually grants. An execution that
cannot be read gets its error in its row and the scan goes on. Lambda logs and the
definition are not read: run `sfn-trace EXECUTION_ARN --field F` on a row for the full
explanation.

--format jsonl writes one line per execution as soon as it is judged, then a tally line;
only the tally is kept in memory. --checkpoint FILE records each judged execution: run the
same command again after Ctrl-C or a crash and only what is left is fetched.

\b
Examples:
  sfn-trace scan arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest \\
      --field poll_results_s3_key --since 24h
  sfn-trace scan arn:...:stateMachine:line-ingest --field poll_results_s3_key \\
      --status SUCCEEDED,FAILED --since 2025-11-17 --until 2025-11-18 --format csv > scan.csv
  sfn-trace scan arn:...:stateMachine:line-ingest --field poll_results_s3_key --since 7d \\
      --limit 10000 --format jsonl --checkpoint scan.ckpt > scan.jsonl

\b
Exit codes:
  0  every execution scanned kept the field (or none matched)
  1  at least one execution lost the field (lost, never set, or never present)
  2  bad usage (malformed ARN, unknown status, unreadable time)
  3  an AWS error on the listing (state machine not found, access denied, ...)
  4  none lost it, but some could not be read or traced to a verdict
  130 interrupted (Ctrl-C)

Several STATE_MACHINE_ARNs are scanned at once, the newest --limit of each: their listings
are read in turn and every account and region spends its own GetExecutionHistory bucket, so
a scan across accounts goes at the sum of their quotas (inside one account the quota is the
bound). The tally says how many executions of each state machine lost the field.
--account-profile ACCOUNT=PROFILE reads one account's state machines with its own profile
(repeat it for each account); the others use --profile (or the default credentials).

--limit defaults to {DEFAULT_LIMIT}: the newest executions that match are scanned.
"""


@app.command("scan", cls=SubCommand, help=SCAN_HELP)
@with_aws_options
def scan_command(
    state_machine_arns: Annotated[
        list[str],
        typer.Argument(
            metavar="STATE_MACHINE_ARN",
            help="arn:aws:states:REGION:ACCOUNT:stateMachine:NAME (a version or alias ARN "
            "lists only its executions); several are scanned at once, each account and "
            "region at its own quota.",
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
    output_format: Annotated[ScanFormat | None, FORMAT_OPTION] = None,
    output_file: OutputOption = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="Record each judged execution in FILE; the same command with the same FILE "
            "resumes, fetching only what is left.",
            show_default=False,
        ),
    ] = None,
    follow_children: Annotated[
        str | None,
        typer.Option(
            "--follow-children",
            metavar="N|all",
            help="Also read each execution's Distributed Map children (at most N each, or "
            "all); their history pages take tokens from the same quota.",
            show_default=False,
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            metavar="N",
            help="GetExecutionHistory calls per second the account is granted, when AWS "
            "raised its quota [default: 20, as AWS documents].",
            show_default=False,
        ),
    ] = None,
    account_profiles: Annotated[
        list[str] | None,
        typer.Option(
            "--account-profile",
            metavar="ACCOUNT=PROFILE",
            help="Read the state machines of this 12-digit AWS account with this profile "
            "(repeat for each account) [default: --profile for every account].",
            show_default=False,
        ),
    ] = None,
    aws: AwsOptions = DEFAULT_OPTIONS,
    debug: DebugOption = False,
) -> None:
    # The pipeline is imported when a command runs, not for --help or --version.
    from sfn_trace import api
    from sfn_trace.cli.trace import parse_follow_children
    from sfn_trace.report.lines import exit_reason, scan_summary

    fmt = default_format(output_format, ScanFormat)
    streamed = fmt is ScanFormat.JSONL
    with guarded(debug):
        profiles = profiles_from_text(account_profiles or ())
        outputs = [("--output", output_file), ("--checkpoint", checkpoint)]
        output.check_outputs(outputs)  # before the listing, not after
        with (
            ScanProgressBar() as progress,
            output.Lines(output_file if streamed else None) as lines,
        ):
            on_row = progress.on_row
            if streamed:
                from sfn_trace.report.scan.jsonl import line

                def on_row(row: Any) -> None:
                    lines.write(line(row))
                    if progress.on_row is not None:
                        progress.on_row(row)

            result = api.scan(
                state_machine_arns,
                field,
                status=status,
                since=since,
                until=until,
                limit=limit,
                aws=dataclasses.replace(aws, on_retry=progress.on_retry),
                on_row=on_row,
                on_stats=progress.on_stats,
                keep_rows=not streamed,
                checkpoint=checkpoint,
                rate=rate,
                follow_children=(
                    parse_follow_children(follow_children) if follow_children is not None else None
                ),
                profiles=profiles,
            )
            if streamed:
                from sfn_trace.report.scan.jsonl import tally_line

                lines.write(tally_line(result))
                lines.finish()
        if not result.totals.executions:
            output.err("no execution matched: nothing to scan")
        elif result.truncated:
            each = " of each state machine" if result.query.several else ""
            output.err(
                f"note: more executions matched; only the newest {limit}{each} were scanned "
                "(--limit)"
            )
        if not streamed:
            text = api.render(result, fmt)
            if fmt is ScanFormat.CSV:  # stdout holds rows only: the summary goes to stderr
                for summary in scan_summary(result):
                    output.err(summary)
            output.deliver(text, output_file)
    output.exit_with(result.exit_code, exit_reason(Command.SCAN, result))


def profiles_from_text(values: Sequence[str]) -> dict[str, str]:
    """``--account-profile ACCOUNT=PROFILE``, each given: account id -> profile. The same
    account twice is refused unless with the same profile; the accounts themselves are
    checked against the ARNs by the library (:func:`sfn_trace.api.scan`)."""
    profiles: dict[str, str] = {}
    for value in values:
        account, equals, profile = value.partition("=")
        account, profile = account.strip(), profile.strip()
        if not (equals and account and profile):
            raise UsageError(
                f"--account-profile takes ACCOUNT=PROFILE (a 12-digit AWS account id, an AWS "
                f"profile name), not {value!r}"
            )
        if profiles.get(account, profile) != profile:
            raise UsageError(
                f"--account-profile: account {account!r} is given two profiles, "
                f"{profiles[account]!r} and {profile!r}"
            )
        profiles[account] = profile
    return profiles
