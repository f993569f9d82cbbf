"""How the program ends when the world around it does: a signal mid-write, a full disk, a
reader that went away. Each runs the installed entry point (``sfn_trace.cli.main``) in a
subprocess, as a user's shell does.

- SIGTERM and SIGHUP stop it as Ctrl-C does: the temporary file of the output being written
  is removed, one line says so, and the exit code is 128 + the signal's number.
- A full disk (``/dev/full``) is one line and exit 2, for stdout and for a named output.
- A reader gone before the first byte (``| head -c0``, a closed pipe) is not an error: the
  exit code is the verdict's.

The signal arrives from inside the write (the process signals itself from ``os.fsync``,
between writing the temporary file and renaming it), so the moment is exact, not raced.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.children import hears_ctrl_c
from tests.data import DEFINITION, ROOT, fixture_history

FIELD = "poll_results_s3_key"
HISTORY = fixture_history("flat_split_drops_key")  # lost: exit 1
INTACT = fixture_history("flat_intact")

_SIGNAL_IN_FSYNC = """
import os, signal, sys
real, number = os.fsync, getattr(signal, sys.argv[1])
def fsync(descriptor):
    os.kill(os.getpid(), number)
    real(descriptor)
os.fsync = fsync
sys.argv = ["sfn-trace", *sys.argv[2:]]
from sfn_trace.cli import main
main()
"""


def _run(
    *args: str, script: str | None = None, stdout: object = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """The program, its stderr captured (and its stdout, unless ``stdout`` says where)."""
    program = ["-c", script] if script else ["-m", "sfn_trace"]
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, *program, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        timeout=120,  # a safety net: each run takes about a second
        preexec_fn=hears_ctrl_c,
    )


@pytest.mark.parametrize(
    ("name", "code", "line"),
    [
        ("SIGTERM", 143, "sfn-trace: stopped by SIGTERM"),
        ("SIGHUP", 129, "sfn-trace: stopped by SIGHUP"),
        ("SIGINT", 130, "sfn-trace: interrupted"),
    ],
)
@pytest.mark.parametrize("existing", [False, True], ids=["new file", "existing file"])
def test_a_signal_mid_write_leaves_no_temporary_file(
    tmp_path: Path, name: str, code: int, line: str, existing: bool
) -> None:
    report = tmp_path / "report.json"
    if existing:
        report.write_text("the report before\n")
    done = _run(
        name,
        str(HISTORY),
        "--field",
        FIELD,
        "--definition",
        str(DEFINITION),
        "--format",
        "json",
        "-o",
        str(report),
        script=_SIGNAL_IN_FSYNC,
    )
    assert done.returncode == code, done.stderr
    assert done.stderr.splitlines() == [line]
    assert done.stdout == ""
    # Nothing but what was there before: no temporary file, the old report untouched.
    assert sorted(p.name for p in tmp_path.iterdir()) == (["report.json"] if existing else [])
    if existing:
        assert report.read_text() == "the report before\n"


def test_every_output_is_cleaned_up_when_a_signal_comes(tmp_path: Path) -> None:
    """--csv, --report and -o together: the signal comes during the first write."""
    done = _run(
        "SIGTERM",
        str(HISTORY),
        "--field",
        FIELD,
        "--csv",
        str(tmp_path / "t.csv"),
        "--report",
        str(tmp_path / "r.md"),
        "-o",
        str(tmp_path / "o.json"),
        script=_SIGNAL_IN_FSYNC,
    )
    assert done.returncode == 143
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("fmt", ["json", "table", "csv", "markdown"])
def test_a_full_disk_on_stdout_is_one_line(fmt: str) -> None:
    with open("/dev/full", "w") as full:
        done = _run(str(HISTORY), "--field", FIELD, "--format", fmt, stdout=full)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "sfn-trace: error: cannot write the report to stdout: No space left on device"
    ]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("option", ["-o", "--csv", "--report"])
def test_a_full_disk_on_an_output_is_one_line(option: str) -> None:
    done = _run(str(HISTORY), "--field", FIELD, "--format", "json", option, "/dev/full")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "sfn-trace: error: cannot write /dev/full: No space left on device"
    ]


@pytest.mark.parametrize(("history", "code"), [(HISTORY, 1), (INTACT, 0)])
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_reader_gone_before_the_first_byte_keeps_the_verdicts_code(
    history: Path, code: int, fmt: str
) -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        done = _run(str(history), "--field", FIELD, "--format", fmt, stdout=write)
    finally:
        os.close(write)
    assert done.returncode == code
    assert done.stderr == ""


def test_a_reader_that_leaves_midway_keeps_the_verdicts_code() -> None:
    """``sfn-trace ... | head -c 100``: the report is larger than the pipe's buffer."""
    reader = subprocess.Popen(
        ["head", "-c", "100"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    assert reader.stdin is not None
    try:
        done = _run(
            str(HISTORY), "--field", FIELD, "--definition", str(DEFINITION), "--format", "json",
            stdout=reader.stdin,
        )  # fmt: skip
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert done.returncode == 1
    assert done.stderr == ""


def test_signals_are_handled_only_by_the_program() -> None:
    """A library call (``import sfn_trace.cli``, ``sfn_trace.api``) leaves the process's
    signal handlers as they were: only ``main`` installs its own."""
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    import sfn_trace.api
    import sfn_trace.cli  # noqa: F401

    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_stderr_that_is_gone_keeps_the_verdicts_code(tmp_path: Path) -> None:
    """The warning (--region with a file) has nowhere to go: the exit code is still 1."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sfn_trace", str(HISTORY), "--field", FIELD, "--region",
             "us-east-1", "--format", "json", "-o", str(tmp_path / "r.json")],
            stderr=write, stdout=subprocess.DEVNULL, cwd=ROOT, timeout=120,
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode == 1
    assert (tmp_path / "r.json").exists()
