"""Whether anyone answers the chat now, and what the visitor is told about the wait.

Someone answers when an agent of the channel's group is online (在线) and it is within the
group's working hours. Otherwise the widget says so, gives the expected response time and offers
the leave-a-message form (services/webchat/offline.py). A visitor whose chat waits for an agent
also gets their place in the queue and the expected wait (services/webchat/offers.py).

Everything here but the visitor's own chat is the same for every widget of a channel, so it is
looked up once as a ``ChannelQueue`` (who answers, the agents' seats, the waiting chats in
order) and each widget's answer is worked out from it in memory (``ChannelQueue.answer``):
thousands of open widgets cost one lookup per refresh, not one each (realtime/chat_runtime.py).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.domain import chat_offers
from kefu.domain.business_calendar import BusinessCalendar, NoWorkingTime
from kefu.domain.chat_offers import AgentSeat, AgentStatus
from kefu.services.cases.routing import in_business_hours
from kefu.services.sla.clocks import calendar_of
from kefu.services.webchat import conversation, offers
from kefu.services.webchat.channels import ChannelInfo


@dataclass(frozen=True)
class Availability:
    online: bool
    queue_position: int | None = None
    expected_wait: timedelta | None = None
    expected_response: str = ""

    def to_json(self) -> dict[str, Any]:
        wait = self.expected_wait
        return {
            "online": self.online,
            "queue_position": self.queue_position,
            "expected_wait_seconds": math.ceil(wait.total_seconds()) if wait is not None else None,
            "expected_response": self.expected_response,
        }


@dataclass(frozen=True)
class ChannelQueue:
    """What every widget of one channel is told, as of one lookup."""

    answering: bool  # an agent of the group is online, within its working hours
    offline_text: str  # what a widget says when nobody answers
    seats: tuple[AgentSeat, ...]
    average_chat: timedelta
    waiting: tuple[int, ...]  # the group's waiting chats, oldest (lowest id) first
    english: bool

    def answer(self, waiting_chat: int | None = None) -> Availability:
        """For a visitor whose chat ``waiting_chat`` waits for an agent (None: no such chat).

        Its place counts the chats that waited before it, so a chat newer than the lookup gets
        its right place too."""
        if not self.answering:
            return Availability(False, expected_response=self.offline_text)
        if waiting_chat is None:
            return Availability(True, expected_response=_online_text(None, self.english))
        position = bisect_left(self.waiting, waiting_chat) + 1
        view = chat_offers.queue_view(position, self.seats, self.average_chat)
        return Availability(
            True, view.position, view.expected_wait, _online_text(view.expected_wait, self.english)
        )

    def holds(self, chat_id: int) -> bool:
        """Whether ``chat_id`` was waiting at the lookup."""
        at = bisect_left(self.waiting, chat_id)
        return at < len(self.waiting) and self.waiting[at] == chat_id


def channel_queue(
    session: Session, channel: ChannelInfo, now: datetime, rules: offers.OfferRules
) -> ChannelQueue:
    calendar = calendar_of(offers.group_of(session, channel.group_id))
    in_hours = in_business_hours(calendar, now)
    seats = tuple(offers.seats(session, channel.group_id, rules.cap))
    answering = in_hours and any(s.status == AgentStatus.ONLINE for s in seats)
    english = channel.language == "en"
    if not answering:
        opening = None if in_hours else _next_opening(calendar, now)
        return ChannelQueue(False, _offline_text(opening, calendar, english), seats,
                            offers.DEFAULT_AVERAGE_CHAT, (), english)  # fmt: skip
    return ChannelQueue(
        True, "", seats, offers.average_chat(session, channel.group_id),
        _waiting_chats(session, channel.group_id), english,
    )  # fmt: skip


def availability(
    session: Session,
    channel: ChannelInfo,
    now: datetime,
    rules: offers.OfferRules,
    chat: Ticket | None = None,
) -> Availability:
    """For the channel, and for the visitor's waiting ``chat`` if they have one."""
    queue = channel_queue(session, channel, now, rules)
    waiting = chat is not None and conversation.waiting_in_queue(chat)
    return queue.answer(chat.id if chat is not None and waiting else None)


def _waiting_chats(session: Session, group_id: int | None) -> tuple[int, ...]:
    """The waiting chats' ids, oldest first: thousands of plain integers, read without the ORM's
    per-row bookkeeping."""
    query = select(Ticket.id).where(offers.waiting(), offers.same_group(group_id))
    return tuple(row[0] for row in session.connection().execute(query.order_by(Ticket.id)))


def _next_opening(calendar: BusinessCalendar, now: datetime) -> datetime | None:
    try:
        return calendar.add(now, timedelta(seconds=1)) - timedelta(seconds=1)
    except NoWorkingTime:
        return None


def _online_text(wait: timedelta | None, english: bool) -> str:
    if wait is None or wait <= timedelta(0):
        return "An agent will answer in a moment" if english else "客服马上为您服务"
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if english:
        return f"An agent will answer in about {minutes} min"
    return f"预计等待约 {minutes} 分钟"


def _offline_text(opening: datetime | None, calendar: BusinessCalendar, english: bool) -> str:
    if opening is None:
        if english:
            return "No agent is online right now; leave a message and we will answer soon"
        return "客服暂时不在线，请留言，我们会尽快回复您"
    local = opening.astimezone(ZoneInfo(calendar.timezone))
    if english:
        return (
            f"We are closed now; we will answer from {local:%Y-%m-%d %H:%M} ({calendar.timezone})"
        )
    return f"现在是非工作时间，客服将于 {local:%m月%d日 %H:%M} 起为您回复，请留下联系方式"
