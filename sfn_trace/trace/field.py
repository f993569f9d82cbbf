"""Occurrences of the tracked field in a document, and the document's status.

An occurrence of field ``F`` is any object member whose key is exactly ``F``, at any depth,
with its JSONPath; its value is *set* when not null (docs/design.md, "Field semantics").
Null and missing are different statuses, and a document we could not see is ``unknown``,
never null.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from sfn_trace.model import jsontext
from sfn_trace.model.events import Payload
from sfn_trace.model.snapshot import MISSING, Occurrence, Snapshot, Status, unknown


def snapshot(payload: Payload | None, field: str, *, absent: str) -> Snapshot:
    """The field's status in ``payload``; ``absent`` says why there is no payload at all."""
    if payload is None:
        return unknown(absent)
    if payload.truncated:
        return unknown("payload truncated")
    if not payload.may_contain_key(field) and payload.looks_complete():
        return MISSING
    return _snapshot_of_text(payload.text, field)


@lru_cache(maxsize=4096)
def _snapshot_of_text(text: str, field: str) -> Snapshot:
    """Memoized on the text: a state's input is usually the previous state's output, so
    most payloads of a history occur twice. The parsed document is not kept (large
    histories would hold every payload twice in memory); snapshots are small and frozen."""
    try:
        document = jsontext.loads(text)
    except jsontext.TooDeep as too_deep:
        return unknown(f"payload {too_deep}")
    except (ValueError, RecursionError):
        return unknown("payload is not JSON")
    return snapshot_of(document, field, limit=_spellings(text, field))


def _spellings(text: str, field: str) -> int | None:
    """How many times the key is spelled in the text: an upper bound on its occurrences
    (a string value equal to the name counts too), so the walk may stop once it found that
    many. None when an escape could spell it differently."""
    if "\\" in text:
        return None
    spelled = json.dumps(field, ensure_ascii=False)
    ascii_spelled = json.dumps(field)
    count = text.count(spelled)
    if ascii_spelled != spelled:
        count += text.count(ascii_spelled)
    return count


def snapshot_of(document: Any, field: str, *, limit: int | None = None) -> Snapshot:
    occurrences = find_occurrences(document, field, limit=limit)
    if not occurrences:
        return MISSING
    set_count = sum(1 for o in occurrences if o.is_set)
    if set_count == len(occurrences):
        status = Status.SET
    elif set_count == 0:
        status = Status.NULL
    else:
        status = Status.MIXED
    return Snapshot(status, tuple(occurrences))


def find_occurrences(document: Any, field: str, *, limit: int | None = None) -> list[Occurrence]:
    """Every member named ``field``, in document order (depth first, members in order).

    Iterative, so documents nested thousands of levels deep cannot exhaust the stack. The
    path is kept as segments and spelled out only for the members that match: most
    members of a large payload are never reported. ``limit``: stop after that many (the
    caller knows no more can exist).
    """
    found: list[Occurrence] = []
    if not isinstance(document, (dict, list)):
        return found
    # One frame per level, holding only its own key: the path is spelled from the frames
    # for the members that match (copying it per level would cost depth squared).
    keys: list[str | int] = []
    stack: list[tuple[Iterator[tuple[Any, Any]], bool]] = [
        (_children(document), isinstance(document, dict))
    ]
    while stack:
        children, is_object = stack[-1]
        for key, value in children:
            if is_object and key == field:
                found.append(Occurrence(format_path((*keys, key)), value))
                if limit is not None and len(found) >= limit:
                    return found
            if isinstance(value, dict):
                keys.append(key)
                stack.append((iter(value.items()), True))
                break
            if isinstance(value, list):
                keys.append(key)
                stack.append((enumerate(value), False))
                break
        else:
            stack.pop()
            if keys:
                keys.pop()
    return found


def format_path(segments: tuple[str | int, ...]) -> str:
    """``("a", 3, "b c")`` -> ``$.a[3]['b c']``."""
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else _member(s) for s in segments)


def _children(node: dict[str, Any] | list[Any]) -> Iterator[tuple[Any, Any]]:
    return iter(node.items()) if isinstance(node, dict) else enumerate(node)


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _member(key: str) -> str:
    if _IDENTIFIER.match(key):
        return "." + key
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"
