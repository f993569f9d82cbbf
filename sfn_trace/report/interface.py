"""The renderer seam: one small interface, one file per output format.

Renderers are picked from :data:`sfn_trace.report.RENDERERS`, a dict keyed by
:class:`OutputFormat`, never from an if-chain; a format without a renderer is a test failure,
not a silent fallback.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from sfn_trace.trace.result import TraceResult


class OutputFormat(str, Enum):
    TABLE = "table"
    """Headline and per-visit timeline for a terminal (tabulate)."""
    JSON = "json"
    """The ``sfn-trace/1`` schema of DESIGN.md."""


class Renderer(Protocol):
    def render(self, result: TraceResult) -> str:
        """The whole report as text, ending with a newline."""
        ...
