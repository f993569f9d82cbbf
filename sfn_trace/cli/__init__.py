"""The command line (typer). See :mod:`sfn_trace.cli.app` for the shape of it.

Importing the command modules registers their commands on :data:`app`.
"""

from sfn_trace.cli import compare as _compare  # noqa: F401  (registers `compare`)
from sfn_trace.cli import lint as _lint  # noqa: F401  (registers `lint`)
from sfn_trace.cli import scan as _scan  # noqa: F401  (registers `scan`)
from sfn_trace.cli import trace as _trace  # noqa: F401  (registers the main form)
from sfn_trace.cli.app import app


def main() -> None:
    app(prog_name="sfn-trace")


__all__ = ["app", "main"]
