"""Tests of :mod:`sfn_trace.cli`."""
