"""One row of a scan per execution, and the tally of the rows.

A row keeps what the scan's outputs show of a trace (the verdict and where the field went
null), never the history: :func:`row_of` reads one execution, judges it and lets the history
go. :class:`Tally` adds rows up one by one, so a scan need not keep them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sfn_trace.errors import ExitCode, SfnTraceError, TraceCall, UsageError
from sfn_trace.model.arn import parse_execution_arn
from sfn_trace.model.execution import ExecutionData, ExecutionInfo
from sfn_trace.model.result import Finding, TraceResult, Verdict
from sfn_trace.trace import analyze

if TYPE_CHECKING:
    from sfn_trace.sources.aws.executions import ListedExecution

FINDINGS = (Verdict.LOST, Verdict.NEVER_SET, Verdict.ABSENT)
"""Verdicts that count as having lost the field (exit 1, as in the main form)."""

Loader = Callable[["ListedExecution"], ExecutionData]
"""Reads one listed execution; on AWS, :class:`~sfn_trace.sources.aws.executions.HistoryFetcher`."""


@dataclass(frozen=True, slots=True)
class Culprit:
    """Where a finding points, reduced to what a row shows."""

    state: str
    scope: tuple[str, ...]
    event_id: int | None
    """The visit's exit event (None when it never exited)."""
    map_iteration: int | None
    became: str
    """``"null"`` or ``"missing"``."""

    @classmethod
    def of(cls, finding: Finding | None) -> Culprit | None:
        if finding is None:
            return None
        visit = finding.visit
        return cls(
            state=visit.state,
            scope=visit.scope,
            event_id=visit.exit_event_id,
            map_iteration=visit.map_iteration,
            became=finding.became,
        )


def culprit_document(culprit: Culprit | None) -> dict[str, Any] | None:
    """A culprit as JSON: the scan's reports and its checkpoint records write it so."""
    if culprit is None:
        return None
    return {
        "state": culprit.state,
        "scope": list(culprit.scope),
        "event_id": culprit.event_id,
        "map_iteration": culprit.map_iteration,
        "became": culprit.became,
    }


def culprit_from_document(document: Mapping[str, Any] | None) -> Culprit | None:
    """The culprit :func:`culprit_document` wrote."""
    if document is None:
        return None
    return Culprit(
        state=document["state"],
        scope=tuple(document["scope"]),
        event_id=document["event_id"],
        map_iteration=document["map_iteration"],
        became=document["became"],
    )


@dataclass(frozen=True, slots=True)
class ScanRow:
    """One execution of the scan: its verdict and culprits, or why it could not be read."""

    execution: ExecutionInfo
    verdict: Verdict | None = None
    """None when the execution could not be read (see ``error``)."""
    first_null: Culprit | None = None
    lost_at: Culprit | None = None
    error: str | None = None
    """The one-line error, when the execution could not be read or traced."""
    error_exit_code: ExitCode | None = None
    """What the main form would have exited with for that error (3 for AWS errors)."""
    warnings: tuple[str, ...] = ()

    @classmethod
    def traced(cls, result: TraceResult, info: ExecutionInfo) -> ScanRow:
        return cls(
            execution=info,
            verdict=result.verdict,
            first_null=Culprit.of(result.first_null),
            lost_at=Culprit.of(result.lost_at),
            warnings=result.warnings,
        )

    @classmethod
    def failed(cls, info: ExecutionInfo, error: SfnTraceError) -> ScanRow:
        return cls(execution=info, error=error.message, error_exit_code=error.exit_code)

    @property
    def lost_the_field(self) -> bool:
        return self.verdict in FINDINGS


@dataclass
class Tally:
    """The scan's totals, added up row by row (rows themselves need not be kept)."""

    executions: int = 0
    verdicts: Counter[Verdict] = field(default_factory=Counter)
    unreadable: int = 0
    culprit_counts: Counter[str] = field(default_factory=Counter)
    machines: dict[str, Tally] = field(default_factory=dict)
    """The same totals per state machine (:func:`machine_of`), in the order first seen."""

    def add(self, row: ScanRow, *, per_machine: bool = True) -> None:
        if per_machine:
            machine = machine_of(row)
            if machine not in self.machines:
                self.machines[machine] = Tally()
            self.machines[machine].add(row, per_machine=False)
        self.executions += 1
        if row.verdict is not None:
            self.verdicts[row.verdict] += 1
        if row.error is not None:
            self.unreadable += 1
        if row.lost_the_field and row.first_null is not None:
            self.culprit_counts[row.first_null.state] += 1

    @property
    def lost(self) -> int:
        return sum(self.verdicts[v] for v in FINDINGS)

    @property
    def culprits(self) -> tuple[tuple[str, int], ...]:
        """State where the field went null -> executions that lost it there; most first,
        ties by name (as :attr:`~sfn_trace.checks.scan.ScanResult.culprits`)."""
        items = self.culprit_counts.items()
        return tuple(sorted(items, key=lambda item: (-item[1], item[0])))

    @property
    def exit_code(self) -> ExitCode:
        """As :attr:`~sfn_trace.checks.scan.ScanResult.exit_code`."""
        if self.lost:
            return ExitCode.FINDING
        if self.unreadable or self.verdicts[Verdict.UNKNOWN]:
            return ExitCode.INCOMPLETE
        return ExitCode.INTACT


def machine_of(row: ScanRow) -> str:
    """The (unqualified) ARN of the state machine ``row``'s execution belongs to, read from
    the execution ARN (``...:execution:NAME:ID`` -> ``...:stateMachine:NAME``); a version's
    or an alias's executions belong to their state machine."""
    try:
        return parse_execution_arn(row.execution.arn or "").state_machine_arn
    except UsageError:
        return row.execution.state_machine_arn or ""


def row_of(execution: ListedExecution, load: Loader, field_name: str) -> ScanRow:
    info = execution.info
    try:
        data = load(execution)
        return ScanRow.traced(analyze(data, field_name), data.info)
    except SfnTraceError as error:
        return ScanRow.failed(info, error)
    except Exception as error:  # a bug on one history must not cost the other rows
        return ScanRow.failed(
            info,
            SfnTraceError(
                f"internal error: {type(error).__name__}: {error} (please report it; ",
                TraceCall(execution.arn, debug=True),
                ")",
            ),
        )
