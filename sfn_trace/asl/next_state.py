"""The next state: the state a visit went to next, as the history recorded it — the state of
the visit after it in the same flow (the execution, one Map iteration or one Parallel
branch); none for a flow's last visit. The replay reads it to tell which Choice rule
matched when it cannot evaluate one, ``--confirm`` to compare TestState's ``nextState``
with where the execution went.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sfn_trace.model.visits import VisitTree

__all__ = ["next_state", "next_states"]


class _Entered(Protocol):
    @property
    def state(self) -> str: ...


def next_state(visits: Sequence[_Entered], position: int) -> str | None:
    """The state after ``visits[position]`` in its flow; None for the flow's last visit."""
    return visits[position + 1].state if position + 1 < len(visits) else None


def next_states(tree: VisitTree) -> dict[int, str]:
    """The next state of every visit that has one, by ``seq``."""
    found: dict[int, str] = {}
    stack = [tree.root]  # not recursion: the history chooses how deep flows nest
    while stack:
        flow = stack.pop()
        for position, visit in enumerate(flow.visits):
            after = next_state(flow.visits, position)
            if after is not None:
                found[visit.seq] = after
        stack.extend(child for visit in flow.visits for child in visit.children)
    return found
