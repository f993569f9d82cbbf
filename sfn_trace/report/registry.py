"""The one renderer registry: command × format → the module that renders it.

Every renderer is a module of ``sfn_trace/report/<command>/`` with one function,
``render(result, options) -> str`` (the whole output, ending with a newline). A renderer is
picked from :data:`RENDERERS`, never from an if-chain, and imported only when its format is
used: ``sfn-trace --help`` and JSON output never load tabulate or pandas. A format without a
renderer is a test failure, not a silent fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from importlib import import_module
from typing import Any, Protocol

from sfn_trace.report.neutral import neutral_lines


class Command(str, Enum):
    """What was run, hence what kind of result there is to render."""

    TRACE = "trace"
    """One execution: a :class:`~sfn_trace.model.result.TraceResult`."""
    SCAN = "scan"
    """Many executions: a :class:`~sfn_trace.checks.scan.ScanResult`."""
    COMPARE = "compare"
    """A good and a bad run: a :class:`~sfn_trace.checks.compare.Comparison`."""
    LINT = "lint"
    """Definitions: a :class:`~sfn_trace.checks.lint.LintReport`."""


class TraceFormat(str, Enum):
    TABLE = "table"
    """Headline and per-visit timeline for a terminal (tabulate)."""
    JSON = "json"
    """The ``sfn-trace/1`` schema of docs/json-output.md."""
    CSV = "csv"
    """One row per visit, for pandas and spreadsheets (columns:
    :mod:`sfn_trace.report.trace.csv`)."""
    MARKDOWN = "markdown"
    """An incident report to paste into a GitHub issue or a Jira ticket."""


class ScanFormat(str, Enum):
    TABLE = "table"
    """Rows, summary and histogram for a terminal."""
    JSON = "json"
    """The ``sfn-trace-scan/1`` document (:mod:`sfn_trace.report.scan.json`)."""
    CSV = "csv"
    """One row per execution (the summary goes to stderr)."""
    JSONL = "jsonl"
    """One JSON line per execution as it is judged, then the tally
    (:mod:`sfn_trace.report.scan.jsonl`)."""


class CompareFormat(str, Enum):
    TABLE = "table"
    """The divergence with both runs' documents side by side, then the aligned timeline."""
    JSON = "json"
    """The ``sfn-trace-compare/1`` document (:mod:`sfn_trace.report.compare.json`)."""


class LintFormat(str, Enum):
    TABLE = "table"
    """The findings, one paragraph each."""
    JSON = "json"
    """``sfn-trace-lint/1`` (``sfn-trace-lint-multi/1`` for several definitions)."""
    SARIF = "sarif"
    """SARIF 2.1.0, for code scanning."""


FORMATS: Mapping[Command, type[Enum]] = {
    Command.TRACE: TraceFormat,
    Command.SCAN: ScanFormat,
    Command.COMPARE: CompareFormat,
    Command.LINT: LintFormat,
}
"""The ``--format`` choices of each command."""

RENDERERS: Mapping[tuple[Command, str], str] = {
    (Command.TRACE, "table"): "sfn_trace.report.trace.table",
    (Command.TRACE, "json"): "sfn_trace.report.trace.json",
    (Command.TRACE, "csv"): "sfn_trace.report.trace.csv",
    (Command.TRACE, "markdown"): "sfn_trace.report.trace.markdown",
    (Command.SCAN, "table"): "sfn_trace.report.scan.table",
    (Command.SCAN, "json"): "sfn_trace.report.scan.json",
    (Command.SCAN, "csv"): "sfn_trace.report.scan.csv",
    (Command.SCAN, "jsonl"): "sfn_trace.report.scan.jsonl",
    (Command.COMPARE, "table"): "sfn_trace.report.compare.table",
    (Command.COMPARE, "json"): "sfn_trace.report.compare.json",
    (Command.LINT, "table"): "sfn_trace.report.lint.table",
    (Command.LINT, "json"): "sfn_trace.report.lint.json",
    (Command.LINT, "sarif"): "sfn_trace.report.lint.sarif",
}
"""(command, format) → the renderer module, imported on first use."""


@dataclass(frozen=True)
class RenderOptions:
    """Presentation choices; none of them changes what a JSON output holds."""

    log_lines: int = 20
    """Log lines shown per invocation in human-facing reports (all are kept in JSON)."""
    target: str | None = None
    """The TARGET as the user gave it, for the report's "reproduce" command (default: the
    execution ARN)."""
    definition: str | None = None
    """``--definition`` as the user gave it, for the same command."""
    all_visits: bool = False
    """``--all-visits``: one timeline row per visit in the table and the Markdown report
    (by default a run of visits that repeat what the visit before them said is one row:
    :mod:`sfn_trace.report.trace.collapse`)."""
    all_logs: bool = False
    """``--all-logs``: the table's Lambda logs section shows every invocation's lines (by
    default those of the findings, the blame chain and the consumer)."""


DEFAULT_OPTIONS = RenderOptions()


class Renderer(Protocol):
    def __call__(self, result: Any, options: RenderOptions = DEFAULT_OPTIONS) -> str:
        """The whole output as text, ending with a newline."""
        ...


EXACT_FORMATS: frozenset[str] = frozenset({"json", "jsonl", "sarif"})
"""Formats written exactly as the data is (JSON escaping is exact and safe). Every other
format is for people: its text passes through :func:`sfn_trace.report.neutral.neutral_lines`
last, so that no control or bidi character from the account reaches it raw, whatever a
renderer forgot (renderers escape each value themselves, newlines included)."""


def renderer(command: Command, output_format: str | Enum) -> Renderer:
    """The ``render`` function for ``command`` in ``output_format``."""
    value = output_format.value if isinstance(output_format, Enum) else output_format
    module = import_module(RENDERERS[(command, value)])
    function: Renderer = module.render
    if value in EXACT_FORMATS:
        return function

    def guarded(result: Any, options: RenderOptions = DEFAULT_OPTIONS) -> str:
        return neutral_lines(function(result, options))

    return guarded


def render(
    command: Command,
    output_format: str | Enum,
    result: Any,
    options: RenderOptions = DEFAULT_OPTIONS,
) -> str:
    """``result`` of ``command`` rendered in ``output_format``."""
    return renderer(command, output_format)(result, options)
