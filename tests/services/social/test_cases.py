"""A mention made a case: a ticket on the social channel, owed a first reply within the hour."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Identity, SlaPolicy, SocialMention, Ticket
from kefu.errors import KefuError
from kefu.services.social import cases
from kefu.services.social.intake import receive_social_webhook
from kefu.services.staff import auth
from kefu.settings import Settings
from tests import factories
from tests.services.social.helpers import NEGATIVE_LOGISTICS, NOW, post, send


def _staff(db: Session, role: str):  # type: ignore[no-untyped-def]
    return auth.actor_for(factories.make_user(db, role=role), via="session")


def test_a_mention_becomes_a_social_case_due_within_an_hour(
    db: Session, settings: Settings
) -> None:
    supervisor = _staff(db, "supervisor")
    mention_id = send(db, post(NEGATIVE_LOGISTICS[0], at=NOW, handle="momo"), at=NOW)
    mention = cases.access_mention(db, supervisor, mention_id)
    ticket = cases.do_make_case(db, supervisor, mention, settings=settings, now=NOW)
    db.commit()
    assert ticket.channel == "social" and ticket.subject.startswith("【微博】")
    assert ticket.first_response_due_at == NOW + timedelta(hours=1)
    identity = db.scalar(select(Identity).where(Identity.customer_id == ticket.customer_id))
    assert identity is not None and (identity.channel, identity.external_id) == (
        "social",
        "weibo:momo",
    )
    db.refresh(mention)
    assert (mention.ticket_id, mention.customer_id) == (ticket.id, ticket.customer_id)
    # Again: the same case.
    again = cases.do_make_case(db, supervisor, mention, settings=settings, now=NOW)
    assert again.id == ticket.id
    assert db.scalar(select(Ticket.id).where(Ticket.id != ticket.id)) is None
    # The author's next post is linked to the customer.
    later = NOW + timedelta(minutes=5)
    next_id = send(db, post("还是没有人回复我", at=later, handle="momo"), at=later)
    assert db.get(SocialMention, next_id).customer_id == ticket.customer_id  # type: ignore[union-attr]


def test_the_setting_changes_the_social_first_reply_deadline(
    db: Session, settings: Settings
) -> None:
    supervisor = _staff(db, "supervisor")
    mention_id = send(db, post(NEGATIVE_LOGISTICS[1], at=NOW), at=NOW)
    mention = cases.access_mention(db, supervisor, mention_id)
    quick = settings.model_copy(update={"social_first_reply_minutes": 30})
    ticket = cases.do_make_case(db, supervisor, mention, settings=quick, now=NOW)
    db.commit()
    assert ticket.first_response_due_at == NOW + timedelta(minutes=30)
    policy = db.scalar(select(SlaPolicy).where(SlaPolicy.channel == "social"))
    assert policy is not None and policy.first_response_s == 1800


@pytest.mark.parametrize("role", ["agent", "specialist"])
def test_agents_can_not_make_cases_of_mentions(db: Session, settings: Settings, role: str) -> None:
    mention_id = send(db, post(NEGATIVE_LOGISTICS[2], at=NOW), at=NOW)
    actor = _staff(db, role)
    with pytest.raises(KefuError) as refused:
        cases.access_mention(db, actor, mention_id)
    assert refused.value.status_code == 403


def test_bad_posts_are_refused_with_the_field_that_is_wrong(db: Session) -> None:
    good = post("好评", at=NOW)
    for broken, field in (
        ({**good, "platform": "facebook"}, "platform"),
        ({**good, "text": ""}, "text"),
        ({**good, "posted_at": "2026-12-09T10:00:00"}, "posted_at"),
        ({**good, "url": "javascript:alert(1)"}, "url"),
        ({**good, "id": ""}, "id"),
        ({**good, "author": {"handle": "x" * 101}}, "author.handle"),
    ):
        with pytest.raises(KefuError) as refused:
            receive_social_webhook(db, source_id=1, event_id="e", data=broken, received_at=NOW)
        assert refused.value.status_code == 422
        assert refused.value.code == "invalid_social_post"
        assert refused.value.params["reason"].startswith(field)
    assert db.scalar(select(SocialMention.id)) is None


def test_a_post_delivered_twice_is_one_mention(db: Session) -> None:
    data = post(NEGATIVE_LOGISTICS[0], at=NOW, id="same")
    first = send(db, data, at=NOW)
    assert send(db, data, at=NOW + timedelta(seconds=5), source_id=2) == first
    assert len(db.scalars(select(SocialMention.id)).all()) == 1


def test_the_webhook_receivers_flat_shape_and_anonymous_posts_are_taken(
    db: Session, settings: Settings
) -> None:
    """As docs/webhooks.md documents the body: author_handle and author_name flat, posted_at
    optional (then: when it arrived); without a handle the post links to no customer."""
    flat = {"platform": "weibo", "id": "wb-1", "author_handle": "小红", "author_name": "小红",
            "text": "这家客服太慢了", "url": "https://weibo.com/1/wb-1"}  # fmt: skip
    first = receive_social_webhook(db, source_id=3, event_id="evt_9", data=flat, received_at=NOW)
    mention = db.get(SocialMention, first)
    assert mention is not None
    assert (mention.author_handle, mention.posted_at, mention.source) == ("小红", NOW, "webhook:3")
    anonymous = receive_social_webhook(
        db, source_id=3, event_id="evt_10",
        data={"platform": "douyin", "id": "dy-1", "text": "质量太差了"}, received_at=NOW,
    )  # fmt: skip
    other = receive_social_webhook(
        db, source_id=3, event_id="evt_11",
        data={"platform": "douyin", "id": "dy-2", "text": "也是质量问题"}, received_at=NOW,
    )  # fmt: skip
    db.commit()
    supervisor = _staff(db, "supervisor")
    tickets = [
        cases.do_make_case(
            db, supervisor, cases.access_mention(db, supervisor, m), settings=settings, now=NOW
        )
        for m in (anonymous, other)
    ]
    db.commit()
    # Two anonymous authors are two customers, not one "anonymous" customer.
    assert tickets[0].customer_id != tickets[1].customer_id
