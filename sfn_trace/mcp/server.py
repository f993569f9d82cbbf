"""The MCP server: six read-only tools and the report schemas, on the official SDK.

:func:`build` makes the server (an ``mcp.server.MCPServer``); :func:`serve` runs it on stdio
(``sfn-trace mcp``). Each tool runs its :mod:`.tools` function on a worker thread, so the
server keeps answering (and hears a cancellation) while a history is fetched or a scan
runs; a live fetch reports each history page, a scan each execution, as progress
notifications when the client asked for them. A cancelled call stops at its next page or
execution. An expected failure is a tool error (``isError``) whose text is the command
line's one line and whose structured content holds the message and the exit code; a bug is
one too (exit 70), never a traceback.

Every tool is annotated read-only and idempotent; ``openWorldHint`` is true for each,
since each may read AWS: an execution ARN is fetched (and the Lambda logs with it), a state
machine ARN's definition is read for ``lint_definition``. ``trace_field``, ``trace_visits``,
``compare_executions``, ``lint_definition`` and ``incident_report`` take an ARN or a file:
they are marked open-world, because a hint describes what a tool may do, and the model
picks the target.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.lowlevel import EventLoopToken, current_token
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resources import TextResource
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from sfn_trace import __version__, api
from sfn_trace.mcp import schemas, tools
from sfn_trace.mcp.budget import DEFAULT_BUDGET, MAX_BUDGET, MIN_BUDGET, scrubbed
from sfn_trace.model.secrets import scrub

log = logging.getLogger("sfn_trace.mcp")

INSTRUCTIONS = """\
sfn-trace diagnoses AWS Step Functions executions: it follows one field through an
execution's history, replays each state's data flow, and names the state and the
expression where the field went null. Start with trace_field (an execution ARN, or the path
of a saved history or bundle, and the field). trace_visits pages through every visit;
scan_field_loss counts the executions of a state machine that lost the field, by culprit
state; compare_executions says where a bad run parts from a good one; lint_definition finds
where a definition (a file, or a state machine ARN) can drop the field before it is read;
incident_report writes the
Markdown report for a ticket. Every answer opens with a few lines to read first, then the
JSON; it fits a budget (20,000 characters unless budget says otherwise), with every cut
listed in truncated. Paths are read by the server: give absolute paths."""

Target = Annotated[
    str,
    Field(
        description="An execution ARN (read from AWS), or the path of a saved history "
        "(`aws stepfunctions get-execution-history --output json`) or bundle (--save-bundle)."
    ),
]
FieldName = Annotated[
    str,
    Field(description="The field to follow: a key, at any depth (e.g. poll_results_s3_key)."),
]
DefinitionPath = Annotated[
    str | None,
    Field(
        description="For a history file: the path of the ASL definition that ran (an ARN "
        "brings its own)."
    ),
]
Budget = Annotated[
    int,
    Field(
        ge=MIN_BUDGET,
        le=MAX_BUDGET,
        description="The most characters the answer may take (values are cut with explicit "
        "truncated markers to fit).",
    ),
]
Redact = Annotated[
    bool,
    Field(description="Replace every payload value but the field's with a placeholder."),
]
Confirm = Annotated[
    bool,
    Field(
        description="Ask AWS's own evaluator (states:TestState, every Task mocked with its "
        "recorded result) to confirm the culprit states."
    ),
]


class _Cancelled(Exception):
    """Raised in a tool's worker thread, at its next page or execution, once the client has
    cancelled the call."""


class _Progress:
    """:class:`.tools.Progress` for one call: progress notifications to the client (the
    SDK sends none when the client did not ask), and a stop once the call is cancelled."""

    def __init__(
        self, name: str, ctx: Context, token: EventLoopToken, cancelled: threading.Event
    ) -> None:
        self._name, self._ctx, self._token, self._cancelled = name, ctx, token, cancelled

    def _stop_if_cancelled(self, message: str) -> None:
        if self._cancelled.is_set():
            log.info("%s stopped, cancelled (at: %s)", self._name, message)
            raise _Cancelled

    def _send(self, progress: float, total: float | None, message: str) -> None:
        self._stop_if_cancelled(message)
        try:
            anyio.from_thread.run(
                self._ctx.report_progress, progress, total, message, token=self._token
            )
        except Exception as error:  # the client went away: the work goes on, unreported
            log.debug("progress not sent: %s", error)
        self._stop_if_cancelled(message)

    def page(self, pages: int, events: int) -> None:
        self._send(pages, None, f"{pages} history page(s) read, {events} events")

    def listed(self, executions: int) -> None:
        self._send(0, executions, f"{executions} executions listed")

    def scanned(self, done: int, total: int, row: object) -> None:
        self._send(done, total, f"{done} of {total} executions traced")


def error_result(message: str, exit_code: int) -> CallToolResult:
    """A tool error: the command line's one line, and its exit code."""
    message = scrub(" ".join(message.split()))
    return CallToolResult(
        content=[TextContent(type="text", text=f"error: {message} (exit {exit_code})")],
        structured_content={"error": message, "exit_code": exit_code},
        is_error=True,
    )


async def _run(
    ctx: Context, name: str, work: Callable[[tools.Progress], tools.Answer]
) -> CallToolResult:
    """``work`` on a worker thread; its answer, or its failure as a tool error."""
    cancelled = threading.Event()
    progress = _Progress(name, ctx, current_token(), cancelled)
    try:
        answer = await anyio.to_thread.run_sync(work, progress, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        cancelled.set()  # the thread stops at its next page or execution
        log.info("%s cancelled", name)
        raise
    except api.SfnTraceError as error:
        log.info("%s: %s", name, error.message)
        return error_result(error.message, int(error.exit_code))
    except _Cancelled:
        return error_result("cancelled", int(api.ExitCode.INTERRUPTED))
    except MemoryError:
        return error_result(
            "out of memory: the input needs more memory than this machine gives",
            int(api.ExitCode.USAGE),
        )
    except Exception as error:
        log.error("%s: internal error: %s: %s", name, type(error).__name__, error)
        return error_result(
            f"internal error: {type(error).__name__}: {error} (please report it)",
            int(api.ExitCode.INTERNAL),
        )
    content, text = scrubbed(answer.content, answer.text)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=content)


def build(aws: api.AwsOptions | None = None) -> MCPServer[Any]:
    """The server, its tools reading AWS with ``aws`` (boto3's normal chain for what it
    leaves out)."""
    options = aws or api.AwsOptions()

    async def trace_field(
        target: Target,
        field: FieldName,
        ctx: Context,
        definition: DefinitionPath = None,
        confirm: Confirm = False,
        redact: Redact = False,
        budget: Budget = DEFAULT_BUDGET,
    ) -> CallToolResult:
        """Where the field went null in one execution: the verdict, the visit where it went
        null and the one that dropped the last copy (with their explanations, the
        expression, and the culprit Lambda's log lines), and the blame chain."""
        return await _run(
            ctx,
            "trace_field",
            lambda progress: tools.trace_field(
                target,
                field,
                definition=definition,
                confirm=confirm,
                redact=redact,
                budget=budget,
                aws=options,
                progress=progress,
            ),
        )

    async def trace_visits(
        target: Target,
        field: FieldName,
        ctx: Context,
        definition: DefinitionPath = None,
        state: Annotated[str | None, Field(description="Only the visits of this state.")] = None,
        cursor: Annotated[
            str | None,
            Field(description="next_cursor of the page before (none: the first page)."),
        ] = None,
        redact: Redact = False,
        budget: Budget = DEFAULT_BUDGET,
    ) -> CallToolResult:
        """The per-visit timeline of one execution, a page at a time: each visit's field
        in its input, parameters, result and output, the replayed step that changed it,
        retries and errors. Lambda logs are not read here (trace_field reads them)."""
        return await _run(
            ctx,
            "trace_visits",
            lambda progress: tools.trace_visits(
                target,
                field,
                definition=definition,
                state=state,
                cursor=cursor,
                redact=redact,
                budget=budget,
                aws=options,
                progress=progress,
            ),
        )

    async def scan_field_loss(
        state_machine_arn: Annotated[
            str, Field(description="arn:aws:states:REGION:ACCOUNT:stateMachine:NAME")
        ],
        field: FieldName,
        ctx: Context,
        since: Annotated[
            str | None,
            Field(description="Only executions started since: 30m, 24h, 7d, or ISO 8601."),
        ] = None,
        until: Annotated[
            str | None, Field(description="Only executions started until (same forms).")
        ] = None,
        status: Annotated[
            str | None,
            Field(description="Only these statuses, e.g. FAILED or SUCCEEDED,FAILED."),
        ] = None,
        limit: Annotated[
            int, Field(ge=1, le=10_000, description="Scan at most the N newest matches.")
        ] = api.DEFAULT_SCAN_LIMIT,
        cursor: Annotated[
            str | None,
            Field(description="next_cursor of an earlier scan: scan the older executions."),
        ] = None,
        budget: Budget = DEFAULT_BUDGET,
    ) -> CallToolResult:
        """How many recent executions of a state machine lost the field, and where: the
        tally by culprit state with a few execution ARNs each, and a row per execution."""
        return await _run(
            ctx,
            "scan_field_loss",
            lambda progress: tools.scan_field_loss(
                state_machine_arn,
                field,
                status=status,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
                budget=budget,
                aws=options,
                progress=progress,
            ),
        )

    async def compare_executions(
        good: Annotated[str, Field(description="The good run: an execution ARN or a file.")],
        bad: Annotated[str, Field(description="The bad run: an execution ARN or a file.")],
        field: FieldName,
        ctx: Context,
        definition: DefinitionPath = None,
        budget: Budget = DEFAULT_BUDGET,
    ) -> CallToolResult:
        """Where a bad run parts from a good one: the first visit where the field's status
        differs, and the two runs' visits aligned."""
        return await _run(
            ctx,
            "compare_executions",
            lambda progress: tools.compare_executions(
                good,
                bad,
                field,
                definition=definition,
                budget=budget,
                aws=options,
                progress=progress,
            ),
        )

    async def lint_definition(
        definition: Annotated[
            str,
            Field(
                description="The path of a state machine's ASL definition (JSON), or a state "
                "machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME, or a version "
                "or alias ARN), whose definition is read from AWS."
            ),
        ],
        field: FieldName,
        ctx: Context,
        budget: Budget = DEFAULT_BUDGET,
    ) -> CallToolResult:
        """From the definition alone: the paths on which a state can drop the field before
        another reads it, each with its rule id, the reason and a fix."""
        return await _run(
            ctx,
            "lint_definition",
            lambda progress: tools.lint_definition(
                definition, field, budget=budget, aws=options, progress=progress
            ),
        )

    async def incident_report(
        target: Target,
        field: FieldName,
        ctx: Context,
        definition: DefinitionPath = None,
        confirm: Confirm = False,
        redact: Redact = False,
        budget: Budget = DEFAULT_BUDGET,
    ) -> CallToolResult:
        """The Markdown incident report of one execution (verdict, culprit, blame chain,
        Mermaid flowchart, log lines, how to reproduce), to paste into a ticket; nothing is
        written to disk."""
        return await _run(
            ctx,
            "incident_report",
            lambda progress: tools.incident_report(
                target,
                field,
                definition=definition,
                confirm=confirm,
                redact=redact,
                budget=budget,
                aws=options,
                progress=progress,
            ),
        )

    functions: list[tuple[Callable[..., Any], str, bool]] = [
        (trace_field, "Trace a field through an execution", True),
        (trace_visits, "Page through an execution's visits", True),
        (scan_field_loss, "Scan a state machine's executions for a lost field", True),
        (compare_executions, "Compare a good and a bad execution", True),
        (lint_definition, "Lint a definition for a field it can drop", True),
        (incident_report, "Write the Markdown incident report", True),
    ]
    server: MCPServer[Any] = MCPServer(
        "sfn-trace",
        title="sfn-trace",
        version=__version__,
        instructions=INSTRUCTIONS,
        tools=[_tool(fn, title, open_world) for fn, title, open_world in functions],
        resources=[_schema_resource(name) for name in schemas.REPORTS],
    )
    return server


def _tool(fn: Callable[..., Any], title: str, open_world: bool) -> Tool:
    name = fn.__name__
    tool = Tool.from_function(
        fn,
        name=name,
        title=title,
        annotations=ToolAnnotations(
            title=title,
            read_only_hint=True,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=open_world,
        ),
        structured_output=False,
    )
    # The SDK publishes a schema given this way as it is (its own validation needs a model);
    # the structured content is checked against it by the client and by the tests.
    tool.fn_metadata.output_schema = schemas.tool_schema(name)
    return tool


def _schema_resource(name: str) -> TextResource:
    return TextResource(
        uri=f"sfn-trace://schema/{name}",
        name=f"{name}-schema",
        title=f"The JSON Schema of sfn-trace's {name} report",
        description=f"docs/schema/{name}.schema.json: the report under `report` in the "
        "tools' structured content (and what --format json writes).",
        mime_type="application/schema+json",
        text=schemas.report_schema_text(name),
    )


class _Scrubbed(logging.Filter):
    """Every log line without credentials, on one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(" ".join(record.getMessage().split()))
        record.args = None
        return True


def _log_to_stderr(level: int) -> None:
    """Log lines go to stderr (stdout is the protocol's), one line each, credentials
    scrubbed. Set before the SDK's own set-up, which then leaves it as it is."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("sfn-trace mcp: %(levelname)s: %(message)s"))
    handler.addFilter(_Scrubbed())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    log.setLevel(level)


def serve(aws: api.AwsOptions | None = None, *, verbose: bool = False) -> None:
    """``sfn-trace mcp``: the server on stdin and stdout until the client closes them."""
    _log_to_stderr(logging.INFO if verbose else logging.WARNING)
    build(aws).run("stdio")
