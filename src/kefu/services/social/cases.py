"""A mention made a case (转为工单): the post enters intake like a message on the "social" channel
from the author's social identity, and the case is owed a first reply within the social SLA.

The SLA is the social channel's policy (services/sla/): one hour by default, as the references
ask of social media. ``KEFU_SOCIAL_FIRST_REPLY_MINUTES`` changes that default: when it differs
from the built-in hour and no admin has configured the social channel for the case's priority,
it is written once as that policy (audited, by the system), so every page, the sweep and every
process read the same deadline from the database. An admin's own policy always wins, and a
crisis (P1) keeps its shorter cap.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import SlaPolicy, SocialMention, Ticket
from kefu.domain import sla
from kefu.domain.tickets import Channel, Priority
from kefu.errors import NotFound
from kefu.services import audit
from kefu.services.actors import SYSTEM, Actor
from kefu.services.cases.loop import intake_rules
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from kefu.services.sla import clocks
from kefu.services.sla.policies import do_set_policy
from kefu.services.social.alerts import require_listener
from kefu.services.social.intake import identity_of
from kefu.settings import Settings

PLATFORM_NAMES_ZH = {
    "weibo": "微博",
    "douyin": "抖音",
    "xiaohongshu": "小红书",
    "other": "社交平台",
}
SUBJECT_TEXT = 40


def access_mention(session: Session, actor: Actor, mention_id: int) -> SocialMention:
    require_listener(actor)
    mention = session.get(SocialMention, mention_id)
    if mention is None:
        raise NotFound("social_mention")
    return mention


def do_make_case(
    session: Session, actor: Actor, mention: SocialMention, *, settings: Settings, now: datetime
) -> Ticket:
    """The case of this mention (made once; again: the same case)."""
    require_listener(actor)
    if mention.ticket_id is not None:
        existing = session.get(Ticket, mention.ticket_id)
        if existing is not None:
            return existing
    message = InboundMessage(
        channel=Channel.SOCIAL.value,
        external_id=f"mention-{mention.id}",
        sender=Sender(
            # An anonymous post is a customer of its own, never one shared by all of them.
            external_id=identity_of(
                mention.platform, mention.author_handle or f"post-{mention.external_id}"
            ),
            name=mention.author_name or mention.author_handle or "匿名网友",
        ),
        text=mention.text,
        subject=_subject(mention),
    )
    result = receive_inbound(
        session, actor, message,
        raw=json.dumps(_raw(mention), ensure_ascii=False),
        attachments_root=settings.attachments_dir, max_attachment_bytes=0,
        received_at=now, rules=intake_rules(settings),
    )  # fmt: skip
    ticket = session.get(Ticket, result.ticket_id)
    assert ticket is not None
    ensure_social_policy(session, Priority(ticket.priority), settings.social_first_reply_minutes)
    clocks.plan_now(session, ticket, now)
    mention.ticket_id, mention.customer_id = ticket.id, result.customer_id
    session.flush()
    audit.record(
        session, actor, "social_mention.case", object_type="social_mention",
        object_id=mention.id, ticket_id=ticket.id, customer_id=result.customer_id,
        after={"ticket_id": ticket.id},
    )  # fmt: skip
    return ticket


def ensure_social_policy(session: Session, priority: Priority, minutes: int) -> None:
    """Write the setting as the social channel's policy for ``priority`` when it differs from
    the built-in default and no admin has configured one (see the module docstring)."""
    default = sla.default_budgets(Channel.SOCIAL, priority)
    wanted = timedelta(minutes=minutes)
    cap = sla.FIRST_RESPONSE_CAP.get(priority)
    wanted = min(wanted, cap) if cap else wanted
    if wanted == default.first_response:
        return
    configured = session.scalar(
        select(SlaPolicy.id).where(
            SlaPolicy.channel == Channel.SOCIAL.value, SlaPolicy.priority == priority.value
        )
    )
    if configured is not None:
        return

    def seconds(value: timedelta | None) -> int | None:
        return None if value is None else int(value.total_seconds())

    do_set_policy(
        session, SYSTEM, Channel.SOCIAL, priority,
        first_response_s=seconds(wanted), next_response_s=seconds(default.next_response),
        resolution_s=seconds(default.resolution),
    )  # fmt: skip


def _subject(mention: SocialMention) -> str:
    platform = PLATFORM_NAMES_ZH.get(mention.platform, mention.platform)
    text = " ".join(mention.text.split())
    short = text if len(text) <= SUBJECT_TEXT else text[:SUBJECT_TEXT] + "…"
    return f"【{platform}】{short}"


def _raw(mention: SocialMention) -> dict[str, object]:
    return {
        "mention_id": mention.id,
        "platform": mention.platform,
        "id": mention.external_id,
        "url": mention.url,
        "author": {"handle": mention.author_handle, "name": mention.author_name},
        "text": mention.text,
        "posted_at": mention.posted_at.isoformat(),
        "parent_id": mention.parent_external_id,
    }
