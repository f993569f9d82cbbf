"""Shared pytest fixtures.

``lab`` is one in-process moto server for the whole session (``fixtures/lab.py``): starting
it costs about half a second, an execution then well under one. Tests that use it are marked
``@pytest.mark.moto_server``. The lab's ``deploy_*`` calls are idempotent and cheap, so each
test deploys what it needs (with names of its own) instead of relying on another test's.
The lab sets ``MOTO_PORT`` and ``MOTO_ACCOUNT_ID`` in this process while it runs, and
nothing else: clients reach it through ``lab.endpoint_url``, or ``lab.env`` for a
subprocess or a ``monkeypatch``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixtures.lab import Lab


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with Lab() as started:
        yield started
