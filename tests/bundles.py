"""Writing a bundle file in a test, as ``--save-bundle`` does (sfn-trace itself writes files
only in :mod:`sfn_trace.cli.output`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sfn_trace.model.execution import ExecutionData
from sfn_trace.sources.bundle import bundle_bytes, bundle_document


def write_bundle(
    path: Path,
    data: ExecutionData,
    *,
    command: Sequence[str] = (),
    fetched_at: datetime | None = None,
    redacted_field: str | None = None,
) -> None:
    """The bundle of ``data`` at ``path``; gzip when its name ends in ``.gz``."""
    document = bundle_document(
        data, command=command, fetched_at=fetched_at, redacted_field=redacted_field
    )
    path.write_bytes(bundle_bytes(document, compress=path.name.endswith(".gz")))
