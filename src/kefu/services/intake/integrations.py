"""Integrations: the systems that deliver customer messages (POST /api/v1/inbound).

An integration is not a person: its token opens intake (and its receipts) and nothing else, for
the channels an admin gave it, and the audit trail names it (集成「名称」). Staff tokens cannot
deliver customer messages, so nobody can write as a customer into a ticket they may not see.

An integration may register a callback URL: agents' replies to its tickets are posted there
(channels/api_callback.py), signed with a callback secret kefu makes, shows once, and keeps
sealed with the secret key (services/infra/secret_box.py): it is opened only to sign a callback
or an order lookup (``callback_secret_of``), and the audit trail holds only a fingerprint of the
sealed value, which changes when the secret does.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Integration
from kefu.domain.roles import Role
from kefu.errors import Conflict, KefuError, NotAuthenticated, NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.infra.outbound_urls import OutboundGuard, guard_of
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.infra.secret_box import seal, unseal
from kefu.services.staff.auth import INTEGRATION_PREFIX as TOKEN_PREFIX
from kefu.services.staff.auth import digest


def actor_for(integration: Integration) -> Actor:
    return Actor(
        user_id=None,
        role=Role.AGENT,  # never consulted: an integration reaches no endpoint that asks
        via="integration",
        name=audit.integration_label(integration.name),
        integration_id=integration.id,
        channels=frozenset(integration.channels),
    )


CALLBACK_SECRET_PREFIX = "kefu_cb_"  # noqa: S105 - a prefix, not a secret
URL_FIELDS = ("callback_url", "order_lookup_url")
_PURPOSE = purpose_of(Integration.callback_secret_sealed)


def seal_callback_secret(secret_key: str, secret: str) -> str:
    """``secret`` as ``integrations.callback_secret_sealed`` stores it."""
    return seal(secret_key, secret, purpose=_PURPOSE)


def callback_secret_of(secret_key: str, sealed: str) -> str:
    """The callback secret an integration's ``callback_secret_sealed`` holds, opened to sign
    (``SecretUnreadable`` when the secret key cannot open it)."""
    return unseal(secret_key, sealed, purpose=_PURPOSE)


def _snapshot(integration: Integration) -> dict[str, Any]:
    secret = integration.callback_secret_sealed
    return {
        "name": integration.name,
        "channels": list(integration.channels),
        "prefix": integration.prefix,
        "callback_url": integration.callback_url,
        "order_lookup_url": integration.order_lookup_url,
        "callback_secret_sha256": hashlib.sha256(secret.encode()).hexdigest()[:12]
        if secret
        else None,
    }


def _set_urls(
    integration: Integration,
    changes: dict[str, Any],
    *,
    guard: OutboundGuard | None,
    secret_key: str,
    rotate: bool = False,
) -> str | None:
    """Point replies (``callback_url``) and order lookups (``order_lookup_url``) where
    ``changes`` says (None: nowhere), each checked by the outbound guard. Both are signed with
    one secret, made with the first URL (or on ``rotate``) and returned then: it is shown once."""
    checked = guard or guard_of()
    for name in URL_FIELDS:
        if name in changes:
            url = changes[name]
            setattr(integration, name, checked.check_saved(url, field=name) if url else None)
    if not (integration.callback_url or integration.order_lookup_url):
        if rotate:
            raise KefuError("callback_url_required")
        integration.callback_secret_sealed = None
        return None
    if integration.callback_secret_sealed and not rotate:
        return None
    secret = CALLBACK_SECRET_PREFIX + secrets.token_urlsafe(32)
    integration.callback_secret_sealed = seal_callback_secret(secret_key, secret)
    return secret


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied()


def _flush_name(session: Session) -> None:
    """Flush; a name taken meanwhile by a concurrent request is a 409 like one taken before."""
    try:
        session.flush()
    except IntegrityError as e:
        if "name" not in str(e.orig).lower():
            raise
        raise Conflict("name_taken", details={"field": "name"}) from e


def _check_name_free(session: Session, name: str, *, other_than: int | None = None) -> None:
    query = select(Integration.id).where(Integration.name == name)
    if other_than is not None:
        query = query.where(Integration.id != other_than)
    if session.scalar(query) is not None:
        raise Conflict("name_taken", details={"field": "name"})


def do_create_integration(
    session: Session,
    actor: Actor,
    *,
    name: str,
    channels: list[str],
    callback_url: str | None = None,
    order_lookup_url: str | None = None,
    guard: OutboundGuard | None = None,
    secret_key: str,
) -> tuple[str, Integration, str | None]:
    """Create an integration; its token is returned once and stored only hashed. With a
    ``callback_url`` or an ``order_lookup_url`` it gets a signing secret too, returned third
    (shown once, stored sealed under ``secret_key``). ``guard`` checks the URLs (default: the
    process's)."""
    _require_admin(actor)
    _check_name_free(session, name)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    integration = Integration(
        name=name,
        channels=sorted(set(channels)),
        prefix=secret[:16],
        token_hash=digest(secret),
        created_by_id=actor.user_id,
    )
    urls = {"callback_url": callback_url, "order_lookup_url": order_lookup_url}
    callback_secret = _set_urls(integration, urls, guard=guard, secret_key=secret_key)
    session.add(integration)
    _flush_name(session)
    audit.record(
        session,
        actor,
        "integration.create",
        object_type="integration",
        object_id=integration.id,
        after=_snapshot(integration),
    )
    return secret, integration, callback_secret


def list_integrations(session: Session, actor: Actor) -> list[Integration]:
    _require_admin(actor)
    return list(session.scalars(select(Integration).order_by(Integration.id)))


def get_integration(session: Session, actor: Actor, integration_id: int) -> Integration:
    _require_admin(actor)
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise NotFound("integration")
    return integration


def do_update_integration(
    session: Session,
    actor: Actor,
    integration: Integration,
    changes: dict[str, Any],
    *,
    guard: OutboundGuard | None = None,
    secret_key: str,
) -> tuple[Integration, str | None]:
    """Change its name, channels, callback or order lookup (``callback_url``,
    ``order_lookup_url``, None for none; with ``rotate_callback_secret`` a new secret). Returns
    it and the signing secret if one was made, which is shown this once."""
    _require_admin(actor)
    before = _snapshot(integration)
    if "name" in changes:
        _check_name_free(session, changes["name"], other_than=integration.id)
        integration.name = changes["name"]
    if "channels" in changes:
        integration.channels = sorted(set(changes["channels"]))
    made = None
    rotate = bool(changes.get("rotate_callback_secret"))
    if rotate or any(name in changes for name in URL_FIELDS):
        made = _set_urls(integration, changes, guard=guard, secret_key=secret_key, rotate=rotate)
    _flush_name(session)
    old, new = audit.changed_fields(before, _snapshot(integration))
    if new:
        audit.record(
            session,
            actor,
            "integration.update",
            object_type="integration",
            object_id=integration.id,
            before=old,
            after=new,
        )
    return integration, made


def do_revoke_integration(session: Session, actor: Actor, integration: Integration) -> None:
    """Its token stops working at once in this process (the token cache is emptied on
    commit) and within the cache's lifetime in others."""
    _require_admin(actor)
    if integration.revoked_at is not None:
        return
    integration.revoked_at = utcnow()
    audit.record(
        session,
        actor,
        "integration.revoke",
        object_type="integration",
        object_id=integration.id,
        before={"revoked_at": None},
        after={"revoked_at": integration.revoked_at},
    )


def resolve_integration(session: Session, secret: str) -> Integration:
    integration = session.scalar(
        select(Integration).where(Integration.token_hash == digest(secret))
    )
    if integration is None or integration.revoked_at is not None:
        raise NotAuthenticated()
    return integration


def check_channel(actor: Actor, channel: str) -> None:
    """An integration delivers only the channels an admin gave it."""
    if channel not in actor.channels:
        raise KefuError("channel_not_allowed", status_code=403, channel=channel)
