"""One finding per cause: lint's (reader, dropper) pairs grouped by the step that drops the
field, with their severity and whether a suppression covers them.

:func:`sfn_trace.checks.lint.lint` finds every (reader, state that can drop the field) pair.
A state that drops the field before ten readers is one thing to fix, not ten:
:func:`causes` groups the pairs by the dropping state and its step (``Parameters``,
``ResultSelector``, ``Catch #1``, ``result`` ...), listing each reader it affects once, with
the first path and the number of paths.

**Severity.** ``error``: a definite drop (a template without the field, a ``ResultSelector``
or literal put over it, a null path, a catcher's error output over it): every run that takes
the path loses it. ``warning``: the field is copied back from a task's result and survives
only if the task returns it (the seed incident's class).

**Suppression.** In the definition, a state's ``Comment`` holding ``sfn-trace: ignore RULE``
(``RULE`` a rule id such as ``depends-on-task-result``, or ``all``; several may be listed,
separated by commas or spaces): on the dropping state it suppresses that state's causes of
the rule; on readers, a cause all of whose readers say so. In a config file
(:mod:`sfn_trace.checks.lint_config`): its ``lint.ignore`` entries. A suppressed cause is
still reported (SARIF ``suppressions``) but does not count toward the exit code.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from sfn_trace.model.definition import Definition

__all__ = [
    "ALL_RULES",
    "ERROR",
    "SEVERITIES",
    "WARNING",
    "Finding",
    "IgnoreRule",
    "LintCause",
    "ReaderPaths",
    "Suppression",
    "causes",
    "counts",
    "suppress",
]

ERROR = "error"
"""A definite drop: on every run that takes the path, the field is gone."""
WARNING = "warning"
"""The field survives only if a task's result carries it on."""
SEVERITIES = (WARNING, ERROR)
"""From the lowest: ``--severity`` counts causes at or above the one it names."""

ALL_RULES = "all"
"""``sfn-trace: ignore all``: every rule."""

IN_SOURCE = "inSource"
"""Suppressed by the definition itself (a state's ``Comment``): SARIF's kind."""
EXTERNAL = "external"
"""Suppressed by a config file: SARIF's kind."""

_IGNORE = re.compile(r"sfn-trace:\s*ignore\s+([A-Za-z0-9_\-, ]+)")


class Finding(Protocol):
    """What grouping reads of a finding (:class:`sfn_trace.checks.lint.LintFinding`)."""

    @property
    def reader(self) -> str: ...
    @property
    def expression(self) -> str: ...
    @property
    def read(self) -> str: ...
    @property
    def path(self) -> tuple[str, ...]: ...
    @property
    def dropper(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def hint(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def paths(self) -> int: ...
    @property
    def severity(self) -> str: ...


@dataclass(frozen=True)
class ReaderPaths:
    """One reader a cause affects."""

    reader: str
    expression: str
    read: str
    path: tuple[str, ...]
    """The first path from ``StartAt`` to the reader through the dropper."""
    paths: int
    """How many paths do (of those followed)."""


@dataclass(frozen=True)
class Suppression:
    kind: str
    """:data:`IN_SOURCE` or :data:`EXTERNAL`."""
    justification: str


@dataclass(frozen=True)
class LintCause:
    """One state's step that can drop the field, and every reader that it affects."""

    dropper: str
    step: str
    kind: str
    severity: str
    reasons: tuple[str, ...]
    """How it drops it, each wording once (readers of different locations may differ)."""
    hints: tuple[str, ...]
    readers: tuple[ReaderPaths, ...]
    suppressed: Suppression | None = None


def causes(findings: Sequence[Finding]) -> list[LintCause]:
    """The findings grouped by (dropper, step), in the order their first finding comes."""
    grouped: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        grouped.setdefault((finding.dropper, finding.step), []).append(finding)
    made = []
    for (dropper, step), members in grouped.items():
        readers: dict[tuple[str, str], ReaderPaths] = {}
        for each in members:
            key = (each.reader, each.expression)
            known = readers.get(key)
            if known is None:
                readers[key] = ReaderPaths(
                    each.reader, each.expression, each.read, each.path, each.paths
                )
            elif each.paths > known.paths:
                readers[key] = replace(known, paths=each.paths)
        first = members[0]
        made.append(
            LintCause(
                dropper=dropper,
                step=step,
                kind=first.kind,
                severity=first.severity,
                reasons=tuple(dict.fromkeys(m.reason for m in members)),
                hints=tuple(dict.fromkeys(m.hint for m in members)),
                readers=tuple(readers.values()),
            )
        )
    return made


@dataclass(frozen=True)
class IgnoreRule:
    """One ``lint.ignore`` entry of a config file: every given key must match."""

    rule: str
    """A rule id (:data:`sfn_trace.checks.lint.DROP_KINDS`) or :data:`ALL_RULES`."""
    state: str | None = None
    """The dropping state's name."""
    definition: str | None = None
    """A glob matched against the definition's path as given (``/`` separators), or the
    state machine ARN it was read from."""
    field: str | None = None
    reason: str | None = None

    def covers(self, cause: LintCause, source: Path | str, field: str) -> bool:
        """``source``: the definition's path, or the state machine ARN it was read from."""
        given = source if isinstance(source, str) else source.as_posix()
        return (
            self.rule in (cause.kind, ALL_RULES)
            and self.state in (None, cause.dropper)
            and self.field in (None, field)
            and (self.definition is None or fnmatch.fnmatchcase(given, self.definition))
        )


def ignored_rules(comment: object) -> frozenset[str]:
    """The rules a state's ``Comment`` says to ignore."""
    if not isinstance(comment, str):
        return frozenset()
    found: set[str] = set()
    for match in _IGNORE.finditer(comment):
        found.update(word for word in re.split(r"[,\s]+", match.group(1)) if word)
    return frozenset(found)


def suppress(
    made: Iterable[LintCause],
    definition: Definition,
    source: Path | str,
    field: str,
    rules: Sequence[IgnoreRule] = (),
) -> list[LintCause]:
    """Each cause, with the suppression that covers it (the definition's own first)."""
    states = definition.states

    def says(name: str, kind: str) -> bool:
        state = states.get(name)
        ignored = ignored_rules(state.body.get("Comment")) if state is not None else frozenset()
        return kind in ignored or ALL_RULES in ignored

    out = []
    for cause in made:
        found: Suppression | None = None
        if says(cause.dropper, cause.kind):
            found = Suppression(IN_SOURCE, f"the Comment of {cause.dropper} ignores {cause.kind}")
        elif cause.readers and all(says(r.reader, cause.kind) for r in cause.readers):
            found = Suppression(IN_SOURCE, f"the Comments of its readers ignore {cause.kind}")
        else:
            for rule in rules:
                if rule.covers(cause, source, field):
                    why = rule.reason or f"the config file ignores {rule.rule}"
                    found = Suppression(EXTERNAL, why)
                    break
        out.append(cause if found is None else replace(cause, suppressed=found))
    return out


def counts(made: Iterable[LintCause], threshold: str) -> list[LintCause]:
    """The causes that count toward the exit code: not suppressed, at or above
    ``threshold`` (one of :data:`sfn_trace.checks.lint.SEVERITIES`)."""
    floor = SEVERITIES.index(threshold)
    return [c for c in made if c.suppressed is None and SEVERITIES.index(c.severity) >= floor]


def severity_counts(made: Iterable[LintCause]) -> Mapping[str, int]:
    """How many unsuppressed causes there are of each severity, errors first."""
    found = {severity: 0 for severity in reversed(SEVERITIES)}
    for cause in made:
        if cause.suppressed is None:
            found[cause.severity] += 1
    return found
