"""Who a web-chat visitor is: only a claim signed with the channel's secret links them to a customer.

A site that knows its signed-in user passes ``user_id``, ``timestamp`` (Unix seconds),
``nonce`` and ``signature`` to the widget, computed on its own server:

    signature = hex(HMAC-SHA256(channel secret, f"{user_id}.{timestamp}.{nonce}"))

A site that has verified its user's e-mail address or mobile number may sign them too, and
kefu then treats them as proven (domain/customer_joins.py: profiles proven to share one are
joined into one customer):

    signature = hex(HMAC-SHA256(channel secret, f"{user_id}.{timestamp}.{nonce}.{email}.{phone}"))

(either may be empty, not both; without both the first form is used).

``verify_claim`` accepts a claim only when the signature matches (compared in constant time),
the timestamp is recent (``max_age``, with a little clock skew allowed either way) and the
fields are well formed. It returns why a claim was refused; the caller ignores a refused claim
(the visitor stays anonymous) and never trusts any part of it. A nonce may be used once: the
service keeps each accepted nonce until the claim's ``expires_at`` and refuses it again
(``seen_nonce``), so a claim copied off a page cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

MAX_AGE = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=30)
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
MAX_USER_ID = 128
MAX_TIMESTAMP = 10**11  # the year 5138: any larger number is no time a site would send


class Refusal(StrEnum):
    MALFORMED = "malformed"  # a field missing, too long or of the wrong shape
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"  # older than max_age
    FROM_THE_FUTURE = "from_the_future"  # beyond the allowed clock skew
    REPLAYED = "replayed"  # this nonce was accepted before


MAX_CONTACT = 254


@dataclass(frozen=True)
class Claim:
    user_id: str
    timestamp: str
    nonce: str
    signature: str
    email: str = ""  # signed too when given: the site verified it
    phone: str = ""


@dataclass(frozen=True)
class VerifiedIdentity:
    user_id: str
    nonce: str
    expires_at: datetime  # keep the nonce until then
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Verdict:
    identity: VerifiedIdentity | None
    refusal: Refusal | None = None

    @property
    def accepted(self) -> bool:
        return self.identity is not None


def sign(
    secret: bytes, user_id: str, timestamp: int, nonce: str, email: str = "", phone: str = ""
) -> str:
    """The signature a site computes for its user (also what kefu's demo shop does)."""
    text = f"{user_id}.{timestamp}.{nonce}"
    if email or phone:
        text += f".{email}.{phone}"
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def verify_claim(
    secret: bytes,
    claim: Claim,
    now: datetime,
    seen_nonce: bool = False,
    max_age: timedelta = MAX_AGE,
) -> Verdict:
    """Accept the claim, or say why not. ``seen_nonce``: the service already holds this nonce."""
    user_id, nonce = claim.user_id, claim.nonce
    if (
        not user_id
        or len(user_id) > MAX_USER_ID
        or "." in user_id
        or not claim.timestamp.isdigit()
        or len(claim.timestamp) > 12
        or not _NONCE.fullmatch(nonce)
        or not _HEX_SIGNATURE.fullmatch(claim.signature.lower())
        or len(claim.email) > MAX_CONTACT
        or len(claim.phone) > MAX_CONTACT
    ):
        return Verdict(None, Refusal.MALFORMED)
    timestamp = int(claim.timestamp)
    if timestamp > MAX_TIMESTAMP:
        return Verdict(None, Refusal.MALFORMED)  # beyond what a date can hold
    expected = sign(secret, user_id, timestamp, nonce, claim.email, claim.phone)
    if not hmac.compare_digest(expected, claim.signature.lower()):
        return Verdict(None, Refusal.BAD_SIGNATURE)
    issued = datetime.fromtimestamp(timestamp, UTC)
    if issued > now + CLOCK_SKEW:
        return Verdict(None, Refusal.FROM_THE_FUTURE)
    if issued < now - max_age - CLOCK_SKEW:
        return Verdict(None, Refusal.EXPIRED)
    if seen_nonce:
        return Verdict(None, Refusal.REPLAYED)
    expires = issued + max_age + CLOCK_SKEW
    return Verdict(VerifiedIdentity(user_id, nonce, expires, claim.email, claim.phone))
