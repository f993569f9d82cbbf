"""Exit codes and the exceptions that carry them.

Every expected failure is one of these exceptions, raised anywhere below the CLI; only the
``cli`` package (the guard in ``cli/app.py``, and ``main`` in ``cli/__init__.py`` for the
signals) turns them into a one-line message and an exit code (docs/cli.md, exit codes).
"""

from __future__ import annotations

from enum import IntEnum


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


class SfnTraceError(Exception):
    """An expected failure with a one-line message for the user."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
