"""The renderer seam: one small interface, one file per output format.

Renderers are picked from :data:`sfn_trace.report.RENDERERS`, a dict keyed by
:class:`OutputFormat`, never from an if-chain; a format without a renderer is a test failure,
not a silent fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from sfn_trace.model.result import TraceResult


class OutputFormat(str, Enum):
    TABLE = "table"
    """Headline and per-visit timeline for a terminal (tabulate)."""
    JSON = "json"
    """The ``sfn-trace/1`` schema of docs/json-output.md."""
    CSV = "csv"
    """One row per visit, for pandas and spreadsheets (columns:
    :mod:`sfn_trace.report.trace.csv`)."""
    MARKDOWN = "markdown"
    """An incident report to paste into a GitHub issue or a Jira ticket."""


@dataclass(frozen=True)
class RenderOptions:
    """Presentation choices; none of them changes what the JSON output holds."""

    log_lines: int = 20
    """Log lines shown per invocation in human-facing reports (all are kept in JSON)."""


DEFAULT_OPTIONS = RenderOptions()


class Renderer(Protocol):
    def render(self, result: TraceResult, options: RenderOptions = DEFAULT_OPTIONS) -> str:
        """The whole report as text, ending with a newline."""
        ...
