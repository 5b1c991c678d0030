"""Secrets of channels kept encrypted at rest: mailbox passwords, a WeChat account's AppSecret
and message key, webhook signing secrets.

They are sealed with a key derived from ``KEFU_SECRET_KEY`` (HKDF-SHA256 → Fernet: AES-128-CBC
with an HMAC-SHA256 tag), so a copy of the database alone does not give them away. A sealed value
is opened only where it is used (logging in to a mailbox, signing a request); pages and the API
never show it back. Rotating the secret key leaves old values unreadable: ``SecretUnreadable``
says so, and an admin enters the secret again.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1:"  # a sealed value says how it was sealed


class SecretUnreadable(Exception):  # noqa: N818 - a state of a stored value, not a bug
    """A sealed value that this secret key cannot open (the key changed, or the value was edited)."""


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"kefu channel secrets v1"
    ).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret_key: str, plaintext: str) -> str:
    """``plaintext`` encrypted and authenticated with a key derived from ``secret_key``."""
    return PREFIX + _fernet(secret_key).encrypt(plaintext.encode("utf-8")).decode("ascii")


def unseal(secret_key: str, sealed: str) -> str:
    """The plaintext of a value made by ``seal`` with the same secret key."""
    if not sealed.startswith(PREFIX):
        raise SecretUnreadable("not a sealed value")
    try:
        return _fernet(secret_key).decrypt(sealed[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError) as e:
        raise SecretUnreadable("sealed with another secret key, or altered") from e
