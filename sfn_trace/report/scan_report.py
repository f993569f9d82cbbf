"""The renderer seam of ``sfn-trace scan``: one format enum, one renderer per file.

Same rules as :mod:`sfn_trace.report.interface` (a dict keyed by the enum, never an
if-chain), for a :class:`~sfn_trace.checks.scan.ScanResult` instead of one trace.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from importlib import import_module
from typing import Protocol

from sfn_trace.checks.scan import ScanResult


class ScanFormat(str, Enum):
    TABLE = "table"
    """One row per execution, then the summary and the histogram of culprit states."""
    JSON = "json"
    """The ``sfn-trace-scan/1`` document (:mod:`sfn_trace.report.scan.json`)."""
    CSV = "csv"
    """One row per execution (:mod:`sfn_trace.report.scan.csv`); the summary goes to stderr."""


class ScanRenderer(Protocol):
    def render(self, result: ScanResult) -> str:
        """The whole report as text, ending with a newline."""
        ...


def _lazy(module: str) -> Callable[[], ScanRenderer]:
    def load() -> ScanRenderer:
        renderer: ScanRenderer = import_module(module).RENDERER
        return renderer

    return load


SCAN_RENDERERS: dict[ScanFormat, Callable[[], ScanRenderer]] = {
    ScanFormat.TABLE: _lazy("sfn_trace.report.scan.table"),
    ScanFormat.JSON: _lazy("sfn_trace.report.scan.json"),
    ScanFormat.CSV: _lazy("sfn_trace.report.scan.csv"),
}


def scan_renderer_for(output_format: ScanFormat) -> ScanRenderer:
    return SCAN_RENDERERS[output_format]()
