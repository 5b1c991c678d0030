"""The signed, short-lived token between a sign-in's two steps: the password was right, the
TOTP code is still owed.

Nothing is stored: the token carries the user's id and its expiry, signed with HMAC-SHA256
under a key derived from ``KEFU_SECRET_KEY``. It also carries a fingerprint of the user's
password hash, so a password changed (or reset) in between makes it worthless.

    p1.<user id>.<expiry>.<fingerprint>.<base64url(HMAC)>

The version tag (``p1``) lets the format change; a token signed under a master key since
replaced stays good (for its five minutes) while that key is in ``KEFU_SECRET_KEY_PREVIOUS``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from kefu.db.models import User
from kefu.errors import NotAuthenticated
from kefu.keyring import any_signature_matches

PENDING_MINUTES = 5
_CONTEXT = b"kefu pending sign-in v1"
VERSION = "p1"


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), _CONTEXT, hashlib.sha256).digest()


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def _sign(secret_key: str, payload: str) -> str:
    mac = hmac.new(_key(secret_key), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue(secret_key: str, user: User, now: datetime) -> str:
    expires = int((now + timedelta(minutes=PENDING_MINUTES)).timestamp())
    payload = f"{VERSION}.{user.id}.{expires}.{_fingerprint(user)}"
    return f"{payload}.{_sign(secret_key, payload)}"


def user_id_of(secret_key: str, token: str, now: datetime) -> int:
    """The user a valid, unexpired token names; 401 ``sign_in_expired`` otherwise."""
    payload, _, signature = token.rpartition(".")
    parts = payload.split(".")
    if len(parts) != 4 or parts[0] != VERSION:
        raise NotAuthenticated("sign_in_expired")
    if not any_signature_matches(secret_key, signature, lambda key: _sign(key, payload)):
        raise NotAuthenticated("sign_in_expired")
    _, user_id, expires, _ = parts
    if not (user_id.isdigit() and expires.isdigit()) or int(expires) <= now.timestamp():
        raise NotAuthenticated("sign_in_expired")
    return int(user_id)


def still_matches(token: str, user: User) -> bool:
    """Whether the user's password is the one the token was issued after."""
    payload = token.rpartition(".")[0]
    return hmac.compare_digest(payload.rsplit(".", 1)[-1], _fingerprint(user))
