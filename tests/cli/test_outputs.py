"""Outputs that cannot hurt (issue 14): no output replaces an input or another output, each
is checked before anything is read, and each is written where a Unix tool would write it.

- a clash (an output naming TARGET, ``--definition``, ``--expect-definition``, another
  output, or compare's GOOD) exits 2 with one line naming both options, writes nothing and
  leaves the input byte for byte as it was;
- ``-`` is stdout; a symbolic link is written through (it stays a link); a FIFO and a
  character device are opened and written, never replaced; a regular file keeps its mode, a
  new one gets ``0o666 & ~umask``; a read-only file, a directory, a missing folder are
  refused in one line;
- TARGET may be ``-`` (stdin) or a FIFO, a history or a bundle, read once.

Everything happens in ``tmp_path``.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.cli.output import check_outputs, destination, write_to
from sfn_trace.errors import ExitCode, UsageError
from tests.data import DEFINITION, fixture_history

FIELD = "poll_results_s3_key"
HISTORY = fixture_history("flat_split_drops_key")
SM_ARN = "arn:aws:states:us-west-2:123456789012:stateMachine:line-ingest"


def _runner() -> CliRunner:
    """stderr apart from stdout: the default from click 8.2 on, ``mix_stderr`` before."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


runner = _runner()


def invoke(*args: str | Path, input: bytes | None = None) -> Any:
    return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the fixture history and definition in ``tmp_path`` (``h.json``, ``d.json``)."""
    history, definition = tmp_path / "h.json", tmp_path / "d.json"
    shutil.copyfile(HISTORY, history)
    shutil.copyfile(DEFINITION, definition)
    return history, definition


@pytest.fixture(scope="module")
def expected() -> str:
    """The JSON report of the fixture, written to stdout."""
    result = invoke(HISTORY, "--field", FIELD, "--format", "json")
    assert result.exit_code == ExitCode.FINDING
    return str(result.stdout)


def the_line(result: Any) -> str:
    """The one stderr line of an exit 2, without its prefix."""
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("sfn-trace: error: ")
    return str(lines[0][len("sfn-trace: error: ") :])


def listing(folder: Path) -> dict[str, bytes | str]:
    """Every entry of ``folder``: a file's bytes, a link's target."""
    return {
        p.name: os.readlink(p) if p.is_symlink() else p.read_bytes()
        for p in sorted(folder.iterdir())
        if not p.is_dir()
    }


# --- clashes: nothing is written, the input is left as it was ---------------------------------


@pytest.mark.parametrize(
    ("options", "names"),
    [
        (["-o", "h.json"], ("--output", "TARGET")),
        (["--csv", "h.json"], ("--csv", "TARGET")),
        (["--report", "./h.json"], ("--report", "TARGET")),
        (["--save-bundle", "h.json"], ("--save-bundle", "TARGET")),
        (["--definition", "d.json", "-o", "d.json"], ("--output", "--definition")),
        (["--definition", "d.json", "--csv", "d.json"], ("--csv", "--definition")),
        (
            ["--definition", "d.json", "--expect-definition", "e.json", "--report", "e.json"],
            ("--report", "--expect-definition"),
        ),
        (["--csv", "t.csv", "--report", "t.csv", "-o", "r.json"], ("--csv", "--report")),
        (["-o", "r.json", "--save-bundle", "r.json"], ("--output", "--save-bundle")),
        (["-o", "link.json"], ("--output", "TARGET")),  # a symbolic link to the history
        (["-o", "hard.json"], ("--output", "TARGET")),  # a hard link: the same inode
    ],
)
def test_an_output_naming_an_input_or_another_output_is_refused(
    tmp_path: Path,
    inputs: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    names: tuple[str, str],
) -> None:
    history, _ = inputs
    shutil.copyfile(DEFINITION, tmp_path / "e.json")
    (tmp_path / "link.json").symlink_to("h.json")
    os.link(history, tmp_path / "hard.json")
    before = listing(tmp_path)
    monkeypatch.chdir(tmp_path)
    line = the_line(invoke("h.json", "--field", FIELD, *options))
    assert line.startswith(f"{names[0]} and {names[1]} name the same file (")
    assert line.endswith("): nothing was written")
    assert listing(tmp_path) == before  # nothing written, every input byte-identical
    assert (tmp_path / "link.json").is_symlink()


def test_two_outputs_to_stdout_are_refused(inputs: tuple[Path, Path]) -> None:
    history, _ = inputs
    line = the_line(invoke(history, "--field", FIELD, "--csv", "-"))
    assert line == "the report and --csv both write to stdout (-): nothing was written"
    line = the_line(invoke(history, "--field", FIELD, "-o", "-", "--report", "-"))
    assert line == "--output and --report both write to stdout (-): nothing was written"


def test_compare_output_naming_good_or_bad_is_refused(
    tmp_path: Path, inputs: tuple[Path, Path]
) -> None:
    history, definition = inputs
    bad = tmp_path / "bad.json"
    shutil.copyfile(fixture_history("flat_intact"), bad)
    before = listing(tmp_path)
    for output, name in ((history, "GOOD"), (bad, "BAD"), (definition, "--definition")):
        result = invoke(
            "compare", history, bad, "--field", FIELD, "--definition", definition, "-o", output
        )
        assert the_line(result) == (
            f"--output and {name} name the same file ({output}): nothing was written"
        )
    assert listing(tmp_path) == before


def test_compare_reads_stdin_once(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    history, _ = inputs
    assert the_line(invoke("compare", "-", "-", "--field", FIELD, input=b"{}")) == (
        "GOOD and BAD cannot both be read from stdin (-)"
    )
    result = invoke("compare", "-", history, "--field", FIELD, input=history.read_bytes())
    assert result.exit_code == ExitCode.INTACT, result.stderr


def test_the_checks_run_before_anything_is_read(tmp_path: Path) -> None:
    """A clash or an unwritable output is refused before the target is read: here the
    target does not exist, and the scan's ARN is never listed (no AWS call is made)."""
    (tmp_path / "folder").mkdir()
    result = invoke(tmp_path / "missing.json", "--field", FIELD, "-o", tmp_path / "folder")
    assert the_line(result) == f"cannot write {tmp_path / 'folder'} (--output): it is a directory"
    result = invoke("scan", SM_ARN, "--field", FIELD, "-o", tmp_path / "folder")
    assert the_line(result) == f"cannot write {tmp_path / 'folder'} (--output): it is a directory"


# --- where a report goes ----------------------------------------------------------------------


def test_a_symbolic_link_is_written_through_and_stays_a_link(tmp_path: Path, expected: str) -> None:
    target = tmp_path / "reports" / "trace.json"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    result = invoke(HISTORY, "--field", FIELD, "--format", "json", "-o", link)
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text(encoding="utf-8") == expected
    assert sorted(p.name for p in target.parent.iterdir()) == ["trace.json"]  # no temp left


def test_a_dangling_symbolic_link_creates_its_target(tmp_path: Path, expected: str) -> None:
    link = tmp_path / "latest.json"
    link.symlink_to("made.json")
    result = invoke(HISTORY, "--field", FIELD, "--format", "json", "-o", link)
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert link.is_symlink()
    assert (tmp_path / "made.json").read_text(encoding="utf-8") == expected


def _reader(path: Path, received: list[bytes]) -> threading.Thread:
    def read() -> None:
        with open(path, "rb") as stream:
            received.append(stream.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_a_fifo_output_receives_the_report(tmp_path: Path, expected: str) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    thread = _reader(fifo, received)
    result = invoke(HISTORY, "--field", FIELD, "--format", "json", "-o", fifo)
    thread.join(timeout=30)
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert received == [expected.encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not replaced
    assert [p.name for p in tmp_path.iterdir()] == ["report.fifo"]


def test_dash_is_stdout(expected: str) -> None:
    result = invoke(HISTORY, "--field", FIELD, "--format", "json", "-o", "-")
    assert result.exit_code == ExitCode.FINDING
    assert result.stdout == expected


def test_a_bundle_can_go_to_stdout(tmp_path: Path) -> None:
    result = invoke(HISTORY, "--field", FIELD, "--save-bundle", "-", "-o", tmp_path / "r.json")
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert '"schema": "sfn-trace-bundle/1"' in result.stdout


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    """A character device to write to: ``/dev/null`` for a user who cannot replace it; as
    root (who could, were the code wrong), a null device made in ``tmp_path`` instead."""
    if os.geteuid() != 0:
        return Path(os.devnull)
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        with open(device, "wb"):
            pass
    except OSError as exc:
        pytest.skip(f"cannot make a null device here: {exc}")
    return device


def test_a_character_device_is_written_to_never_replaced(null_device: Path) -> None:
    result = invoke(HISTORY, "--field", FIELD, "--format", "json", "-o", null_device)
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert result.stdout == ""
    assert stat.S_ISCHR(os.lstat(null_device).st_mode)
    assert destination(null_device).kind == "stream"


def test_a_read_only_file_is_refused_and_unchanged(tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text("mine", encoding="utf-8")
    kept.chmod(0o444)
    result = invoke(HISTORY, "--field", FIELD, "-o", kept)
    assert the_line(result) == (
        f"cannot write {kept} (--output): the file is read-only: it was not replaced"
    )
    assert kept.read_text(encoding="utf-8") == "mine"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o444


def test_an_existing_file_keeps_its_mode(tmp_path: Path, expected: str) -> None:
    report = tmp_path / "r.json"
    report.write_text("old", encoding="utf-8")
    report.chmod(0o640)
    result = invoke(HISTORY, "--field", FIELD, "--format", "json", "-o", report)
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert report.read_text(encoding="utf-8") == expected
    assert stat.S_IMODE(report.stat().st_mode) == 0o640


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_a_new_file_gets_the_umasks_default_mode(
    tmp_path: Path, umask: Callable[[int], int], mask: int
) -> None:
    umask(mask)
    paths = {name: tmp_path / name for name in ("r.json", "t.csv", "r.md", "b.json.gz")}
    result = invoke(
        HISTORY,
        "--field",
        FIELD,
        "-o",
        paths["r.json"],
        "--csv",
        paths["t.csv"],
        "--report",
        paths["r.md"],
        "--save-bundle",
        paths["b.json.gz"],
    )
    assert result.exit_code == ExitCode.FINDING, result.stderr
    for path in paths.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path.name


def test_a_directory_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    result = invoke(HISTORY, "--field", FIELD, "--csv", folder)
    assert the_line(result) == f"cannot write {folder} (--csv): it is a directory"


def test_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "r.md"
    result = invoke(HISTORY, "--field", FIELD, "--report", path)
    assert the_line(result) == (
        f"cannot write {path} (--report): the folder {path.parent} does not exist"
    )
    result = invoke("compare", HISTORY, HISTORY, "--field", FIELD, "-o", path)
    assert the_line(result) == (
        f"cannot write {path} (--output): the folder {path.parent} does not exist"
    )


def test_a_missing_folder_is_refused_by_the_writer_too(tmp_path: Path) -> None:
    """The check runs again when writing (the folder may have gone meanwhile)."""
    with pytest.raises(UsageError, match="does not exist"):
        write_to(tmp_path / "missing" / "r.md", "text", "--report")


def test_check_outputs_compares_paths_not_made_yet(tmp_path: Path) -> None:
    one, same = tmp_path / "new.json", tmp_path / "." / "new.json"
    with pytest.raises(UsageError, match=r"^--csv and --report name the same file"):
        check_outputs([("--csv", one), ("--report", same)])
    check_outputs([("--csv", one), ("--report", tmp_path / "other.json")])
    assert listing(tmp_path) == {}


# --- TARGET from stdin or a FIFO ----------------------------------------------------------------


def test_stdin_target_traces_like_the_file(expected: str) -> None:
    result = invoke("-", "--field", FIELD, "--format", "json", input=HISTORY.read_bytes())
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert result.stdout == expected


def test_stdin_target_may_be_gzip(expected: str) -> None:
    data = gzip.compress(HISTORY.read_bytes())
    result = invoke("-", "--field", FIELD, "--format", "json", input=data)
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert result.stdout == expected


def test_a_bundle_through_stdin_replays(tmp_path: Path, expected: str) -> None:
    bundle = tmp_path / "b.json.gz"
    assert invoke(HISTORY, "--field", FIELD, "--save-bundle", bundle).exit_code == 1
    result = invoke("-", "--field", FIELD, "--format", "json", input=bundle.read_bytes())
    assert result.exit_code == ExitCode.FINDING, result.stderr
    assert result.stdout == expected


def test_an_empty_stdin_is_one_line() -> None:
    assert the_line(invoke("-", "--field", FIELD, input=b"")) == "stdin: the file is empty"


def _writer(path: Path, data: bytes) -> threading.Thread:
    def write() -> None:
        with open(path, "wb") as stream:
            stream.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_fifo_target_traces_like_the_file(tmp_path: Path, expected: str) -> None:
    """A FIFO (as ``<(aws stepfunctions get-execution-history ...)`` gives) is read once."""
    fifo = tmp_path / "history.fifo"
    os.mkfifo(fifo)
    thread = _writer(fifo, HISTORY.read_bytes())
    result = invoke(fifo, "--field", FIELD, "--format", "json", "--definition", DEFINITION)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert result.exit_code == ExitCode.FINDING, result.stderr
    with_definition = invoke(
        HISTORY, "--field", FIELD, "--format", "json", "--definition", DEFINITION
    )
    assert result.stdout == with_definition.stdout
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
