"""The visitor token: who a widget's visitor is, signed by kefu, kept by the widget.

The widget keeps the token in the page's storage and sends it with every call, so a visitor
stays the same person across page loads without an account. It is signed with
``KEFU_SECRET_KEY`` (HMAC-SHA256), bound to one channel, and names the visitor's identity on the
web chat channel: a random one for an anonymous visitor, or the one a site's signed claim
proved (``user_id`` set). Nothing in it is secret; nothing in it can be changed without the key.
Its version tag (``v1``) lets the format change; one signed under a master key since replaced
stays good while that key is in ``KEFU_SECRET_KEY_PREVIOUS``.

An anonymous token lasts a year; a verified one a day (the site signs a fresh claim on every
page, and each session call hands out a fresh token), so a verified visitor's token left on a
shared computer does not keep their history open for long.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from kefu.keyring import any_signature_matches

ANONYMOUS_LIFETIME = timedelta(days=365)
VERIFIED_LIFETIME = timedelta(days=1)
_VERSION = "v1"
_PURPOSE = b"kefu.webchat.visitor\0"
MAX_TOKEN_CHARS = 1000


@dataclass(frozen=True)
class Visitor:
    channel_id: int
    external_id: str  # the visitor's identity on the "webchat" channel
    name: str
    user_id: str | None = None  # the site's user id, when a signed claim proved it

    @property
    def verified(self) -> bool:
        return self.user_id is not None


def anonymous_visitor(channel_id: int) -> Visitor:
    """A new anonymous visitor: a random identity and a name agents can tell apart (访客 3F9A)."""
    external_id = "visitor:" + secrets.token_urlsafe(16)
    tag = hashlib.sha256(external_id.encode()).hexdigest()[:4].upper()
    return Visitor(channel_id, external_id, f"访客 {tag}")


def verified_external_id(channel_key: str, user_id: str) -> str:
    """A site user's identity: per channel, since two sites' user ids may name different people."""
    return f"{channel_key}:{user_id}"


def issue(secret_key: str, visitor: Visitor, now: datetime) -> str:
    payload = {
        "c": visitor.channel_id,
        "x": visitor.external_id,
        "n": visitor.name,
        "u": visitor.user_id,
        "t": int(now.timestamp()),
    }
    body = _b64(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    return f"{_VERSION}.{body}.{_sign(secret_key, body)}"


def read(secret_key: str, token: str | None, channel_id: int, now: datetime) -> Visitor | None:
    """The visitor of a valid, unexpired token of this channel; None for anything else."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    version, _, rest = token.partition(".")
    body, _, signature = rest.partition(".")
    if version != _VERSION or not body or not signature:
        return None
    if not any_signature_matches(secret_key, signature, lambda key: _sign(key, body)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        visitor = Visitor(int(data["c"]), str(data["x"]), str(data["n"]), data["u"])
        issued = datetime.fromtimestamp(int(data["t"]), now.tzinfo)
    except (ValueError, KeyError, TypeError):
        return None
    lifetime = VERIFIED_LIFETIME if visitor.verified else ANONYMOUS_LIFETIME
    if visitor.channel_id != channel_id or not (
        now - lifetime <= issued <= now + timedelta(minutes=5)
    ):
        return None
    if visitor.user_id is not None and not isinstance(visitor.user_id, str):
        return None
    return visitor


def _sign(secret_key: str, body: str) -> str:
    digest = hmac.new(secret_key.encode(), _PURPOSE + body.encode(), hashlib.sha256).digest()
    return _b64(digest)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
