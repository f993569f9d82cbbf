"""Redriven executions: one history, several attempts.

``RedriveExecution`` restarts a failed, aborted or timed-out Standard execution under the
same ARN; the history is *appended* to: after the old terminal event comes
``ExecutionRedriven{redriveCount}`` and the unsuccessful state is entered again. States that
succeeded are not rerun: their outputs are kept, and the redriven attempt's document flow
continues from them (an inline Map or Parallel reruns only its failed iterations or branches).
https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html

So the tracer keeps reading the whole history as one flow (:func:`build_visits` already
treats ``ExecutionRedriven`` as reopening the execution): a value a state wrote in attempt 1
is exactly what the state re-entered in attempt 2 read. What this module adds is the split
into attempts, so that a report can say which visits belong to which attempt. The verdict
is read from the last document, which is the last attempt's (its execution output, or the
last state output recorded when it failed); ``first_null`` may point into an earlier attempt
when the null was written there and carried on.
"""

from __future__ import annotations

from collections.abc import Sequence

from sfn_trace.model.events import EventKind, HistoryEvent
from sfn_trace.model.execution import TERMINAL_STATUS
from sfn_trace.model.result import RedriveAttempt
from sfn_trace.model.visits import Visit


def split_attempts(
    events: Sequence[HistoryEvent], visits: Sequence[Visit]
) -> tuple[RedriveAttempt, ...]:
    """The attempts of a redriven history; ``()`` when the history holds no redrive."""
    redrives = [e for e in events if e.kind is EventKind.EXECUTION_REDRIVEN]
    if not redrives or not events:
        return ()
    starts = [events[0], *redrives]
    attempts: list[RedriveAttempt] = []
    unsuccessful: set[str] = set()
    for number, first in enumerate(starts, start=1):
        following = starts[number] if number < len(starts) else None
        inside = [
            e for e in events if e.id >= first.id and (following is None or e.id < following.id)
        ]
        end = next((e for e in reversed(inside) if e.kind in TERMINAL_STATUS), None)
        entered = [v for v in visits if inside and inside[0].id <= v.entered.id <= inside[-1].id]
        rerun = tuple(dict.fromkeys(v.state for v in entered if v.state in unsuccessful))
        unsuccessful |= {v.state for v in entered if v.outcome.value not in ("succeeded", "caught")}
        attempts.append(
            RedriveAttempt(
                number=number,
                redrive_count=(first.redrive_count or number - 1) if number > 1 else 0,
                status=TERMINAL_STATUS[end.kind] if end is not None else "RUNNING",
                first_event_id=first.id,
                last_event_id=inside[-1].id if inside else first.id,
                start=first.timestamp,
                stop=end.timestamp if end is not None else None,
                error=end.error if end is not None else None,
                cause=end.cause if end is not None else None,
                visits=tuple(v.seq for v in entered),
                rerun=rerun,
            )
        )
    return tuple(attempts)


def attempts_note(attempts: Sequence[RedriveAttempt]) -> tuple[str, ...]:
    """Which attempt the verdict is about, when there is more than one."""
    if not attempts:
        return ()
    last = attempts[-1]
    return (
        f"the execution was redriven {len(attempts) - 1} time(s): the verdict is about attempt "
        f"{last.number} ({last.status}); states that succeeded in earlier attempts were not "
        "rerun and their outputs carried on",
    )
