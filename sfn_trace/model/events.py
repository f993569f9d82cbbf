"""Typed, frozen history events, converted once from API dicts or file JSON.

Raw boto3 dicts stop here: :meth:`HistoryEvent.from_api` reads the one ``*EventDetails``
member of an event into typed fields, and nothing past this module sees the dict.
Payload strings (inputs, outputs, parameters, results) are kept as text and parsed only
when someone asks, because most of the 25,000 events a history may hold are never needed
in full. Event types this version does not know are kept (``EventKind.UNKNOWN``) and
ignored by the tracer, never fatal.

Reference: https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from functools import lru_cache
from typing import Any, Final

from sfn_trace.errors import InputError
from sfn_trace.model import jsontext
from sfn_trace.model.jsontext import MAX_DEPTH, TooDeep
from sfn_trace.model.text import brief


class _NotJson:
    """The parsed value of a payload whose text is not JSON (kept as text, never guessed)."""

    _instance: _NotJson | None = None

    def __new__(cls) -> _NotJson:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Final = _NotJson()


class Payload:
    """A JSON document as the history carries it: text, parsed on first use.

    ``truncated`` is the ``*Details.truncated`` flag (true only in CloudWatch Logs records,
    or when a tool cut the payload); a truncated payload's content cannot be trusted.

    Parsed by :func:`sfn_trace.model.jsontext.loads`: numbers Python cannot hold keep their
    text, and documents nested up to :data:`~sfn_trace.model.jsontext.MAX_DEPTH` levels are
    read; one nested deeper is unreadable like text that is not JSON (its value is
    :data:`NOT_JSON`), and :attr:`unreadable` says which.
    """

    __slots__ = ("_problem", "_value", "text", "truncated")

    def __init__(self, text: str, truncated: bool = False) -> None:
        self.text = text
        self.truncated = truncated
        self._value: Any = _UNPARSED
        self._problem: str | None = None

    def __repr__(self) -> str:
        shown = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"Payload({shown!r}{', truncated' if self.truncated else ''})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Payload)
            and self.text == other.text
            and self.truncated == other.truncated
        )

    def __hash__(self) -> int:
        return hash((self.text, self.truncated))

    @property
    def value(self) -> Any:
        """The parsed document, or :data:`NOT_JSON` when it cannot be read (:attr:`unreadable`
        says why)."""
        if self._value is _UNPARSED:
            try:
                self._value = jsontext.loads(self.text)
            except TooDeep as too_deep:
                self._value, self._problem = NOT_JSON, f"payload {too_deep}"
            except (ValueError, RecursionError):
                self._value, self._problem = NOT_JSON, "payload is not JSON"
        return self._value

    @property
    def unreadable(self) -> str | None:
        """Why :attr:`value` is :data:`NOT_JSON`: ``"payload is not JSON"`` or ``"payload
        nested deeper than 10000 levels"``; None when the document was read."""
        return self._problem if self.value is NOT_JSON else None

    def may_contain_key(self, key: str) -> bool:
        """Cheap pre-check: can the document hold an object member named ``key``?

        False only when no JSON spelling of the key can appear in the text, so callers can
        skip parsing documents that certainly do not mention the field. Payloads carry raw
        UTF-8 (``ensure_ascii=False`` spelling) but may escape it; a ``\\u`` escape anywhere,
        or ``\\/`` when the key has a slash, could spell the key differently and forces the
        full parse.
        """
        text = self.text
        raw, escaped = _spellings(key)
        if raw in text or escaped in text:
            return True
        return "\\u" in text or ("/" in key and "\\/" in text)

    def key_spelled(self, key: str) -> int | None:
        """How many times the text spells ``key`` as a JSON string: an upper bound on the
        members named ``key`` (a string value equal to it counts too). None when an escape
        could spell it otherwise, so no bound is known."""
        text = self.text
        if "\\" in text:
            return None
        raw, escaped = _spellings(key)
        count = text.count(raw)
        if escaped != raw:
            count += text.count(escaped)
        return count

    def looks_complete(self) -> bool:
        """True for an object or array text whose brackets balance: safe to judge from the
        text alone. False for anything else (scalars, damaged or cut text without its
        ``truncated`` flag), which must be parsed before anyone says what it holds; False
        too when the text has more brackets than :data:`MAX_DEPTH`: it may be nested too
        deeply to read, which is "unknown", never "missing"."""
        text = self.text.lstrip()
        if not text or text[0] not in "{[":
            return False
        objects, arrays = text.count("{"), text.count("[")
        return (
            objects == text.count("}")
            and arrays == text.count("]")
            and objects + arrays <= MAX_DEPTH
        )


_UNPARSED: Final = object()


@lru_cache(maxsize=64)
def _spellings(key: str) -> tuple[str, str]:
    """``key`` as a JSON string, with raw UTF-8 and with ``\\u`` escapes (a run tracks one
    field: spelled once, not once per payload)."""
    return jsontext.dumps(key, ensure_ascii=False), jsontext.dumps(key)


class EventKind(Enum):
    """What an event means to the tracer; several API types share one kind."""

    EXECUTION_STARTED = "execution_started"
    EXECUTION_SUCCEEDED = "execution_succeeded"
    EXECUTION_FAILED = "execution_failed"
    EXECUTION_ABORTED = "execution_aborted"
    EXECUTION_TIMED_OUT = "execution_timed_out"
    EXECUTION_REDRIVEN = "execution_redriven"
    STATE_ENTERED = "state_entered"
    STATE_EXITED = "state_exited"
    STATE_ABORTED = "state_aborted"
    TASK_SCHEDULED = "task_scheduled"
    TASK_STARTED = "task_started"
    TASK_SUBMITTED = "task_submitted"
    TASK_SUCCEEDED = "task_succeeded"
    TASK_FAILED = "task_failed"
    PARALLEL_STARTED = "parallel_started"
    PARALLEL_SUCCEEDED = "parallel_succeeded"
    PARALLEL_FAILED = "parallel_failed"
    MAP_STARTED = "map_started"
    MAP_SUCCEEDED = "map_succeeded"
    MAP_FAILED = "map_failed"
    MAP_ITERATION_STARTED = "map_iteration_started"
    MAP_ITERATION_ENDED = "map_iteration_ended"
    MAP_RUN = "map_run"
    EVALUATION_FAILED = "evaluation_failed"
    UNKNOWN = "unknown"


_STATE_TYPES: Final = ("Task", "Pass", "Wait", "Choice", "Succeed", "Fail", "Parallel", "Map")

_KINDS: dict[str, EventKind] = {
    "ExecutionStarted": EventKind.EXECUTION_STARTED,
    "ExecutionSucceeded": EventKind.EXECUTION_SUCCEEDED,
    "ExecutionFailed": EventKind.EXECUTION_FAILED,
    "ExecutionAborted": EventKind.EXECUTION_ABORTED,
    "ExecutionTimedOut": EventKind.EXECUTION_TIMED_OUT,
    "ExecutionRedriven": EventKind.EXECUTION_REDRIVEN,
    "TaskScheduled": EventKind.TASK_SCHEDULED,
    "LambdaFunctionScheduled": EventKind.TASK_SCHEDULED,
    "ActivityScheduled": EventKind.TASK_SCHEDULED,
    "TaskStarted": EventKind.TASK_STARTED,
    "LambdaFunctionStarted": EventKind.TASK_STARTED,
    "ActivityStarted": EventKind.TASK_STARTED,
    "TaskSubmitted": EventKind.TASK_SUBMITTED,
    "TaskSucceeded": EventKind.TASK_SUCCEEDED,
    "LambdaFunctionSucceeded": EventKind.TASK_SUCCEEDED,
    "ActivitySucceeded": EventKind.TASK_SUCCEEDED,
    "ParallelStateStarted": EventKind.PARALLEL_STARTED,
    "ParallelStateSucceeded": EventKind.PARALLEL_SUCCEEDED,
    "ParallelStateFailed": EventKind.PARALLEL_FAILED,
    "MapStateStarted": EventKind.MAP_STARTED,
    "MapStateSucceeded": EventKind.MAP_SUCCEEDED,
    "MapStateFailed": EventKind.MAP_FAILED,
    "MapIterationStarted": EventKind.MAP_ITERATION_STARTED,
    "MapIterationSucceeded": EventKind.MAP_ITERATION_ENDED,
    "MapIterationFailed": EventKind.MAP_ITERATION_ENDED,
    "MapIterationAborted": EventKind.MAP_ITERATION_ENDED,
    "MapRunStarted": EventKind.MAP_RUN,
    "MapRunSucceeded": EventKind.MAP_RUN,
    "MapRunFailed": EventKind.MAP_RUN,
    "MapRunAborted": EventKind.MAP_RUN,
    "MapRunRedriven": EventKind.MAP_RUN,
    "EvaluationFailed": EventKind.EVALUATION_FAILED,
}
for _failed in (
    "TaskFailed",
    "TaskStartFailed",
    "TaskSubmitFailed",
    "TaskTimedOut",
    "LambdaFunctionFailed",
    "LambdaFunctionScheduleFailed",
    "LambdaFunctionStartFailed",
    "LambdaFunctionTimedOut",
    "ActivityFailed",
    "ActivityScheduleFailed",
    "ActivityTimedOut",
):
    _KINDS[_failed] = EventKind.TASK_FAILED
for _state_type in _STATE_TYPES:
    _KINDS[f"{_state_type}StateEntered"] = EventKind.STATE_ENTERED
    _KINDS[f"{_state_type}StateExited"] = EventKind.STATE_EXITED
    _KINDS[f"{_state_type}StateAborted"] = EventKind.STATE_ABORTED


def state_type_of(event_type: str) -> str | None:
    """``"TaskStateEntered"`` -> ``"Task"``; None for events that are not about one state."""
    for suffix in ("StateEntered", "StateExited", "StateAborted"):
        if event_type.endswith(suffix):
            return event_type[: -len(suffix)] or None
    return None


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One execution history event, with its details member read into typed fields.

    Only the fields the event's details carry are set; ``None`` means "not in this event".
    """

    id: int
    type: str
    kind: EventKind
    previous_id: int
    timestamp: datetime | None
    name: str | None = None
    """State name (entered/exited), Map name (iteration events), or the failing state."""
    input: Payload | None = None
    output: Payload | None = None
    parameters: Payload | None = None
    """``taskScheduledEventDetails.parameters`` (the effective parameters of a service task)."""
    error: str | None = None
    cause: str | None = None
    resource: str | None = None
    resource_type: str | None = None
    index: int | None = None
    """Map iteration index."""
    length: int | None = None
    """``MapStateStarted`` item count."""
    map_run_arn: str | None = None
    redrive_count: int | None = None
    role_arn: str | None = None
    """``executionStartedEventDetails.roleArn``: the role the execution runs as."""
    location: str | None = None
    """``EvaluationFailed`` location (JSONata field that failed)."""
    assigned_variables: tuple[tuple[str, Payload], ...] | None = None
    variables_truncated: bool = False
    data_included: bool = True
    """False when the event should carry input/output but the history omitted it
    (``includeExecutionData=false``)."""

    @property
    def state_type(self) -> str | None:
        return state_type_of(self.type)

    @classmethod
    def from_api(
        cls, raw: Mapping[str, Any], payloads: dict[tuple[str, bool], Payload] | None = None
    ) -> HistoryEvent:
        """Build an event from a GetExecutionHistory event dict (boto3 or CLI JSON).

        Raises :class:`InputError` when the dict is not an event at all (no integer id or no
        type); unknown types and unknown detail fields are fine. ``payloads``: the payloads
        of the events built before, by text: an equal payload is the same object (a state's
        output is usually the next one's input), held and parsed once.
        """
        shared = payloads if payloads is not None else {}
        try:
            event_id = int(raw["id"])
            event_type = str(raw["type"])
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise InputError(f"not a history event (needs 'id' and 'type'): {_brief(raw)}") from exc
        try:
            previous = int(raw.get("previousEventId") or 0)
        except (TypeError, ValueError, OverflowError):
            previous = 0
        details: Mapping[str, Any] = {}
        for key, value in raw.items():
            if key.endswith("EventDetails") and isinstance(value, Mapping):
                details = value
                break
        kind = _KINDS.get(event_type, EventKind.UNKNOWN)
        return cls(
            id=event_id,
            type=event_type,
            kind=kind,
            previous_id=previous,
            timestamp=parse_timestamp(raw.get("timestamp")),
            name=_str_or_none(details.get("name", details.get("state"))),
            input=_payload(details, "input", "inputDetails", shared),
            output=_payload(details, "output", "outputDetails", shared),
            parameters=_payload(details, "parameters", None, shared),
            error=_str_or_none(details.get("error")),
            cause=_str_or_none(details.get("cause")),
            resource=_str_or_none(details.get("resource")),
            resource_type=_str_or_none(details.get("resourceType")),
            index=_int_or_none(details.get("index")),
            length=_int_or_none(details.get("length")),
            map_run_arn=_str_or_none(details.get("mapRunArn")),
            redrive_count=_int_or_none(details.get("redriveCount")),
            role_arn=_str_or_none(details.get("roleArn")),
            location=_str_or_none(details.get("location")),
            assigned_variables=_variables(details.get("assignedVariables"), shared),
            variables_truncated=_truthy(
                (details.get("assignedVariablesDetails") or {}).get("truncated")
            ),
            data_included=_data_included(kind, details),
        )


def details_member(event_type: str) -> str:
    """The name of an event type's ``*EventDetails`` member, as the API spells it:
    ``TaskStateEntered`` -> ``stateEnteredEventDetails`` (every ``*StateEntered`` and
    ``*StateExited`` shares one), ``TaskScheduled`` -> ``taskScheduledEventDetails``,
    ``MapRunFailed`` -> ``mapRunFailedEventDetails``. :meth:`HistoryEvent.from_api` reads
    any ``*EventDetails`` member; this is for writing one (bundles, Express records)."""
    for suffix in ("StateEntered", "StateExited"):
        if event_type.endswith(suffix) and event_type != suffix:
            return f"state{suffix[5:]}EventDetails"
    return event_type[:1].lower() + event_type[1:] + "EventDetails"


def events_from_api(raw_events: Iterable[Mapping[str, Any]]) -> tuple[HistoryEvent, ...]:
    """Convert raw events and return them in id order (histories may come newest first)."""
    reader = EventReader()
    reader.add(raw_events)
    return reader.events()


class EventReader:
    """Raw events converted as they come, a page at a time: equal payloads in any page are
    one :class:`Payload` (read once, parsed once)."""

    def __init__(self) -> None:
        self._events: list[HistoryEvent] = []
        self._payloads: dict[tuple[str, bool], Payload] = {}

    def add(self, raw_events: Iterable[Mapping[str, Any]]) -> list[HistoryEvent]:
        """Convert the next raw events; returns them. Raises :class:`InputError` naming the
        first that is not an event by its position in the whole history."""
        added = self.convert(raw_events, start=len(self._events) + 1)
        self._events.extend(added)
        return added

    def convert(
        self, raw_events: Iterable[Mapping[str, Any]], start: int = 1
    ) -> list[HistoryEvent]:
        """Convert raw events (their payloads shared with every event of this reader) without
        adding them yet (:meth:`extend` does); ``start``: the first one's position, for
        the error."""
        converted = []
        payloads = self._payloads
        for position, raw in enumerate(raw_events, start=start):
            try:
                converted.append(HistoryEvent.from_api(raw, payloads))
            except InputError as error:
                raise error.around(f"event #{position}: ") from None
        return converted

    def extend(self, events: Iterable[HistoryEvent]) -> list[HistoryEvent]:
        """Add events converted by :meth:`convert`; returns them."""
        added = list(events)
        self._events.extend(added)
        return added

    def __len__(self) -> int:
        return len(self._events)

    def events(self) -> tuple[HistoryEvent, ...]:
        """Every event so far, in id order."""
        return tuple(sorted(self._events, key=lambda e: e.id))


def parse_timestamp(value: Any) -> datetime | None:
    """A timestamp in any form AWS's SDKs and tools write one, or None when there is none or
    it cannot be read (:func:`timestamp_warning` says so):

    - a ``datetime`` (boto3); one without a zone is UTC;
    - ISO 8601 / RFC 3339 text (the AWS CLI, the JavaScript, Java and Go SDKs), with or
      without a zone (none is UTC), ``Z``, any number of fractional digits;
    - epoch time as a number or as text: seconds (the AWS CLI with
      ``cli_timestamp_format = none``), milliseconds (Java's ``Date``, pandas, CloudWatch
      Logs), micro- or nanoseconds, told apart by size (:func:`_from_epoch`);
    - an HTTP date (``Mon, 01 Jan 2024 00:00:00 GMT``).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                return _from_epoch(float(text))
            except ValueError:
                pass
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


_EPOCH_UNITS: Final = ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3))
"""Epoch numbers this large are nano-, micro- or milliseconds: as seconds, 1e11 is the year
5138, and as milliseconds it is 1973, so no real moment is read in the wrong unit."""


def _from_epoch(number: float) -> datetime | None:
    for bound, per_second in _EPOCH_UNITS:
        if abs(number) >= bound:
            number /= per_second
            break
    try:
        return datetime.fromtimestamp(number, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def timestamp_warning(
    raw_events: Sequence[Mapping[str, Any]], events: Sequence[HistoryEvent]
) -> str | None:
    """The warning for events whose ``timestamp`` is there but in no form
    :func:`parse_timestamp` reads (their moments are unknown, never made up), or None.
    ``events``: the same events converted; only when one has no moment are the raw ones
    read again."""
    if all(event.timestamp is not None for event in events):
        return None
    unread = [
        raw
        for raw in raw_events
        if raw.get("timestamp") is not None and parse_timestamp(raw["timestamp"]) is None
    ]
    if not unread:
        return None
    first = unread[0]
    return (
        f"{len(unread)} event(s) have a timestamp in a form sfn-trace cannot read (event "
        f"{brief(first.get('id'), 20)}: {brief(first['timestamp'], 60)}); their "
        "moments are unknown (ISO 8601 and epoch seconds or milliseconds are read)"
    )


# Events whose details normally carry a payload; when the member is absent the history was
# fetched without execution data (or a tool stripped it), which is "unknown", never "null".
_PAYLOAD_MEMBER: Final = {
    EventKind.EXECUTION_STARTED: "input",
    EventKind.EXECUTION_SUCCEEDED: "output",
    EventKind.STATE_ENTERED: "input",
    EventKind.STATE_EXITED: "output",
    EventKind.TASK_SUCCEEDED: "output",
}


def _data_included(kind: EventKind, details: Mapping[str, Any]) -> bool:
    member = _PAYLOAD_MEMBER.get(kind)
    return member is None or member in details


def _payload(
    details: Mapping[str, Any],
    key: str,
    flag_key: str | None,
    shared: dict[tuple[str, bool], Payload],
) -> Payload | None:
    text = details.get(key)
    if text is None:
        return None
    if not isinstance(text, str):
        # Some tools decode payloads into objects; turn them back into the API's text form.
        text = jsontext.dumps(text, separators=(",", ":"), ensure_ascii=False, strict=False)
    truncated = False
    if flag_key is not None:
        flags = details.get(flag_key)
        if isinstance(flags, Mapping):
            truncated = _truthy(flags.get("truncated"))
    return _shared(text, truncated, shared)


def _shared(text: str, truncated: bool, shared: dict[tuple[str, bool], Payload]) -> Payload:
    payload = shared.get((text, truncated))
    if payload is None:
        payload = shared[text, truncated] = Payload(text, truncated)
    return payload


def _variables(
    raw: Any, shared: dict[tuple[str, bool], Payload]
) -> tuple[tuple[str, Payload], ...] | None:
    if not isinstance(raw, Mapping):
        return None
    result = []
    for name, text in raw.items():
        if not isinstance(text, str):
            text = jsontext.dumps(text, separators=(",", ":"), ensure_ascii=False, strict=False)
        result.append((str(name), _shared(text, False, shared)))
    return tuple(result)


def _truthy(value: Any) -> bool:
    # CloudWatch Logs records carry booleans as strings ("false"/"true").
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _brief(raw: Any) -> str:
    try:
        text = repr(raw)
    except RecursionError:
        text = f"a {type(raw).__name__} nested too deeply to show"
    return text if len(text) <= 80 else text[:77] + "..."
