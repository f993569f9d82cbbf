"""Child processes the tests start."""

from __future__ import annotations

import signal


def hears_ctrl_c() -> None:
    """Run in a child before it executes: SIGINT back to its default disposition, as a job
    started from a terminal has it. A test run started in the background (``cmd &`` in a
    script, some CI runners) ignores SIGINT, a child inherits that, and Python then never
    installs its Ctrl-C handler: a test that sends SIGINT would see nothing happen."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
