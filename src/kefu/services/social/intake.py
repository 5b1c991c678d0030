"""Taking in a public post (舆情): checked, deduplicated, analysed like a customer message,
stored as a mention, linked to its customer, then looked at for alerts.

``receive_social_webhook`` is what the webhook receiver (helper "hooks", ``social.post`` and
``social.comment`` events) and the feed poller (services/social/feeds.py) both call. It works in
the caller's transaction and does not commit.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.db.models import Customer, Identity, SocialMention
from kefu.domain.tickets import Channel
from kefu.domain.triage_labels import Sentiment
from kefu.nlp.analysis import Analysis, analyzer
from kefu.services.intake import message_triage
from kefu.services.social import alerts
from kefu.services.social.posts import SocialPost, parse_post

log = logging.getLogger(__name__)


def receive_social_webhook(
    session: Session, *, source_id: int, event_id: str, data: dict[str, Any], received_at: datetime
) -> int:
    """Store the post in ``data`` (sent by webhook source ``source_id`` as event ``event_id``)
    and return its mention's id; the same (platform, id) again returns the first mention's id
    and changes nothing. Bad data: 422 ``invalid_social_post``."""
    mention_id, _ = receive_post(
        session,
        parse_post(data),
        source=f"webhook:{source_id}",
        event_id=event_id,
        received_at=received_at,
    )
    return mention_id


def receive_post(
    session: Session,
    post: SocialPost,
    *,
    source: str,
    received_at: datetime,
    event_id: str | None = None,
    mail: bool = True,
) -> tuple[int, bool]:
    """A checked post into a mention (see ``receive_social_webhook``): its id, and whether it
    is new. ``mail`` False: alerts it raises are told in the workspace only (the demo)."""
    existing = _mention_id(session, post.platform, post.id)
    if existing is not None:
        return existing, False
    analysis = analyzer().analyze(post.text)
    values = _values(post, analysis, source=source, event_id=event_id, received_at=received_at)
    if post.author.handle:
        values["customer_id"] = customer_of(session, post.platform, post.author.handle)
    # Two deliveries of one post at once (a webhook and a feed): the second insert does nothing.
    insert = (
        postgresql.insert(SocialMention)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(SocialMention)
    )
    statement = insert.values(**values).on_conflict_do_nothing(
        index_elements=["platform", "external_id"]
    )
    made = session.execute(statement.returning(SocialMention.id)).scalar()
    if made is None:
        found = _mention_id(session, post.platform, post.id)
        assert found is not None
        return found, False
    mention = session.get(SocialMention, made)
    assert mention is not None
    alerts.check_mention(session, mention, now=received_at, mail=mail)
    return int(made), True


def _mention_id(session: Session, platform: str, external_id: str) -> int | None:
    return session.scalar(
        select(SocialMention.id).where(
            SocialMention.platform == platform, SocialMention.external_id == external_id
        )
    )


def _values(
    post: SocialPost,
    analysis: Analysis,
    *,
    source: str,
    event_id: str | None,
    received_at: datetime,
) -> dict[str, object]:
    triage = message_triage.triage_of(analysis)
    return {
        "platform": post.platform,
        "external_id": post.id,
        "kind": post.kind,
        "parent_external_id": post.parent_id,
        "url": post.url,
        "author_handle": post.author.handle,
        "author_name": post.author.name,
        "text": post.text,
        "posted_at": min(post.posted_at.astimezone(UTC), received_at)
        if post.posted_at
        else received_at,
        "received_at": received_at,
        "sentiment": triage.sentiment,
        "emotion": triage.emotion,
        "category": triage.category,
        "intent": triage.intent,
        "risks": list(triage.risks),
        "priority": triage.priority,
        "negative": triage.sentiment == Sentiment.NEGATIVE.value,
        "risk_reasons": message_triage.explanations(analysis),
        "source": source,
        "event_id": event_id,
        "ticket_id": None,
        "customer_id": None,
    }


def identity_of(platform: str, handle: str) -> str:
    """The external id of a social account as the customer's identity (channel "social")."""
    return f"{platform}:{handle}"


def customer_of(session: Session, platform: str, handle: str) -> int | None:
    """The customer who owns this account, following merges; None when nobody does yet."""
    customer_id = session.scalar(
        select(Identity.customer_id).where(
            Identity.channel == Channel.SOCIAL.value,
            Identity.external_id == identity_of(platform, handle),
        )
    )
    seen: set[int] = set()
    while customer_id is not None and customer_id not in seen:
        seen.add(customer_id)
        merged_into = session.scalar(
            select(Customer.merged_into_id).where(Customer.id == customer_id)
        )
        if merged_into is None:
            return customer_id
        customer_id = merged_into
    return customer_id
