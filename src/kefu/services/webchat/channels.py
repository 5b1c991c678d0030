"""Web chat channels (one per site or app that embeds the widget), managed by admins.

A channel has a public key (in the page's script tag) and a secret the site signs its users'
identities with (domain/visitor_identity.py). The secret is shown once, when the channel is made
or the secret is rotated; afterwards the API never shows it again. It is stored sealed with the
secret key (services/infra/secret_box.py) and opened only to verify a claim (``identity_secret``).

Visitor requests look their channel up on every call, so the channel's public settings are
cached for a moment per process (``ChannelCache``): a change made through this process is seen
at once, one made through another process within ``CACHE_SECONDS``. The cache keeps the secret
sealed, as stored.
"""

from __future__ import annotations

import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Group, WebchatChannel
from kefu.errors import KefuError, NotFound
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.infra.secret_box import seal, unseal
from kefu.services.staff.directory import require_admin

KEY_PREFIX = "wc_"
CACHE_SECONDS = 2.0
MAX_ORIGINS = 50
CHANGED = "kefu.webchat_channels_changed"
_PURPOSE = purpose_of(WebchatChannel.secret_sealed)


@dataclass(frozen=True)
class ChannelInfo:
    """What a visitor's request needs of its channel (a snapshot, not a row)."""

    id: int
    key: str
    name: str
    secret_sealed: str  # opened by identity_secret when a claim is verified
    allowed_origins: tuple[str, ...]
    group_id: int | None
    greeting: str
    offline_message: str
    offline_form: bool
    language: str
    enabled: bool
    bot_mode: str = "off"  # domain/bot.py BotMode
    calendar: dict[str, Any] | None = None  # the group's working hours (None: the default)

    @classmethod
    def of(cls, row: WebchatChannel) -> ChannelInfo:
        calendar = row.group.calendar if row.group is not None else None
        return cls(
            row.id, row.key, row.name, row.secret_sealed, tuple(row.allowed_origins or ()), row.group_id,
            row.greeting, row.offline_message, row.offline_form, row.language, row.enabled,
            row.bot_mode, calendar or None,
        )  # fmt: skip

    def allows_origin(self, origin: str | None, own_host: str) -> bool:
        """Whether a page at ``origin`` may use this channel. No Origin header: not a browser's
        cross-site request (a browser always sends one with a WebSocket or a cross-site call).
        No origins configured: only pages served by kefu itself (``own_host``)."""
        if origin is None:
            return True
        origin = origin.strip().lower()
        if not self.allowed_origins:
            return urlsplit(origin).netloc == own_host.lower()
        return origin in self.allowed_origins


def normalize_origin(raw: str) -> str:
    """``https://Shop.example.cn:8443/`` → ``https://shop.example.cn:8443``; a 422 for anything
    that is not a bare http(s) origin (a path, a query, credentials, a wildcard)."""
    text = raw.strip().rstrip("/").lower()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise _bad_origin(raw) from e
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or "*" in parts.netloc
    ):
        raise _bad_origin(raw)
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port is not None else "")


def _bad_origin(raw: str) -> KefuError:
    return KefuError(
        "invalid_origin", status_code=422, origin=raw[:100], details={"field": "allowed_origins"}
    )


# --- administration --------------------------------------------------------------------------


def snapshot(channel: WebchatChannel) -> dict[str, Any]:
    """What the audit trail keeps of a channel (never its secret)."""
    return {
        "key": channel.key,
        "name": channel.name,
        "allowed_origins": list(channel.allowed_origins or ()),
        "group_id": channel.group_id,
        "greeting": channel.greeting,
        "offline_message": channel.offline_message,
        "offline_form": channel.offline_form,
        "language": channel.language,
        "bot_mode": channel.bot_mode,
        "enabled": channel.enabled,
    }


def list_channels(session: Session, actor: Actor) -> list[WebchatChannel]:
    require_admin(actor)
    return list(session.scalars(select(WebchatChannel).order_by(WebchatChannel.id)))


def get_channel(session: Session, actor: Actor, channel_id: int) -> WebchatChannel:
    require_admin(actor)
    channel = session.get(WebchatChannel, channel_id)
    if channel is None:
        raise NotFound("webchat_channel")
    return channel


def _checked(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    if changes.get("group_id") is not None and session.get(Group, changes["group_id"]) is None:
        raise NotFound("group", details={"field": "group_id"})
    if "allowed_origins" in changes:
        origins = [normalize_origin(o) for o in changes["allowed_origins"] or []]
        if len(origins) > MAX_ORIGINS:
            raise KefuError(
                "validation_error", status_code=422, details={"field": "allowed_origins"}
            )
        changes["allowed_origins"] = list(dict.fromkeys(origins))
    return changes


def do_create_channel(
    session: Session, actor: Actor, *, secret_key: str, **fields: Any
) -> tuple[WebchatChannel, str]:
    """A new channel with a fresh key and secret; returns it and the secret (shown once, stored
    sealed under ``secret_key``)."""
    require_admin(actor)
    fields = _checked(session, {"allowed_origins": [], **fields})
    secret, sealed = fresh_secret(secret_key)
    channel = WebchatChannel(
        key=KEY_PREFIX + secrets.token_urlsafe(16), secret_sealed=sealed, **fields
    )
    session.add(channel)
    session.flush()
    audit.record(
        session, actor, "webchat_channel.create", object_type="webchat_channel",
        object_id=channel.id, after=snapshot(channel),
    )  # fmt: skip
    _changed(session)
    return channel, secret


def do_update_channel(
    session: Session, actor: Actor, channel: WebchatChannel, changes: dict[str, Any]
) -> WebchatChannel:
    require_admin(actor)
    before = snapshot(channel)
    for name, value in _checked(session, changes).items():
        setattr(channel, name, value)
    session.flush()
    old, new = audit.changed_fields(before, snapshot(channel))
    if new:
        audit.record(
            session, actor, "webchat_channel.update", object_type="webchat_channel",
            object_id=channel.id, before=old, after=new,
        )  # fmt: skip
    if channel.bot_mode == "off" and before.get("bot_mode", "off") != "off":
        # Imported here: the bot's service reads channels (its web chat entry point).
        from kefu.services.bot.service import release_channel

        release_channel(session, channel.id, utcnow())  # its chats go to the agents now
    _changed(session)
    return channel


def do_rotate_secret(
    session: Session, actor: Actor, channel: WebchatChannel, *, secret_key: str
) -> str:
    """A new secret (the old one stops verifying identities at once); returns it, shown once."""
    require_admin(actor)
    secret, channel.secret_sealed = fresh_secret(secret_key)
    session.flush()
    audit.record(
        session, actor, "webchat_channel.rotate_secret", object_type="webchat_channel",
        object_id=channel.id, after={"key": channel.key},
    )  # fmt: skip
    _changed(session)
    return secret


def do_delete_channel(session: Session, actor: Actor, channel: WebchatChannel) -> None:
    """Remove a channel: its widget stops working; its conversations stay (their tickets keep
    everything but the link to it)."""
    require_admin(actor)
    before = snapshot(channel)
    session.delete(channel)
    session.flush()
    audit.record(
        session, actor, "webchat_channel.delete", object_type="webchat_channel",
        object_id=channel.id, before=before,
    )  # fmt: skip
    _changed(session)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def fresh_secret(secret_key: str) -> tuple[str, str]:
    """A new identity-signing secret and its sealed form (the only one stored)."""
    secret = new_secret()
    return secret, seal_secret(secret_key, secret)


def seal_secret(secret_key: str, secret: str) -> str:
    """``secret`` as ``webchat_channels.secret_sealed`` stores it."""
    return seal(secret_key, secret, purpose=_PURPOSE)


def identity_secret(secret_key: str, channel: ChannelInfo) -> bytes:
    """The channel's secret, opened to verify a claim signed with it (``SecretUnreadable`` when
    the secret key cannot open it)."""
    return unseal(secret_key, channel.secret_sealed, purpose=_PURPOSE).encode()


# --- the visitors' lookup ------------------------------------------------------------------------


def channel_by_key(session: Session, key: str) -> ChannelInfo | None:
    row = session.scalar(select(WebchatChannel).where(WebchatChannel.key == key))
    return ChannelInfo.of(row) if row is not None else None


_caches: weakref.WeakSet[ChannelCache] = weakref.WeakSet()


class ChannelCache:
    """Channels by key for a few seconds; a missing or disabled channel is cached as None too,
    so guessing keys costs no query per guess within the window."""

    def __init__(
        self, ttl: float = CACHE_SECONDS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[float, ChannelInfo | None]] = {}
        self._lock = threading.Lock()
        _caches.add(self)

    def get(self, key: str) -> tuple[bool, ChannelInfo | None]:
        """(found, channel): found False when the key must be looked up."""
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or hit[0] <= self.clock():
            return False, None
        return True, hit[1]

    def put(self, key: str, channel: ChannelInfo | None) -> ChannelInfo | None:
        """Keep what the database said; answers the channel, None when missing or disabled."""
        if channel is not None and not channel.enabled:
            channel = None
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (self.clock() + self.ttl, channel)
        return channel

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _changed(session: Session) -> None:
    session.info[CHANGED] = True


@event.listens_for(Session, "after_commit")
def _forget_changed_channels(session: Session) -> None:
    if session.info.pop(CHANGED, False):
        for cache in list(_caches):
            cache.clear()


@event.listens_for(Session, "after_soft_rollback")
def _drop_mark(session: Session, previous: Any) -> None:
    if not previous.nested:
        session.info.pop(CHANGED, None)
