"""Occurrences of the tracked field in a document, and the document's status.

An occurrence of field ``F`` is any object member whose key is exactly ``F``, at any depth,
with its JSONPath; its value is *set* when not null (docs/design.md, "Field semantics").
Null and missing are different statuses, and a document we could not see is ``unknown``,
never null.

One trace asks about the same documents many times: a visit's output is the next visit's
input, a replayed step hands its document on or shares most of it (a ``ResultPath`` copies only
the objects on its path). :class:`FieldIndex` answers for one field and one trace, parsing
each payload once (on the :class:`~sfn_trace.model.events.Payload`, which the replay reads
too) and walking each container once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final, TypeAlias

from sfn_trace.model.events import NOT_JSON, Payload
from sfn_trace.model.snapshot import MISSING, Occurrence, Snapshot, Status, unknown

_Path: TypeAlias = "tuple[Any, _Path] | None"
"""A member's path below a container, head first: ``("a", (3, None))`` is ``.a[3]``. Linked,
so that a container adds its own step to every occurrence below it in constant time."""

_Found: TypeAlias = "tuple[tuple[_Path, Any], ...]"
"""The occurrences in one container: each one's path below it and its value."""

_NONE: Final[_Found] = ()

MEMO_SIZE: Final = 16
"""Containers of at least this many values (themselves and all below) are remembered; smaller
ones cost less to walk again than to remember."""


class FieldIndex:
    """The occurrences of one field in the documents of one trace.

    Documents are never changed once built (the parser builds them, the replay copies what it
    changes), so a container is known by its identity: the index keeps every container it
    remembers alive, and its answer for it, for as long as the index lives (one trace).
    """

    def __init__(self, field: str) -> None:
        self.field = field
        self._containers: dict[int, tuple[Any, _Found]] = {}
        self._documents: dict[int, tuple[Any, Snapshot]] = {}
        self._payloads: dict[int, tuple[Payload, Snapshot]] = {}

    def snapshot(self, payload: Payload | None, *, absent: str) -> Snapshot:
        """The field's status in ``payload``; ``absent`` says why there is no payload at all."""
        if payload is None:
            return unknown(absent)
        known = self._payloads.get(id(payload))
        if known is not None:
            return known[1]
        if payload.truncated:
            found = unknown("payload truncated")
        elif not payload.may_contain_key(self.field) and payload.looks_complete():
            found = MISSING
        else:
            value = payload.value
            if value is NOT_JSON:
                found = unknown(payload.unreadable or "payload is not JSON")
            else:
                found = self._of(value, payload.key_spelled(self.field))
        self._payloads[id(payload)] = (payload, found)
        return found

    def of(self, document: Any) -> Snapshot:
        """The field's status in a parsed document."""
        return self._of(document, None)

    def _of(self, document: Any, limit: int | None) -> Snapshot:
        if not isinstance(document, (dict, list)):
            return MISSING
        known = self._documents.get(id(document))
        if known is not None:
            return known[1]
        found = _status(self._occurrences(document, limit))
        self._documents[id(document)] = (document, found)
        return found

    def occurrences(self, document: Any) -> list[Occurrence]:
        """Every member named after the field, in document order (depth first, members in
        order; a member before what its value holds)."""
        return self._occurrences(document, None)

    def _occurrences(self, document: Any, limit: int | None) -> list[Occurrence]:
        return [Occurrence(_spell(path), value) for path, value in self._found(document, limit)]

    def _found(self, root: Any, limit: int | None = None) -> _Found:
        """The occurrences below ``root``, walking only containers not seen before.

        ``limit``: how many occurrences ``root`` can hold at most (its text spells the key
        that many times); the walk stops when it has found them all, and only ``root`` is
        remembered (the containers it left unfinished are not).

        Iterative, so documents nested thousands of levels deep cannot exhaust the stack:
        one frame per open container, holding its children, what was found in it so far,
        how many values it holds and the key under which its current child sits. A
        container that holds only scalars gets no frame."""
        if not isinstance(root, (dict, list)):
            return _NONE
        memo, field = self._containers, self.field
        known = memo.get(id(root))
        if known is not None:
            return known[1]
        stack: list[_Frame] = [_Frame(root)]
        count = 0
        while True:
            frame = stack[-1]
            for key, value in frame.children:
                if frame.is_object and key == field:
                    frame.found.append(((key, None), value))
                    count += 1
                    if count == limit:
                        return self._stop(stack)
                if not isinstance(value, (dict, list)):
                    frame.size += 1
                    continue
                known = memo.get(id(value))
                if known is not None:
                    frame.take(key, known[1], MEMO_SIZE)
                    count += len(known[1])
                    if limit is not None and count >= limit:
                        return self._stop(stack)
                    continue
                if isinstance(value, dict):
                    for member in value.values():
                        if isinstance(member, (dict, list)):
                            break
                    else:  # an object of scalars
                        frame.size += len(value) + 1
                        if field in value:
                            frame.found.append(((key, (field, None)), value[field]))
                            count += 1
                            if count == limit:
                                return self._stop(stack)
                        continue
                else:
                    for member in value:
                        if isinstance(member, (dict, list)):
                            break
                    else:  # an array of scalars
                        frame.size += len(value) + 1
                        continue
                frame.key = key
                stack.append(_Frame(value))
                break
            else:
                stack.pop()
                found = tuple(frame.found) if frame.found else _NONE
                if frame.size >= MEMO_SIZE or not stack:
                    memo[id(frame.node)] = (frame.node, found)
                if not stack:
                    return found
                stack[-1].take(stack[-1].key, found, frame.size)

    def _stop(self, stack: list[_Frame]) -> _Found:
        """Every occurrence is found: what the open frames hold, gathered into the root's."""
        while len(stack) > 1:
            frame = stack.pop()
            stack[-1].take(stack[-1].key, tuple(frame.found), frame.size)
        root = stack[0]
        found = tuple(root.found)
        self._containers[id(root.node)] = (root.node, found)
        return found


class _Frame:
    __slots__ = ("children", "found", "is_object", "key", "node", "size")

    def __init__(self, node: dict[str, Any] | list[Any]) -> None:
        self.node = node
        self.is_object = isinstance(node, dict)
        self.children: Iterator[tuple[Any, Any]] = (
            iter(node.items()) if isinstance(node, dict) else enumerate(node)
        )
        self.found: list[tuple[_Path, Any]] = []
        self.size = 1
        self.key: Any = None

    def take(self, key: Any, found: _Found, size: int) -> None:
        """A child container's occurrences, under ``key``."""
        self.size += size
        for path, value in found:
            self.found.append(((key, path), value))


def _spell(path: _Path) -> str:
    segments = []
    while path is not None:
        segments.append(path[0])
        path = path[1]
    return format_path(tuple(segments))


def _status(occurrences: list[Occurrence]) -> Snapshot:
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


def snapshot(payload: Payload | None, field: str, *, absent: str) -> Snapshot:
    """The field's status in ``payload``, asked once (a trace asks its :class:`FieldIndex`)."""
    return FieldIndex(field).snapshot(payload, absent=absent)


def snapshot_of(document: Any, field: str) -> Snapshot:
    """The field's status in a parsed document, asked once."""
    return FieldIndex(field).of(document)


def find_occurrences(document: Any, field: str) -> list[Occurrence]:
    """Every member named ``field`` in a parsed document, in document order."""
    return FieldIndex(field).occurrences(document)


def format_path(segments: tuple[str | int, ...]) -> str:
    """``("a", 3, "b c")`` -> ``$.a[3]['b c']``."""
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else _member(s) for s in segments)


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _member(key: str) -> str:
    if _IDENTIFIER.match(key):
        return "." + key
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"
