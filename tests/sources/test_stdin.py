"""A file TARGET read from stdin (``-``) or a pipe: read once, as bytes, gzip accepted, and
the same execution as the file gives."""

from __future__ import annotations

import gzip
import io
import os
import threading
from pathlib import Path

import pytest

from sfn_trace import api
from sfn_trace.errors import InputError
from sfn_trace.sources.files import read_json
from tests.data import DEFINITION, fixture_history

FIELD = "poll_results_s3_key"
HISTORY = fixture_history("flat_split_drops_key")


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


@pytest.mark.parametrize("compress", [False, True])
def test_dash_reads_stdin_as_bytes(monkeypatch: pytest.MonkeyPatch, compress: bool) -> None:
    raw = HISTORY.read_bytes()
    _stdin(monkeypatch, gzip.compress(raw) if compress else raw)
    assert read_json("-") == read_json(HISTORY)


def test_a_text_stdin_is_read_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(HISTORY.read_text(encoding="utf-8")))
    assert read_json("-") == read_json(HISTORY)


def test_stdin_errors_name_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, b"{not json")
    with pytest.raises(InputError, match=r"^stdin: not valid JSON at line 1 column 2"):
        read_json("-")


def test_the_api_traces_stdin_like_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, HISTORY.read_bytes())
    from_stdin = api.trace("-", FIELD).result
    from_file = api.trace(HISTORY, FIELD).result
    assert from_stdin.verdict == from_file.verdict
    assert from_stdin.first_null == from_file.first_null


def test_the_api_reads_a_fifo_once(tmp_path: Path) -> None:
    """A pipe can be read once: the trace must not open the target twice (a second open of
    the FIFO would wait for a writer that never comes; the writer here writes once)."""
    fifo = tmp_path / "history.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as stream:
            stream.write(HISTORY.read_bytes())

    results: list[api.TraceRun] = []
    writer = threading.Thread(target=write, daemon=True)
    tracer = threading.Thread(target=lambda: results.append(api.trace(fifo, FIELD)), daemon=True)
    writer.start()
    tracer.start()
    tracer.join(timeout=30)
    assert not tracer.is_alive(), "the trace waits for a second read of the FIFO"
    writer.join(timeout=5)  # it has closed the pipe (the trace saw EOF); let it return
    assert not writer.is_alive()
    assert results[0].result.verdict == api.trace(HISTORY, FIELD).result.verdict


def test_compare_reads_a_fifo_definition_once(tmp_path: Path) -> None:
    """``compare GOOD BAD --definition <(cat d.json)``: one definition for both runs, read
    once (a second open of the pipe would wait for ever)."""
    fifo = tmp_path / "definition.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as stream:
            stream.write(DEFINITION.read_bytes())

    good, bad = fixture_history("flat_intact"), HISTORY
    results: list[object] = []
    writer = threading.Thread(target=write, daemon=True)
    comparer = threading.Thread(
        target=lambda: results.append(api.compare(good, bad, FIELD, definition=fifo)),
        daemon=True,
    )
    writer.start()
    comparer.start()
    comparer.join(timeout=30)
    assert not comparer.is_alive(), "compare waits for a second read of the definition pipe"
    expected = api.compare(good, bad, FIELD, definition=DEFINITION)
    assert results[0] == expected
