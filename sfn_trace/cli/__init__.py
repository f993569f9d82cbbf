"""The command line (typer): the last stage, and the only one that prints or exits.

Each command (:mod:`.trace`, the main form; :mod:`.scan`, :mod:`.compare`, :mod:`.lint`)
parses its options, makes one :mod:`sfn_trace.api` call and hands the rendered text to
:mod:`.output`, the one place that writes stdout, files and stderr. :mod:`.app` holds the
typer app, the shared options and the error guard. Importing the command modules registers
their commands on :data:`app`.

Import rule: ``cli`` imports :mod:`sfn_trace.api`, :mod:`sfn_trace.report` (formats and
the lines it words), :mod:`sfn_trace.model` and :mod:`sfn_trace.errors`; not the pipeline's
inner stages (docs/architecture.md).
"""

from sfn_trace.cli import compare as _compare  # noqa: F401  (registers `compare`)
from sfn_trace.cli import lint as _lint  # noqa: F401  (registers `lint`)
from sfn_trace.cli import scan as _scan  # noqa: F401  (registers `scan`)
from sfn_trace.cli import trace as _trace  # noqa: F401  (registers the main form)
from sfn_trace.cli.app import app


def main() -> None:
    app(prog_name="sfn-trace")


__all__ = ["app", "main"]
