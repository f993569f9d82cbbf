"""The tracked field as one document holds it: its status and its occurrences.

An occurrence of field ``F`` is any object member whose key is exactly ``F``, at any depth,
with its JSONPath; its value is *set* when not null (docs/design.md, "Field semantics").
Null and missing are different statuses, and a document we could not see is ``unknown``,
never null. Computed by :mod:`sfn_trace.trace.field`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


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
