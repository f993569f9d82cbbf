"""Renderers of a comparison (:class:`~sfn_trace.checks.compare.Comparison`): table, JSON."""
