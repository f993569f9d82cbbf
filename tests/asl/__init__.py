"""Tests of :mod:`sfn_trace.asl`."""
