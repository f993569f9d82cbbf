"""The options several commands share, declared once: the field, the report format and
file, ``--debug``, the AWS options (``with_aws_options``), and how a message names an
option (``FLAGS``)."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from sfn_trace.errors import Named, TraceCall, UsageError
from sfn_trace.model.options import DEFAULT_TIMEOUT, MAX_INPUT, AwsOptions, parse_size

# The options every command that reads AWS shares, declared once.
RegionOption = Annotated[
    str | None, typer.Option("--region", help="AWS region [default: the ARN's region].")
]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="AWS profile.")]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Step Functions endpoint (e.g. a local emulator); AWS_ENDPOINT_URL also works.",
    ),
]
MaxAttemptsOption = Annotated[
    int,
    typer.Option("--max-attempts", min=1, help="Attempts per AWS request (standard retries)."),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=1,
        metavar="SECONDS",
        help="Give up when an AWS request gets no answer for SECONDS, retries included (any "
        "answer, even throttling, restarts the clock; each page of a long read has its own).",
    ),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
FieldOption = Annotated[
    str,
    typer.Option(
        "--field", "-f", metavar="NAME", help="The JSON field to track (a key, at any depth)."
    ),
]
FORMAT_OPTION = typer.Option(
    "--format",
    case_sensitive=False,
    help="Report format [default: table on a terminal, json otherwise].",
    show_default=False,
)
"""``--format`` of the commands whose default depends on the terminal; each command gives
its own choices (:data:`sfn_trace.report.registry.FORMATS`)."""

MaxInputOption = Annotated[
    str | None,
    typer.Option(
        "--max-input-size",
        metavar="SIZE",
        help="Read at most SIZE bytes of JSON from a file, pipe or stdin, after gzip inflation "
        "(e.g. 4GiB) [default: 1GiB].",
        show_default=False,
    ),
]


def max_input(text: str | None) -> int:
    """``--max-input-size`` in bytes (:data:`~sfn_trace.model.options.MAX_INPUT` when not
    given); a value that is not a size is a usage error."""
    if text is None:
        return MAX_INPUT
    try:
        return parse_size(text)
    except ValueError as error:
        raise UsageError(f"--max-input-size: {error}") from None


FLAGS = {
    "field": "--field",
    "definition": "--definition",
    "expect_definition": "--expect-definition",
    "confirm": "--confirm",
    "express_log_group": "--express-log-group",
    "follow_children": "--follow-children",
    "redact": "--redact",
    "file_logs": "--logs",
    "max_input": "--max-input-size",
    "since": "--since",
    "until": "--until",
    "limit": "--limit",
    "status": "--status",
    "region": "--region",
    "profile": "--profile",
    "profiles": "--account-profile",
    "endpoint_url": "--endpoint-url",
    "max_attempts": "--max-attempts",
    "timeout": "--timeout",
    "severity": "--severity",
    "config": "--config",
    "checkpoint": "--checkpoint",
    "rate": "--rate",
}
"""Each option the library names in a message (by its ``api`` keyword or ``AwsOptions``
field), as the command line names it: the one table from the library's words to the flags."""


def flag_naming(part: Named) -> str:
    """How the command line words what a library message names: an option as its flag, a
    suggestion to trace an ARN as the command that does it."""
    if isinstance(part, TraceCall):
        command = f"sfn-trace {part.target} --field F"
        return f"{command} --debug shows the traceback" if part.debug else command
    return FLAGS.get(part.name) or part.library()


OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the report to FILE (only after success)."),
]


_AWS_PARAMETERS = (
    inspect.Parameter(
        "region", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=RegionOption
    ),
    inspect.Parameter(
        "profile", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ProfileOption
    ),
    inspect.Parameter(
        "endpoint_url", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=EndpointOption
    ),
    inspect.Parameter(
        "max_attempts", inspect.Parameter.KEYWORD_ONLY, default=10, annotation=MaxAttemptsOption
    ),
    inspect.Parameter(
        "timeout",
        inspect.Parameter.KEYWORD_ONLY,
        default=round(DEFAULT_TIMEOUT),  # an int shows as "90" in --help; click makes it 90.0
        annotation=TimeoutOption,
    ),
)

Command = TypeVar("Command", bound=Callable[..., Any])


def with_aws_options(command: Command) -> Command:
    """Declare the AWS options once for every command that reads AWS: the command's
    ``aws: AwsOptions`` parameter becomes ``--region``, ``--profile``, ``--endpoint-url``,
    ``--max-attempts`` and ``--timeout`` at its place in the help, and the command receives
    them as one :class:`~sfn_trace.model.options.AwsOptions` (boto3's normal resolution for
    each one left out)."""
    signature = inspect.signature(command, eval_str=True)
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name == "aws":
            parameters.extend(_AWS_PARAMETERS)
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    @functools.wraps(command)
    def parsed(
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = 10,
        timeout: float = DEFAULT_TIMEOUT,
        **options: Any,
    ) -> Any:
        aws = AwsOptions(
            region=region,
            profile=profile,
            endpoint_url=endpoint_url,
            max_attempts=max_attempts,
            timeout=timeout,
        )
        return command(aws=aws, **options)

    parsed.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    parsed.__annotations__ = {p.name: p.annotation for p in parameters}
    return parsed  # type: ignore[return-value]


FormatT = TypeVar("FormatT", bound=Enum)


def default_format(chosen: FormatT | None, formats: type[FormatT]) -> FormatT:
    """``--format``, or by default a table on a terminal and JSON otherwise (a pipe)."""
    if chosen is not None:
        return chosen
    return formats("table" if sys.stdout.isatty() else "json")
