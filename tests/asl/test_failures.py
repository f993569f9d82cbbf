"""Which error a failed Map or Parallel carries (asl/failures.py, ``carried_failure``): the
latest visit inside it whose error was not caught. The visit tree reads it while it is built
(trace/visits.py), the replay when it writes a catcher's error output."""

from __future__ import annotations

import json

from sfn_trace.asl.failures import carried_failure, failure_event
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import events_from_api
from sfn_trace.model.visits import Outcome
from sfn_trace.sources.files import load_history_file
from sfn_trace.trace.visits import build_visits
from tests.data import corpus_definition, corpus_history
from tests.history_builder import History

_DEFINITION = Definition.from_text(
    json.dumps(
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {
                            "StartAt": "Flaky",
                            "States": {
                                "Flaky": {
                                    "Type": "Task",
                                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
                                    "End": True,
                                },
                                "Recover": {"Type": "Pass", "End": True},
                            },
                        },
                        {
                            "StartAt": "Stop",
                            "States": {"Stop": {"Type": "Fail", "Error": "Halt", "Cause": "why"}},
                        },
                    ],
                }
            },
        }
    )
)


def _caught_after_the_failure() -> History:
    """Branch 0's task fails and is caught, and exits after branch 1 entered its Fail state:
    the branch that fails the Parallel is branch 1."""
    history = History()
    history.start({})
    history.add("ParallelStateEntered", name="Both", input={})
    started = history.add("ParallelStateStarted")
    history.add("TaskStateEntered", started, name="Flaky", input={})
    history.add(
        "TaskScheduled", resource="f", resourceType="lambda", region="us-east-1", parameters={}
    )
    history.add("TaskStarted", resource="f", resourceType="lambda")
    failed = history.add("TaskFailed", resource="f", resourceType="lambda", error="Boom")
    history.add("FailStateEntered", started, name="Stop", input={})
    history.add("TaskStateExited", failed, name="Flaky", output={"Error": "Boom"})
    history.add("ParallelStateFailed")
    history.add("ExecutionFailed", error="Halt", cause="why")
    return history


def test_a_failed_parallel_carries_the_error_that_was_not_caught() -> None:
    """AWS: "If any branch fails, because of an unhandled error or by transitioning to a
    Fail state, the entire Parallel state is considered to have failed"
    (https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html); a caught
    error fails no branch, even when its visit ended later."""
    tree = build_visits(events_from_api(_caught_after_the_failure().events), _DEFINITION)
    both = tree.visits[0]
    flaky = next(v for v in tree.visits if v.state == "Flaky")
    assert flaky.outcome is Outcome.CAUGHT and flaky.error == "Boom"
    carried = carried_failure(both)
    assert carried is not None and carried.error == "Halt"
    assert (both.error, both.cause) == ("Halt", "why")
    assert both.attempts[-1].error == "Halt"


def test_a_recorded_failed_map_carries_its_iteration_s_error() -> None:
    """A recorded AWS history: a Map whose iteration's task failed, caught by the Map's own
    Catch: the error it carries is the one its iteration failed with."""
    name = "test_base_scenarios__test_map_state_catch_legacy"
    data = load_history_file(corpus_history(name), corpus_definition(name))
    tree = build_visits(data.events, data.definition)
    mapped = next(v for v in tree.visits if v.type == "Map")
    carried = carried_failure(mapped)
    assert carried is not None and carried.error == mapped.error == "HandleItemFailError"
    # Its iteration failed at a Fail state, which records no error event of its own: the
    # replay then takes the error the visit carries.
    assert failure_event(mapped) is None
