"""The blame chain and lint name the same reader states for the same field.

Both ask :mod:`sfn_trace.asl.walkback` which steps of a state can read the field from its
input and whether a member reads it; this test checks that the two, walking different
things (the chain: an execution's replayed visits; lint: the definition's states), end up
naming the same states, on every fixture and every recorded definition.

**The same reader states**, for one execution, its definition and one field:

- *chain readers*: the states of the replayed visits that :func:`sfn_trace.trace.chain.readers`
  finds reading the field (the blame chain starts from the last of them, and its first hop is
  that visit's state);
- *lint readers*: the states :func:`sfn_trace.checks.lint.reads` finds reading the field.

A read is the same in both (:func:`sfn_trace.asl.walkback.field_reads`): a path ending in the
field from the state's input, a variable or the context object.

Then (1) every chain reader is a lint reader (the chain never blames a state lint does not
see reading the field), and (2) every lint read in a step that makes a document from the
state's input (``Parameters``, ``Arguments``, ``Output``: the steps the chain follows a
location of) whose state a replayed visit ran that very step for, with the template the
definition holds, is a chain reader. Lint's readers may be more: states the execution never
reached, and reads the chain does not start from (an ``ItemSelector``, which makes one
document per item, and an ``Assign``, which makes none). Equality therefore holds on what
both can see, and inclusion is exact on the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sfn_trace.asl import dataflow
from sfn_trace.asl.dataflow import Kind
from sfn_trace.asl.replay import replay_visits
from sfn_trace.checks import lint
from sfn_trace.model.definition import Definition
from sfn_trace.sources.files import load_history_file, read_definition
from sfn_trace.trace import chain
from sfn_trace.trace.visits import build_visits
from tests.data import (
    DEFINITION,
    FIXED_DEFINITION,
    corpus_definition,
    corpus_history,
    corpus_names,
    fixture_history,
    fixture_names,
    input_keys,
)

FIELD = "poll_results_s3_key"
"""The field the line-ingest fixtures track."""


def _cases() -> Iterator[tuple[str, Path, Path, str]]:
    for name in fixture_names():
        for definition in (DEFINITION, FIXED_DEFINITION):
            yield f"fixture/{name}/{definition.stem}", fixture_history(name), definition, FIELD
    for name in corpus_names():
        definition = corpus_definition(name)
        if definition is None:
            continue
        history = corpus_history(name)
        for key in input_keys(history):
            yield f"corpus/{name}/{key}", history, definition, key


CASES = list(_cases())

_DOCUMENT = (Kind.TEMPLATE, Kind.TASK_INPUT)


def _agreement(history: Path, definition_path: Path, field: str) -> tuple[set[str], set[str]]:
    """The chain readers and the lint readers (see the module's docstring), after checking
    the second half of the claim: each lint read the replay ran is a chain reader."""
    definition: Definition = read_definition(definition_path)
    data = load_history_file(history, definition_path)
    tree = build_visits(data.events, definition)
    replays = replay_visits(tree, definition, data.info)
    chain_readers = {visit.state for visit, *_ in chain.readers(tree, replays, field)}
    lint_reads = list(lint.reads(definition, field))
    for read in lint_reads:
        state = definition.states[read.state]
        spec = dataflow.step_named(state.query_language, state.type, read.step)
        if spec is None or spec.kind not in _DOCUMENT:
            continue
        ran = any(
            step.name == read.step and step.expression == state.body.get(read.step)
            for replay in replays.values()
            if replay.state == read.state
            for step in replay.steps
        )
        if ran:
            assert read.state in chain_readers, (read, chain_readers)
    return chain_readers, {read.state for read in lint_reads}


@pytest.mark.parametrize(
    ("history", "definition", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_chain_readers_are_lint_readers(history: Path, definition: Path, field: str) -> None:
    chain_readers, lint_readers = _agreement(history, definition, field)
    assert chain_readers <= lint_readers, chain_readers - lint_readers


def test_the_cases_hold_readers() -> None:
    """The comparison is not empty: on the seed's definition both name readers, and so they
    do on recorded definitions (for a key of the execution input)."""
    for label, history, definition, field in CASES:
        if label.startswith("fixture/") and definition == DEFINITION:
            chain_readers, lint_readers = _agreement(history, definition, field)
            assert chain_readers and lint_readers, label
    read = [
        label
        for label, history, definition, field in CASES
        if label.startswith("corpus/") and _agreement(history, definition, field)[0]
    ]
    assert read, "no recorded definition reads a key of its execution input"
