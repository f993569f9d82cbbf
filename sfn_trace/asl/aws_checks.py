"""AWS's run-time checks that fail a state before or after its data flow, with the causes AWS
writes: a Wait's ``SecondsPath``/``TimestampPath`` and JSONata ``Timestamp``
(:func:`check_wait`, :func:`check_wait_timestamp`), and a Map's run-time settings
(``MaxConcurrency``, ``ToleratedFailure*``, the item reader's ``MaxItems``) in their
``*Path`` and JSONata forms (:func:`check_map_path`, :func:`check_map_expression`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sfn_trace.asl import jsonata_eval
from sfn_trace.asl.intrinsics import java_string
from sfn_trace.asl.jsonpath import (
    PathMissing,
    Roots,
    StatesError,
    StatesRuntime,
    Unsupported,
    compact,
    read,
    select,
)

__all__ = [
    "AFTER_ITEMS",
    "BEFORE_ITEMS",
    "MAX_ITEMS",
    "MapSetting",
    "check_map_expression",
    "check_map_path",
    "check_wait",
    "check_wait_timestamp",
    "is_number",
]


def check_wait(body: Mapping[str, Any], roots: Roots) -> None:
    """``SecondsPath``/``TimestampPath`` failures, with AWS's messages (docs/aws-reference.md
    section 3 and the histories in tests/data/aws-recorded)."""
    for name in ("SecondsPath", "TimestampPath"):
        if not isinstance(body.get(name), str):
            continue
        path = body[name]
        try:
            value = read(path, roots)
        except PathMissing:
            raise StatesRuntime(
                f"The {name} parameter does not reference an input value: {path}"
            ) from None
        if name == "SecondsPath" and is_number(value):
            if not float(value).is_integer():
                raise StatesRuntime(
                    f"The SecondsPath parameter cannot be parsed as a long value: {path} == {value}"
                )
            if value < 0:
                raise StatesRuntime(
                    f"The SecondsPath parameter references a negative value: {path} == {int(value)}"
                )
        if name == "TimestampPath" and not timestamp_accepted(value, name):
            raise StatesRuntime(
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
                f"date-time format string: {path} == {value}"
            )


def check_wait_timestamp(value: Any, prefix: str) -> None:
    """A JSONata Wait's ``Timestamp`` expression must give a timestamp AWS accepts; otherwise
    ``States.QueryEvaluationError`` with AWS's cause (as recorded in tests/data/aws-recorded,
    test_base_scenarios__test_wait_timestamp_jsonata_INVALID_DATE)."""
    if not timestamp_accepted(value, "Timestamp"):
        raise StatesError(
            jsonata_eval.QUERY_EVALUATION_ERROR,
            f"{prefix}The Timestamp field cannot be parsed as an ISO-8601 extended offset "
            f"date-time format string: {value}",
        )


_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})([Tt])([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?"
    r"(?:\.([0-9]*))?([Zz]|[+-]([0-9]{2}):([0-9]{2})(:[0-9]{2})?)"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def timestamp_accepted(value: Any, field: str) -> bool:
    """Whether AWS waits until ``value`` (a Wait's ``Timestamp`` or ``TimestampPath`` value).

    AWS's documentation (https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html):
    "Timestamps must conform to the RFC3339 profile of ISO 8601, with the further restrictions
    that an uppercase T must separate the date and time portions, and an uppercase Z must
    denote that a numeric time zone offset is not present". AWS's cause names Java's
    ``DateTimeFormatter.ISO_OFFSET_DATE_TIME`` ("ISO-8601 extended offset date-time format"),
    which resolves dates strictly. The recorded histories (tests/data/aws-recorded, with the
    values their localstack tests sent): a timestamp without a zone fails (NO_Z, ".000000"),
    so does month 13 (INVALID_DATE); ``Z`` after 0, 2, 6 or 9 fraction digits succeeds (".00Z",
    ".000000Z", NANOSECONDS; localstack's AWS-validated list adds 3 and 7).

    Where RFC 3339 and Java agree, so does this: a date and a time joined by ``T`` with a zone
    (``Z`` or ``+HH:MM``) and a real calendar date and time is accepted, anything else is
    not. Where they disagree (a lowercase ``t`` or ``z``, no seconds, no or more than nine
    fraction digits, a leap second, an offset with seconds or beyond 18 hours) nothing
    recorded or documented says which AWS follows: :class:`Unsupported`."""
    if not isinstance(value, str):
        raise Unsupported(f"a Wait {field} that is not a string ({jsonata_eval.type_name(value)})")
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute = (int(match.group(g)) for g in (1, 2, 3, 5, 6))
    second = int(match.group(7) or 0)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return False
    if (month, day) == (2, 29) and not leap:
        return False
    offset_hours = int(match.group(10) or 0)
    if hour > 23 or minute > 59 or second > 60 or int(match.group(11) or 0) > 59:
        return False
    if offset_hours > 23:
        return False
    fraction = match.group(8)
    disputed = (
        match.group(4) == "t"
        or match.group(9) == "z"
        or match.group(7) is None
        or (fraction is not None and not 1 <= len(fraction) <= 9)
        or second == 60
        or match.group(12) is not None
        or offset_hours > 18
    )
    if disputed:
        raise Unsupported(
            f"the Wait {field} {value!r}: RFC 3339 and Java's ISO_OFFSET_DATE_TIME disagree on "
            "it and no AWS record settles which AWS follows"
        )
    return True


class MapSetting:
    """A Map setting AWS evaluates at run time: ``name`` (a number, or a JSONata expression)
    or ``name + "Path"`` (JSONPath), and what it must be."""

    def __init__(self, name: str, kind: str, low: float, high: float | None = None) -> None:
        self.name = name
        self.kind = kind
        """``integer`` or ``float``, as AWS's causes name it."""
        self.low = low
        self.high = high


MAX_CONCURRENCY = MapSetting("MaxConcurrency", "integer", 0)
TOLERATED_FAILURE_PERCENTAGE = MapSetting("ToleratedFailurePercentage", "float", 0, 100)
TOLERATED_FAILURE_COUNT = MapSetting("ToleratedFailureCount", "integer", 0)
MAX_ITEMS = MapSetting("MaxItems", "integer", 0)
"""Inside ``ItemReader.ReaderConfig``."""

BEFORE_ITEMS = (MAX_CONCURRENCY,)
"""Checked before the Map has its items (AWS fails a bad MaxConcurrencyPath before
``MapStateStarted``, tests/data/aws-recorded test_max_concurrency_path_max_concurrency_value0)."""
AFTER_ITEMS = (TOLERATED_FAILURE_PERCENTAGE, TOLERATED_FAILURE_COUNT, MAX_ITEMS)
"""Checked once the items are known (AWS fails them after ``MapStateStarted``)."""

_JAVA_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _map_number(value: Any, kind: str) -> float | None:
    """A Map ``*Path`` setting's value as AWS reads it, or None when AWS rejects it.

    A JSON number must be an integer for an integer setting (AWS rejects ``1.5``, recorded in
    test_map_item_reader_csv_max_items_paths_1.5; a number written with a fraction is a
    Java double, whose text ``3.0`` is no integer either). A string is read as the number it
    spells: AWS ran a Map whose MaxConcurrencyPath and ToleratedFailure*Path read variables
    holding ``"1"`` (localstack's AWS-recorded snapshot
    test_assign_reference_variables.snapshot.json, MAP_STATE_REFERENCE_IN_MAX_CONCURRENCY_PATH
    and MAP_STATE_REFERENCE_IN_TOLERATED_FAILURE_PATH), and rejects ``"NoNumber"``
    (test_map_state_tolerated_failure_percentage_path_NoNumber). Anything else is rejected
    (``{}``, recorded)."""
    if isinstance(value, str):
        if kind == "integer":
            return int(value) if _JAVA_INTEGER.fullmatch(value) else None
        return float(value) if _DECIMAL.fullmatch(value) else None
    if not is_number(value):
        return None
    if kind == "integer":
        return value if isinstance(value, int) else None
    return float(value)


def check_map_path(
    setting: MapSetting, path: str, roots: Roots, catches: Callable[[str], bool]
) -> None:
    """A Map's ``*Path`` setting: AWS fails the state when it reads no number, or one out of
    range. Causes as recorded in tests/data/aws-recorded (not a valid integer/float,
    "ToleratedFailureCount cannot be negative.", MaxItems' ``States.ItemReaderFailed``); for
    a negative MaxConcurrency and a percentage beyond 0..100 as localstack's implementation,
    validated against AWS, words them."""
    name = setting.name + "Path"
    value = select(path, roots)
    number = _map_number(value, setting.kind)
    if number is None:
        raise StatesRuntime(
            f'The {name} field refers to value "{java_string(value)}" which is not a '
            f"valid {setting.kind}: {path}"
        )
    if setting.low <= number and (setting.high is None or number <= setting.high):
        return
    if setting is MAX_ITEMS:
        if catches("States.ItemReaderFailed"):
            raise Unsupported("a Catch of the MaxItemsPath failure of an ItemReader")
        raise StatesError("States.ItemReaderFailed", "field MaxItems must be positive")
    if setting is MAX_CONCURRENCY:
        raise StatesRuntime(
            f"Expected non-negative integer for MaxConcurrency, got '{int(number)}' instead."
        )
    if setting is TOLERATED_FAILURE_COUNT:
        raise StatesRuntime("ToleratedFailureCount cannot be negative.")
    raise StatesRuntime("ToleratedFailurePercentage must be between 0 and 100.")


def check_map_expression(setting: MapSetting, value: Any) -> None:
    """A JSONata Map setting's value: a number in range, as for the ``*Path`` form. What AWS
    does with anything else is neither documented nor recorded: :class:`Unsupported`."""
    integer = isinstance(value, int) or setting.kind != "integer"
    if not (is_number(value) and integer and setting.low <= value):
        raise Unsupported(f"a Map {setting.name} expression that evaluates to {compact(value)}")
    if setting.high is not None and value > setting.high:
        raise Unsupported(f"a Map {setting.name} expression that evaluates to {compact(value)}")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
