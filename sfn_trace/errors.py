"""Exit codes and the exceptions that carry them.

Every expected failure is one of these exceptions, raised anywhere below the CLI; only the
``cli`` package (the guard in ``cli/app.py``, and ``main`` in ``cli/__init__.py`` for the
signals) turns them into a one-line message and an exit code (docs/cli.md, exit codes).

A message names the options it is about in the library's own words: each is an
:class:`Option` (or a :class:`TraceCall`) among the message's parts, worded as the
:mod:`sfn_trace.api` keyword (``field=``, ``confirm=True``) unless a front end says how it
names them (:func:`options_named`: the CLI words them as its flags, ``--field``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar


class ExitCode(IntEnum):
    """The documented exit codes (docs/cli.md). Each one is asserted end to end in tests."""

    INTACT = 0
    """The tracked field is intact."""
    FINDING = 1
    """A finding: the field was lost, never set, or never present."""
    USAGE = 2
    """Bad usage or unreadable input (malformed ARN, corrupt file, ...)."""
    AWS = 3
    """An AWS error: not found, access denied, throttled past retries, unreachable."""
    INCOMPLETE = 4
    """The answer is incomplete: truncated payloads, data not included, history cut."""
    INTERNAL = 70
    """A bug in sfn-trace (sysexits' EX_SOFTWARE): not the user's input, not AWS."""
    HANGUP = 129
    """SIGHUP (128 + 1): the terminal went away."""
    INTERRUPTED = 130
    """Ctrl-C (SIGINT, 128 + 2)."""
    TERMINATED = 143
    """SIGTERM (128 + 15): ``kill``, a CI job's timeout, a container stopped."""


@dataclass(frozen=True)
class Option:
    """An option a message names, by its :mod:`sfn_trace.api` keyword (or its
    :class:`~sfn_trace.model.options.AwsOptions` field): ``field``, ``since``,
    ``max_attempts``. ``value`` completes the library's wording of a switch
    (``confirm=True``)."""

    name: str
    value: str = ""

    def library(self) -> str:
        """The library's own words for it: ``field=``, ``confirm=True``."""
        return f"{self.name}={self.value}"


@dataclass(frozen=True)
class TraceCall:
    """A suggestion to trace ``target`` on its own: an execution ARN given where a state
    machine's was expected, or (``debug``) to see the traceback of a bug one execution of a
    scan met."""

    target: str
    debug: bool = False

    def library(self) -> str:
        call = f"trace({self.target!r}, field)"
        return f"{call} raises it with its traceback" if self.debug else call


Named = Option | TraceCall
"""What a front end words its own way in a message."""
Naming = Callable[[Named], str]
"""How a front end words an :class:`Option` or a :class:`TraceCall`."""


def library_naming(part: Named) -> str:
    """The library's own words: the ``api`` keyword (``field=``, ``confirm=True``)."""
    return part.library()


_naming: Naming = library_naming


@contextmanager
def options_named(naming: Naming) -> Iterator[None]:
    """Within the block, every message (an error's, and one the library words into a result
    from an error) names options with ``naming``; the library's own words again after it.
    The CLI runs each command in it, with its flags."""
    global _naming
    before = _naming
    _naming = naming
    try:
        yield
    finally:
        _naming = before


def word(*parts: str | Named, naming: Naming | None = None) -> str:
    """``parts`` as one text, each option worded by ``naming`` (default: as the front end
    running now names it, see :func:`options_named`)."""
    name = naming or _naming
    return "".join(part if isinstance(part, str) else name(part) for part in parts)


_E = TypeVar("_E", bound="SfnTraceError")


class SfnTraceError(Exception):
    """An expected failure with a one-line message for the user.

    The message is made of parts: text, and the options it names (:class:`Option`), which
    each front end words as it names them (:func:`word`)."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, *parts: str | Named) -> None:
        super().__init__(*parts)
        self.parts: tuple[str | Named, ...] = parts

    @property
    def message(self) -> str:
        """The line for the user, its options named as the running front end names them."""
        return word(*self.parts)

    @property
    def options(self) -> tuple[str, ...]:
        """The ``api`` names of the options the message is about (``("field",)``)."""
        return tuple(part.name for part in self.parts if isinstance(part, Option))

    def worded(self, naming: Naming) -> str:
        """The message with its options named by ``naming``."""
        return word(*self.parts, naming=naming)

    def around(self: _E, before: str = "", after: str = "") -> _E:
        """The same failure (class, exit code, options), its message between ``before`` and
        ``after``: a file's name before a problem found in it."""
        return type(self)(*(part for part in (before, *self.parts, after) if part != ""))

    def __str__(self) -> str:
        return self.message


class UsageError(SfnTraceError):
    """Bad arguments: caught before any AWS call."""

    exit_code = ExitCode.USAGE


class InputError(SfnTraceError):
    """A file that cannot be read as a history, definition or bundle."""

    exit_code = ExitCode.USAGE


class AwsError(SfnTraceError):
    """An AWS call failed in a way retries could not fix."""

    exit_code = ExitCode.AWS


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised wherever the program is, as Ctrl-C raises
    KeyboardInterrupt: whatever handles Ctrl-C (a temporary file removed, a thread told to
    stop) handles these the same way. The CLI's ``main`` turns the signals into it; the exit
    code is 128 + the signal's number, as a shell reports a process the signal ended."""

    def __init__(self, signal_name: str, exit_code: ExitCode) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.exit_code = exit_code
