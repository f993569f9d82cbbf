"""Every link sfn-trace writes points where its text says: an AWS console host, built from
validated parts. The ARN and region come from a file someone else wrote (a history or a
bundle attached to a ticket), so crafted ones must give no link, or a link to AWS whose ARN
cannot end it early."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from sfn_trace.cli import app
from sfn_trace.report.links import console_link
from sfn_trace.sources.files import load_history_file
from tests.bundles import write_bundle
from tests.history_builder import History

FIELD = "k"
_MD = MarkdownIt("commonmark", {"html": False}).enable("table")

CONSOLE_HOSTS = re.compile(
    r"[a-z]{2}(-[a-z]+)+-\d+\.(console\.aws\.amazon\.com|console\.amazonaws\.cn"
    r"|console\.amazonaws-us-gov\.com)",
    re.ASCII,
)

GOOD = "arn:aws:states:us-east-1:123456789012:execution:sm:run"

CRAFTED = [
    # the region carries another host, the console's domain pushed into the fragment
    "arn:aws:states:evil.example.com#:123456789012:execution:sm:run",
    "arn:aws:states:us-east-1.evil.example.com#:123456789012:execution:sm:run",
    "arn:aws:states:evil.example.com/x?:123456789012:execution:sm:run",
    # a region of the wrong partition, or digits that are not ASCII
    "arn:aws:states:cn-north-1:123456789012:execution:sm:run",
    "arn:aws-cn:states:us-east-1:123456789012:execution:sm:run",
    "arn:aws:states:us-east-\u0661:123456789012:execution:sm:run",
    # a partition AWS does not have
    "arn:aws-evil:states:us-east-1:123456789012:execution:sm:run",
    # the name closes the link and opens another
    "arn:aws:states:us-east-1:123456789012:execution:sm:run)[click](https://evil.example.com)",
    "arn:aws:states:us-east-1:123456789012:execution:sm:x>[a](https://evil.example.com/)<",
    "arn:aws:states:us-east-1:123456789012:execution:sm:<https://evil.example.com>",
    "arn:aws:states:us-east-1:123456789012:execution:sm:run\n[click](https://evil.example.com)",
    "arn:aws:states:us-east-1:123456789012:execution:sm:run]]](https://evil.example.com)",
    "arn:aws:states:us-east-1:123456789012:execution:sm:run%29%5Bx%5D(https://evil.example.com)",
    "arn:aws:states:us-east-1:123456789012:execution:https://evil.example.com:x",
    "arn:aws:states:us-east-1:123456789012:execution:sm:www.evil.example.com",
    "arn:aws:states:us-east-1:123456789012:execution:sm:me@evil.example.com",
    "javascript:alert(1)",
    "https://evil.example.com/#.console.aws.amazon.com",
]


@pytest.mark.parametrize("arn", CRAFTED)
def test_a_link_is_made_only_from_valid_parts(arn: str) -> None:
    link = console_link(arn)
    if link.url is None:
        assert link.why_not
        return
    parts = urlsplit(link.url)
    assert parts.scheme == "https"
    assert CONSOLE_HOSTS.fullmatch(parts.netloc), link.url
    # The ARN sits whole in the fragment, and nothing in it can end a Markdown link.
    assert unquote(parts.fragment) == f"/v2/executions/details/{arn}"
    assert not set("()[]<> \n\"'`") & set(link.url)


@pytest.mark.parametrize(
    ("arn", "host"),
    [
        (GOOD, "us-east-1.console.aws.amazon.com"),
        (
            "arn:aws-cn:states:cn-northwest-1:123456789012:execution:sm:r",
            "cn-northwest-1.console.amazonaws.cn",
        ),
        (
            "arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:sm:r",
            "us-gov-west-1.console.amazonaws-us-gov.com",
        ),
        (
            "arn:aws:states:eu-central-2:123456789012:express:sm:r:0f6c1f1e",
            "eu-central-2.console.aws.amazon.com",
        ),
        (
            "arn:aws:states:us-east-1:123456789012:execution:sm/Map:0f6c1f1e",
            "us-east-1.console.aws.amazon.com",
        ),
    ],
)
def test_real_arns_link_to_their_console(arn: str, host: str) -> None:
    url = console_link(arn).url
    assert url is not None and urlsplit(url).netloc == host
    assert url.endswith(f"#/v2/executions/details/{arn}")  # nothing to encode in a real ARN


def _history(tmp_path: Path, arn: str) -> Path:
    history = History()
    history.start({FIELD: "v"})
    history.pass_state("Drop https://evil.example.com www.evil.example.com", {FIELD: "v"}, {})
    history.succeed({})
    document = {**history.document(), "executionArn": arn}
    path = tmp_path / "h.json"
    path.write_text(json.dumps(document))
    return path


def _bundle(tmp_path: Path, arn: str) -> Path:
    data = load_history_file(_history(tmp_path, GOOD))
    data = dataclasses.replace(data, info=dataclasses.replace(data.info, arn=arn))
    path = tmp_path / "b.json.gz"
    write_bundle(path, data)
    return path


def _links(markdown: str) -> list[str]:
    """Every link target a CommonMark reader finds, and every bare URL, www. name or e-mail
    address GitHub's autolink extension would make a link of (outside code spans)."""
    hrefs = [
        child.attrs["href"]
        for token in _MD.parse(markdown)
        for child in token.children or []
        if child.type == "link_open"
    ]
    text = re.sub(r"(`+)(?:(?!\1).)+\1", "", markdown)  # code spans are never links
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    text = re.sub(r"\]\([^)\s]*\)", "]", text)  # the targets counted above
    bare = re.findall(
        r"(?<![\\])\b(?:https?:(?!\\)//\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.]+)", text, re.ASCII
    )
    return [str(href) for href in hrefs] + bare


@pytest.mark.parametrize("source", [_history, _bundle], ids=["history", "bundle"])
@pytest.mark.parametrize("arn", [GOOD, *CRAFTED])
def test_every_link_in_every_format_points_at_an_aws_console(
    tmp_path: Path, source: object, arn: str
) -> None:
    target = source(tmp_path, arn)  # type: ignore[operator]
    for fmt in ("markdown", "table", "json", "csv"):
        result = CliRunner().invoke(app, [str(target), "--field", FIELD, "--format", fmt])
        assert result.exit_code == 1, result.output
        if fmt == "markdown":
            links = _links(result.stdout)
            for link in links:
                assert CONSOLE_HOSTS.fullmatch(urlsplit(link).netloc or "-"), (arn, link)
            if arn == GOOD:
                assert len(links) == 1
            elif not links:
                assert "no link:" in result.stdout
        else:
            # No other format writes a link of its own.
            assert "/states/home" not in result.stdout
