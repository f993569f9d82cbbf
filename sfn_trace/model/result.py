"""The one result object every renderer draws from, and the values it holds.

:class:`TraceResult` is what :func:`sfn_trace.trace.analyze` returns: the verdict and the
findings (docs/design.md), one :class:`VisitTrace` per state visit, the blame chain
(:class:`Hop`), the redrive attempts, the Distributed Map runs with their followed children.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sfn_trace.errors import ExitCode
from sfn_trace.model.confirm import Confirmation
from sfn_trace.model.definition import Drift
from sfn_trace.model.events import NOT_JSON, Payload
from sfn_trace.model.execution import ExecutionInfo, InvocationLogs, MapRunDescription
from sfn_trace.model.replay import FieldStep, Replay
from sfn_trace.model.snapshot import Snapshot, Status
from sfn_trace.model.visits import LambdaInvocation, Visit


class Verdict(str, Enum):
    """docs/design.md, "Field semantics"."""

    ABSENT = "absent"
    """No occurrence anywhere."""
    NEVER_SET = "never_set"
    """Occurrences, but never a set one."""
    LOST = "lost"
    """Set at some point; the last document holds a null occurrence or no set occurrence."""
    INTACT = "intact"
    """The last document holds set occurrences only."""
    UNKNOWN = "unknown"
    """The answer depends on data the history does not hold."""

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT[self]


_EXIT = {
    Verdict.INTACT: ExitCode.INTACT,
    Verdict.LOST: ExitCode.FINDING,
    Verdict.NEVER_SET: ExitCode.FINDING,
    Verdict.ABSENT: ExitCode.FINDING,
    Verdict.UNKNOWN: ExitCode.INCOMPLETE,
}


@dataclass(frozen=True, slots=True)
class LambdaCall:
    """One invocation of a Lambda function by a Task attempt, with its log lines if fetched."""

    invocation: LambdaInvocation
    log_group: str | None = None
    logs: InvocationLogs | None = None
    """None when logs were not fetched or none were found."""


@dataclass(frozen=True, slots=True)
class VisitTrace:
    """One visit with the field's status in each of its documents."""

    visit: Visit
    input: Snapshot
    output: Snapshot
    parameters: Snapshot | None
    """Effective parameters sent to the task (None: not a task, or none recorded)."""
    result: Snapshot | None
    """Raw task result (None: not a task, or it did not succeed)."""
    variables: Snapshot | None
    """Variables assigned on exit (None: none assigned)."""
    calls: tuple[LambdaCall, ...] = ()
    """Lambda invocations, one per attempt (retries included)."""
    replay: Replay | None = None
    """The definition's data flow replayed for this visit (None: no definition)."""
    field_step: FieldStep | None = None
    """The replayed step that changed the field's status, when the replay matched."""

    @property
    def invocation(self) -> LambdaInvocation | None:
        """The last attempt's invocation (the one whose result the state used)."""
        return self.calls[-1].invocation if self.calls else None

    @property
    def last_call(self) -> LambdaCall | None:
        return self.calls[-1] if self.calls else None

    @property
    def changed(self) -> bool | None:
        """Whether the field differs between input and output; None when one is unknown."""
        if not (self.input.known and self.output.known):
            return None
        return (self.input.status, self.input.occurrences) != (
            self.output.status,
            self.output.occurrences,
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """A visit the verdict points at: where the field went null, or the last set copy went."""

    trace: VisitTrace
    became: str
    """``"null"`` or ``"missing"``."""
    last_value: Any
    """The set value the input held just before."""
    last_path: str | None
    path: str | None
    """Where the null now sits in the output (None when the field went missing)."""
    explanation: str
    child: ChildFinding | None = None
    """Set when the field was lost inside a child execution of a Distributed Map: ``trace``
    is then the parent's Map visit, and ``child`` names the child and the finding in it."""

    @property
    def visit(self) -> Visit:
        return self.trace.visit

    @property
    def scope(self) -> tuple[str, ...]:
        """Where the finding is, e.g. ``("Fan(child 3: item-3)", "Convert")`` for a visit
        inside a child execution (the Map state's own name is replaced by the child's label)."""
        if self.child is None:
            return self.visit.scope
        return (*self.visit.scope[:-1], self.child.ref.label, *self.child.finding.scope)

    @property
    def leaf(self) -> Finding:
        """The finding in the execution that holds the visit (the innermost child's)."""
        return self if self.child is None else self.child.finding.leaf


@dataclass(frozen=True, slots=True)
class Unseen:
    """A document the answer depends on that the history does not let us see."""

    seq: int | None
    state: str | None
    document: str
    reason: str


@dataclass(frozen=True)
class TraceResult:
    execution: ExecutionInfo
    field: str
    verdict: Verdict
    first_null: Finding | None
    lost_at: Finding | None
    visits: tuple[VisitTrace, ...]
    final: Snapshot
    final_source: str
    """Which document the verdict was read from, in words."""
    partial_verdict: Verdict | None = None
    """When the verdict is ``unknown``: what the documents we could see say."""
    unseen: tuple[Unseen, ...] = ()
    warnings: tuple[str, ...] = ()
    chain: tuple[Hop, ...] = ()
    """Blame chain from the last consumer back to the origin (needs definition replay)."""
    definition_available: bool = False
    logs_fetched: bool = False
    consumer: VisitTrace | None = None
    """The last Lambda visit whose parameters carried the field: who was left with the loss."""
    attempts: tuple[RedriveAttempt, ...] = ()
    """Redrive attempts, oldest first; empty unless the history holds ``ExecutionRedriven``.
    The verdict is about the last one (:mod:`sfn_trace.trace.redrive`)."""
    drift: Drift | None = None
    """How the definition that ran differs from ``--expect-definition`` (None: not asked)."""
    map_runs: tuple[MapRunTrace, ...] = ()
    """Distributed Map runs started by this execution, with their followed children
    (:mod:`sfn_trace.trace.maprun`)."""
    anomalies: tuple[str, ...] = ()
    """The history's anomalies (events missing, repeated with other content, out of order,
    or that could not be attributed), also in ``warnings``; any makes the verdict
    ``unknown`` (:mod:`sfn_trace.trace.verdict`)."""
    confirmation: tuple[Confirmation, ...] | None = None
    """``--confirm``: AWS TestState's word on each culprit state, in execution order (None:
    not asked; :mod:`sfn_trace.checks.confirm`)."""

    @property
    def exit_code(self) -> ExitCode:
        return self.verdict.exit_code

    @property
    def execution_running(self) -> bool:
        return self.execution.status == "RUNNING"

    def attempt_of(self, finding: Finding | None) -> int | None:
        """The redrive attempt in which the finding's visit was entered (None: not redriven)."""
        if finding is None:
            return None
        return next((a.number for a in self.attempts if finding.visit.seq in a.visits), None)


def status_of(snapshot: Snapshot | None) -> Status | None:
    return None if snapshot is None else snapshot.status


@dataclass(frozen=True, slots=True)
class ChildRef:
    """Which child execution a finding or a row is about."""

    map_state: str
    number: int
    name: str
    arn: str
    map_run_arn: str
    item: Payload | None
    """The child's execution input: the item (or the batch) the Map Run gave it."""

    @property
    def label(self) -> str:
        return f"{self.map_state}(child {self.number}: {self.name})"

    @property
    def item_value(self) -> Any:
        """The item as JSON (its text when it is not JSON; None when not read)."""
        if self.item is None:
            return None
        value = self.item.value
        return self.item.text if value is NOT_JSON else value


@dataclass(frozen=True, slots=True)
class ChildFinding:
    """A finding of the parent that lies inside a child: which child, and the child's own."""

    ref: ChildRef
    finding: Finding


@dataclass(frozen=True)
class ChildTrace:
    """One followed child: its facts, the field in its item, and its own trace."""

    ref: ChildRef
    status: str | None
    start: datetime | None
    stop: datetime | None
    item: Snapshot
    """The field in the child's input (the item)."""
    result: TraceResult | None
    error: str | None = None


@dataclass(frozen=True)
class MapRunTrace:
    """One Map Run of the execution, as the report shows it."""

    state: str
    seq: int
    """The Map visit that started it."""
    event_id: int
    """Its ``MapRunStarted`` event."""
    arn: str
    status: str
    """From the history: ``SUCCEEDED``/``FAILED``/``ABORTED``, or ``RUNNING`` (no end yet)."""
    description: MapRunDescription | None
    followed: bool
    listed: int | None
    children: tuple[ChildTrace, ...]
    follow_command: str
    """The command that follows this Map Run's children."""
    note: str | None = None

    @property
    def total(self) -> int | None:
        """How many child executions the Map Run had, when known."""
        counts = self.description.execution_counts if self.description else None
        if counts is not None and counts.total:
            return counts.total
        return self.listed


@dataclass(frozen=True)
class Hop:
    """One state in the blame chain: what it read, and who wrote that."""

    state: str
    seq: int
    scope: tuple[str, ...]
    read: str | None
    """The path it read: in its input, or in its task result when ``source`` says so."""
    source: str
    """What ``read`` is a path in: an :class:`OriginKind` value."""
    value: Any
    expression: str | None
    """The expressions that read and carried the value, e.g.
    ``Parameters "poll_results_s3_key.$": "$.chunked_data.poll_results_s3_key"``."""
    written_by: str | None
    """The state that wrote ``read`` (the next hop's), or None at the origin."""
    written_by_seq: int | None = None
    note: str | None = None
    """At the origin: what it is (``the Lambda result held null although ...``)."""

    def as_json(self) -> dict[str, Any]:
        """The docs/json-output.md ``chain`` item (``state``, ``read``, ``value``, ``expression``,
        ``written_by``) with ``source``, ``scope`` and ``note`` added."""
        out: dict[str, Any] = {
            "state": self.state,
            "read": self.read,
            "value": self.value,
            "expression": self.expression,
            "written_by": self.written_by,
            "source": self.source,
            "scope": list(self.scope),
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class RedriveAttempt:
    """One run of a (possibly redriven) execution: from ``ExecutionStarted`` or an
    ``ExecutionRedriven`` up to the terminal event that ended it."""

    number: int
    """1 for the original run, 2 after the first redrive, ..."""
    redrive_count: int
    """0 for the original run, else ``ExecutionRedriven.redriveCount``."""
    status: str
    """``SUCCEEDED``, ``FAILED``, ``ABORTED``, ``TIMED_OUT``, or ``RUNNING`` (no end yet)."""
    first_event_id: int
    last_event_id: int
    start: datetime | None
    stop: datetime | None
    error: str | None
    cause: str | None
    visits: tuple[int, ...]
    """``seq`` of every visit entered during this attempt (states kept from earlier attempts
    are not entered again, so they are not listed)."""
    rerun: tuple[str, ...] = ()
    """States entered again in this attempt after they ended unsuccessfully in an earlier
    one (empty for the first attempt)."""
