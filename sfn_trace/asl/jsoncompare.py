"""Comparing JSON documents as the replay compares what it computed with what AWS recorded:
:func:`same_json` (JSON equality, any depth), :func:`first_difference` (where two documents
first differ, for a mismatch's reason), :func:`same_values` (the variables and context an
early replay was made with) and :func:`same_cause` (an error's cause, against the corpus's
redaction placeholders).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sfn_trace.asl.jsonpath import (
    Segment,
    format_path,
    is_unknown,
)

__all__ = ["first_difference", "same_cause", "same_json", "same_values"]


def same_json(left: Any, right: Any) -> bool:
    """Equal as parsed JSON: ``1 == 1.0``, but ``true`` is not ``1``; member order ignored.

    Python's ``==`` (fast, in C) is JSON equality but for one thing: ``True == 1``. So ``==``
    decides, and an iterative walk (no recursion, whatever the depth) looks only for a
    boolean facing a number. ``==`` itself recurses (in C): for documents nested deeper than
    it goes, the walk compares everything.
    """
    if left is right:
        return True
    try:
        if left != right:
            # NaN is never equal to itself: a payload's NaN token read twice differs for ==
            return _has_nan(left) and _same_json_deep(left, right)
    except RecursionError:
        return _same_json_deep(left, right)
    if type(left) is not dict and type(left) is not list:
        return (type(left) is bool) is (type(right) is bool)
    # Equal for ==: the same members and lengths. Only containers are stacked; a subtree
    # both sides share (the same object) is equal to itself.
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if a is b:
            continue
        if type(a) is dict:
            pairs: Iterable[tuple[Any, Any]] = ((value, b[key]) for key, value in a.items())
        else:
            pairs = zip(a, b, strict=True)
        for value, other in pairs:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append((value, other))
            elif (kind is bool) is not (type(other) is bool):
                return False
    return True


def _same_json_deep(left: Any, right: Any) -> bool:
    """:func:`same_json` without ``==`` on containers: an explicit stack, any depth."""
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            if a.keys() != b.keys():
                return False
            stack.extend((value, b[key]) for key, value in a.items())
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif not _same_scalar(a, b):
            return False
    return True


def _same_scalar(a: Any, b: Any) -> bool:
    """Two values that are not both objects or both arrays, as JSON."""
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # NaN and NaN: the same JSON token
    return (type(a) is bool) is (type(b) is bool) and (a is b or a == b)


def _has_nan(document: Any) -> bool:
    """Whether a float NaN sits anywhere in ``document`` (an explicit stack)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, float) and node != node:
            return True
    return False


def first_difference(left: Any, right: Any, at: tuple[Segment, ...] = ()) -> str:
    """Where two JSON documents first differ, as a path (for mismatch reasons): down the
    first differing member of each object (its members, then the other's) or of each array
    of the same length, to where the two differ as a whole.

    A loop, not recursion: documents nest as deep as their writer chose."""
    location = list(at)
    while True:
        if isinstance(left, dict) and isinstance(right, dict):
            key = next(
                (
                    k
                    for k in [*left, *(k for k in right if k not in left)]
                    if k not in left or k not in right or not same_json(left[k], right[k])
                ),
                None,
            )
            if key is not None and (key not in left or key not in right):
                return format_path((*location, key))
            if key is not None:
                left, right = left[key], right[key]
                location.append(key)
                continue
        if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
            index = next(
                (
                    i
                    for i, (a, b) in enumerate(zip(left, right, strict=True))
                    if not same_json(a, b)
                ),
                None,
            )
            if index is not None:
                left, right = left[index], right[index]
                location.append(index)
                continue
        return format_path(tuple(location))


def same_values(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """The same names with the same values: the same objects (parsed once, from the same
    payloads) or equal context values (strings, unknown placeholders), nested mappings
    compared the same way. Stricter than JSON equality (``1`` and ``1.0`` differ), as a
    replay may tell them apart."""
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if a is b:
            continue
        if a.keys() != b.keys():
            return False
        for key, x in a.items():
            y = b[key]
            if x is y:
                continue
            if type(x) is not type(y):
                return False
            if type(x) is dict:
                stack.append((x, y))
            elif not (type(x) is str or is_unknown(x)) or x != y:
                return False
    return True


_PLACEHOLDER = re.compile(r"<[^<>\s]+>")


def same_cause(replayed: str, recorded: str) -> bool:
    """Causes are compared as text; the AWS-recorded corpus redacts run-time values as
    ``<json-input:1>`` or ``<timestamp>``, which stand for any text."""
    if replayed == recorded:
        return True
    if "<" not in recorded:
        return False
    pattern = ".*".join(re.escape(p) for p in _PLACEHOLDER.split(recorded))
    return re.fullmatch(pattern, replayed, re.DOTALL) is not None
