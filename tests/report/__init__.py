"""Tests of :mod:`sfn_trace.report`."""
