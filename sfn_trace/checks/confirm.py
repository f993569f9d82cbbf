"""``--confirm``: ask AWS's own evaluator (``states:TestState``) to confirm the culprit
states, and judge its answers against sfn-trace's replay and the record.

Which states: where the field went null (``first_null``), where its last copy went
(``lost_at``) and every state of the blame chain, distinct, at most
:data:`~sfn_trace.model.confirm.MAX_STATES` (a warning names those left out). Each is sent
with the whole definition that ran, its recorded input, context object and the variables in
scope when it was entered; a Task always with a mock (its recorded result, or the recorded
error of its last attempt), so nothing is ever invoked (:class:`StateTestRequest` refuses
otherwise). A state that cannot be sent faithfully is not sent, and says why.

Each answer is judged (:func:`judge`):

- ``disagrees``: AWS's status is not how the visit ended, or one of AWS's intermediates
  (``afterInputPath``, ``afterParameters``, ``result``, ``afterResultSelector``, ...) differs
  from sfn-trace's replayed step, or AWS's output from the recorded output, or AWS's next
  state from the recorded one: the first such step, and the first JSON path where they
  differ;
- ``confirmed``: AWS produced the recorded output, every intermediate equals the replay, and
  the step that changed the field in AWS's own documents is the one sfn-trace names;
- ``unconfirmed``: not sent, no answer (access denied, throttled, refused), or AWS's answer
  does not tell which step changed the field.

Pure but for ``ask``, the call (:mod:`sfn_trace.sources.aws.teststate`), which the caller
passes in; answers already stored (a bundle's) are reused instead of asking again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sfn_trace.asl.jsoncompare import first_difference, same_json
from sfn_trace.checks.confirm_plan import CONFIRM, EXPECTED_STATUS, Target, plan
from sfn_trace.errors import Named, word
from sfn_trace.model import jsontext
from sfn_trace.model.confirm import (
    AskFailure,
    AwsStep,
    Confirmation,
    ConfirmVerdict,
    Exchange,
    StateTestAnswer,
    StateTestRequest,
)
from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.replay import ReplayStatus, Step
from sfn_trace.model.result import TraceResult
from sfn_trace.model.snapshot import Snapshot
from sfn_trace.model.text import ELLIPSIS
from sfn_trace.trace.field import snapshot_of

Ask = Callable[[StateTestRequest], StateTestAnswer | AskFailure]
"""One TestState call: the answer, or why there is none."""

NOT_STORED: tuple[str | Named, ...] = (
    "no TestState answer for this request is stored in the bundle (",
    CONFIRM,
    " asks AWS)",
)
"""The reason of a state a bundle holds no answer for (:func:`~sfn_trace.errors.word`)."""

_MEMBER = {
    "InputPath": "afterInputPath",
    "Parameters": "afterParameters",
    "Arguments": "afterArguments",
    "Result": "result",
    "ResultSelector": "afterResultSelector",
    "ResultPath": "afterResultPath",
    "ItemsPath": "afterItemsPath",
    "ItemSelector": "afterItemSelector",
    "OutputPath": "output",
    "Output": "output",
    "Catch": "output",
}
"""Which member of AWS's answer holds the document a replayed step made (``output`` is the
answer's own; the others are ``inspectionData``'s)."""


def confirm(
    result: TraceResult,
    data: ExecutionData,
    *,
    ask: Ask | None,
    stored: Sequence[Exchange] | None = None,
    redacted: bool = False,
) -> tuple[TraceResult, tuple[Exchange, ...]]:
    """``result`` with its ``confirmation`` (and the warnings it adds), and the exchanges
    made or reused (what ``--save-bundle`` stores).

    ``data`` is the execution as read, before any redaction: requests carry real values.
    ``ask`` calls TestState (None: only ``stored`` answers are used, as a bundle's offline
    replay does). ``redacted``: AWS's error causes, which may quote payloads, stay out of
    the reasons.
    """
    targets, warnings = plan(result, data)
    known = {exchange.fingerprint: exchange for exchange in stored or ()}
    exchanges: list[Exchange] = []
    confirmations: list[Confirmation] = []
    stopped: str | None = None
    for target in targets:
        if target.request is None:
            reason = target.skipped or "not sent"
            confirmations.append(_unconfirmed(target, reason))
            continue
        fingerprint = target.request.fingerprint
        exchange = known.get(fingerprint)
        if exchange is None and stopped is not None:
            exchange = Exchange(target.visit.state, target.visit.seq, fingerprint, None, stopped)
        elif exchange is None and ask is not None:
            got = ask(target.request)
            if isinstance(got, AskFailure):
                line = got.text(redacted)
                exchange = Exchange(target.visit.state, target.visit.seq, fingerprint, None, line)
                stopped = line if got.stop else None
            else:
                exchange = Exchange(target.visit.state, target.visit.seq, fingerprint, got)
        if exchange is None:
            confirmations.append(_unconfirmed(target, word(*NOT_STORED)))
            continue
        exchanges.append(exchange)
        confirmations.append(judge(target, exchange, result.field, redacted=redacted))
    failures: dict[str, int] = {}
    for exchange in exchanges:
        if exchange.error is not None:
            failures[exchange.error] = failures.get(exchange.error, 0) + 1
    warnings += [
        word(CONFIRM, f": {line} ({count} state{'s' if count != 1 else ''} left unconfirmed)")
        for line, count in failures.items()
    ]
    confirmed = dataclasses.replace(
        result,
        confirmation=tuple(confirmations),
        warnings=(*result.warnings, *warnings),
    )
    return confirmed, tuple(exchanges)


# --- judging an answer -----------------------------------------------------------------------


_ABSENT: Any = object()


def judge(
    target: Target, exchange: Exchange, field: str, *, redacted: bool = False
) -> Confirmation:
    """AWS's answer about one state against sfn-trace's replay and the record."""
    visit, trace = target.visit, target.trace
    answer = exchange.answer
    if answer is None:
        return _unconfirmed(target, exchange.error or "TestState gave no answer")
    replay = trace.replay
    steps = tuple(replay.steps) if replay is not None else ()
    documents = _documents(answer)
    trail = tuple(_trail(steps, documents, field, visit.type))

    def verdict(
        kind: ConfirmVerdict, step: str | None, path: str | None, reason: str
    ) -> Confirmation:
        return Confirmation(visit.state, visit.seq, kind, step, path, reason, answer.status, trail)

    expected = EXPECTED_STATUS[visit.outcome]
    if answer.status != expected:
        ended = answer.status or "without a status"
        if answer.error is not None:
            ended += f" ({_error(answer, redacted)})"
        return verdict(
            ConfirmVerdict.DISAGREES,
            "Retry" if answer.status == "RETRIABLE" else None,
            None,
            f"AWS TestState ended {ended}; the execution's visit {visit.outcome.value}",
        )
    for step in steps:
        theirs = documents.get(_member(step, visit.type), _ABSENT)
        if theirs is _ABSENT or same_json(step.value, theirs):
            continue
        path = first_difference(step.value, theirs)
        return verdict(
            ConfirmVerdict.DISAGREES,
            step.name,
            path,
            f"AWS's {_member(step, visit.type)} differs from sfn-trace's replayed {step.name} "
            f"at {path}",
        )
    if expected == "FAILED":
        if answer.error != visit.error:
            return verdict(
                ConfirmVerdict.DISAGREES,
                None,
                None,
                f"AWS TestState failed with {_error(answer, redacted)}, the execution with "
                f"{visit.error}",
            )
    else:
        recorded = visit.output.value if visit.output is not None else None
        theirs = _parse(answer.output)
        if theirs is _ABSENT or not same_json(recorded, theirs):
            path = first_difference(recorded, theirs) if theirs is not _ABSENT else "$"
            last = steps[-1].name if steps else "Output"
            return verdict(
                ConfirmVerdict.DISAGREES,
                last,
                path,
                f"AWS's output differs from the execution's recorded output at {path}",
            )
    produced = "the recorded error" if expected == "FAILED" else "the recorded output"
    recorded_next = target.next_state
    if (
        answer.next_state is not None
        and recorded_next is not None
        and answer.next_state != recorded_next
    ):
        return verdict(
            ConfirmVerdict.DISAGREES,
            "Next",
            None,
            f"AWS goes on to {answer.next_state}, the execution went to {recorded_next}",
        )
    if replay is None or replay.status is not ReplayStatus.MATCH or not steps:
        status = replay.status.value if replay is not None else "not run"
        why = f": {replay.reason}" if replay is not None and replay.reason else ""
        return verdict(
            ConfirmVerdict.UNCONFIRMED,
            None,
            None,
            f"AWS produced {produced}, but sfn-trace's replay of this visit is "
            f"{status}{why}: it names no step to confirm",
        )
    ours = trace.field_step
    seen = _count(steps, documents, visit.type)
    candidates = _change(steps, documents, field, replay.input, visit.type)
    if ours is None and candidates is None:
        return verdict(
            ConfirmVerdict.CONFIRMED,
            None,
            None,
            f"AWS produced {produced} and its {seen} equal sfn-trace's replay; "
            "no step changed the field",
        )
    if ours is not None and candidates == (ours.step.name,):
        at = f" at {ours.path}" if ours.path else ""
        return verdict(
            ConfirmVerdict.CONFIRMED,
            ours.step.name,
            ours.path,
            f"AWS produced {produced} and its {seen} equal sfn-trace's replay; "
            f"{ours.step.name} made the field {ours.after.status.value}"
            f"{at} (it was {ours.before.status.value})",
        )
    if ours is not None and candidates is not None and ours.step.name in candidates:
        return verdict(
            ConfirmVerdict.UNCONFIRMED,
            None,
            None,
            f"AWS produced {produced}, but its answer shows the field's change only "
            f"after {' or '.join(candidates)}: it does not tell whether {ours.step.name} made it",
        )
    theirs_name = candidates[-1] if candidates else "no step"
    ours_name = ours.step.name if ours is not None else "no step"
    return verdict(
        ConfirmVerdict.DISAGREES,
        ours_name if ours is not None else theirs_name,
        ours.path if ours is not None else None,
        f"in AWS's documents the field changes at {theirs_name}, sfn-trace's replay names "
        f"{ours_name}",
    )


def _unconfirmed(target: Target, reason: str) -> Confirmation:
    visit = target.visit
    return Confirmation(
        visit.state, visit.seq, ConfirmVerdict.UNCONFIRMED, None, None, reason, None, ()
    )


def _member(step: Step, state_type: str) -> str:
    if state_type == "Map" and step.name == "Parameters":
        return "afterItemSelector"  # a legacy Map's Parameters is its ItemSelector
    return _MEMBER.get(step.name, "")


def _documents(answer: StateTestAnswer) -> dict[str, Any]:
    """AWS's documents by member name (``output`` included), parsed; unreadable ones left
    out."""
    found: dict[str, Any] = {}
    for name, text in (*answer.inspection.items(), ("output", answer.output)):
        value = _parse(text)
        if value is not _ABSENT:
            found[name] = value
    return found


def _parse(text: str | None) -> Any:
    if text is None:
        return _ABSENT
    try:
        return jsontext.loads(text)
    except (ValueError, RecursionError):
        return _ABSENT


def _trail(
    steps: Sequence[Step], documents: Mapping[str, Any], field: str, state_type: str
) -> Iterator[AwsStep]:
    """The field's status in each document AWS reported, in the replay's step order."""
    for step in steps:
        member = _member(step, state_type)
        if member not in documents:
            continue
        snapshot = snapshot_of(documents[member], field)
        yield AwsStep(step.name, snapshot.status, _where(snapshot))


def _where(snapshot: Snapshot) -> str | None:
    null = next((o for o in snapshot.occurrences if not o.is_set), None)
    found = null or (snapshot.occurrences[0] if snapshot.occurrences else None)
    return found.path if found is not None else None


def _change(
    steps: Sequence[Step], documents: Mapping[str, Any], field: str, sent: Any, state_type: str
) -> tuple[str, ...] | None:
    """The steps, in AWS's documents, among which the field's status first changed: one
    name when AWS reported the document before and after it, several when AWS left out the
    documents in between; None when no document AWS reported changes it."""
    start = documents.get("input", sent)
    before = snapshot_of(start, field).status
    pending: list[str] = []
    for step in steps:
        pending.append(step.name)
        member = _member(step, state_type)
        if member not in documents:
            continue
        after = snapshot_of(documents[member], field).status
        if after is not before:
            return tuple(pending)
        before, pending = after, []
    return None


def _count(steps: Sequence[Step], documents: Mapping[str, Any], state_type: str) -> str:
    seen = sum(1 for s in steps if _member(s, state_type) in documents)
    return f"{seen} intermediate{'s' if seen != 1 else ''}"


def _error(answer: StateTestAnswer, redacted: bool) -> str:
    """AWS's error, with its cause unless the report is redacted (a cause may quote the
    payload)."""
    text = answer.error or "an error"
    if answer.cause and not redacted:
        cause = " ".join(answer.cause.split())
        text += f": {cause if len(cause) <= 200 else cause[:199] + ELLIPSIS}"
    return text


__all__ = ["NOT_STORED", "Ask", "Target", "confirm", "judge", "plan"]
