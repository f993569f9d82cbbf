"""Renderers of a scan (:class:`~sfn_trace.checks.scan.ScanResult`): table, JSON, CSV."""
