"""Execution ARNs, parsed before any AWS call so a typo fails fast with exit 2.

Formats (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-executions.html):
``arn:<partition>:states:<region>:<account>:execution:<state-machine>:<execution-name>``,
the Express form ``...:express:<state-machine>:<execution-name>:<uuid>``, and Distributed Map
children ``...:execution:<state-machine>/<label>:<uuid>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sfn_trace.errors import TraceCall, UsageError

_EXECUTION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):states:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):"
    r"(?P<account>\d{12}):(?P<kind>execution|express):(?P<state_machine>[^:\s]+):"
    r"(?P<name>[^:\s]+)(?::(?P<express_id>[^:\s]+))?$"
)


@dataclass(frozen=True, slots=True)
class ExecutionArn:
    arn: str
    partition: str
    region: str
    account: str
    state_machine: str
    name: str
    express: bool

    @property
    def state_machine_arn(self) -> str:
        machine = self.state_machine.split("/", 1)[0]
        return f"arn:{self.partition}:states:{self.region}:{self.account}:stateMachine:{machine}"


def looks_like_arn(text: str) -> bool:
    return text.startswith("arn:")


def parse_execution_arn(text: str) -> ExecutionArn:
    """Parse an execution ARN or raise :class:`UsageError` naming what is wrong."""
    match = _EXECUTION_ARN.match(text.strip())
    if match is None:
        if ":stateMachine:" in text:
            raise UsageError(
                f"{text!r} is a state machine ARN; sfn-trace needs an execution ARN "
                "(arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME)"
            )
        raise UsageError(
            f"malformed execution ARN {text!r}: expected "
            "arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME"
        )
    kind = match["kind"]
    if kind == "express" and not match["express_id"]:
        raise UsageError(f"malformed Express execution ARN {text!r}: missing the execution id")
    if kind == "execution" and match["express_id"]:
        raise UsageError(f"malformed execution ARN {text!r}: too many ':'-separated parts")
    return ExecutionArn(
        arn=text.strip(),
        partition=match["partition"],
        region=match["region"],
        account=match["account"],
        state_machine=match["state_machine"],
        name=match["name"],
        express=kind == "express",
    )


_STATE_MACHINE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):states:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):"
    r"(?P<account>\d{12}):stateMachine:(?P<name>[^:\s]+)(?::(?P<qualifier>[^:\s]+))?$"
)


@dataclass(frozen=True, slots=True)
class StateMachineArn:
    """A state machine ARN, possibly qualified by a version (``:3``) or an alias (``:PROD``);
    ListExecutions accepts all three and lists only that version's or alias's executions."""

    arn: str
    region: str
    name: str
    qualifier: str | None
    account: str = ""


def parse_state_machine_arn(text: str, needed_by: str = "scan") -> StateMachineArn:
    """Parse a state machine ARN before any call, so that a typo exits 2 with no network
    (``needed_by``: the command the message names when given an execution ARN)."""
    match = _STATE_MACHINE_ARN.match(text.strip())
    if match is None:
        if ":execution:" in text or ":express:" in text:
            try:
                machine = parse_execution_arn(text).state_machine_arn
            except UsageError:
                machine = "arn:aws:states:REGION:ACCOUNT:stateMachine:NAME"
            raise UsageError(
                f"{text!r} is an execution ARN; {needed_by} needs the state machine's ARN "
                f"({machine}); to trace this one execution: ",
                TraceCall(text),
            )
        raise UsageError(
            f"malformed state machine ARN {text!r}: expected "
            "arn:aws:states:REGION:ACCOUNT:stateMachine:NAME"
        )
    return StateMachineArn(
        arn=text.strip(),
        region=match["region"],
        name=match["name"],
        qualifier=match["qualifier"],
        account=match["account"],
    )
