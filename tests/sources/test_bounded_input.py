"""A file from a ticket is read with a bound: at most ``--max-input-size`` bytes of JSON
(1 GiB by default), counted after gzip inflation, from a file, a pipe, stdin or a bundle.

The gzip bombs are made here: identical gzip members, concatenated, are one valid gzip file
(RFC 1952) that inflates to the sum of theirs; 64 members of 64 MiB of spaces are a 4 MB
file that inflates to 4 GiB."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import threading
from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sfn_trace import api
from sfn_trace.cli import app
from sfn_trace.errors import InputError
from sfn_trace.model.options import MAX_INPUT, format_size, parse_size
from sfn_trace.sources.bundle import read_bundle
from sfn_trace.sources.files import read_definition, read_json
from tests.data import DEFINITION, ROOT, fixture_history

FIELD = "poll_results_s3_key"
HISTORY = fixture_history("flat_split_drops_key")


@cache
def _member(size: int) -> bytes:
    return gzip.compress(b" " * size, compresslevel=9, mtime=0)


def _bomb(path: Path, members: int, size: int = 1 << 20) -> Path:
    """A gzip file of ``members`` members, each inflating to ``size`` bytes of spaces."""
    path.write_bytes(_member(size) * members)
    return path


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# --- the bound, in process, with a small limit ----------------------------------------------


def test_gzip_is_refused_as_soon_as_it_inflates_past_the_limit(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "h.json.gz", members=20)  # 20 MiB inflated, 20 kB on disk
    with pytest.raises(InputError) as caught:
        read_json(bomb, "file", max_input=10 << 20)
    assert caught.value.message == (
        f"{bomb}: the gzip data inflates to more than 10 MiB, the most sfn-trace reads "
        "(max_input= raises it)"
    )


def test_the_limit_is_inclusive(tmp_path: Path) -> None:
    """Exactly the limit is read (then found not to be a history, being spaces); one byte
    more is refused."""
    data = gzip.compress(b"[]" + b" " * 998)
    (tmp_path / "a.gz").write_bytes(data)
    assert read_json(tmp_path / "a.gz", max_input=1000) == []
    with pytest.raises(InputError, match="inflates to more than 999 bytes"):
        read_json(tmp_path / "a.gz", max_input=999)
    (tmp_path / "b.json").write_bytes(b"[]" + b" " * 998)
    assert read_json(tmp_path / "b.json", max_input=1000) == []
    with pytest.raises(InputError, match=r"holds 1,000 bytes, more than 999 bytes"):
        read_json(tmp_path / "b.json", max_input=999)


def test_a_plain_file_too_large_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as stream:  # sparse: 8 GiB that take no disk
        stream.truncate(8 << 30)
    with pytest.raises(InputError) as caught:
        read_json(big, "history file")
    assert caught.value.message == (
        f"{big}: the history file holds 8,589,934,592 bytes, more than 1 GiB, the most "
        "sfn-trace reads (max_input= raises it)"
    )


def test_a_pipe_is_cut_at_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "history.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as stream, __import__("contextlib").suppress(BrokenPipeError):
            for _ in range(64):
                stream.write(b" " * (1 << 20))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        with pytest.raises(InputError, match="holds more than 4 MiB, the most sfn-trace reads"):
            read_json(fifo, max_input=4 << 20)
    finally:
        writer.join(timeout=30)


@pytest.mark.parametrize("compress", [False, True])
def test_stdin_has_the_same_limit(monkeypatch: pytest.MonkeyPatch, compress: bool) -> None:
    data = _member(8 << 20) * 2 if compress else b" " * (16 << 20)
    _stdin(monkeypatch, data)
    with pytest.raises(InputError, match=r"^stdin: the (gzip data inflates to|file holds) more"):
        read_json("-", max_input=4 << 20)


def test_a_history_within_the_limit_reads_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = HISTORY.read_bytes()
    assert read_json(HISTORY, max_input=len(raw)) == read_json(HISTORY)
    _stdin(monkeypatch, gzip.compress(raw))
    assert read_json("-", max_input=len(raw)) == read_json(HISTORY)


def test_bundles_and_definitions_have_the_same_limit(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "b.json.gz", members=8)
    with pytest.raises(InputError, match="gzip data inflates to more than 1 MiB"):
        read_bundle(bomb, max_input=1 << 20)
    definition = tmp_path / "d.json"
    definition.write_bytes(DEFINITION.read_bytes())
    with pytest.raises(InputError, match=r"the definition holds [\d,]+ bytes, more than 100"):
        read_definition(definition, max_input=100)
    assert read_definition(definition).states == read_definition(DEFINITION).states


def test_the_api_takes_the_limit(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="more than 1 KiB"):
        api.trace(HISTORY, FIELD, max_input=1024)
    with pytest.raises(InputError, match="more than 1 KiB"):
        api.trace(HISTORY, FIELD, definition=DEFINITION, max_input=1024)
    with pytest.raises(InputError, match="more than 1 KiB"):
        api.compare(HISTORY, HISTORY, FIELD, max_input=1024)
    report = api.lint([DEFINITION], FIELD, max_input=1024)
    assert report.unreadable and "more than 1 KiB" in (report.unreadable[0].error or "")


# --- the option ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [("1", 1), ("2GiB", 2 << 30), ("500MB", 500_000_000), ("1.5G", 1_500_000_000),
     ("64 kib", 64 << 10), ("3t", 3 * 10**12)],
)  # fmt: skip
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-1", "GiB", "1 GiBs", "1e9", "one"])
def test_what_is_not_a_size(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_the_default_reads_as_one_gib() -> None:
    assert format_size(MAX_INPUT) == "1 GiB"


def test_the_option_raises_and_lowers_the_limit(tmp_path: Path) -> None:
    runner = CliRunner()
    args = [str(HISTORY), "--field", FIELD, "--definition", str(DEFINITION), "--format", "json"]
    lowered = runner.invoke(app, [*args, "--max-input-size", "1KiB"])
    assert lowered.exit_code == 2
    assert lowered.stderr.splitlines() == [
        f"sfn-trace: error: {HISTORY}: the file holds {HISTORY.stat().st_size:,} bytes, more "
        "than 1 KiB, the most sfn-trace reads (--max-input-size raises it)"
    ]
    assert runner.invoke(app, [*args, "--max-input-size", "4GiB"]).exit_code == 1
    bad = runner.invoke(app, [*args, "--max-input-size", "lots"])
    assert bad.exit_code == 2
    assert bad.stderr.splitlines() == [
        "sfn-trace: error: --max-input-size: 'lots' is not a size (e.g. 2GiB, 500MB, 1000000)"
    ]
    linted = runner.invoke(
        app, ["lint", str(DEFINITION), "--field", FIELD, "--max-input-size", "1KiB"]
    )
    assert linted.exit_code == 2 and "more than 1 KiB" in linted.stderr
    compared = runner.invoke(
        app, ["compare", str(HISTORY), str(HISTORY), "--field", FIELD, "--max-input-size", "1KiB"]
    )
    assert compared.exit_code == 2 and "more than 1 KiB" in compared.stderr


# --- the default, as a user meets it: a 4 MB file that inflates to 4 GiB ------------------


_LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
sys.argv = ["sfn-trace", *sys.argv[1:]]
from sfn_trace.cli import main
main()
"""


@pytest.mark.parametrize("from_stdin", [False, True], ids=["file", "stdin"])
def test_a_gzip_bomb_ends_in_one_line_under_2_gib(tmp_path: Path, from_stdin: bool) -> None:
    bomb = _bomb(tmp_path / "bomb.json.gz", members=64, size=64 << 20)
    assert bomb.stat().st_size < 5_000_000
    target = "-" if from_stdin else str(bomb)
    with open(bomb, "rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-c", _LIMITED, target, "--field", FIELD],
            stdin=stdin if from_stdin else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,  # a safety net: it takes seconds
        )
    name = "stdin" if from_stdin else str(bomb)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"sfn-trace: error: {name}: the gzip data inflates to more than 1 GiB, the most "
        "sfn-trace reads (--max-input-size raises it)"
    ]
