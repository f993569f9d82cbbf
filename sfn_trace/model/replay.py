"""A visit's data flow replayed from the definition: its steps and how they compare with
the recording. Computed by :mod:`sfn_trace.asl.replay`; which step changed the tracked field
by :mod:`sfn_trace.trace.steps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sfn_trace.model.snapshot import Snapshot


class ReplayStatus(str, Enum):
    MATCH = "match"
    """The replayed output (or error) equals the recorded one."""
    MISMATCH = "mismatch"
    """The replay ran and differs from the recording (:class:`Fault` says whose fault)."""
    NOT_REPLAYED = "not_replayed"
    """The visit could not be replayed (:class:`Fault` says why)."""


class Fault(str, Enum):
    """Who is at fault when a visit is not ``match``: never the user's deployment without
    evidence."""

    DEFINITION = "definition_drift"
    """The definition is not the one that ran, and the history shows it: a state it lacks,
    or a state of another type than the one that ran (``asl/replay.py``, ``_drift``); then
    every other difference is put down to it too."""
    HISTORY = "history_lacks_data"
    """The history does not hold what the replay needs: S3 items (ItemReader), Distributed
    Map children, random numbers AWS drew, context values, truncated or missing payloads,
    a visit with no output."""
    SFN_TRACE = "sfn_trace"
    """sfn-trace cannot reproduce this step: its own evaluation differs from AWS's, or it
    does not evaluate the feature."""


FAULT_PREFIX = {
    Fault.DEFINITION: "definition drift",
    Fault.HISTORY: "the history lacks the data",
    Fault.SFN_TRACE: "sfn-trace cannot reproduce this step",
}
"""How a reason starts, by fault: ``"<prefix>: <what>"``."""


@dataclass(frozen=True)
class Step:
    """One data-flow step and the document it produced."""

    name: str
    """``InputPath``, ``Parameters``, ``ItemsPath``, ``ItemSelector``, ``Result``,
    ``ResultSelector``, ``ResultPath``, ``OutputPath``, ``Arguments``, ``Items``, ``Output``,
    or ``Catch`` (the output a catcher made of the error)."""
    expression: Any
    """The definition's value for the step (AWS's default when ``default``); for ``Result``:
    the Task's ``Resource``, the Pass ``Result``, ``"Iterations"`` or ``"Branches"``."""
    value: Any
    """The document after the step."""
    default: bool = False
    """The definition does not write this field: AWS's default applied."""
    recorded: bool = False
    """Taken from the history rather than computed (a task result, the parameters sent)."""


@dataclass(frozen=True)
class Failure:
    error: str
    cause: str | None


@dataclass(frozen=True)
class Replay:
    """One visit's replayed data flow and how it compares with the recording."""

    seq: int
    state: str
    type: str
    query_language: str
    input: Any
    """The recorded raw input the replay started from (None when there was none)."""
    steps: tuple[Step, ...]
    status: ReplayStatus
    reason: str | None = None
    """Why the status is not ``match``: ``"<who is at fault>: <what>"`` (:data:`FAULT_PREFIX`);
    for a mismatch it names the step and the first JSON path where the replay and the
    record differ."""
    fault: Fault | None = None
    """Who is at fault when the status is not ``match``."""
    failure: Failure | None = None
    """The error the replay ended in (no output is produced then)."""
    caught: Failure | None = None
    """The error a Catch handled (the ``Catch`` step holds the output made of it)."""
    variables: Mapping[str, Any] = field(default_factory=dict)
    """Variables in scope when the visit entered."""
    assigned: Mapping[str, Any] | None = None
    """Variables the replayed ``Assign`` sets."""
    resource: str | None = None
    """The Task's ``Resource`` as the definition writes it."""

    @property
    def produced(self) -> bool:
        """Whether the replay ran to an output."""
        return (
            self.failure is None
            and bool(self.steps)
            and self.status is not ReplayStatus.NOT_REPLAYED
        )

    @property
    def output(self) -> Any:
        """The replayed output (None unless :attr:`produced`)."""
        return self.steps[-1].value if self.produced else None

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


@dataclass(frozen=True)
class FieldStep:
    """The step of a replay that changed the tracked field's status, and why."""

    step: Step
    index: int
    """Position of the step in ``Replay.steps``."""
    before: Snapshot
    after: Snapshot
    expression: str | None
    """The member of the step's expression responsible, e.g.
    ``Parameters "poll_results_s3_key.$": "$.chunked_data.poll_results_s3_key"``; None for a
    recorded task result (the task did it)."""
    path: str | None
    """The occurrence concerned, in the step's document (None when the field went missing)."""
