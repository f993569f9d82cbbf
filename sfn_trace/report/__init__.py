"""Renderers of a :class:`~sfn_trace.model.result.TraceResult`.

The only package that imports tabulate (and, for CSV, pandas). Each renderer module is
imported only when its format is used, so ``sfn-trace --help`` and JSON output stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from sfn_trace.report.interface import DEFAULT_OPTIONS, OutputFormat, Renderer, RenderOptions


def _lazy(module: str) -> Callable[[], Renderer]:
    def load() -> Renderer:
        renderer: Renderer = import_module(module).RENDERER
        return renderer

    return load


RENDERERS: dict[OutputFormat, Callable[[], Renderer]] = {
    OutputFormat.TABLE: _lazy("sfn_trace.report.trace.table"),
    OutputFormat.JSON: _lazy("sfn_trace.report.trace.json"),
    OutputFormat.CSV: _lazy("sfn_trace.report.trace.csv"),
    OutputFormat.MARKDOWN: _lazy("sfn_trace.report.trace.markdown"),
}


def renderer_for(output_format: OutputFormat) -> Renderer:
    return RENDERERS[output_format]()


__all__ = [
    "DEFAULT_OPTIONS",
    "RENDERERS",
    "OutputFormat",
    "RenderOptions",
    "Renderer",
    "renderer_for",
]
