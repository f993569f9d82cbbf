"""botocore's Stubber for calls that overlap: each call is answered by the first queued
response for its operation whose expected parameters it matches, instead of by the head of
the queue.

sfn-trace makes the calls that depend on nothing else at once (DescribeExecution,
DescribeStateMachineForExecution and the first history page together), so the order in
which they reach the client is not fixed. Everything else the Stubber checks still holds:
every call must match a queued response (operation and parameters), each response answers
once, calls of one operation are answered in the order queued (pages stay in order), and
``assert_no_pending_responses`` fails while any is left.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore.stub import StubAssertionError, Stubber, UnStubbedResponseError

_ANSWER = "sfn_trace_test_answer"


class OverlapStubber(Stubber):  # type: ignore[misc]  # botocore has no type hints
    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self._lock = threading.Lock()

    @staticmethod
    def _matches(expected: dict[str, Any] | None, params: dict[str, Any]) -> bool:
        return expected is None or expected == params

    def _assert_expected_params(self, model: Any, params: Any, context: Any, **kwargs: Any) -> None:
        if self._should_not_stub(context):
            return
        with self._lock:
            same = [item for item in self._queue if item["operation_name"] == model.name]
            if not same:
                raise UnStubbedResponseError(
                    operation_name=model.name, reason="Unexpected API Call: nothing queued for it"
                )
            for item in same:
                if self._matches(item["expected_params"], params):
                    self._queue.remove(item)
                    context[_ANSWER] = item["response"]
                    return
            raise StubAssertionError(
                operation_name=model.name,
                reason=f"no queued response expects {params!r}; queued: "
                f"{[item['expected_params'] for item in same]!r}",
            )

    def _get_response_handler(self, model: Any, params: Any, context: Any, **kwargs: Any) -> Any:
        return context.pop(_ANSWER)


# AWS's own documented example keys (not credentials of any account).
EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


class StubbedSession:
    """A boto3 session with fake credentials whose every client answers from a Stubber:
    given as ``AwsOptions(session=...)``, it reaches each client sfn-trace makes, however
    deep (a command's :class:`~sfn_trace.sources.aws.client.Clients`, an MCP tool's call).
    ``prepare(service, stubber)`` queues a new client's answers; a call with nothing queued
    fails as an unstubbed call. Nothing is sent: the Stubber answers before signing."""

    def __init__(self, prepare: Callable[[str, Stubber], None], region: str = "us-west-2") -> None:
        import boto3

        self._session = boto3.Session(
            aws_access_key_id=EXAMPLE_KEY_ID,
            aws_secret_access_key=EXAMPLE_SECRET,
            region_name=region,
        )
        self._prepare = prepare
        self._lock = threading.Lock()
        self.made: list[tuple[str, Stubber]] = []

    def get_credentials(self) -> Any:
        return self._session.get_credentials()

    def client(self, service: str, **kwargs: Any) -> Any:
        with self._lock:
            client = self._session.client(service, **kwargs)
            stubber = OverlapStubber(client)
            self._prepare(service, stubber)
            stubber.activate()
            self.made.append((service, stubber))
            return client


def paginator_for(method: Any, operation: str, service: str = "stepfunctions") -> Any:
    """botocore's own paginator for ``operation``, calling a fake client's ``method``: what
    ``client.get_paginator(...)`` gives a real client, from botocore's paginator and service
    models, so a fake pages exactly as botocore would."""
    import botocore.session
    from botocore.paginate import Paginator

    session = botocore.session.get_session()
    config = session.get_paginator_model(service).get_paginator(operation)
    model = session.get_service_model(service).operation_model(operation)
    return Paginator(method, config, model)
