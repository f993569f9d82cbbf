"""A state machine's definition, read with DescribeStateMachine, for ``sfn-trace lint ARN``.

The ARN may name the state machine (its latest revision), a version (``...:NAME:3``) or an
alias (``...:NAME:PROD``): it is passed to DescribeStateMachine as given, which returns a
version's own definition
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachine.html,
docs/aws-reference.md §3). The call is paced (``DescribeStateMachine`` in
:data:`~.pacing.QUOTAS`: a bucket of 200, 20 per second, in every region) and each failure
is one line (:func:`~.client.translate`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sfn_trace.errors import AwsError, InputError, SfnTraceError
from sfn_trace.model.arn import parse_state_machine_arn
from sfn_trace.model.definition import Definition
from sfn_trace.model.options import DEFAULT_OPTIONS, AwsOptions
from sfn_trace.sources.aws.client import (
    CHECK_ACCOUNT,
    Context,
    error_code,
    make_client,
    one_line,
    translate,
)
from sfn_trace.sources.aws.pacing import take

OPERATION = "DescribeStateMachine"


def fetch_definition(
    arn: str,
    options: AwsOptions = DEFAULT_OPTIONS,
    *,
    client: Any = None,
    clients: Callable[[str, str], Any] | None = None,
) -> Definition:
    """The definition of the state machine (version, alias) ``arn`` names, read in the
    ARN's region unless ``options.region`` says otherwise; from ``client``, else from
    ``clients`` (a :class:`~.client.Clients`, shared by the ARNs of one command), else a
    client of its own. A malformed ARN is a usage error before any call; a state machine
    that does not exist, access denied, throttling past retries and an unreachable endpoint
    are :class:`AwsError` lines; a definition that is not ASL is an :class:`InputError`."""
    parsed = parse_state_machine_arn(arn, needed_by="lint")
    region = options.region or parsed.region
    if client is None:
        client = (
            clients("stepfunctions", region)
            if clients is not None
            else make_client("stepfunctions", region, options)
        )
    ctx = Context(None, client, options.max_attempts, target=parsed.arn)
    try:
        take(OPERATION, client, options)
        described = client.describe_state_machine(stateMachineArn=parsed.arn)
    except ClientError as exc:
        raise _refused(exc, ctx, parsed.region) from exc
    except BotoCoreError as exc:
        raise translate(exc, ctx, OPERATION) from exc
    text = described.get("definition")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{parsed.arn}: {OPERATION} returned no definition")
    return Definition.from_text(text, origin=parsed.arn)


def _refused(exc: ClientError, ctx: Context, arn_region: str) -> SfnTraceError:
    """The line for an error answer: a state machine that does not exist (where it was
    looked for) and an ARN AWS rejects are said here, in a state machine's words; the rest
    as for every call (:func:`~.client.translate`)."""
    code = error_code(exc)
    if code == "StateMachineDoesNotExist":
        where = f"looked in region {ctx.region}"
        if ctx.region != arn_region:
            where += f"; the ARN says region {arn_region}"
        return AwsError(
            f"state machine not found: {ctx.target} ({where} — check ",
            *CHECK_ACCOUNT,
            ", and the version or alias)",
        )
    if code == "InvalidArn":
        message = one_line(str(exc.response.get("Error", {}).get("Message") or ""))
        return AwsError(
            f"AWS rejected the state machine ARN {ctx.target} ({code} on {OPERATION}): {message}"
        )
    return translate(exc, ctx, OPERATION)
