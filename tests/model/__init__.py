"""Tests of :mod:`sfn_trace.model`."""
