"""State visits: what one state's run looked like, in its flow (the execution, a Map
iteration, a Parallel branch), with its attempts; and the Lambda invocations they made.

Built from the events by :mod:`sfn_trace.trace.visits` (the rules of attribution are
documented there); plain frozen values here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sfn_trace.model.events import EventKind, HistoryEvent, Payload


class Outcome(str, Enum):
    """How a visit ended."""

    SUCCEEDED = "succeeded"
    """Exited normally."""
    CAUGHT = "caught"
    """Failed, and a Catch sent the error output on (the visit still has an output)."""
    FAILED = "failed"
    """Failed without an exit: the execution, iteration or branch failed here."""
    ABORTED = "aborted"
    """Stopped from outside (execution aborted/timed out, a sibling branch failed)."""
    RUNNING = "running"
    """No end event in the history: the execution is still running, or the history is cut."""


class FlowKind(str, Enum):
    ROOT = "root"
    ITERATION = "iteration"
    BRANCH = "branch"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a Task (one invocation), or one run of a retried Map/Parallel."""

    number: int
    start: HistoryEvent
    parameters: Payload | None
    """Effective input sent to the resource (after InputPath and Parameters)."""
    resource: str | None
    resource_type: str | None
    end: HistoryEvent | None
    result: Payload | None
    """The raw result (``TaskSucceeded.output`` or ``LambdaFunctionSucceeded.output``)."""
    submitted: Payload | None
    error: str | None
    cause: str | None

    @property
    def failed(self) -> bool:
        return self.error is not None or (
            self.end is not None
            and self.end.kind is not EventKind.TASK_SUCCEEDED
            and self.end.kind not in (EventKind.MAP_SUCCEEDED, EventKind.PARALLEL_SUCCEEDED)
        )


@dataclass(frozen=True, slots=True)
class Visit:
    """One entry into a state, with everything the history recorded about it."""

    seq: int
    """1-based order of entry across the whole execution."""
    state: str
    type: str
    entered: HistoryEvent
    end: HistoryEvent | None
    """The event that ended the visit: its ``*StateExited``, or the failure/abort."""
    exit: HistoryEvent | None
    """Its own ``*StateExited`` (None when the visit ended without one)."""
    outcome: Outcome
    scope: tuple[str, ...]
    """Enclosing iterations/branches then the state, e.g. ``("Fan[3]", "Convert")``."""
    map_iteration: int | None
    """Index of the innermost Map iteration holding this visit."""
    input: Payload | None
    output: Payload | None
    attempts: tuple[Attempt, ...]
    error: str | None
    """The error that ended (or was caught in) the visit."""
    cause: str | None
    variables: tuple[tuple[str, Payload], ...] | None
    variables_truncated: bool
    children: tuple[Flow, ...]
    input_included: bool = True
    output_included: bool = True
    redrive_count: int | None = None
    """How many times the execution had been redriven when the visit was entered (0 before
    any ``ExecutionRedriven``); None when the history does not begin with the execution's
    start, so the redrives before it are not known."""

    @property
    def exited(self) -> bool:
        return self.exit is not None

    @property
    def exit_event_id(self) -> int | None:
        return self.exit.id if self.exit is not None else None

    @property
    def parameters(self) -> Payload | None:
        return self.attempts[-1].parameters if self.attempts else None

    @property
    def result(self) -> Payload | None:
        return self.attempts[-1].result if self.attempts else None

    @property
    def resource(self) -> str | None:
        return self.attempts[-1].resource if self.attempts else None

    def walk(self) -> list[Visit]:
        """This visit and every visit nested in it, each before those nested in it (entry
        order). An explicit stack, not recursion: the history chooses how deep visits nest."""
        found = []
        stack = [self]
        while stack:
            visit = stack.pop()
            found.append(visit)
            stack.extend(reversed([inner for flow in visit.children for inner in flow.visits]))
        return found


@dataclass(frozen=True, slots=True)
class Flow:
    """A sequence of visits through which one document flows.

    The execution's root flow, one Map iteration, or one Parallel branch.
    """

    kind: FlowKind
    label: str
    """``""`` for the root, ``Fan[3]`` for an iteration, ``Par.Branches[1]`` for a branch."""
    index: int | None
    visits: tuple[Visit, ...]
    start: HistoryEvent | None
    end: HistoryEvent | None


@dataclass(frozen=True, slots=True)
class VisitTree:
    root: Flow
    visits: tuple[Visit, ...]
    """Every visit, in entry order (``seq``)."""
    execution_input: Payload | None
    execution_output: Payload | None
    terminal: HistoryEvent | None
    """The last ``Execution{Succeeded,Failed,Aborted,TimedOut}`` event, if any (after the
    last ``ExecutionRedriven``)."""
    anomalies: tuple[str, ...]
    """Events that could not be attributed as the rules expect (kept, reported)."""
    role_arn: str | None = None
    """The role the execution runs as (its ``ExecutionStarted`` event's ``roleArn``)."""


@dataclass(frozen=True, slots=True)
class LambdaInvocation:
    function: str
    """The bare function name (log groups are named after it)."""
    qualifier: str | None
    """Alias or version, when the task named one."""
    reference: str
    """``FunctionName`` as the task gave it (name, partial or full ARN)."""
    region: str | None
    """The function's region when its ARN says so."""
    request_id: str | None
    attempt: int
    start_event_id: int
    """The attempt's ``TaskScheduled``/``LambdaFunctionScheduled`` event: its key."""
    start: datetime | None
    end: datetime | None
