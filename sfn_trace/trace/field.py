"""Occurrences of the tracked field in a document, and the document's status.

An occurrence of field ``F`` is any object member whose key is exactly ``F``, at any depth,
with its JSONPath; its value is *set* when not null (DESIGN.md, "Field semantics"). Null and
missing are different statuses, and a document we could not see is ``unknown``, never null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sfn_trace.history import NOT_JSON, Payload


class Status(str, Enum):
    SET = "set"
    """Every occurrence holds a value."""
    NULL = "null"
    """Every occurrence is null."""
    MIXED = "mixed"
    """Some occurrences are set, some null."""
    MISSING = "missing"
    """No occurrence in the document."""
    UNKNOWN = "unknown"
    """The document could not be seen (truncated, not included, not JSON, never produced)."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    path: str
    value: Any
    """The member's JSON value (``None`` is JSON null)."""

    @property
    def is_set(self) -> bool:
        return self.value is not None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The field as one document holds it."""

    status: Status
    occurrences: tuple[Occurrence, ...] = ()
    reason: str | None = None
    """Why the status is ``unknown``."""

    @property
    def has_set(self) -> bool:
        return self.status in (Status.SET, Status.MIXED)

    @property
    def has_null(self) -> bool:
        return self.status in (Status.NULL, Status.MIXED)

    @property
    def known(self) -> bool:
        return self.status is not Status.UNKNOWN

    def value_at(self, path: str) -> Occurrence | None:
        return next((o for o in self.occurrences if o.path == path), None)

    def first_set(self) -> Occurrence | None:
        return next((o for o in self.occurrences if o.is_set), None)


MISSING = Snapshot(Status.MISSING)


def unknown(reason: str) -> Snapshot:
    return Snapshot(Status.UNKNOWN, reason=reason)


def snapshot(payload: Payload | None, field: str, *, absent: str) -> Snapshot:
    """The field's status in ``payload``; ``absent`` says why there is no payload at all."""
    if payload is None:
        return unknown(absent)
    if payload.truncated:
        return unknown("payload truncated")
    if not payload.may_contain_key(field):
        return MISSING
    document = payload.value
    if document is NOT_JSON:
        return unknown("payload is not JSON")
    return snapshot_of(document, field)


def snapshot_of(document: Any, field: str) -> Snapshot:
    occurrences = find_occurrences(document, field)
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


def find_occurrences(document: Any, field: str) -> list[Occurrence]:
    """Every member named ``field``, in document order (depth first, keys in order).

    Iterative, so documents nested thousands of levels deep cannot exhaust the stack.
    """
    found: list[Occurrence] = []
    stack: list[tuple[Any, str]] = [(document, "$")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            children = []
            for key, value in node.items():
                child = path + _member(key)
                if key == field:
                    found.append(Occurrence(child, value))
                if isinstance(value, (dict, list)):
                    children.append((value, child))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(
                (value, f"{path}[{i}]")
                for i, value in reversed(list(enumerate(node)))
                if isinstance(value, (dict, list))
            )
    return found


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _member(key: str) -> str:
    if _IDENTIFIER.match(key):
        return "." + key
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"
