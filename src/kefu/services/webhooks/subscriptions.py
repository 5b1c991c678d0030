"""Integrations' subscriptions to kefu's events (admins only): where to post, which events,
the signing secret (shown once, when made or rotated; stored sealed with the secret key).

The URL is checked by the outbound guard when saved (services/infra/outbound_urls.py) and again
at every send (channels/webhook.py). The deliveries of a subscription are its outbox rows, whose
idempotency keys start with ``whk-{subscription id}-``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import OutboxEntry, WebhookSubscription
from kefu.domain.webhooks import CHANNEL, EVENT_TYPES
from kefu.errors import KefuError, NotFound
from kefu.services.actors import Actor
from kefu.services.infra.outbound_urls import OutboundGuard
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.webhooks.admin import audit_change, fresh_secret, require_admin

RECENT_DELIVERIES = 20
_PURPOSE = purpose_of(WebhookSubscription.secret_sealed)


def _events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if not chosen or unknown:
        raise KefuError("validation_error", status_code=422, details={"field": "events"})
    return chosen


def snapshot(subscription: WebhookSubscription) -> dict[str, Any]:
    """What the audit trail keeps of a subscription (never its secret)."""
    return {
        "url": subscription.url,
        "events": list(subscription.events),
        "enabled": subscription.enabled,
        "description": subscription.description,
    }


def list_subscriptions(session: Session, actor: Actor) -> list[WebhookSubscription]:
    require_admin(actor)
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def get_subscription(session: Session, actor: Actor, subscription_id: int) -> WebhookSubscription:
    require_admin(actor)
    found = session.get(WebhookSubscription, subscription_id)
    if found is None:
        raise NotFound("webhook_subscription")
    return found


def do_create_subscription(
    session: Session,
    actor: Actor,
    *,
    url: str,
    events: Iterable[str],
    description: str = "",
    guard: OutboundGuard,
    secret_key: str,
) -> tuple[str, WebhookSubscription]:
    """A new subscription and its signing secret (returned once)."""
    require_admin(actor)
    secret, sealed = fresh_secret(secret_key, purpose=_PURPOSE)
    subscription = WebhookSubscription(
        url=guard.check_saved(url, field="url"),
        events=_events(events),
        secret_sealed=sealed,
        enabled=True,
        description=description,
        created_by_id=actor.user_id,
    )
    session.add(subscription)
    session.flush()
    audit_change(
        session,
        actor,
        "webhook_subscription",
        subscription.id,
        before=None,
        after=snapshot(subscription),
    )
    return secret, subscription


def do_update_subscription(
    session: Session,
    actor: Actor,
    subscription: WebhookSubscription,
    changes: dict[str, Any],
    *,
    guard: OutboundGuard,
    secret_key: str,
) -> tuple[WebhookSubscription, str | None]:
    """Change the URL, events, description or whether it is on; ``rotate_secret`` makes a new
    secret (returned once; the old one stops signing at once)."""
    require_admin(actor)
    before = snapshot(subscription)
    if "url" in changes:
        subscription.url = guard.check_saved(changes["url"], field="url")
    if "events" in changes:
        subscription.events = _events(changes["events"])
    if "description" in changes:
        subscription.description = changes["description"]
    if "enabled" in changes:
        subscription.enabled = bool(changes["enabled"])
        subscription.disabled_reason = None
    made = None
    if changes.get("rotate_secret"):
        made, subscription.secret_sealed = fresh_secret(secret_key, purpose=_PURPOSE)
    session.flush()
    audit_change(
        session,
        actor,
        "webhook_subscription",
        subscription.id,
        before=before,
        after=snapshot(subscription),
        rotated=made is not None,
    )
    return subscription, made


def do_delete_subscription(
    session: Session, actor: Actor, subscription: WebhookSubscription
) -> None:
    """Delete it; its queued deliveries die at their next attempt (the subscription is gone)."""
    require_admin(actor)
    audit_change(
        session,
        actor,
        "webhook_subscription",
        subscription.id,
        before=snapshot(subscription),
        after=None,
    )
    session.delete(subscription)
    session.flush()


def key_prefix(subscription_id: int) -> str:
    """How the idempotency keys of a subscription's outbox rows begin."""
    return f"whk-{subscription_id}-"


def recent_deliveries(
    session: Session,
    actor: Actor,
    subscription: WebhookSubscription,
    *,
    limit: int = RECENT_DELIVERIES,
) -> list[OutboxEntry]:
    """The subscription's latest outbox rows, newest first."""
    require_admin(actor)
    return list(
        session.scalars(
            select(OutboxEntry)
            .where(
                OutboxEntry.channel == CHANNEL,
                OutboxEntry.idempotency_key.startswith(
                    key_prefix(subscription.id), autoescape=True
                ),
            )
            .order_by(OutboxEntry.id.desc())
            .limit(limit)
        )
    )
