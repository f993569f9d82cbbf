"""The one place the command line writes: the report on stdout or in a file, the files
asked for beside it, the lines on stderr, and the exit.

Rules (docs/cli.md): stdout carries the report only; progress, warnings and errors go to
stderr, one line each, prefixed ``sfn-trace:``; every exit other than 0 and 1 ends with one
line that says why. Files are written only after everything was rendered (a failure leaves
no file), each atomically.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NoReturn

import typer

from sfn_trace.errors import ExitCode, UsageError

Content = str | bytes
"""Text is written as UTF-8; bytes as they are (a gzip bundle)."""

_ANSWERS = (ExitCode.INTACT, ExitCode.FINDING)
"""The exits that are the report's own answer: no line says why."""


def err(message: str) -> None:
    """One line on stderr."""
    sys.stderr.write(f"sfn-trace: {message}\n")
    sys.stderr.flush()


def warn(warnings: Iterable[str], *, about: str = "") -> None:
    """``sfn-trace: warning: ...`` for each warning (``about``: e.g. ``"good run: "``)."""
    for warning in warnings:
        err(f"warning: {about}{warning}")


def check_distinct(*paths: Path | None) -> None:
    """Refuse two output options that name the same file (one would silently win)."""
    resolved = [p.resolve() for p in paths if p is not None]
    if len(set(resolved)) != len(resolved):
        raise UsageError("two output options name the same file")


def deliver(
    report: Content, output: Path | None, files: Sequence[tuple[Path, Content]] = ()
) -> None:
    """Write the extra ``files``, then the report to ``output`` (a file) or stdout."""
    for path, content in files:
        write_atomically(path, content)
    if output is not None:
        write_atomically(output, report)
    else:
        sys.stdout.write(report if isinstance(report, str) else report.decode("utf-8"))
        sys.stdout.flush()


def exit_with(code: ExitCode, reason: str | None) -> NoReturn:
    """End a command once its report is out. Exits 0 and 1 are the report's answer; any
    other exit says why in one line, the last one on stderr, whatever ``--format`` and
    whether or not ``-o`` took the report (``reason`` None: it was said already, as the
    errors of ``lint`` are)."""
    if code not in _ANSWERS and reason is not None:
        err(reason)
    raise typer.Exit(code)


def write_atomically(path: str | Path, content: Content) -> None:
    """Write via a temporary file in the same directory and rename, so a failure never leaves
    a half-written file (text is written as UTF-8)."""
    path = Path(path)
    # backslashreplace turns a lone surrogate (valid in JSON text) into its JSON escape.
    data = content.encode("utf-8", "backslashreplace") if isinstance(content, str) else content
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
