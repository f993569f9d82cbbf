"""A synthetic but realistic Step Functions execution history, up to the AWS maximum.

The workflow (its ASL definition comes with the history, see :func:`definition`):

``PrepareChunks`` (Lambda) lists the chunks of a job; ``FanOut``, an inline Map with
``MaxConcurrency`` 40, gives every chunk to an iteration that runs ``ProcessChunk`` (Lambda,
``arn:aws:states:::lambda:invoke``, retried on ``Lambda.TooManyRequestsException`` /
``Lambda.ServiceException``) and then ``Enrich``, a Parallel state with two Pass branches
(``Tag`` keeps the Lambda's copy of the tracked field, ``Validate`` the ~4 KB of lines
and the item's copy);
``FinalMerge`` (Lambda) merges the per-chunk summaries. The tracked field
``poll_results_s3_key`` is set in the execution input and handed to every iteration by the
Map's ``ItemSelector``; in one iteration the Lambda returns it as ``null`` (the seed
incident's bug, at scale), so the final document holds one null copy among the set ones.

The events are what AWS writes (``docs/aws-reference.md`` section 2):
ids 1..N in timestamp order, ``previousEventId`` the causal predecessor (0 for
``ExecutionStarted`` and the first ``*StateEntered``), iterations of concurrent workers
interleaved, a worker's next ``MapIterationStarted`` pointing at the last state event of its
previous iteration, retries as ``TaskFailed`` -> ``TaskScheduled`` in the same visit,
``ParallelStateSucceeded``/``ParallelStateExited`` both pointing at the last event of the
branch that finished last, and ``lambda:invoke`` results with ``SdkResponseMetadata``. The
file format is ``aws stepfunctions get-execution-history --output json``: ``{"events": [...]}``,
indent 4, ISO 8601 timestamps, members in the service model's order.

Everything is a function of the seed. ``python -m benchmarks.generate_history OUT.json``
writes a history (``--events``, default 25,000) and, with ``--definition``, its ASL.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fixtures.lab import lambda_invoke_result

AWS_MAX_EVENTS = 25_000
FIELD = "poll_results_s3_key"
REGION = "us-west-2"
ACCOUNT = "123456789012"
STATE_MACHINE = "bench-fan-out"
FUNCTIONS = {
    "prepare": "bench-prepare-chunks",
    "process": "bench-process-chunk",
    "merge": "bench-final-merge",
}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/sfn-trace-lab"
T0 = datetime(2025, 11, 17, 5, 48, 59, 714000, tzinfo=timezone.utc)

# Events outside the Map: ExecutionStarted, PrepareChunks (5), FanOut (4), FinalMerge (5),
# ExecutionSucceeded. One iteration without retries: MapIterationStarted, ProcessChunk (5),
# Enrich (Entered, Started, 2 x 2 branch events, Succeeded, Exited), MapIterationSucceeded.
OUTER_EVENTS = 16
ITERATION_EVENTS = 15
RETRY_EVENTS = 3  # TaskFailed, TaskScheduled, TaskStarted
MAX_RETRIES = 3  # the definition's Retry MaxAttempts

_WORDS = (  # noqa: SIM905 (one word list, readable)
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu embedding "
    "vector batch line chunk merge poll result status ingest token model café naïve Zürich "
    "東京 señor"
).split()


def function_arn(role: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{FUNCTIONS[role]}"


def execution_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:states:{region}:{account}:execution:{STATE_MACHINE}:{name}"


_LAMBDA_RETRY = [
    {
        "ErrorEquals": ["Lambda.TooManyRequestsException", "Lambda.ServiceException"],
        "IntervalSeconds": 2,
        "MaxAttempts": MAX_RETRIES,
        "BackoffRate": 2,
    }
]


def definition(region: str = REGION, account: str = ACCOUNT, concurrency: int = 40) -> dict:
    """The ASL definition whose executions look like the generated histories."""
    return {
        "Comment": "sfn-trace benchmark: a job fanned out over its chunks (generated).",
        "StartAt": "PrepareChunks",
        "States": {
            "PrepareChunks": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": function_arn("prepare", region, account),
                    "Payload": {
                        "job_id.$": "$.job_id",
                        "poll_results_s3_key.$": "$.poll_results_s3_key",
                        "items.$": "$.items",
                    },
                },
                "ResultSelector": {
                    "chunks.$": "$.Payload.chunks",
                    "total_chunks.$": "$.Payload.total_chunks",
                },
                "ResultPath": "$.chunked",
                "Retry": _LAMBDA_RETRY,
                "Next": "FanOut",
            },
            "FanOut": {
                "Type": "Map",
                "ItemsPath": "$.chunked.chunks",
                "ItemSelector": {
                    "chunk_key.$": "$$.Map.Item.Value",
                    "index.$": "$$.Map.Item.Index",
                    "job_id.$": "$.job_id",
                    "poll_results_s3_key.$": "$.poll_results_s3_key",
                },
                "MaxConcurrency": concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "ProcessChunk",
                    "States": {
                        "ProcessChunk": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {
                                "FunctionName": function_arn("process", region, account),
                                "Payload.$": "$",
                            },
                            "ResultSelector": {
                                "line_count.$": "$.Payload.line_count",
                                "lines.$": "$.Payload.lines",
                                "embeddings_s3_key.$": "$.Payload.embeddings_s3_key",
                                "poll_results_s3_key.$": "$.Payload.poll_results_s3_key",
                            },
                            "ResultPath": "$.processed",
                            "Retry": _LAMBDA_RETRY,
                            "Next": "Enrich",
                        },
                        "Enrich": {
                            "Type": "Parallel",
                            "Branches": [
                                {
                                    "StartAt": "Tag",
                                    "States": {
                                        "Tag": {
                                            "Type": "Pass",
                                            "Parameters": {
                                                "index.$": "$.index",
                                                "poll_results_s3_key.$": (
                                                    "$.processed.poll_results_s3_key"
                                                ),
                                                "line_count.$": "$.processed.line_count",
                                            },
                                            "End": True,
                                        }
                                    },
                                },
                                {
                                    "StartAt": "Validate",
                                    "States": {
                                        "Validate": {
                                            "Type": "Pass",
                                            "Parameters": {
                                                "chunk_key.$": "$.chunk_key",
                                                "poll_results_s3_key.$": ("$.poll_results_s3_key"),
                                                "lines.$": "$.processed.lines",
                                                "valid": True,
                                            },
                                            "End": True,
                                        }
                                    },
                                },
                            ],
                            "ResultSelector": {
                                "index.$": "$[0].index",
                                "poll_results_s3_key.$": "$[0].poll_results_s3_key",
                                "line_count.$": "$[0].line_count",
                                "valid.$": "$[1].valid",
                            },
                            "End": True,
                        },
                    },
                },
                "ResultPath": "$.results",
                "Next": "FinalMerge",
            },
            "FinalMerge": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": function_arn("merge", region, account),
                    "Payload": {
                        "job_id.$": "$.job_id",
                        "poll_results_s3_key.$": "$.poll_results_s3_key",
                        "results.$": "$.results",
                    },
                },
                "ResultSelector": {
                    "merged_s3_key.$": "$.Payload.merged_s3_key",
                    "chunks_merged.$": "$.Payload.chunks_merged",
                    "lines_merged.$": "$.Payload.lines_merged",
                },
                "ResultPath": "$.merge",
                "Retry": _LAMBDA_RETRY,
                "End": True,
            },
        },
    }


@dataclass(frozen=True)
class Expected:
    """What a correct trace of the generated history says (derived from how it was built)."""

    verdict: str
    first_null_state: str
    first_null_iteration: int
    first_null_event_id: int
    lost_at_state: str
    lost_at_iteration: int
    visits: int
    """One per ``*StateEntered``."""


@dataclass(frozen=True)
class Generated:
    document: dict[str, Any]
    """``{"events": [...]}`` as the AWS CLI prints it (ISO timestamps)."""
    definition: dict[str, Any]
    execution_name: str
    items: int
    workers: int
    retries: int
    drop_index: int
    expected: Expected
    field: str = FIELD

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.document["events"]
        return events

    @property
    def execution_arn(self) -> str:
        return execution_arn(self.execution_name)

    def execution_input(self) -> dict[str, Any]:
        started = self.events[0]["executionStartedEventDetails"]["input"]
        document: dict[str, Any] = json.loads(started)
        return document

    def text(self) -> str:
        return cli_json(self.document)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.text(), encoding="utf-8")
        return path

    def write_definition(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.definition, indent=2) + "\n", encoding="utf-8")
        return path


def cli_json(value: Any) -> str:
    """As ``aws ... --output json`` prints: indent 4, non-ASCII kept."""
    return json.dumps(value, indent=4, ensure_ascii=False) + "\n"


def _compact(value: Any) -> str:
    """A payload as Step Functions records it: compact JSON text, raw UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- building ---------------------------------------------------------------------------


_DETAILS_MEMBER = {
    "ExecutionStarted": "executionStartedEventDetails",
    "ExecutionSucceeded": "executionSucceededEventDetails",
    "TaskScheduled": "taskScheduledEventDetails",
    "TaskStarted": "taskStartedEventDetails",
    "TaskSucceeded": "taskSucceededEventDetails",
    "TaskFailed": "taskFailedEventDetails",
    "MapStateStarted": "mapStateStartedEventDetails",
    "MapIterationStarted": "mapIterationStartedEventDetails",
    "MapIterationSucceeded": "mapIterationSucceededEventDetails",
}


class _Timeline:
    """Events with simulated times (microseconds); ids are given in time order at the end."""

    def __init__(self) -> None:
        self.raw: list[tuple[int, int, str, int, dict[str, Any] | None]] = []

    def emit(self, t: int, type_: str, prev: int, details: dict[str, Any] | None = None) -> int:
        key = len(self.raw) + 1
        self.raw.append((t, key, type_, prev, details))
        return key

    def time_of(self, key: int) -> int:
        return self.raw[key - 1][0]

    def events(self) -> tuple[list[dict[str, Any]], dict[int, int]]:
        order = sorted(self.raw, key=lambda r: (r[0], r[1]))
        ids = {key: position for position, (_, key, _, _, _) in enumerate(order, start=1)}
        events = []
        for t, key, type_, prev, details in order:
            previous = ids[prev] if prev else 0
            if previous >= ids[key]:
                raise AssertionError(f"event {type_} precedes its predecessor")
            stamp = (T0 + timedelta(microseconds=t)).replace(
                microsecond=(T0 + timedelta(microseconds=t)).microsecond // 1000 * 1000
            )
            event: dict[str, Any] = {
                "timestamp": stamp.isoformat(),
                "type": type_,
                "id": ids[key],
                "previousEventId": previous,
            }
            if details is not None:
                event[_member_for(type_)] = details
            events.append(event)
        return events, ids


def _member_for(type_: str) -> str:
    if type_ in _DETAILS_MEMBER:
        return _DETAILS_MEMBER[type_]
    if type_.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if type_.endswith("StateExited"):
        return "stateExitedEventDetails"
    return type_[0].lower() + type_[1:] + "EventDetails"


class _Builder:
    def __init__(self, rng: random.Random, payload_bytes: int, region: str, account: str):
        self.rng = rng
        self.payload_bytes = payload_bytes
        self.region = region
        self.account = account
        self.tl = _Timeline()

    def ms(self, low: float, high: float) -> int:
        """A duration in microseconds, at least one millisecond (so causes precede effects)."""
        return max(1000, int(self.rng.uniform(low, high) * 1000))

    def request_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # -- one Lambda task visit (lambda:invoke) ------------------------------------------------

    def lambda_task(
        self,
        t: int,
        prev: int,
        name: str,
        document: Any,
        function: str,
        payload_in: Any,
        payload_out: Any,
        output: Any,
        failures: int = 0,
    ) -> tuple[int, int]:
        """Entered .. Exited of one Task visit; returns (time, key) of its exit."""
        entered = self.tl.emit(t, "TaskStateEntered", prev, self._entered(name, document))
        parameters = _compact({"FunctionName": function, "Payload": payload_in})
        key = entered
        for attempt in range(failures + 1):
            t += (
                self.ms(5, 15)
                if attempt == 0
                else self.ms(2000 * 2 ** (attempt - 1), 2100 * 2 ** (attempt - 1))
            )
            key = self.tl.emit(
                t,
                "TaskScheduled",
                key,
                {
                    "resourceType": "lambda",
                    "resource": "invoke",
                    "region": self.region,
                    "parameters": parameters,
                },
            )
            t += self.ms(10, 40)
            key = self.tl.emit(
                t, "TaskStarted", key, {"resourceType": "lambda", "resource": "invoke"}
            )
            if attempt < failures:
                t += self.ms(20, 120)
                key = self.tl.emit(t, "TaskFailed", key, self._lambda_failure())
        t += self.ms(80, 400)
        key = self.tl.emit(
            t,
            "TaskSucceeded",
            key,
            {
                "resourceType": "lambda",
                "resource": "invoke",
                "output": _compact(self._invoke_result(payload_out, t)),
                "outputDetails": {"truncated": False},
            },
        )
        t += self.ms(5, 20)
        key = self.tl.emit(t, "TaskStateExited", key, self._exited(name, output))
        return t, key

    def _lambda_failure(self) -> dict[str, Any]:
        if self.rng.random() < 0.7:
            error = "Lambda.TooManyRequestsException"
            cause = (
                "Rate Exceeded. (Service: Lambda, Status Code: 429, Request ID: "
                f"{self.request_id()}, Proxy: null)"
            )
        else:
            error = "Lambda.ServiceException"
            cause = (
                "Lambda was unable to start the function. (Service: Lambda, Status Code: 500, "
                f"Request ID: {self.request_id()}, Proxy: null)"
            )
        return {"resourceType": "lambda", "resource": "invoke", "error": error, "cause": cause}

    def _invoke_result(self, payload: Any, t: int) -> dict[str, Any]:
        """A ``lambda:invoke`` result as AWS records it (docs/aws-reference.md section 7)."""
        request_id = self.request_id()
        date = (T0 + timedelta(microseconds=t)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        trace = f"root=1-{self.rng.getrandbits(32):08x}-{self.rng.getrandbits(96):024x};sampled=0"
        return lambda_invoke_result(
            payload,
            request_id=request_id,
            version="$LATEST",
            length=str(len(_compact(payload))),
            date=date,
            trace=trace,
        )

    @staticmethod
    def _entered(name: str, document: Any) -> dict[str, Any]:
        return {"name": name, "input": _compact(document), "inputDetails": {"truncated": False}}

    @staticmethod
    def _exited(name: str, document: Any) -> dict[str, Any]:
        return {"name": name, "output": _compact(document), "outputDetails": {"truncated": False}}

    def pass_state(
        self, t: int, prev: int, name: str, document: Any, output: Any
    ) -> tuple[int, int]:
        entered = self.tl.emit(t, "PassStateEntered", prev, self._entered(name, document))
        t += self.ms(1, 6)
        return t, self.tl.emit(t, "PassStateExited", entered, self._exited(name, output))

    def lines(self, index: int) -> list[dict[str, Any]]:
        """About ``payload_bytes`` of embedded text lines."""
        lines: list[dict[str, Any]] = []
        size = 0
        n = 0
        while size < self.payload_bytes - 400:
            text = " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(6, 14)))
            line = {"line_id": f"{index:05d}-{n:03d}", "text": text}
            lines.append(line)
            size += len(_compact(line).encode()) + 1
            n += 1
        return lines


def generate(
    events: int = AWS_MAX_EVENTS,
    *,
    seed: int = 7,
    payload_bytes: int = 4096,
    workers: int = 40,
    retry_rate: float = 0.08,
    region: str = REGION,
    account: str = ACCOUNT,
) -> Generated:
    """A history of ``events`` events (at most; at most 2 fewer), deterministic per seed.

    The Map gets as many items as fit; leftover events become extra Lambda retries.
    """
    if events < OUTER_EVENTS + ITERATION_EVENTS:
        raise ValueError(f"at least {OUTER_EVENTS + ITERATION_EVENTS} events, not {events}")
    rng = random.Random(seed)
    job = f"job-{rng.getrandbits(32):08x}"
    execution_name = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    key = f"poll_results/{job}/poll_results.json"

    # How many items, and the retries of each: decided before the timeline.
    failures: list[int] = []
    total = OUTER_EVENTS
    while True:
        roll = rng.random()
        f = 2 if roll < retry_rate / 4 else (1 if roll < retry_rate else 0)
        if total + ITERATION_EVENTS + RETRY_EVENTS * f > events:
            break
        failures.append(f)
        total += ITERATION_EVENTS + RETRY_EVENTS * f
    if not failures:
        failures.append(0)
        total += ITERATION_EVENTS
    while events - total >= RETRY_EVENTS:
        candidates = [i for i, f in enumerate(failures) if f < MAX_RETRIES]
        if not candidates:
            break
        failures[rng.choice(candidates)] += 1
        total += RETRY_EVENTS
    items = len(failures)
    drop = rng.randrange(items // 3, items) if items > 2 else items - 1
    workers = max(1, min(workers, items))

    b = _Builder(rng, payload_bytes, region, account)
    chunks = [f"chunks/{job}/{i:05d}.jsonl" for i in range(items)]
    document: dict[str, Any] = {
        "job_id": job,
        "batch_type": "LINE_EMBEDDING",
        "poll_results_s3_key": key,
        "poll_results_s3_bucket": "line-ingest-bench",
        "items": items,
    }
    t = 0
    started = b.tl.emit(
        t,
        "ExecutionStarted",
        0,
        {"input": _compact(document), "inputDetails": {"truncated": False}, "roleArn": ROLE_ARN},
    )
    del started  # ExecutionStarted and the first StateEntered both point at 0
    t += b.ms(20, 40)
    prepare_payload = {"job_id": job, "poll_results_s3_key": key, "items": items}
    chunked = {"chunks": chunks, "total_chunks": items}
    after_prepare = {**document, "chunked": chunked}
    t, prev = b.lambda_task(
        t,
        0,
        "PrepareChunks",
        document,
        function_arn("prepare", region, account),
        prepare_payload,
        {**chunked, "poll_results_s3_key": key},
        after_prepare,
    )
    t += b.ms(2, 8)
    map_entered = b.tl.emit(t, "MapStateEntered", prev, b._entered("FanOut", after_prepare))
    t += b.ms(2, 8)
    map_started = b.tl.emit(t, "MapStateStarted", map_entered, {"length": items})
    map_start_t = t

    # Workers take items in index order, each as soon as it is free.
    free: list[tuple[int, int]] = [(map_start_t + w * 1500, w) for w in range(workers)]
    heapq.heapify(free)
    last_of_worker: dict[int, int] = {}
    summaries: list[dict[str, Any]] = []
    first_null_key = 0
    last_end: tuple[int, int] = (0, 0)
    dispatched = map_start_t
    line_total = 0
    for index in range(items):
        free_t, worker = heapq.heappop(free)
        # Items are dispatched in index order, each to the first free worker.
        t = dispatched = max(free_t + b.ms(1, 5), dispatched + 1)
        prev = last_of_worker.get(worker, map_started)
        iteration_started = b.tl.emit(
            t, "MapIterationStarted", prev, {"name": "FanOut", "index": index}
        )
        item = {
            "chunk_key": chunks[index],
            "index": index,
            "job_id": job,
            "poll_results_s3_key": key,
        }
        lines = b.lines(index)
        line_total += len(lines)
        returned_key = None if index == drop else key
        payload_out = {
            "chunk_key": chunks[index],
            "index": index,
            "poll_results_s3_key": returned_key,
            "line_count": len(lines),
            "embeddings_s3_key": f"embeddings/{job}/{index:05d}.npy",
            "lines": lines,
        }
        processed = {
            **item,
            "processed": {
                "line_count": len(lines),
                "lines": lines,
                "embeddings_s3_key": payload_out["embeddings_s3_key"],
                "poll_results_s3_key": returned_key,
            },
        }
        t += b.ms(1, 3)
        t, prev = b.lambda_task(
            t,
            iteration_started,
            "ProcessChunk",
            item,
            function_arn("process", region, account),
            item,
            payload_out,
            processed,
            failures[index],
        )
        if index == drop:
            first_null_key = prev
        t += b.ms(1, 5)
        par_entered = b.tl.emit(t, "ParallelStateEntered", prev, b._entered("Enrich", processed))
        t += b.ms(2, 8)
        par_started = b.tl.emit(t, "ParallelStateStarted", par_entered)
        tag = {"index": index, "poll_results_s3_key": returned_key, "line_count": len(lines)}
        valid = {
            "chunk_key": chunks[index],
            "poll_results_s3_key": key,
            "lines": lines,
            "valid": True,
        }
        ends = [
            b.pass_state(t + b.ms(2, 10), par_started, "Tag", processed, tag),
            b.pass_state(t + b.ms(2, 10), par_started, "Validate", processed, valid),
        ]
        t, last_branch = max(ends)
        summary = {
            "index": index,
            "poll_results_s3_key": returned_key,
            "line_count": len(lines),
            "valid": True,
        }
        summaries.append(summary)
        t += b.ms(1, 4)
        b.tl.emit(t, "ParallelStateSucceeded", last_branch)
        t += b.ms(1, 3)
        par_exited = b.tl.emit(t, "ParallelStateExited", last_branch, b._exited("Enrich", summary))
        t += b.ms(1, 4)
        done = b.tl.emit(t, "MapIterationSucceeded", par_exited, {"name": "FanOut", "index": index})
        last_of_worker[worker] = par_exited
        last_end = max(last_end, (t, done))
        heapq.heappush(free, (t, worker))

    t = last_end[0] + b.ms(2, 8)
    b.tl.emit(t, "MapStateSucceeded", last_end[1])
    t += b.ms(1, 4)
    after_map = {**after_prepare, "results": summaries}
    map_exited = b.tl.emit(t, "MapStateExited", last_end[1], b._exited("FanOut", after_map))
    t += b.ms(2, 8)
    merged = {
        "merged_s3_key": f"merged/{job}/embeddings.npy",
        "chunks_merged": items,
        "lines_merged": line_total,
    }
    final = {**after_map, "merge": merged}
    t, prev = b.lambda_task(
        t,
        map_exited,
        "FinalMerge",
        after_map,
        function_arn("merge", region, account),
        {"job_id": job, "poll_results_s3_key": key, "results": summaries},
        {**merged, "poll_results_s3_key": key},
        final,
    )
    t += b.ms(5, 20)
    b.tl.emit(
        t,
        "ExecutionSucceeded",
        prev,
        {"output": _compact(final), "outputDetails": {"truncated": False}},
    )

    api_events, ids = b.tl.events()
    visits = sum(1 for e in api_events if e["type"].endswith("StateEntered"))
    expected = Expected(
        verdict="lost",
        first_null_state="ProcessChunk",
        first_null_iteration=drop,
        first_null_event_id=ids[first_null_key],
        lost_at_state="Enrich",
        lost_at_iteration=drop,
        visits=visits,
    )
    return Generated(
        document={"events": api_events},
        definition=definition(region, account, concurrency=workers),
        execution_name=execution_name,
        items=items,
        workers=workers,
        retries=sum(failures),
        drop_index=drop,
        expected=expected,
    )


# --- validation -------------------------------------------------------------------------


def check(generated: Generated, document: Mapping[str, Any]) -> list[str]:
    """Differences between a ``sfn-trace/1`` JSON report and what the history was built to
    say; empty when sfn-trace attributes it cleanly (no anomaly, one visit per entry)."""
    expected = generated.expected
    problems = []
    if document.get("verdict") != expected.verdict:
        problems.append(f"verdict {document.get('verdict')!r}, expected {expected.verdict!r}")
    visits = document.get("visits") or []
    if len(visits) != expected.visits:
        problems.append(f"{len(visits)} visits, expected {expected.visits} (one per entry)")
    anomalies = [w for w in document.get("warnings") or [] if "anomal" in w]
    if anomalies:
        problems.append(f"{len(anomalies)} history anomalies, first: {anomalies[0]}")
    first = document.get("first_null") or {}
    want_first = (
        expected.first_null_state,
        expected.first_null_iteration,
        expected.first_null_event_id,
    )
    got_first = (first.get("state"), first.get("map_iteration"), first.get("event_id"))
    if got_first != want_first:
        problems.append(f"first_null (state, iteration, event) {got_first}, expected {want_first}")
    lost = document.get("lost_at") or {}
    got_lost = (lost.get("state"), lost.get("map_iteration"))
    if got_lost != (expected.lost_at_state, expected.lost_at_iteration):
        want = (expected.lost_at_state, expected.lost_at_iteration)
        problems.append(f"lost_at (state, iteration) {got_lost}, expected {want}")
    return problems


def validate(generated: Generated, *, with_definition: bool = True) -> list[str]:
    """Trace the generated history in process (no file) and :func:`check` the JSON report."""
    from sfn_trace.model.definition import Definition
    from sfn_trace.model.events import events_from_api
    from sfn_trace.model.execution import ExecutionData, infer_info
    from sfn_trace.report import Command, TraceFormat, render
    from sfn_trace.trace import analyze

    events = events_from_api(generated.events)
    data = ExecutionData(
        info=infer_info(events, arn=generated.execution_arn),
        events=events,
        definition=Definition.from_text(json.dumps(generated.definition))
        if with_definition
        else None,
    )
    report = render(Command.TRACE, TraceFormat.JSON, analyze(data, generated.field))
    return check(generated, json.loads(report))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate_history", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("output", type=Path, help="where to write the history JSON")
    parser.add_argument("--events", type=int, default=AWS_MAX_EVENTS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--payload-bytes", type=int, default=4096)
    parser.add_argument("--definition", type=Path, help="also write the ASL definition here")
    parser.add_argument(
        "--validate", action="store_true", help="trace it with sfn_trace and check the answer"
    )
    args = parser.parse_args(argv)
    generated = generate(args.events, seed=args.seed, payload_bytes=args.payload_bytes)
    generated.write(args.output)
    if args.definition:
        generated.write_definition(args.definition)
    size = args.output.stat().st_size
    print(
        f"{args.output}: {len(generated.events)} events, {generated.items} Map items, "
        f"{generated.retries} retries, {size / 1e6:.1f} MB; field {generated.field} goes null "
        f"in FanOut[{generated.drop_index}]",
        file=sys.stderr,
    )
    if args.validate:
        problems = validate(generated)
        for problem in problems:
            print(f"MISMATCH: {problem}", file=sys.stderr)
        if problems:
            return 1
        print("sfn_trace attributes it as built: no anomaly, one visit per entry", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
