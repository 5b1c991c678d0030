"""An event a source posted by webhook, taken (``POST /api/v1/channels/webhook/{source}``).

In order, nothing stored before the last step succeeds:

1. the source: unknown or switched off → 404;
2. the signature and timestamp (channels/webhook.py): forged, missing or stale → 401;
3. the body: not an event of a type the source may post, or data that does not fit → 422;
4. the ``webhook-id``: taken from this source before → ``duplicate`` with what it became then;
5. the event, in one transaction with its receipt (the id, so a replay is ignored):
   ``call.transcript`` → a phone case (services/webhooks/transcripts.py); ``sms.received`` → a
   customer message on channel ``sms``; ``review.created`` → channel ``app_review``;
   ``social.post`` / ``social.comment`` → social listening (``receive_social_webhook``).

The raw body is kept with each customer message it makes (intake's payload store).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.channels import webhook_events as bodies
from kefu.channels.webhook import WebhookRefused, verify
from kefu.db.models import WebhookReceipt, WebhookSource
from kefu.domain import webhooks as vocab
from kefu.domain.roles import Role
from kefu.domain.tickets import Channel
from kefu.errors import KefuError, NotAuthenticated, NotFound
from kefu.services.actors import Actor
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.infra.secret_box import SecretUnreadable, unseal
from kefu.services.intake.inbound import Delivery, InboundMessage, Sender
from kefu.services.webhooks import transcripts
from kefu.services.webhooks.intake import take_message
from kefu.services.webhooks.sources import source_by_key
from kefu.settings import Settings

STARS = "★★★★★☆☆☆☆☆"
# A sender retries an event with the same webhook-id for hours or days (signing each attempt
# anew): its receipt is kept this long, then forgotten (``forget_old_receipts``).
RECEIPT_DAYS = 30
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Taken:
    """What an event became: ``outcome`` ids (ticket_id, message_id, customer_id, or
    mention_id); ``duplicate`` when its webhook-id was taken before."""

    event_type: str
    duplicate: bool
    outcome: dict[str, int] = field(default_factory=dict)


def source_actor(source: WebhookSource) -> Actor:
    """Who delivers a source's customer messages (audited as the system, via "webhook")."""
    return Actor(user_id=None, role=Role.ADMIN, via="webhook", name=source.name)


def check_source(session: Session, key: str) -> WebhookSource:
    source = source_by_key(session, key)
    if source is None:
        raise NotFound("webhook_source")
    return source


def receive_webhook(
    session: Session,
    settings: Settings,
    source: WebhookSource,
    *,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
) -> Taken:
    """Take one event posted by ``source`` (see the module docstring)."""
    webhook_id = _verified(settings, source, body, headers, now)
    envelope = _parsed(bodies.Envelope, _json(body))
    if envelope.type not in source.kinds:
        raise KefuError(
            "webhook_event_not_accepted", status_code=422, event_type=envelope.type[:40],
            details={"field": "type"},
        )  # fmt: skip
    seen = session.scalar(
        select(WebhookReceipt).where(
            WebhookReceipt.source_id == source.id, WebhookReceipt.webhook_id == webhook_id
        )
    )
    if seen is not None:
        return Taken(seen.event_type, True, dict(seen.outcome or {}))
    outcome = _dispatch(session, settings, source, envelope, webhook_id, body, now)
    receipt = WebhookReceipt(
        source_id=source.id, webhook_id=webhook_id, event_type=envelope.type, outcome=outcome,
        received_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(receipt)
            session.flush()
    except IntegrityError:  # the same id taken at the same moment by another request
        session.rollback()
        return Taken(envelope.type, True, {})
    return Taken(envelope.type, False, outcome)


def _verified(
    settings: Settings,
    source: WebhookSource,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
) -> str:
    try:
        secret = unseal(
            settings.secret_key,
            source.secret_sealed,
            purpose=purpose_of(WebhookSource.secret_sealed),
        )
    except SecretUnreadable as e:  # the secret key changed: nothing can be verified
        raise NotAuthenticated("webhook_signature_invalid", reason="secret unreadable") from e
    try:
        return verify(
            secret, body, headers, tolerance_seconds=source.tolerance_seconds, now=now.timestamp()
        )
    except WebhookRefused as e:
        raise NotAuthenticated("webhook_signature_invalid", reason=e.reason) from e


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as e:
        raise KefuError("invalid_json", status_code=400) from e


def _parsed(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in e.errors()[:20]
        ]
        raise KefuError("validation_error", status_code=422, details={"errors": errors}) from e


def _dispatch(
    session: Session,
    settings: Settings,
    source: WebhookSource,
    envelope: bodies.Envelope,
    webhook_id: str,
    body: bytes,
    now: datetime,
) -> dict[str, int]:
    raw = body.decode("utf-8", errors="replace")
    actor = source_actor(source)
    kind = envelope.type
    if kind == vocab.CALL_TRANSCRIPT:
        call = _parsed(bodies.CallTranscript, envelope.data)
        taken = transcripts.take_call(session, actor, source, call, raw=raw, settings=settings)
        return {"ticket_id": taken.ticket_id, "customer_id": taken.customer_id}
    if kind in (vocab.SOCIAL_POST, vocab.SOCIAL_COMMENT):
        _parsed(bodies.SocialPost, envelope.data)
        return {"mention_id": _social(session, source, webhook_id, envelope, now)}
    message = _message(source, kind, envelope.data)
    result = take_message(session, Delivery(actor, message, raw, now), settings)
    return {
        "ticket_id": result.ticket_id,
        "message_id": result.message_id,
        "customer_id": result.customer_id,
    }


def _message(source: WebhookSource, kind: str, data: dict[str, Any]) -> InboundMessage:
    if kind == vocab.SMS_RECEIVED:
        sms = _parsed(bodies.SmsReceived, data)
        return InboundMessage(
            channel=Channel.SMS.value, external_id=f"{source.key}:{sms.id}",
            sender=Sender(sms.from_, sms.name, phone=sms.from_), text=sms.text,
            subject=f"短信 {sms.name or sms.from_}", group_id=source.group_id,
        )  # fmt: skip
    review = _parsed(bodies.ReviewCreated, data)
    stars = STARS[5 - review.rating : 10 - review.rating]
    text = "\n".join(part for part in (f"{stars} {review.title}".strip(), review.text) if part)
    subject = f"{review.app or review.store} 评价 {review.rating}★ {review.title}".strip()
    return InboundMessage(
        channel=Channel.APP_REVIEW.value, external_id=f"{review.store}:{review.id}",
        sender=Sender(f"{review.store}:{review.author}", review.author), text=text,
        subject=subject, group_id=source.group_id,
    )  # fmt: skip


def _social(
    session: Session,
    source: WebhookSource,
    webhook_id: str,
    envelope: bodies.Envelope,
    now: datetime,
) -> int:
    try:  # social listening is built beside this module (issue #22); imported when used
        from kefu.services.social.intake import receive_social_webhook  # type: ignore[import-not-found,unused-ignore]
    except ImportError as e:
        raise KefuError("webhook_social_unavailable", status_code=422) from e
    mention_id: int = receive_social_webhook(
        session, source_id=source.id, event_id=webhook_id,
        data=envelope.data, received_at=now,
    )  # fmt: skip
    return mention_id


def forget_old_receipts(session: Session, now: datetime) -> int:
    """Delete the receipts older than ``RECEIPT_DAYS``; how many went."""
    cutoff = now - timedelta(days=RECEIPT_DAYS)
    result = session.execute(delete(WebhookReceipt).where(WebhookReceipt.received_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
