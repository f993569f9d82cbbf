"""``--confirm``: AWS's own evaluator (``states:TestState``) asked about the culprit states.

Plain frozen values: the request sfn-trace sends (:class:`StateTestRequest`, the only way a
request is made, and it refuses a state that would run anything without a mock), AWS's
answer (:class:`StateTestAnswer`), one call's record (:class:`Exchange`, what a bundle keeps)
and the verdict per state (:class:`Confirmation`). Planned and judged by
:mod:`sfn_trace.checks.confirm`; sent by :mod:`sfn_trace.sources.aws.teststate`.

API: https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sfn_trace.errors import InputError
from sfn_trace.model import jsontext
from sfn_trace.model.definition import Definition
from sfn_trace.model.snapshot import Status

MAX_STATES = 8
"""At most this many states are sent to TestState per trace (its quota is low); a warning
says when more were culprits."""

MOCKED_TYPES = frozenset({"Task", "Map", "Parallel"})
"""States whose work would run something (a resource, iterations, branches): never sent
without a mock. TestState accepts a mock only for these types."""

INSPECTION_MEMBERS = (
    "input",
    "afterInputPath",
    "afterParameters",
    "afterArguments",
    "result",
    "afterResultSelector",
    "afterResultPath",
    "afterItemsPath",
    "afterItemSelector",
    "afterItemBatcher",
    "afterItemsPointer",
    "variables",
)
"""The ``inspectionData`` members that are documents (JSON text), kept as AWS gave them."""

TEST_STATUSES = ("SUCCEEDED", "FAILED", "RETRIABLE", "CAUGHT_ERROR")
"""TestState's ``status`` values (the service model's ``TestExecutionStatus``)."""


class UnmockedStateError(ValueError):
    """A request that would let TestState run a state's work for real (a Task without a
    mock, a Map or Parallel without one), or one TestState would refuse. A bug, never
    something the user did: no such request is ever built."""


@dataclass(frozen=True)
class Mock:
    """What a mocked state returns instead of running: the recorded result (JSON text), or
    the recorded error of its last attempt."""

    result: str | None = None
    error: str | None = None
    cause: str | None = None

    def __post_init__(self) -> None:
        if (self.result is None) == (self.error is None):
            raise UnmockedStateError("a mock holds either a result or an error, not both")

    def as_api(self) -> dict[str, Any]:
        if self.result is not None:
            # The recorded result is what AWS itself produced: validating it against the
            # service's API model (the default, STRICT) could only reject members AWS added.
            return {"result": self.result, "fieldValidationMode": "NONE"}
        error: dict[str, str] = {"error": str(self.error)}
        if self.cause is not None:
            error["cause"] = self.cause
        return {"errorOutput": error}


@dataclass(frozen=True)
class StateTestRequest:
    """One TestState request: the whole definition that ran, the state to test in it, the
    recorded input, context and variables, and the mock.

    The constructor is the one gate every request passes: it reads the state's type from
    the definition itself and refuses a Task, Map or Parallel without a mock (TestState
    would invoke the resource or run the iterations), a mock or a context on another state
    type (TestState rejects both), and a state the definition lacks.
    """

    definition: str
    state_name: str
    input: str
    mock: Mock | None = None
    context: str | None = None
    """The context object as JSON text (TestState accepts one only with a mock)."""
    variables: str | None = None
    """The variables in scope when the visit entered, as a JSON object text."""
    retrier_retry_count: int | None = None
    """With an error mock: how many retries the state had already made."""
    state_type: str = field(init=False, default="")

    def __post_init__(self) -> None:
        try:
            state = Definition.from_text(self.definition, origin="the definition").state(
                self.state_name
            )
        except InputError as error:
            raise UnmockedStateError(f"not a definition TestState can read: {error}") from None
        if state is None:
            raise UnmockedStateError(f"the definition has no state named {self.state_name!r}")
        object.__setattr__(self, "state_type", state.type)
        if state.type in MOCKED_TYPES and self.mock is None:
            raise UnmockedStateError(
                f"refusing to send the {state.type} state {self.state_name!r} to TestState "
                "without a mock: it would run its work for real"
            )
        if self.mock is not None and state.type not in MOCKED_TYPES:
            raise UnmockedStateError(f"TestState accepts no mock for a {state.type} state")
        if self.context is not None and self.mock is None:
            raise UnmockedStateError("TestState accepts a context only with a mock")
        if self.retrier_retry_count is not None and (self.mock is None or self.mock.error is None):
            raise UnmockedStateError("a retry count goes only with an error mock")

    def api_params(self) -> dict[str, Any]:
        """The keyword arguments of boto3's ``test_state`` (the service model's names)."""
        params: dict[str, Any] = {
            "definition": self.definition,
            "stateName": self.state_name,
            "input": self.input,
            "inspectionLevel": "DEBUG",
        }
        if self.mock is not None:
            params["mock"] = self.mock.as_api()
        if self.context is not None:
            params["context"] = self.context
        if self.variables is not None:
            params["variables"] = self.variables
        if self.retrier_retry_count is not None:
            params["stateConfiguration"] = {"retrierRetryCount": self.retrier_retry_count}
        return params

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the request: a stored answer is reused only for the same request."""
        text = jsontext.dumps(self.api_params(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StateTestAnswer:
    """What TestState answered, its documents kept as the JSON text AWS gave."""

    status: str | None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection: Mapping[str, str] = field(default_factory=dict)
    """``inspectionData``'s document members (:data:`INSPECTION_MEMBERS`) that AWS sent."""

    @classmethod
    def from_api(cls, response: Mapping[str, Any]) -> StateTestAnswer:
        """From boto3's response (or a bundle's copy of it); unknown members are ignored."""
        data = response.get("inspectionData")
        inspection = {
            name: data[name]
            for name in INSPECTION_MEMBERS
            if isinstance(data, Mapping) and isinstance(data.get(name), str)
        }
        return cls(
            status=_text(response.get("status")),
            output=_text(response.get("output")),
            error=_text(response.get("error")),
            cause=_text(response.get("cause")),
            next_state=_text(response.get("nextState")),
            inspection=inspection,
        )

    def as_json(self) -> dict[str, Any]:
        """The answer with the API's member names (what a bundle stores)."""
        return {
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "nextState": self.next_state,
            "inspectionData": dict(self.inspection),
        }


@dataclass(frozen=True)
class AskFailure:
    """A TestState call that got no answer to judge by: one line saying why."""

    line: str
    stop: bool
    """Whether asking about the other states is pointless (access denied, throttled past
    retries, no credentials, endpoint unreachable) or only this request was refused."""
    message: str | None = None
    """AWS's own message about a refused request (it may quote the payload: left out of a
    redacted report)."""

    def text(self, redacted: bool = False) -> str:
        return self.line if redacted or not self.message else f"{self.line}: {self.message}"


@dataclass(frozen=True)
class Exchange:
    """One TestState request and what came of it (a bundle keeps these, so its replay shows
    the same confirmation without calling AWS)."""

    state: str
    seq: int
    fingerprint: str
    answer: StateTestAnswer | None
    error: str | None = None
    """Why there is no answer (one line), when there is none."""

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "seq": self.seq,
            "request_sha256": self.fingerprint,
            "answer": self.answer.as_json() if self.answer is not None else None,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Exchange:
        """From a bundle's ``teststate`` item; a malformed one raises ValueError."""
        if not isinstance(raw, Mapping):
            raise ValueError("not an object")
        answer = raw.get("answer")
        if answer is not None and not isinstance(answer, Mapping):
            raise ValueError("'answer' is not an object")
        state, seq, fingerprint = raw.get("state"), raw.get("seq"), raw.get("request_sha256")
        if not isinstance(state, str) or not isinstance(fingerprint, str):
            raise ValueError("'state' and 'request_sha256' must be strings")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ValueError("'seq' must be an integer")
        return cls(
            state=state,
            seq=seq,
            fingerprint=fingerprint,
            answer=StateTestAnswer.from_api(answer) if answer is not None else None,
            error=_text(raw.get("error")),
        )


class ConfirmVerdict(str, Enum):
    CONFIRMED = "confirmed"
    """AWS produced the recorded output, and the step that changed the field in AWS's own
    intermediates is the one sfn-trace's replay names."""
    DISAGREES = "disagrees"
    """AWS's evaluation differs from sfn-trace's replay or from the record (``step`` and
    ``path`` say where first)."""
    UNCONFIRMED = "unconfirmed"
    """Not judged: the state was not sent (it cannot be mocked, its input was not recorded,
    ...) or the call failed (access denied, throttled, refused); ``reason`` says which."""


@dataclass(frozen=True)
class AwsStep:
    """The field's status in the document AWS reported after one step."""

    step: str
    status: Status
    path: str | None
    """Where the field sits in that document (its first null copy, else its first copy);
    None when it is missing."""


@dataclass(frozen=True)
class Confirmation:
    """AWS's word on one culprit state."""

    state: str
    seq: int
    verdict: ConfirmVerdict
    step: str | None
    """confirmed: the step that changed the field (None when no step changed it);
    disagrees: the first step where AWS and sfn-trace (or the record) differ."""
    path: str | None
    """confirmed: the field's occurrence that step concerned; disagrees: the first JSON path
    where the two documents differ."""
    reason: str
    aws_status: str | None
    """TestState's ``status`` (None: no answer)."""
    aws_steps: tuple[AwsStep, ...] = ()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
