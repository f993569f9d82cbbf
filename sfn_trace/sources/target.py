"""A file TARGET: a saved history or an sfn-trace bundle, told apart by content."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sfn_trace.model.execution import ExecutionData
from sfn_trace.model.options import MAX_INPUT
from sfn_trace.sources.bundle import bundle_from_document, is_bundle
from sfn_trace.sources.files import history_data, read_definition, read_json


def load_target_file(
    path: str | Path, definition_path: str | Path | None = None, max_input: int = MAX_INPUT
) -> ExecutionData:
    """An :class:`ExecutionData` from a file TARGET: a saved history or an sfn-trace bundle.

    A bundle is recognised by its ``schema`` member, whatever the file is called; it carries
    its own definition, which ``definition_path`` replaces when given. At most
    ``max_input`` bytes of each file are read (:data:`~sfn_trace.model.options.MAX_INPUT`).
    """
    return document_data(read_json(path, "file", max_input), str(path), definition_path, max_input)


def document_data(
    document: Any,
    origin: str,
    definition_path: str | Path | None = None,
    max_input: int = MAX_INPUT,
) -> ExecutionData:
    """An :class:`ExecutionData` from a parsed history (``{"events": [...]}`` or a list of
    events, as GetExecutionHistory's pages hold them) or bundle; ``origin`` names it in
    messages."""
    if is_bundle(document):
        data = bundle_from_document(document, origin).data
        if definition_path is not None:
            data = replace(data, definition=read_definition(definition_path, max_input))
        return data
    return history_data(document, origin, definition_path, max_input)
