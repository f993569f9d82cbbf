"""``sfn-trace mcp``: the Model Context Protocol server, a front end beside the command line.

An AI assistant (Claude Code, Claude Desktop, Cursor, VS Code) starts ``sfn-trace mcp`` and
asks it over stdio what the command line answers: where a field went null, the visits, a
scan, a comparison, a lint, the incident report. :mod:`.server` builds the server on the
official MCP Python SDK (the ``mcp`` extra: ``pip install 'sfn-trace[mcp]'``), :mod:`.tools`
makes one :mod:`sfn_trace.api` call per tool and shapes its answer, :mod:`.budget` fits each
answer into its character budget, and :mod:`.schemas` derives each tool's output schema from
the report schemas of ``docs/schema/``. Nothing here writes a file; the server logs to
stderr only. Nothing is imported by ``import sfn_trace.mcp``: the SDK (and pydantic and
starlette with it) is loaded by ``sfn-trace mcp`` alone.

Import rule: ``mcp`` imports :mod:`sfn_trace.api` (the commands, their results rendered by
``api.render``), :mod:`sfn_trace.model` (the credential scrubbing and the exact JSON text)
and :mod:`sfn_trace.errors`; not the pipeline's inner stages, not the CLI
(docs/architecture.md).
"""
