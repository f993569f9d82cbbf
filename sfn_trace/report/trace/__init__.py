"""Renderers of a trace (:class:`~sfn_trace.model.result.TraceResult`): table, JSON, CSV,
Markdown (with its Mermaid flowchart)."""
