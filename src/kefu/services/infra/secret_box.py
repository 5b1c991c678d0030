"""Secrets kept encrypted at rest: mailbox passwords, a WeChat account's AppSecret, token and
message key and its access token, webhook signing secrets, staff TOTP secrets, the web chat
channels' identity secrets and the integrations' callback secrets
(``services/infra/sealed_columns.py`` lists every column).

A sealed value says how it was sealed, so the algorithm and the key can change (crypto agility):

- ``v2:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`` — AES-256-GCM with a random 96-bit nonce,
  under a key derived from the master key with HKDF-SHA256 and a label of its own; the value's
  *purpose* (the column it lives in, ``mailboxes.imap_password_sealed``) is authenticated as
  associated data, so a sealed value copied into another column does not open there. The key id
  (``kefu.keyring.key_id``) names the master key it was sealed under. Every new value is v2.
- ``v1:<Fernet token>`` — the earlier format (AES-128-CBC with an HMAC-SHA256 tag, encrypt then
  MAC); still opened, never written. ``kefu secrets reseal`` rewrites v1 values as v2.

A copy of the database alone gives none of them away. A sealed value is opened only where it is
used (logging in to a mailbox, signing a request); pages and the API never show it back. After
the master key changes, values sealed under the old one open while the old key is listed in
``KEFU_SECRET_KEY_PREVIOUS``; without it, ``SecretUnreadable`` says so, and an admin enters the
secret again.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kefu.keyring import key_by_id, key_id, keys_for

V1 = "v1:"
V2 = "v2:"
PREFIX = V2  # what seal writes
NONCE_BYTES = 12
_V2_INFO = b"kefu sealed secrets v2 aes-256-gcm"


class SecretUnreadable(Exception):  # noqa: N818 - a state of a stored value, not a bug
    """A sealed value that this secret key cannot open (the key changed, or the value was edited)."""


def _derive(secret_key: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret_key.encode("utf-8")
    )


@lru_cache(maxsize=16)
def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret_key, b"kefu channel secrets v1")))


@lru_cache(maxsize=16)
def _aesgcm(secret_key: str) -> AESGCM:
    return AESGCM(_derive(secret_key, _V2_INFO))


def seal(secret_key: str, plaintext: str, *, purpose: str) -> str:
    """``plaintext`` encrypted and authenticated (AES-256-GCM) under ``secret_key``, bound to
    ``purpose`` (the column it is stored in)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _aesgcm(secret_key).encrypt(nonce, plaintext.encode("utf-8"), purpose.encode())
    body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
    return f"{V2}{key_id(secret_key)}:{body}"


def unseal(secret_key: str, sealed: str, *, purpose: str) -> str:
    """The plaintext of a value made by ``seal`` for ``purpose`` under ``secret_key`` or one of
    the keys it replaced (``KEFU_SECRET_KEY_PREVIOUS``), or by the former v1 format."""
    if sealed.startswith(V2):
        return _unseal_v2(secret_key, sealed[len(V2) :], purpose)
    if sealed.startswith(V1):
        return _unseal_v1(secret_key, sealed[len(V1) :])
    raise SecretUnreadable("not a sealed value")


def is_current(secret_key: str, sealed: str) -> bool:
    """Whether ``sealed`` is in the format ``seal`` writes now, under ``secret_key`` itself
    (nothing for ``kefu secrets reseal`` to do)."""
    return sealed.startswith(f"{V2}{key_id(secret_key)}:")


def _unseal_v2(secret_key: str, rest: str, purpose: str) -> str:
    kid, _, body = rest.partition(":")
    key = key_by_id(secret_key, kid)
    if key is None:
        raise SecretUnreadable(
            "sealed with a key that is neither the secret key nor a previous one"
        )
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
        if len(raw) < NONCE_BYTES + 16:
            raise ValueError("too short")
        nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        return _aesgcm(key).decrypt(nonce, sealed, purpose.encode()).decode("utf-8")
    except (InvalidTag, UnicodeError, ValueError, binascii.Error) as e:
        raise SecretUnreadable("altered, or sealed for another purpose") from e


def _unseal_v1(secret_key: str, token: str) -> str:
    for key in keys_for(secret_key):
        try:
            return _fernet(key).decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            continue
    raise SecretUnreadable("sealed with another secret key, or altered")
