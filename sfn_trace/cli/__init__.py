"""The command line (typer): the last stage, and the only one that prints or exits.

Each command (:mod:`.trace`, the main form; :mod:`.scan`, :mod:`.compare`, :mod:`.lint`;
:mod:`.mcp` serves them to AI assistants through :mod:`sfn_trace.mcp`)
parses its options, makes one :mod:`sfn_trace.api` call and hands the rendered text to
:mod:`.output`, the one place that writes stdout, files and stderr. :mod:`.app` holds the
typer app, the shared options and the error guard. Importing the command modules registers
their commands on :data:`app`.

Import rule: ``cli`` imports :mod:`sfn_trace.api`, :mod:`sfn_trace.report` (formats and
the lines it words), :mod:`sfn_trace.model` and :mod:`sfn_trace.errors`, and
:mod:`sfn_trace.mcp` (only when ``sfn-trace mcp`` runs); not the pipeline's inner stages
(docs/architecture.md).
"""

import contextlib
import gc
import os
import signal
import sys

from sfn_trace.cli import compare as _compare  # noqa: F401  (registers `compare`)
from sfn_trace.cli import lint as _lint  # noqa: F401  (registers `lint`)
from sfn_trace.cli import mcp as _mcp  # noqa: F401  (registers `mcp`)
from sfn_trace.cli import scan as _scan  # noqa: F401  (registers `scan`)
from sfn_trace.cli import trace as _trace  # noqa: F401  (registers the main form)
from sfn_trace.cli.app import app, stopped
from sfn_trace.errors import ExitCode, Stopped


def main() -> None:
    """The ``sfn-trace`` program (the console script, ``python -m sfn_trace``).

    A command's process ends with it, so two costs of a long-lived interpreter are skipped:
    the cyclic garbage collector stays off (a trace's structures form no reference cycles,
    reference counting frees what is dropped: tests/test_no_cycles.py; its scans of the
    hundreds of thousands of containers a big trace builds found nothing and took 4% of the
    time), and once the output is flushed the process exits at once instead of freeing every
    object one by one and collecting a last time (3% more). Code that imports :data:`app`
    (tests, other programs) gets neither, nor the handlers of SIGTERM and SIGHUP
    (:func:`_stop_on_signals`).
    """
    gc.disable()
    _stop_on_signals()
    try:
        app(prog_name="sfn-trace")
        code = 0
    except SystemExit as done:
        code = _exit_code(done.code)
    except KeyboardInterrupt as stop:  # before a command's guard runs, or after it
        code = stopped(stop)
    for stream in (sys.stdout, sys.stderr):
        # The reader may have gone away, or the stream been closed (a broken pipe).
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP stop the program as Ctrl-C does (:class:`Stopped`, a
    KeyboardInterrupt): the temporary file of an output being written is removed, one line
    says so, and the exit code is 128 + the signal's number. Python's default would end the
    process at once and leave that file behind."""

    def stop(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        raise Stopped(name, ExitCode.TERMINATED if name == "SIGTERM" else ExitCode.HANGUP)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)


def _exit_code(code: object) -> int:
    """What Python makes of ``sys.exit(code)``: None is 0, a number itself, anything else
    is printed on stderr and is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    with contextlib.suppress(OSError, ValueError):
        print(code, file=sys.stderr)
    return 1


__all__ = ["app", "main"]
