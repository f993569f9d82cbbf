"""Renderers of lint findings (:mod:`sfn_trace.checks.lint`): table, JSON, SARIF 2.1.0."""
