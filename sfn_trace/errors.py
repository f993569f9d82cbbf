"""Exit codes and the exceptions that carry them.

Every expected failure is one of these exceptions, raised anywhere below the CLI; only
``cli.py`` turns them into a one-line message and an exit code (docs/cli.md, exit codes).
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
    INTERRUPTED = 130
    """Ctrl-C."""


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
