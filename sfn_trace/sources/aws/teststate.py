"""``states:TestState``: AWS's own evaluator, asked about one state at a time (``--confirm``).

Every request is a :class:`~sfn_trace.model.confirm.StateTestRequest`, whose constructor
refuses a Task (or a Map or Parallel) without a mock, so nothing TestState runs for
sfn-trace ever invokes a Lambda function or a service. No ``roleArn`` is sent: TestState
needs a role only to call a state's resource, and every resource is mocked (so the caller
needs no ``iam:PassRole`` either).

The calls share the client factory of every AWS read (:func:`.client.make_client`: the same
``--region``/``--profile``/``--endpoint-url``, retries and ``--timeout``), go one at a time,
and are paced by TestState's token bucket (:mod:`.pacing`: 50 at once, 10 a second). A failure
is one line (:class:`~sfn_trace.model.confirm.AskFailure`), never an exception: the trace
and its exit code do not depend on TestState.
API: https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html
"""

from __future__ import annotations

import os
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sfn_trace.errors import Option, word
from sfn_trace.model.confirm import AskFailure, StateTestAnswer, StateTestRequest
from sfn_trace.model.options import AwsOptions
from sfn_trace.sources.aws.client import (
    ACCESS_DENIED,
    Context,
    configured_region,
    error_code,
    make_client,
    one_line,
    translate,
)
from sfn_trace.sources.aws.pacing import TokenBucket, meter

REFUSED = frozenset(
    {"ValidationException", "InvalidDefinition", "InvalidExecutionInput", "InvalidArn"}
)
"""Errors about one request: the other states are still asked."""

ACCESS_DENIED_LINE = (
    "access denied: the credentials lack IAM permission states:TestState (optional, used only by ",
    Option("confirm", "True"),
    ")",
)


class StateTester:
    """Asks TestState about one request at a time (a callable for
    :func:`sfn_trace.checks.confirm.confirm`). The client is made on the first call."""

    def __init__(
        self,
        options: AwsOptions,
        region: str | None = None,
        *,
        client: Any = None,
        limiter: TokenBucket | None = None,
        target: str = "",
    ) -> None:
        self.options = options
        self.region = options.region or region
        self.client = client
        self.limiter = limiter
        """The bucket the calls take their tokens from (None: the region's TestState meter)."""
        self.target = target
        """What the calls are about, for error lines (the execution ARN, when known)."""
        self.calls = 0

    def __call__(self, request: StateTestRequest) -> StateTestAnswer | AskFailure:
        if not isinstance(request, StateTestRequest):
            # The only request there is: the one whose constructor refuses unmocked work.
            raise TypeError("TestState is only ever sent a StateTestRequest")
        client = self.client
        if client is None:
            region = self.region or configured_region(self.options)
            if region is None:
                why = word("no AWS region for states:TestState: pass ", Option("region"))
                return AskFailure(why, stop=True)
            client = self.client = make_client(
                "stepfunctions", region, self.options, host_prefix=not _endpoint_given(self.options)
            )
        (self.limiter or meter("TestState", self.region, self.options)).wait()
        self.calls += 1
        ctx = Context(None, client, self.options.max_attempts, target=self.target or "TestState")
        try:
            response = client.test_state(**request.api_params())
        except ClientError as exc:
            code = error_code(exc)
            if code in ACCESS_DENIED:
                return AskFailure(word(*ACCESS_DENIED_LINE), stop=True)
            if code in REFUSED:
                message = one_line(str(exc.response.get("Error", {}).get("Message") or ""))
                return AskFailure(
                    f"TestState refused the request ({code})", stop=False, message=message or None
                )
            return AskFailure(translate(exc, ctx, "TestState").message, stop=True)
        except BotoCoreError as exc:
            return AskFailure(translate(exc, ctx, "TestState").message, stop=True)
        return StateTestAnswer.from_api(response)


def _endpoint_given(options: AwsOptions) -> bool:
    """Whether the endpoint is not AWS's own (``--endpoint-url``, ``AWS_ENDPOINT_URL``)."""
    return bool(
        options.endpoint_url
        or os.environ.get("AWS_ENDPOINT_URL_SFN")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
