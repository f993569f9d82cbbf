"""Short, faithful renderings of JSON values for one-line messages and table cells."""

from __future__ import annotations

import json
from typing import Any

ELLIPSIS = "…"


def brief(value: Any, width: int = 80) -> str:
    """``value`` as JSON, cut in the middle when longer than ``width``.

    The middle goes, not the end: S3 keys and ARNs differ at both ends
    (``"poll_results/8ee0…/poll_results.json"``).
    """
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= width:
        return text
    keep = max(width - len(ELLIPSIS), 2)
    head = (keep + 1) // 2
    return text[:head] + ELLIPSIS + text[len(text) - (keep - head) :]
