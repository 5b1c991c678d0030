"""Signed survey links: genuine, tampered, expired and malformed tokens, and key separation."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kefu.domain.survey_links import (
    NONCE_BYTES,
    Verdict,
    link_key,
    make_token,
    read_token,
)

SECRET = "a-test-secret-of-some-length"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=7)
NONCE = bytes(range(NONCE_BYTES))
TOKEN = make_token(SECRET, 42, EXPIRES, NONCE)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def test_a_fresh_token_reads_back_its_survey_and_expiry() -> None:
    verdict = read_token(SECRET, TOKEN, NOW)
    assert verdict.ok
    assert (verdict.survey_id, verdict.expires_at, verdict.nonce) == (42, EXPIRES, NONCE)


def test_the_token_is_url_safe_and_carries_only_id_expiry_and_nonce() -> None:
    assert set(TOKEN) <= set(ALPHABET)
    body = TOKEN.split(".")[1]
    raw = base64.urlsafe_b64decode(body + "=")
    assert raw == (42).to_bytes(8, "big") + int(EXPIRES.timestamp()).to_bytes(8, "big") + NONCE


def test_reuse_is_the_services_job_the_same_token_reads_ok_twice() -> None:
    # The token proves kefu sent the link; one response per survey is stored by the service.
    assert read_token(SECRET, TOKEN, NOW).ok
    assert read_token(SECRET, TOKEN, NOW + timedelta(hours=1)).ok


def test_expiry_is_exclusive() -> None:
    assert read_token(SECRET, TOKEN, EXPIRES - timedelta(seconds=1)).ok
    at_expiry = read_token(SECRET, TOKEN, EXPIRES)
    assert at_expiry.verdict == Verdict.EXPIRED
    assert at_expiry.survey_id == 42  # a genuine but stale link: the page can say so


def test_another_secret_reads_tampered() -> None:
    assert read_token("another-secret", TOKEN, NOW).verdict == Verdict.TAMPERED


def test_a_signature_made_with_the_raw_secret_is_refused() -> None:
    """Key separation: an HMAC under kefu's secret itself (as other signatures use) is no
    survey link; only the labelled key signs them."""
    body = TOKEN.split(".")[1]
    raw_signature = hmac.new(SECRET.encode(), f"s1.{body}".encode(), hashlib.sha256).digest()
    forged = f"s1.{body}." + base64.urlsafe_b64encode(raw_signature).rstrip(b"=").decode()
    assert read_token(SECRET, forged, NOW).verdict == Verdict.TAMPERED
    assert link_key(SECRET) != SECRET.encode()


def test_a_changed_survey_id_with_the_old_signature_is_tampered() -> None:
    other = make_token(SECRET, 43, EXPIRES, NONCE)
    spliced = ".".join([*other.split(".")[:2], TOKEN.split(".")[2]])
    assert read_token(SECRET, spliced, NOW).verdict == Verdict.TAMPERED


def test_a_later_expiry_with_the_old_signature_is_tampered() -> None:
    later = make_token(SECRET, 42, EXPIRES + timedelta(days=30), NONCE)
    spliced = ".".join([*later.split(".")[:2], TOKEN.split(".")[2]])
    assert read_token(SECRET, spliced, EXPIRES + timedelta(days=1)).verdict == Verdict.TAMPERED


@pytest.mark.parametrize(
    "token",
    [
        "",
        "s1",
        "s1..",
        TOKEN[:-1],
        TOKEN + "A",
        TOKEN.replace("s1.", "s2.", 1),
        TOKEN.replace(".", "", 1),
        TOKEN + "." + "A" * 43,
        " " + TOKEN,
        TOKEN + "\n",
        "s1." + "é" * 43 + "." + "A" * 43,
        "x" * 10_000,
    ],
)
def test_malformed_tokens(token: str) -> None:
    assert read_token(SECRET, token, NOW).verdict == Verdict.MALFORMED


@pytest.mark.parametrize(("survey_id", "expiry"), [(0, 10**9), (2**63, 10**9), (1, 2**64 - 1)])
def test_a_correctly_signed_payload_make_token_never_writes_is_malformed(
    survey_id: int, expiry: int
) -> None:
    body = (
        base64.urlsafe_b64encode(survey_id.to_bytes(8, "big") + expiry.to_bytes(8, "big") + NONCE)
        .rstrip(b"=")
        .decode()
    )
    signature = hmac.new(link_key(SECRET), f"s1.{body}".encode(), hashlib.sha256).digest()
    token = f"s1.{body}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    assert read_token(SECRET, token, NOW).verdict == Verdict.MALFORMED


def test_a_genuine_token_of_survey_zero_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="positive"):
        make_token(SECRET, 0, EXPIRES, NONCE)


@pytest.mark.parametrize(
    ("survey_id", "expires_at", "nonce"),
    [
        (-1, EXPIRES, NONCE),
        (2**63, EXPIRES, NONCE),
        (1, EXPIRES.replace(tzinfo=None), NONCE),
        (1, EXPIRES, b"short"),
        (1, datetime(1960, 1, 1, tzinfo=UTC), NONCE),
    ],
)
def test_make_token_refuses_bad_input(survey_id: int, expires_at: datetime, nonce: bytes) -> None:
    with pytest.raises(ValueError):
        make_token(SECRET, survey_id, expires_at, nonce)


def test_two_nonces_make_two_links_for_one_survey() -> None:
    other = make_token(SECRET, 42, EXPIRES, bytes(NONCE_BYTES))
    assert other != TOKEN
    assert read_token(SECRET, other, NOW).ok


@given(position=st.integers(0, len(TOKEN) - 1), replacement=st.sampled_from(ALPHABET + "=é "))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    assume(TOKEN[position] != replacement)
    changed = TOKEN[:position] + replacement + TOKEN[position + 1 :]
    verdict = read_token(SECRET, changed, NOW)
    assert verdict.verdict in (Verdict.TAMPERED, Verdict.MALFORMED)
    assert verdict.survey_id is None


@given(st.text(max_size=200))
def test_any_string_gets_a_verdict_and_never_ok(text: str) -> None:
    assert read_token(SECRET, text, NOW).verdict in (Verdict.TAMPERED, Verdict.MALFORMED)


@given(
    survey_id=st.integers(1, 2**63 - 1),
    seconds=st.integers(0, 10**10),
    nonce=st.binary(min_size=NONCE_BYTES, max_size=NONCE_BYTES),
)
def test_round_trip(survey_id: int, seconds: int, nonce: bytes) -> None:
    expires = datetime.fromtimestamp(seconds, UTC)
    verdict = read_token(SECRET, make_token(SECRET, survey_id, expires, nonce), expires)
    assert verdict.verdict == Verdict.EXPIRED
    assert (verdict.survey_id, verdict.expires_at, verdict.nonce) == (survey_id, expires, nonce)
