"""The kind of a Map state: one home for "is this a Distributed Map".

A Map runs in Distributed mode when its ``ItemProcessor`` (or the legacy ``Iterator``) has
``ProcessorConfig.Mode`` ``DISTRIBUTED``; otherwise Inline, the default
(https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html: "By default, Map states
run in Inline mode"). Only Distributed mode runs its iterations as child executions, and only
it reads items from S3 (``ItemReader``) or writes results there (``ResultWriter``): "In this
mode [Inline], the Map state accepts only a JSON array as input"
(https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_distributed(body: Mapping[str, Any]) -> bool:
    """Whether a Map state's body runs in Distributed mode."""
    processor = body.get("ItemProcessor", body.get("Iterator"))
    config = processor.get("ProcessorConfig") if isinstance(processor, Mapping) else None
    return isinstance(config, Mapping) and config.get("Mode") == "DISTRIBUTED"


def uses_s3(body: Mapping[str, Any]) -> bool:
    """Whether a Map reads its items from S3 or writes its results there, which only a
    Distributed Map does; a definition AWS would refuse may still say so."""
    return "ItemReader" in body or "ResultWriter" in body
