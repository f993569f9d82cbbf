"""The library entry points: everything the CLI does, without the CLI.

>>> from sfn_trace.api import trace_file
>>> result = trace_file("history.json", "poll_results_s3_key", definition="definition.json")
>>> result.verdict, result.first_null.visit.state
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sfn_trace.definition import Definition
from sfn_trace.execution import ExecutionData
from sfn_trace.sources import load_history_file
from sfn_trace.trace import TraceResult, analyze

if TYPE_CHECKING:
    from sfn_trace.fetch import AwsOptions, ProgressCallback


def trace_file(path: str | Path, field: str, definition: str | Path | None = None) -> TraceResult:
    """Trace ``field`` through a saved history file (no AWS call)."""
    return analyze(load_history_file(path, definition), field)


def fetch(
    arn: str,
    options: AwsOptions | None = None,
    on_page: ProgressCallback | None = None,
) -> ExecutionData:
    """Fetch an execution from AWS (history, description, the definition that ran)."""
    # Imported here so that offline use never pays for importing boto3.
    from sfn_trace.fetch import AwsOptions, fetch_execution

    return fetch_execution(arn, options or AwsOptions(), on_page=on_page)


def trace_execution(
    arn: str,
    field: str,
    options: AwsOptions | None = None,
    on_page: ProgressCallback | None = None,
    definition: str | Path | None = None,
) -> TraceResult:
    """Fetch an execution from AWS and trace ``field`` through it.

    ``definition`` replaces the definition DescribeStateMachineForExecution returned.
    """
    data = fetch(arn, options, on_page)
    if definition is not None:
        data = ExecutionData(
            info=data.info,
            events=data.events,
            definition=Definition.from_file(definition),
            source=data.source,
            warnings=data.warnings,
        )
    return analyze(data, field)
