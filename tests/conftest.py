"""Shared pytest fixtures.

``lab`` is one in-process moto server for the whole session (``fixtures/lab.py``): starting
it costs about half a second, an execution then well under one. Tests that use it are marked
``@pytest.mark.moto_server``. The lab's ``deploy_*`` calls are idempotent and cheap, so each
test deploys what it needs (with names of its own) instead of relying on another test's.
The lab sets ``MOTO_PORT`` and ``MOTO_ACCOUNT_ID`` in this process while it runs, and
nothing else: clients reach it through ``lab.endpoint_url``, or ``lab.env`` for a
subprocess or a ``monkeypatch`` (``aws_env`` sets it for one test).

``tree_builds`` counts the visit trees built from whole histories during one test, and
``early_replays_taken`` says, for each replay made while a live history was arriving and
offered to the final replay, whether it was taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fixtures.lab import Lab
from sfn_trace.asl import replay as replay_module
from sfn_trace.model.visits import VisitTree
from sfn_trace.sources.aws import pacing
from sfn_trace.trace import visits as visits_module


@pytest.fixture(autouse=True)
def fresh_meters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with AWS's token buckets full, as a new process does (the buckets
    are the process's: one test's calls must not make another wait)."""
    monkeypatch.setattr(pacing.meter, "_buckets", {})


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with Lab() as started:
        yield started


@pytest.fixture
def aws_env(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's dummy credentials, region and endpoint in this test's environment."""
    for name, value in lab.env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def tree_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of events of every visit tree built from a whole history in this test."""
    builds: list[int] = []
    real_build = visits_module.Builder.build

    def counted(self: Any, events: Any) -> VisitTree:
        builds.append(len(events))
        return real_build(self, events)

    monkeypatch.setattr(visits_module.Builder, "build", counted)
    return builds


@pytest.fixture
def early_replays_taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each early replay offered to the final replay in this test was taken."""
    taken: list[bool] = []
    real_fits = replay_module.EarlyReplay.fits

    def fits(self: replay_module.EarlyReplay, *args: Any) -> bool:
        ok = real_fits(self, *args)
        taken.append(ok)
        return ok

    monkeypatch.setattr(replay_module.EarlyReplay, "fits", fits)
    return taken
