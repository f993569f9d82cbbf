"""Lint's precision on public definitions nobody here wrote, hand-labelled.

``tests/data/lint-precision/labels.json``: each definition (MIT-0 or MIT, from the
repositories SOURCES.md names) was linted for every field its paths read; every finding (one
per cause) is labelled true or false with a one-line reason. The test lints them again: the
causes must be exactly those labelled (a new finding must be labelled, a lost one explained),
at least 50 of them, and at least 90% of them true.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sfn_trace.checks.lint import lint
from sfn_trace.checks.lint_causes import causes
from sfn_trace.sources.aws.models import response_holds
from sfn_trace.sources.files import read_definition
from tests.data import LINT_PRECISION

LABELS: dict[str, Any] = json.loads((LINT_PRECISION / "labels.json").read_text(encoding="utf-8"))


def _found() -> list[tuple[str, str, str, str, str, int]]:
    found = []
    for name, entry in LABELS["definitions"].items():
        definition = read_definition(LINT_PRECISION / name)
        for field in entry["fields"]:
            for cause in causes(lint(definition, field, response_holds)):
                readers = len(cause.readers)
                found.append((name, field, cause.dropper, cause.step, cause.kind, readers))
    return found


def test_the_findings_are_those_labelled() -> None:
    labelled = [
        (f["definition"], f["field"], f["dropper"], f["step"], f["rule"], f["readers"])
        for f in LABELS["findings"]
    ]
    assert sorted(_found()) == sorted(labelled)


def test_at_least_nine_in_ten_of_at_least_fifty_findings_are_true() -> None:
    findings = LABELS["findings"]
    true = [f for f in findings if f["true"]]
    assert len(findings) == 58 and len(true) == 55
    assert len(findings) >= 50 and len(true) / len(findings) >= 0.9
    # the (reader, dropper) pairs the causes group: 141, of them 137 true
    assert sum(f["readers"] for f in findings) == 141
    assert sum(f["readers"] for f in true) == 137
    assert len(LABELS["definitions"]) == 25


def _label_id(entry: dict[str, Any]) -> str:
    return f"{entry['definition']}:{entry['field']}:{entry['dropper']}"


@pytest.mark.parametrize("entry", LABELS["findings"], ids=_label_id)
def test_each_label_has_a_one_line_reason(entry: dict[str, Any]) -> None:
    assert isinstance(entry["true"], bool)
    assert entry["why"] and "\n" not in entry["why"]


def test_each_definition_names_its_source_and_license() -> None:
    sources = (LINT_PRECISION / "SOURCES.md").read_text(encoding="utf-8")
    for name, entry in LABELS["definitions"].items():
        assert (LINT_PRECISION / name).is_file()
        assert entry["license"] in ("MIT-0", "MIT")
        license_text = (LINT_PRECISION / f"LICENSE.{entry['license']}.txt").read_text("utf-8")
        assert "Permission is hereby granted" in license_text
        if entry["license"] == "MIT":  # its copyright notice goes with the definition
            assert "shall be included" in license_text
            assert f"{name.split('--')[0]}--" in license_text
        assert entry["source"].startswith("https://github.com/")
        assert "/blob/" in entry["source"] and entry["source"] in sources
