"""Short, faithful renderings of JSON values for one-line messages and table cells."""

from __future__ import annotations

from typing import Any

from sfn_trace.model import jsontext

ELLIPSIS = "…"

QUOTE_LIMIT = 200
"""At most this many characters of a value from the input (a state name, an event type, an
error, a reason built from them) go into a warning, a reason or an error line; the rest is
replaced by :data:`ELLIPSIS` and the value's length. A history may hold a 16 MB state name:
a warning about it stays one readable line."""


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


def quote(text: object, limit: int = QUOTE_LIMIT) -> str:
    """``text`` (as ``str``) when it has at most ``limit`` characters, else its first
    ``limit`` characters, :data:`ELLIPSIS` and its length: ``aaaa… (16,777,216 characters)``.

    The one place a warning, reason or error line cuts a value it quotes from the input.
    """
    shown = str(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}{ELLIPSIS} ({len(shown):,} characters)"


def quote_repr(text: str, limit: int = QUOTE_LIMIT) -> str:
    """:func:`quote` for a value shown with ``repr`` (``'Name'``): the quotes stay whole,
    ``'aaaa…' (16,777,216 characters)``."""
    if len(text) <= limit:
        return repr(text)
    shown = repr(text[:limit])
    return f"{shown[:-1]}{ELLIPSIS}{shown[-1]} ({len(text):,} characters)"
