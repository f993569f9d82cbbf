"""Short, faithful renderings of JSON values for one-line messages and table cells."""

from __future__ import annotations

from typing import Any

from sfn_trace.model import jsontext

ELLIPSIS = "…"


def brief(value: Any, width: int = 80) -> str:
    """``value`` as JSON, cut in the middle when longer than ``width``.

    The middle goes, not the end: S3 keys and ARNs differ at both ends
    (``"poll_results/8ee0…/poll_results.json"``). Strict JSON at any depth
    (:func:`sfn_trace.model.jsontext.dumps`): ``1e400`` stays ``1e400``.
    """
    text = jsontext.dumps(value, ensure_ascii=False)
    if len(text) <= width:
        return text
    keep = max(width - len(ELLIPSIS), 2)
    head = (keep + 1) // 2
    return text[:head] + ELLIPSIS + text[len(text) - (keep - head) :]
