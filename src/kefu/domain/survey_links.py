"""Signed links for answering a survey (满意度调查链接): what an e-mail or a WeChat message carries.

A token names one survey and when the link stops working, plus a random nonce the caller makes
(``secrets.token_bytes(NONCE_BYTES)``) so two links for the same survey differ and cannot be
guessed. It carries no personal data: no name, no address, no ticket text. It is signed with
HMAC-SHA256 under a key derived from kefu's secret with a label of its own, so a survey link can
never pass for any other signature kefu makes (visitor tokens, knowledge-base feedback, …).

    s1.<base64url(survey id ‖ expiry ‖ nonce)>.<base64url(HMAC)>

``read_token`` tells a good token from a tampered, an expired or a malformed one, comparing the
signature in constant time and reading nothing of the payload before the signature holds. The
version tag lets the format or the algorithm change (a new tag, the old one still read while its
links live); a token signed under a master key since replaced verifies while that key is listed
as previous (``previous=``, from ``KEFU_SECRET_KEY_PREVIOUS``).

Single use is not decided here: a signature cannot know the survey was already answered. The
service stores one response per survey (a unique row) and refuses a second answer; a token is
only the proof that kefu sent this link and that it has not expired.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

TOKEN_VERSION = "s1"  # noqa: S105 - a format tag, not a secret
NONCE_BYTES = 16
_KEY_LABEL = b"kefu.survey-link.v1"
_PAYLOAD = struct.Struct(">QQ")  # survey id, expiry (Unix seconds)
_BODY_CHARS = 43  # base64url of 32 bytes without padding
_SIGNATURE_CHARS = 43
_SHAPE = re.compile(
    rf"{TOKEN_VERSION}\.([A-Za-z0-9_-]{{{_BODY_CHARS}}})\.([A-Za-z0-9_-]{{{_SIGNATURE_CHARS}}})"
)
MAX_SURVEY_ID = 2**63 - 1


class Verdict(StrEnum):
    OK = "ok"
    TAMPERED = "tampered"  # well formed, but the signature does not match
    EXPIRED = "expired"  # genuine, but past its expiry
    MALFORMED = "malformed"  # not a survey token at all (cut short, wrong version, junk)


@dataclass(frozen=True)
class TokenVerdict:
    verdict: Verdict
    survey_id: int | None = None  # set for OK and EXPIRED (a genuine token)
    expires_at: datetime | None = None
    nonce: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == Verdict.OK


def link_key(secret: str) -> bytes:
    """The key survey links are signed with: kefu's secret narrowed to this one purpose."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def make_token(secret: str, survey_id: int, expires_at: datetime, nonce: bytes) -> str:
    """A URL-safe token for answering survey ``survey_id`` until ``expires_at`` (aware, whole
    seconds are kept). ``nonce`` is NONCE_BYTES random bytes from the caller."""
    if not 0 < survey_id <= MAX_SURVEY_ID:
        raise ValueError("a survey id is a positive 63-bit integer")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"the nonce is {NONCE_BYTES} bytes")
    expiry = int(expires_at.timestamp())
    if expiry < 0:
        raise ValueError("expires_at is before 1970")
    body = _b64(_PAYLOAD.pack(survey_id, expiry) + nonce)
    return f"{TOKEN_VERSION}.{body}.{_sign(secret, body)}"


def read_token(
    secret: str, token: str, now: datetime, *, previous: Sequence[str] = ()
) -> TokenVerdict:
    """What a token from a link is worth at ``now`` (aware), signed with ``secret`` or one of
    the ``previous`` secrets it replaced. Never raises on any string."""
    match = _SHAPE.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        return TokenVerdict(Verdict.MALFORMED)
    body, signature = match.groups()
    if not any(hmac.compare_digest(_sign(key, body), signature) for key in (secret, *previous)):
        return TokenVerdict(Verdict.TAMPERED)
    raw = base64.urlsafe_b64decode(body + "=")  # the shape guarantees 32 bytes
    survey_id, expiry = _PAYLOAD.unpack_from(raw)
    try:
        expires_at = datetime.fromtimestamp(expiry, UTC)
    except (OverflowError, OSError, ValueError):  # signed, but not by make_token
        return TokenVerdict(Verdict.MALFORMED)
    if not 0 < survey_id <= MAX_SURVEY_ID:
        return TokenVerdict(Verdict.MALFORMED)
    nonce = raw[_PAYLOAD.size :]
    verdict = Verdict.OK if now < expires_at else Verdict.EXPIRED
    return TokenVerdict(verdict, survey_id, expires_at, nonce)


def _sign(secret: str, body: str) -> str:
    # The text is signed as sent, so no change of a character (even in base64's spare bits)
    # goes unseen.
    message = f"{TOKEN_VERSION}.{body}".encode()
    return _b64(hmac.new(link_key(secret), message, hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
