"""Tests of :mod:`sfn_trace.trace`."""
