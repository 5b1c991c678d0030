"""A web-chat visitor's signed identity: forged, expired, future, malformed and replayed claims are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kefu.domain.visitor_identity import (
    MAX_AGE,
    Claim,
    Refusal,
    sign,
    verify_claim,
)

SECRET = b"channel-secret-for-tests"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
NONCE = "n0nce-abcdefghijklmnop"


def claim(user_id="u-1001", at=NOW, nonce=NONCE, secret=SECRET, signature=None):
    ts = int(at.timestamp())
    return Claim(user_id, str(ts), nonce, signature or sign(secret, user_id, ts, nonce))


def test_a_fresh_claim_signed_with_the_channel_secret_is_accepted():
    verdict = verify_claim(SECRET, claim(at=NOW - timedelta(seconds=40)), NOW)
    assert verdict.accepted and verdict.refusal is None
    assert verdict.identity.user_id == "u-1001" and verdict.identity.nonce == NONCE
    # The nonce is kept at least as long as the claim could still be accepted.
    assert verdict.identity.expires_at >= NOW - timedelta(seconds=40) + MAX_AGE


@pytest.mark.parametrize(
    ("forged", "why"),
    [
        (claim(secret=b"another-channels-secret"), Refusal.BAD_SIGNATURE),
        # The signature of one user presented for another.
        (
            Claim("u-2002", str(int(NOW.timestamp())), NONCE, claim().signature),
            Refusal.BAD_SIGNATURE,
        ),
        (claim(signature="0" * 64), Refusal.BAD_SIGNATURE),
        (claim(at=NOW - MAX_AGE - timedelta(minutes=2)), Refusal.EXPIRED),
        (claim(at=NOW + timedelta(minutes=10)), Refusal.FROM_THE_FUTURE),
        (claim(nonce="short"), Refusal.MALFORMED),
        (claim(user_id=""), Refusal.MALFORMED),
        (claim(user_id="a.b"), Refusal.MALFORMED),  # would make the signed text ambiguous
        (claim(user_id="x" * 200), Refusal.MALFORMED),
        (Claim("u-1001", "12x", NONCE, "ab" * 32), Refusal.MALFORMED),
        (Claim("u-1001", "999999999999", NONCE, "ab" * 32), Refusal.MALFORMED),
        (Claim("u-1001", str(int(NOW.timestamp())), NONCE, "not-hex"), Refusal.MALFORMED),
    ],
)
def test_forged_expired_and_malformed_claims_are_refused(forged, why):
    verdict = verify_claim(SECRET, forged, NOW)
    assert not verdict.accepted and verdict.refusal == why


def test_a_replayed_nonce_is_refused_even_with_a_good_signature():
    verdict = verify_claim(SECRET, claim(), NOW, seen_nonce=True)
    assert not verdict.accepted and verdict.refusal == Refusal.REPLAYED


def test_uppercase_hex_is_the_same_signature():
    good = claim()
    upper = Claim(good.user_id, good.timestamp, good.nonce, good.signature.upper())
    assert verify_claim(SECRET, upper, NOW).accepted
