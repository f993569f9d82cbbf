"""The last stage: a result rendered as the user asked (table, JSON, CSV, Markdown, SARIF).

One sub-package per command (``trace/``, ``scan/``, ``compare/``, ``lint/``), one module per
format, all picked from one registry (:mod:`.registry`). The only package that imports
tabulate and pandas, each only when its format is used.

Import rule: ``report`` imports the earlier stages (model, asl, sources, trace, checks) and
:mod:`sfn_trace.errors`, never :mod:`sfn_trace.api` or :mod:`sfn_trace.cli`
(docs/architecture.md).
"""

from sfn_trace.report.registry import (
    DEFAULT_OPTIONS,
    FORMATS,
    RENDERERS,
    Command,
    CompareFormat,
    LintFormat,
    RenderOptions,
    ScanFormat,
    TraceFormat,
    render,
    renderer,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "FORMATS",
    "RENDERERS",
    "Command",
    "CompareFormat",
    "LintFormat",
    "RenderOptions",
    "ScanFormat",
    "TraceFormat",
    "render",
    "renderer",
]
