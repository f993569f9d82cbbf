"""The kind of a Map state (asl/maps.py), as AWS reads it."""

from __future__ import annotations

from typing import Any

import pytest

from sfn_trace.asl.maps import is_distributed, uses_s3

INLINE: dict[str, Any] = {"ItemProcessor": {"StartAt": "P", "States": {}}}
DISTRIBUTED: dict[str, Any] = {
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "P",
        "States": {},
    },
    "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2"},
    "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject"},
}


@pytest.mark.parametrize(
    ("body", "distributed"),
    [
        (INLINE, False),
        ({"ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}}}, False),
        ({"Iterator": {"StartAt": "P", "States": {}}}, False),  # the legacy name: Inline
        (DISTRIBUTED, True),
        ({"Iterator": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}}}, True),
        ({"ItemProcessor": "not an object"}, False),
        ({}, False),
    ],
)
def test_the_mode_is_the_processors(body: dict[str, Any], distributed: bool) -> None:
    assert is_distributed(body) is distributed


def test_s3_items_and_results() -> None:
    assert uses_s3(DISTRIBUTED)
    assert not uses_s3(INLINE)
    assert uses_s3({"ItemReader": {}}) and uses_s3({"ResultWriter": {}})
