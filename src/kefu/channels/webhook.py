"""Standard Webhooks, both ways (https://www.standardwebhooks.com/).

In: a source (a phone system, an SMS gateway, an app store, a social platform) posts an event to
``POST /api/v1/channels/webhook/{source}`` signed with its ``whsec_…`` secret. ``verify`` checks
the ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers with the
``standardwebhooks`` library (HMAC-SHA256 over ``id.timestamp.body``; several space-separated
signatures are allowed, so a sender can sign with an old and a new secret while rotating) and the
timestamp against the source's tolerance. The body is ``{"type", "timestamp", "data"}``.

Out: ``WebhookAdapter`` posts kefu's events to a subscription's URL (channel ``webhook`` of the
outbox) as ``{"type", "timestamp", "data"}``, signed the same way; the ``webhook-id`` is the
outbox row's idempotency key, the same for every attempt, so the receiver dedupes on it. What the
answer means: 2xx — sent; 410 Gone — the receiver wants no more: the subscription is switched off
and the row is dead; 408, 425, 429, 5xx, a timeout or a connection error — tried again with
back-off; any other 4xx or a redirect (never followed) — permanent. The URL is checked again
before every attempt (channels/guarded_post.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from kefu.channels.base import DeliveryFailed, OutboundDelivery, SendResult
from kefu.channels.guarded_post import GuardedPoster, status_failure
from kefu.db.base import utcnow
from kefu.db.models import WebhookSubscription
from kefu.domain.webhooks import CHANNEL
from kefu.services.infra.outbound_urls import OutboundGuard
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.infra.secret_box import SecretUnreadable, unseal

GONE_REASON = "the receiver answered 410 Gone"


class WebhookRefused(Exception):  # noqa: N818 - a refusal of the sender's request, not a bug
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify(
    secret: str, body: bytes, headers: Mapping[str, str], *, tolerance_seconds: int, now: float
) -> str:
    """The ``webhook-id`` of a request whose signature and timestamp hold; ``WebhookRefused``
    (with what is wrong: missing headers, stale, future, signature) otherwise.

    The library allows five minutes either way; a source's tolerance may only be stricter, so
    the timestamp is checked against it first."""
    lowered = {k.lower(): v for k, v in headers.items()}
    webhook_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    if not webhook_id or not stamp or not lowered.get("webhook-signature"):
        raise WebhookRefused("missing headers")
    if len(webhook_id) > 200:
        raise WebhookRefused("webhook-id too long")
    try:
        sent_at = float(stamp)
    except ValueError as e:
        raise WebhookRefused("bad timestamp") from e
    if sent_at < now - tolerance_seconds:
        raise WebhookRefused("timestamp too old")
    if sent_at > now + tolerance_seconds:
        raise WebhookRefused("timestamp in the future")
    try:
        Webhook(secret).verify(body, lowered, json_parse=False)
    except WebhookVerificationError as e:
        raise WebhookRefused(str(e).lower()) from e
    return webhook_id


def signed_headers(secret: str, webhook_id: str, sent_at: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of ``body`` sent at ``sent_at``."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body),
    }


def event_body(delivery: OutboundDelivery) -> bytes:
    """What is posted for an outbox row of the webhook channel (written by
    services/webhooks/outgoing.py): its event's type, time and data."""
    event = payload_of(delivery.target)
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookAdapter:
    """Posts to the subscription's URL as it is now (a changed URL or secret applies to the next
    attempt). ``sessions`` reads the subscription and switches it off on a 410."""

    channel = CHANNEL

    def __init__(
        self,
        sessions: Callable[[], Session],
        *,
        secret_key: str,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        guard: OutboundGuard | None = None,
    ) -> None:
        self.sessions = sessions
        self.secret_key = secret_key
        self.poster = GuardedPoster(timeout=timeout, client=client, guard=guard)
        self.clock = clock

    def close(self) -> None:
        self.poster.close()

    def send(self, delivery: OutboundDelivery) -> SendResult:
        subscription_id, url, secret = self._destination(delivery)
        body = event_body(delivery)
        sent_at = datetime.fromtimestamp(int(self.clock()), UTC)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            **signed_headers(secret, delivery.idempotency_key, sent_at, body),
        }
        response = self.poster.post(url, content=body, headers=headers, what="the webhook URL")
        if response.status_code == 410:
            self._switch_off(subscription_id)
            raise DeliveryFailed(GONE_REASON + "; the subscription is switched off", permanent=True)
        failure = status_failure(response)
        if failure is not None:
            raise failure
        return SendResult()

    def _destination(self, delivery: OutboundDelivery) -> tuple[int, str, str]:
        subscription_id = delivery.target.get("subscription_id")
        with self.sessions() as session:
            found = session.get(WebhookSubscription, subscription_id) if subscription_id else None
            if found is None or not found.enabled:
                raise DeliveryFailed("the subscription is gone or switched off", permanent=True)
            try:
                purpose = purpose_of(WebhookSubscription.secret_sealed)
                return (
                    found.id,
                    found.url,
                    unseal(self.secret_key, found.secret_sealed, purpose=purpose),
                )
            except SecretUnreadable as e:
                raise DeliveryFailed(
                    "the subscription's secret cannot be read (the secret key changed); rotate it",
                    permanent=True,
                ) from e

    def _switch_off(self, subscription_id: int) -> None:
        with self.sessions() as session:
            session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == subscription_id)
                .values(enabled=False, disabled_reason=GONE_REASON, updated_at=utcnow())
            )
            session.commit()


def payload_of(target: Mapping[str, Any]) -> dict[str, Any]:
    """The event of an outbox row's target, as the receiver gets it."""
    return {
        "type": target.get("type"),
        "timestamp": target.get("timestamp"),
        "data": target.get("data"),
    }
