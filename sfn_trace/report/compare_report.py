"""The renderer seam of ``sfn-trace compare``: one format enum, one renderer per file.

Same rules as :mod:`sfn_trace.report.interface` (a dict keyed by the enum, never an
if-chain), for a :class:`~sfn_trace.checks.compare.Comparison` instead of one trace.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from importlib import import_module
from typing import Protocol

from sfn_trace.checks.compare import Comparison


class CompareFormat(str, Enum):
    TABLE = "table"
    """The divergence with both runs' documents side by side, then the aligned timeline."""
    JSON = "json"
    """The ``sfn-trace-compare/1`` document (:mod:`sfn_trace.report.compare.json`)."""


class CompareRenderer(Protocol):
    def render(self, comparison: Comparison) -> str:
        """The whole report as text, ending with a newline."""
        ...


def _lazy(module: str) -> Callable[[], CompareRenderer]:
    def load() -> CompareRenderer:
        renderer: CompareRenderer = import_module(module).RENDERER
        return renderer

    return load


COMPARE_RENDERERS: dict[CompareFormat, Callable[[], CompareRenderer]] = {
    CompareFormat.TABLE: _lazy("sfn_trace.report.compare.table"),
    CompareFormat.JSON: _lazy("sfn_trace.report.compare.json"),
}


def compare_renderer_for(output_format: CompareFormat) -> CompareRenderer:
    return COMPARE_RENDERERS[output_format]()
