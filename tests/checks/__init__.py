"""Tests of :mod:`sfn_trace.checks`."""
