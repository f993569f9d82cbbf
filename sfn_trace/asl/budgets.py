"""sfn-trace's own bounds on the work of a replay: every one is a constant here.

A history, its definition and the payloads inside are written by whoever wrote the file. An
expression in them may run forever (a JSONata function that calls itself), grow without end (a
range product, ``$pad`` to a billion characters) or copy a document into every one of its
matches (``$..x`` over a document nested 5,000 levels deep). The replay evaluates every
expression within the bounds below, which no input chooses.

Past one, the evaluation stops with :class:`OverBudget`; the replay reports the visit
``not_replayed``, fault ``sfn_trace`` (sfn-trace cannot say what AWS computed: the history is
not at fault, nor the definition), with a reason that names the bound, and goes on with the
other visits. Where AWS documents a limit of its own (``States.ArrayRange``'s 1,000 items,
the 10,000 characters ``States.Hash`` and ``States.Base64Encode`` accept), the replay fails
the state as AWS does instead: see :mod:`sfn_trace.asl.intrinsics`.

The bounds are far above what a definition AWS runs needs (a state's payload is at most
262,144 bytes), so no replay of a real execution meets them; they were measured not to
change any output of the fixtures or of the recorded AWS histories.
"""

from __future__ import annotations

from typing import Any, Final

# --- JSONata (one ``{% %}`` expression) -----------------------------------------------------

JSONATA_STEPS: Final = 200_000
"""Evaluation steps (each node of the expression evaluated, each function applied) one
expression may take. jsonata-python takes 10 to 20 µs a step: a few seconds at most."""

JSONATA_EXECUTION_STEPS: Final = 3_000_000
"""Evaluation steps all the JSONata expressions of one execution's replay may take together,
so that a hostile expression in a loop or a Map does not cost its steps at every visit."""

JSONATA_DEPTH: Final = 150
"""How deep evaluation may nest (a function calling itself, nested expressions): below the
depth where Python's own recursion limit would stop it with a less telling error."""

JSONATA_ITEMS: Final = 5_000_000
"""Array items one expression may produce, counted over every array it makes (a range
``[1..n]`` counts its n items, a path counts each step's results): a range product stops
long before it holds gigabytes."""

JSONATA_CHARACTERS: Final = 1 << 25
"""Characters one expression may produce, counted over every string it makes (33,554,432:
128 times AWS's payload limit)."""

JSONATA_STRING: Final = 1 << 24
"""The longest string a JSONata function (``$pad``, ``$join``, ``$string``, ``$replace``)
may build, checked before it is built (16,777,216 characters)."""

JSONATA_DISTINCT_ITEMS: Final = 10_000
"""The longest array ``$distinct`` is given: it compares every item with every other."""

JSONATA_SECONDS: Final = 30.0
"""A safety net, the only bound that depends on the machine: the seconds the JSONata
expressions of one execution's replay may take together. The bounds above stop every
expression sfn-trace knows of long before it."""

REGEX_SECONDS: Final = 2.0
"""The seconds one regular expression of a JSONata expression (``$match``, ``$replace``,
``$split``, ``$contains`` with a ``/pattern/``) may take on one string. A pattern that
backtracks catastrophically (``/(a+)+$/`` on thirty a's and a ``!``) runs for ages in
Python's ``re``, which cannot be stopped: these run in the ``regex`` module, which can."""

# --- JSONPath ---------------------------------------------------------------------------------

DESCENT_NODES: Final = 1_000_000
"""Nodes one recursive descent (``..``) may visit and return: each node it walks, and each
node of every match again (the result holds a copy of each match). ``$..x`` over a chain of
5,000 nested objects returns 12.5 million nodes and stops; over any document of AWS's size it
returns far fewer."""


class OverBudget(Exception):
    """An evaluation reached one of sfn-trace's bounds: what AWS computed is not known."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def at_least(value: Any, limit: int, indent: int = 0) -> int:
    """A lower bound of the characters ``value`` takes written out (as JSON, or as Java's
    ``toString`` writes it), counting no further than just past ``limit``: a string counts
    its length, any other scalar one, a container its brackets, separators and keys, and
    with ``indent``, each node that many spaces per level it is nested at.

    An explicit stack, and at most ``limit`` nodes visited (each counts at least one): the
    size of a value that repeats one document many times is known without writing it out."""
    if indent:
        return _indented_at_least(value, limit, indent)
    size = 0
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack and size <= limit:
        node = pop()
        if isinstance(node, str):
            size += len(node)
        elif isinstance(node, dict):
            size += 1 + len(node) + sum(len(key) for key in node if isinstance(key, str))
            extend(node.values())
        elif isinstance(node, (list, tuple)):
            size += 1 + len(node)
            extend(node)
        else:
            size += 1
    return size


def _indented_at_least(value: Any, limit: int, indent: int) -> int:
    """:func:`at_least` for a value written with ``indent`` spaces per level."""
    size = 0
    stack = [(value, 0)]
    while stack and size <= limit:
        node, depth = stack.pop()
        size += indent * depth
        if isinstance(node, str):
            size += len(node)
        elif isinstance(node, dict):
            size += 1 + len(node) + sum(len(key) for key in node if isinstance(key, str))
            stack.extend((member, depth + 1) for member in node.values())
        elif isinstance(node, (list, tuple)):
            size += 1 + len(node)
            stack.extend((item, depth + 1) for item in node)
        else:
            size += 1
    return size
