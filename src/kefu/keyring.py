"""kefu's master key (``KEFU_SECRET_KEY``) and the keys it replaced (``KEFU_SECRET_KEY_PREVIOUS``).

Everything kefu seals or signs uses a key derived from the master key. To change the master key
without losing what the old one sealed or signed, the old key is listed as a previous key: what
it made still opens or verifies, and ``kefu secrets reseal`` moves sealed values to the new key.

The master key travels through kefu as a plain string (``settings.secret_key``, passed down to
the services that seal and sign); its previous keys follow it here, remembered by the settings
that name them, so no caller has to carry them along: ``keys_for(secret_key)`` gives the key and
the ones it replaced, newest first.

Each key has a short public id (``key_id``), written into sealed values so that a reader knows
which key sealed them. A signed token carries no id: it is checked against the current key and
each previous one (``any_signature_matches``), a handful of HMACs at most, as itsdangerous does
with its fallback keys, so a token's format stays the same across a change of key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable

_previous: dict[str, tuple[str, ...]] = {}


def remember_previous(current: str, previous: Iterable[str]) -> None:
    """Record the keys ``current`` replaced (the settings do, when they are read)."""
    _previous[current] = tuple(key for key in previous if key and key != current)


def keys_for(current: str) -> tuple[str, ...]:
    """``current`` and the keys it replaced, newest first."""
    return (current, *_previous.get(current, ()))


def previous_keys(current: str) -> tuple[str, ...]:
    """The keys ``current`` replaced, newest first."""
    return _previous.get(current, ())


def any_signature_matches(current: str, sent: str, sign: Callable[[str], str]) -> bool:
    """Whether ``sent`` is ``sign(key)`` for ``current`` or a key it replaced (each compared in
    constant time): a token signed before the master key changed stays good until it expires."""
    return any(hmac.compare_digest(sign(key), sent) for key in keys_for(current))


def key_id(key: str) -> str:
    """A short public name of ``key`` (8 characters): it tells keys apart and gives none away."""
    digest = hmac.new(key.encode("utf-8"), b"kefu key id", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode("ascii")


def key_by_id(current: str, wanted: str) -> str | None:
    """The key among ``keys_for(current)`` whose id is ``wanted``; None when none is."""
    for key in keys_for(current):
        if hmac.compare_digest(key_id(key), wanted):
            return key
    return None
