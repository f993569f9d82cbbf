"""The library entry points: everything the CLI does, without the CLI.

>>> from sfn_trace.api import trace_file
>>> result = trace_file("history.json", "poll_results_s3_key", definition="definition.json")
>>> result.verdict, result.first_null.visit.state
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from sfn_trace.errors import UsageError
from sfn_trace.model.arn import looks_like_arn
from sfn_trace.model.definition import Definition
from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.options import FollowChildren
from sfn_trace.sources.target import load_target_file
from sfn_trace.trace import TraceResult, analyze
from sfn_trace.trace.invocations import all_invocations
from sfn_trace.trace.visits import build_visits

if TYPE_CHECKING:
    from sfn_trace.sources.aws import AwsOptions, ProgressCallback


def load(
    target: str | Path,
    *,
    definition: str | Path | None = None,
    options: AwsOptions | None = None,
    on_page: ProgressCallback | None = None,
    logs: bool = True,
    file_logs: bool = False,
    express_log_group: str | None = None,
    follow_children: FollowChildren | None = None,
) -> ExecutionData:
    """The execution behind TARGET: an execution ARN (fetched, with Lambda logs unless
    ``logs`` is false), or a saved history or bundle (no AWS call unless ``file_logs`` or
    ``follow_children``).

    ``definition`` replaces the definition that came with the execution. An Express ARN, or
    any ARN with ``express_log_group``, is read from the execution records in CloudWatch Logs.
    ``follow_children`` (a count or ``"all"``) fetches the child executions of the history's
    Distributed Map runs; without it a live trace only describes the Map Runs.
    """
    if isinstance(target, str) and looks_like_arn(target):
        data = fetch(target, options, on_page, express_log_group=express_log_group)
        if definition is not None:
            data = dataclasses.replace(data, definition=Definition.from_file(definition))
        if logs:
            data = with_lambda_logs(data, _options(options))
        return with_map_runs(data, _options(options), follow_children)
    if express_log_group is not None:
        raise UsageError("--express-log-group needs an execution ARN as TARGET, not a file")
    if not Path(target).exists():
        raise UsageError(
            f"{str(target)!r} is neither an execution ARN "
            "(arn:aws:states:REGION:ACCOUNT:execution:...) nor an existing file"
        )
    data = load_target_file(target, definition)
    if file_logs and data.lambda_logs is None:
        data = with_lambda_logs(data, _options(options))
    if follow_children is not None:
        data = with_map_runs(data, _options(options), follow_children)
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
    *,
    express_log_group: str | None = None,
    follow_children: FollowChildren | None = None,
) -> TraceResult:
    """Fetch an execution from AWS and trace ``field`` through it.

    ``definition`` replaces the definition DescribeStateMachineForExecution returned;
    ``logs=False`` skips the Lambda log lines. ``express_log_group`` and ``follow_children``
    are ``--express-log-group`` and ``--follow-children`` (see :func:`load`).
    """
    data = load(
        arn,
        definition=definition,
        options=options,
        on_page=on_page,
        logs=logs,
        express_log_group=express_log_group,
        follow_children=follow_children,
    )
    return analyze(data, field)


def fetch(
    arn: str,
    options: AwsOptions | None = None,
    on_page: ProgressCallback | None = None,
    *,
    express_log_group: str | None = None,
) -> ExecutionData:
    """Fetch an execution from AWS (history, description, the definition that ran).

    An Express ARN, or any ARN with ``express_log_group``, is read from the state machine's
    CloudWatch Logs execution records (:mod:`sfn_trace.sources.aws.express`).
    """
    # Imported here so that offline use never pays for importing boto3.
    from sfn_trace.sources.aws import fetch_execution

    if express_log_group is not None:
        from sfn_trace.sources.aws.express import fetch_express_execution

        return fetch_express_execution(
            arn, _options(options), log_group=express_log_group, on_page=on_page
        )
    return fetch_execution(arn, _options(options), on_page=on_page)


def with_map_runs(
    data: ExecutionData, options: AwsOptions, follow: FollowChildren | None
) -> ExecutionData:
    """``data`` with its Distributed Map runs described (DescribeMapRun) and, when ``follow``
    is given, their first ``follow`` child executions (or ``"all"``) fetched."""
    if not any(e.type == "MapRunStarted" for e in data.events):
        return data
    from sfn_trace.sources.aws.maprun import follow_map_runs

    return follow_map_runs(data, options, follow)


def with_lambda_logs(data: ExecutionData, options: AwsOptions) -> ExecutionData:
    """``data`` with the log lines of every Lambda invocation its history made."""
    from sfn_trace.model.arn import parse_execution_arn
    from sfn_trace.sources.aws.client import default_region
    from sfn_trace.sources.aws.logs import fetch_lambda_logs

    region = options.region
    if region is None and data.info.arn and looks_like_arn(data.info.arn):
        region = parse_execution_arn(data.info.arn).region
    invocations = all_invocations(build_visits(data.events, data.definition).visits)
    logs = fetch_lambda_logs(invocations, options, region or default_region(options))
    return dataclasses.replace(data, lambda_logs=logs)


def _options(options: AwsOptions | None) -> AwsOptions:
    from sfn_trace.model.options import AwsOptions

    return options or AwsOptions()
