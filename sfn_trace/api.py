"""The library entry points: everything the CLI does, without the CLI.

>>> from sfn_trace.api import trace_file
>>> result = trace_file("history.json", "poll_results_s3_key", definition="definition.json")
>>> result.verdict, result.first_null.visit.state
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from sfn_trace.arn import looks_like_arn
from sfn_trace.definition import Definition
from sfn_trace.errors import UsageError
from sfn_trace.execution import ExecutionData
from sfn_trace.sources import load_target_file
from sfn_trace.trace import TraceResult, analyze
from sfn_trace.trace.invocations import all_invocations
from sfn_trace.trace.visits import build_visits

if TYPE_CHECKING:
    from sfn_trace.fetch import AwsOptions, ProgressCallback


def load(
    target: str | Path,
    *,
    definition: str | Path | None = None,
    options: AwsOptions | None = None,
    on_page: ProgressCallback | None = None,
    logs: bool = True,
    file_logs: bool = False,
) -> ExecutionData:
    """The execution behind TARGET: an execution ARN (fetched, with Lambda logs unless
    ``logs`` is false), or a saved history or bundle (no AWS call unless ``file_logs``).

    ``definition`` replaces the definition that came with the execution.
    """
    if isinstance(target, str) and looks_like_arn(target):
        data = fetch(target, options, on_page)
        if definition is not None:
            data = dataclasses.replace(data, definition=Definition.from_file(definition))
        if logs:
            data = with_lambda_logs(data, _options(options))
        return data
    if not Path(target).exists():
        raise UsageError(
            f"{str(target)!r} is neither an execution ARN "
            "(arn:aws:states:REGION:ACCOUNT:execution:...) nor an existing file"
        )
    data = load_target_file(target, definition)
    if file_logs and data.lambda_logs is None:
        data = with_lambda_logs(data, _options(options))
    return data


def trace_file(
    path: str | Path,
    field: str,
    definition: str | Path | None = None,
    logs: AwsOptions | None = None,
) -> TraceResult:
    """Trace ``field`` through a saved history or bundle.

    No AWS call unless ``logs`` is given: then the Lambda log lines are fetched with those
    options (the normal credential chain).
    """
    data = load(path, definition=definition, options=logs, file_logs=logs is not None)
    return analyze(data, field)


def trace_execution(
    arn: str,
    field: str,
    options: AwsOptions | None = None,
    on_page: ProgressCallback | None = None,
    definition: str | Path | None = None,
    logs: bool = True,
) -> TraceResult:
    """Fetch an execution from AWS and trace ``field`` through it.

    ``definition`` replaces the definition DescribeStateMachineForExecution returned;
    ``logs=False`` skips the Lambda log lines.
    """
    data = load(arn, definition=definition, options=options, on_page=on_page, logs=logs)
    return analyze(data, field)


def fetch(
    arn: str,
    options: AwsOptions | None = None,
    on_page: ProgressCallback | None = None,
) -> ExecutionData:
    """Fetch an execution from AWS (history, description, the definition that ran)."""
    # Imported here so that offline use never pays for importing boto3.
    from sfn_trace.fetch import fetch_execution

    return fetch_execution(arn, _options(options), on_page=on_page)


def with_lambda_logs(data: ExecutionData, options: AwsOptions) -> ExecutionData:
    """``data`` with the log lines of every Lambda invocation its history made."""
    from sfn_trace.arn import parse_execution_arn
    from sfn_trace.fetch.aws import default_region
    from sfn_trace.fetch.logs import fetch_lambda_logs

    region = options.region
    if region is None and data.info.arn and looks_like_arn(data.info.arn):
        region = parse_execution_arn(data.info.arn).region
    invocations = all_invocations(build_visits(data.events, data.definition).visits)
    logs = fetch_lambda_logs(invocations, options, region or default_region(options))
    return dataclasses.replace(data, lambda_logs=logs)


def _options(options: AwsOptions | None) -> AwsOptions:
    from sfn_trace.fetch import AwsOptions

    return options or AwsOptions()
