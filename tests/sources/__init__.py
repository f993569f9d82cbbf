"""Tests of :mod:`sfn_trace.sources`."""
