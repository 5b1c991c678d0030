"""Sending the surveys that fell due (the ``surveys`` job): a sweep over ``surveys.due_at``,
safe with several workers (rows taken ``FOR UPDATE SKIP LOCKED``). Web chat asks inline (a
message whose ``bot_payload`` carries the score buttons, and the link as text); e-mail sends a
signed link (an outbox mail notice); WeChat a message with the link inside its 48-hour window
(``wechat_way``), else the survey is skipped and the follow-up stays with the case's owner."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import Customer, Message, Survey, Ticket
from kefu.domain import events as ev
from kefu.domain import surveys as sv
from kefu.domain.survey_links import NONCE_BYTES, make_token
from kefu.domain.tickets import AuthorType, Channel, Direction
from kefu.sanitize import text_to_html
from kefu.services.events import unit_of_work as events
from kefu.services.outbound import enqueue as outbox
from kefu.services.outbound.notices import enqueue_mail_notice
from kefu.services.surveys.config import setting_for
from kefu.services.surveys.schedule import schedule

ROUND = 100
# The channels surveys are sent on (SMS and social have no sender for them yet).
SENT_ON = (Channel.WEBCHAT, Channel.EMAIL, Channel.WECHAT)


@dataclass(frozen=True)
class Links:
    secret: str
    public_url: str

    def token(self, survey_id: int, expires_at: datetime) -> str:
        return make_token(self.secret, survey_id, expires_at, secrets.token_bytes(NONCE_BYTES))

    def url(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/s/{token}"


def send_until_done(
    sessions: Callable[[], Session], now: Callable[[], datetime], links: Links
) -> dict[str, int]:
    counts = {"sent": 0, "skipped": 0, "waiting": 0}
    while True:
        with sessions() as session:
            done = send_due(session, now(), links)
            session.commit()
        for key, value in done.items():
            counts[key] += value
        if sum(done.values()) < ROUND:
            return counts


def send_due(session: Session, now: datetime, links: Links) -> dict[str, int]:
    """One round: up to ROUND due surveys, each sent, skipped or put back to wait."""
    due = session.scalars(
        select(Survey)
        .where(Survey.due_at.is_not(None), Survey.due_at <= now)
        .order_by(Survey.due_at, Survey.id)
        .limit(ROUND)
        .with_for_update(skip_locked=True)
    ).all()
    counts = {"sent": 0, "skipped": 0, "waiting": 0}
    for survey in due:
        counts[send_one(session, survey, now, links)] += 1
    return counts


def send_one(session: Session, survey: Survey, now: datetime, links: Links) -> str:
    """Send one due survey; a follow-up's owner is reminded either way (domain/notices.py)."""
    ticket = session.get(Ticket, survey.ticket_id)
    if ticket is None:
        survey.due_at = None
        return "skipped"
    schedule(session, ticket, now)  # the case may have moved since: its due time again
    if survey.due_at is None or survey.due_at > now:
        return "waiting"
    survey.due_at = None
    outcome = _send(session, survey, ticket, now, links)
    if survey.purpose == "follow_up":
        events.record(session, ev.FollowUpDue(ticket.id, assignee_id=ticket.assignee_id,
                                              asked=outcome == "sent"))  # fmt: skip
    return outcome


def _send(session: Session, survey: Survey, ticket: Ticket, now: datetime, links: Links) -> str:
    setting = setting_for(session, survey.channel)
    if not survey.kinds or not setting.asks:
        survey.skipped = "channel_does_not_ask"
        return "skipped"
    survey.expires_at = setting.link_expires_at(now)
    url = links.url(links.token(survey.id, survey.expires_at))
    way = _way(session, survey, ticket, now)
    if way is None:
        survey.skipped = "no_way"
        return "skipped"
    if way == sv.AskVia.LINK and survey.channel != Channel.WEBCHAT:
        if not _mail(session, survey, ticket, url):
            survey.skipped = "no_address"
            return "skipped"
    else:
        _message(session, survey, ticket, url, now, inline=way == sv.AskVia.INLINE)
        if survey.outbox_id is None:
            survey.skipped = "no_target"
            return "skipped"
    survey.via = way.value
    survey.sent_at = now
    return "sent"


def _way(session: Session, survey: Survey, ticket: Ticket, now: datetime) -> sv.AskVia | None:
    if survey.channel == Channel.WECHAT:
        last = session.scalar(
            select(func.max(Message.created_at)).where(
                Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND.value
            )
        )
        way = sv.wechat_way(last, now, template_ready=False)
        return way if way == sv.AskVia.MESSAGE else None
    if survey.channel == Channel.EMAIL:
        return sv.AskVia.LINK
    if survey.channel == Channel.WEBCHAT:
        return sv.AskVia(survey.via or sv.AskVia.INLINE)
    return None  # SMS and social have no sender for surveys yet


def question_text(survey: Survey, url: str, language: str = "zh") -> str:
    kinds = [sv.SurveyKind(k) for k in survey.kinds]
    if language == "en":
        opening = (
            "We'd like to follow up on your case: is your problem solved?"
            if survey.purpose == "follow_up"
            else "Thank you for contacting us. Could you tell us how we did?"
        )
        asks = " ".join(sv.SCALES[k].question_en for k in kinds)
        return f"{opening}\n{asks}\n{url}"
    opening = (
        "我们来回访一下您反映的问题：问题解决了吗？"
        if survey.purpose == "follow_up"
        else "感谢您联系我们，请为这次服务打个分。"
    )
    asks = "".join(sv.SCALES[k].question_zh for k in kinds)
    return f"{opening}\n{asks}\n{url}"


def _mail(session: Session, survey: Survey, ticket: Ticket, url: str) -> bool:
    customer = session.get(Customer, ticket.customer_id)
    if customer is None or not customer.email:
        return False
    language = "en" if (customer.language or "").startswith("en") else "zh"
    subject = (
        f"How did we do? (case #{ticket.id})"
        if language == "en"
        else f"请评价我们的服务（工单 #{ticket.id}）"
    )
    entry = enqueue_mail_notice(session, to=[customer.email], subject=subject,
                                text=question_text(survey, url, language), ticket_id=ticket.id)  # fmt: skip
    survey.outbox_id = entry.id if entry is not None else None
    return entry is not None


def _message(
    session: Session, survey: Survey, ticket: Ticket, url: str, now: datetime, *, inline: bool
) -> None:
    """The survey as a message on the case, queued like an agent's reply."""
    text = question_text(survey, url)
    payload = None
    if inline:
        payload = {
            "kind": "survey",
            "survey": {
                "id": survey.id,
                "token": url.rsplit("/", 1)[-1],
                "follow_up": survey.purpose == "follow_up",
                "kinds": [
                    {
                        "kind": k,
                        "low": sv.SCALES[sv.SurveyKind(k)].low,
                        "high": sv.SCALES[sv.SurveyKind(k)].high,
                    }  # fmt: skip
                    for k in survey.kinds
                ],
            },
        }
    message = Message(
        ticket_id=ticket.id, channel=ticket.channel, direction=Direction.OUTBOUND.value,
        author_type=AuthorType.SYSTEM.value, body_text=text, body_html=text_to_html(text),
        bot_payload=payload, created_at=now,
    )  # fmt: skip
    session.add(message)
    session.flush()
    entry = outbox.enqueue_message(session, ticket, message)
    survey.message_id = message.id
    survey.outbox_id = entry.id if entry is not None else None
    events.record(
        session,
        ev.MessageAdded(ticket.id, message_id=message.id, direction=Direction.OUTBOUND.value),
    )
