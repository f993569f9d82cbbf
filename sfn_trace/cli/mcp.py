"""``sfn-trace mcp``: the Model Context Protocol server on stdio, for AI assistants.

The server (:mod:`sfn_trace.mcp`) needs the MCP SDK, an optional extra; it is imported only
here, when the command runs, so that no other command (nor ``--help``) loads the SDK, nor
pydantic and starlette with it."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from sfn_trace.cli.app import SubCommand, app, guarded
from sfn_trace.cli.options import DebugOption, with_aws_options
from sfn_trace.errors import UsageError
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions

INSTALL = (
    "sfn-trace mcp needs the MCP SDK: pip install 'sfn-trace[mcp]' "
    "(or run uvx --from 'sfn-trace[mcp]' sfn-trace mcp)"
)
"""The one line when the ``mcp`` extra is not installed (exit 2)."""

SDK_MODULES = frozenset({"mcp", "mcp_types", "pydantic", "pydantic_core", "anyio", "starlette"})
"""The extra's packages: a missing one means the extra is not (wholly) installed."""

MCP_HELP = """Serve sfn-trace to AI assistants over the Model Context Protocol (stdio).

An assistant (Claude Code, Claude Desktop, Cursor, VS Code) starts this command and calls
its tools: trace_field, trace_visits, scan_field_loss, compare_executions, lint_definition
and incident_report. Each is read-only; answers are bounded (20,000 characters unless a
call asks otherwise). The server writes no file and logs to stderr only. Credentials follow
boto3's normal chain; --profile and --region are for assistants that pass no environment.

\b
Examples:
  claude mcp add sfn-trace -- sfn-trace mcp
  sfn-trace mcp --profile incident-readonly --region us-west-2

\b
Exit codes: 0 the client closed the connection, 2 the mcp extra is not installed
(pip install 'sfn-trace[mcp]'), 130/143 stopped by Ctrl-C / SIGTERM.
"""


@app.command("mcp", cls=SubCommand, help=MCP_HELP)
@with_aws_options
def mcp_command(
    aws: AwsOptions = DEFAULT_OPTIONS,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Log each tool call's failures on stderr.")
    ] = False,
    debug: DebugOption = False,
) -> None:
    with guarded(debug):
        try:
            from sfn_trace.mcp.server import serve
        except ImportError as error:
            if (error.name or "").split(".")[0] in SDK_MODULES:
                raise UsageError(INSTALL) from None
            raise
        # A server lives as long as its client: the cyclic collector is back on (main
        # turns it off for a command that ends with its one answer).
        gc.enable()
        serve(aws, verbose=verbose)
