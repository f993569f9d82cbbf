"""sfn_trace.model.secrets: what is scrubbed from printed text, and what is left alone."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from sfn_trace.model import secrets
from sfn_trace.model.secrets import MARK, SIGNED_MARK, remember, scrub, scrub_values

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/fake+SessionToken0123456789abcdefABCDEFghijklmnop=="


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in secrets.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    secrets.forget_all()
    remember(KEY_ID, SECRET, TOKEN)
    yield
    secrets.forget_all()


def test_every_value_is_scrubbed_wherever_it_stands() -> None:
    text = f"key {KEY_ID}, secret={SECRET}; token:{TOKEN}. glued{TOKEN}glued"
    assert scrub(text) == f"key {MARK}, secret={MARK}; token:{MARK}. glued{MARK}glued"


def test_a_percent_encoded_value_is_scrubbed() -> None:
    assert quote(TOKEN, safe="") != TOKEN
    assert scrub(f"?t={quote(TOKEN, safe='')}&x=1") == f"?t={MARK}&x=1"
    assert scrub_values(f"?t={quote(TOKEN, safe='')}") == f"?t={MARK}"


@pytest.mark.parametrize("cut", [TOKEN[:16], TOKEN[5:40], TOKEN[-20:], SECRET[10:30], KEY_ID[2:18]])
def test_a_partial_echo_of_sixteen_characters_or_more_is_scrubbed(cut: str) -> None:
    said = scrub(f"the token (starting {cut}...) expired")
    assert said == f"the token (starting {MARK}...) expired"


def test_a_short_piece_of_a_value_is_left_alone() -> None:
    text = f"see {TOKEN[:12]} and {SECRET[:10]}"
    assert scrub(text) == text


def test_signed_request_material_is_scrubbed_whatever_its_credentials() -> None:
    text = (
        "GET /?X-Amz-Security-Token=abc%2Fdef&X-Amz-Credential=AKIAOTHER%2F2026"
        "&X-Amz-Signature=0123abcd\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAOTHER/20260101/us-east-1/states, "
        "SignedHeaders=host;x-amz-security-token, Signature=fedcba98\n"
        "x-amz-security-token:somethingelse"
    )
    scrubbed = scrub(text)
    for gone in ("abc%2Fdef", "AKIAOTHER", "0123abcd", "fedcba98", "somethingelse"):
        assert gone not in scrubbed
    assert "x-amz-security-token" not in scrubbed.lower()
    assert SIGNED_MARK in scrubbed


def test_innocent_text_is_left_alone() -> None:
    text = (
        "execution arn:aws:states:us-east-1:123456789012:execution:m:e not found; "
        "payload {'a': 'aaaaaaaaaaaaaaaaaaaaaaaa', 'id': 'f47ac10b-58cc-4372-a567-0e02b2c3d479'}"
        " in reports/ABCDEFGHIJKLMNOPQRSTUVWXYZ/report.json"
    )
    assert scrub(text) == text
    assert scrub_values(text) == text


def test_values_too_short_to_be_credentials_are_not_registered() -> None:
    remember("testing", "", None, "abc")
    assert scrub("testing abc, nothing else") == "testing abc, nothing else"


def test_a_low_diversity_value_is_matched_whole_but_not_by_pieces() -> None:
    remember("x" * 30)
    assert scrub("x" * 30) == MARK
    assert scrub("x" * 20) == "x" * 20


def test_the_environments_credentials_are_scrubbed_unregistered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "Env/Secret+Value0123456789abcdefghijklmn")
    assert scrub("x Env/Secret+Value0123456789abcdefghijklmn y") == f"x {MARK} y"
    assert scrub("x Secret+Value0123456789ab y") == f"x {MARK} y"


def test_scrub_values_leaves_signed_words_alone() -> None:
    """A report's text is the account's data: only the credentials' values leave it."""
    text = f'{{"signature": "abc", "Signature=": 1, "token": "{TOKEN}"}}'
    assert scrub_values(text) == f'{{"signature": "abc", "Signature=": 1, "token": "{MARK}"}}'
