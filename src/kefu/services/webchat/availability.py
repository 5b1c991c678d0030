"""Whether anyone answers the chat now, and what the visitor is told about the wait.

Someone answers when an agent of the channel's group is online (在线) and it is within the
group's working hours. Otherwise the widget says so, gives the expected response time and offers
the leave-a-message form (services/webchat/offline.py). A visitor whose chat waits for an agent
also gets their place in the queue and the expected wait (services/webchat/offers.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.domain.business_calendar import BusinessCalendar, NoWorkingTime
from kefu.domain.chat_offers import AgentStatus
from kefu.services.cases.routing import in_business_hours
from kefu.services.sla.clocks import calendar_of
from kefu.services.webchat import offers
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


def availability(
    session: Session,
    channel: ChannelInfo,
    now: datetime,
    rules: offers.OfferRules,
    chat: Ticket | None = None,
) -> Availability:
    """For the channel, and for the visitor's waiting ``chat`` if they have one."""
    calendar = calendar_of(offers.group_of(session, channel.group_id))
    in_hours = in_business_hours(calendar, now)
    anyone = any(
        s.status == AgentStatus.ONLINE for s in offers.seats(session, channel.group_id, rules.cap)
    )
    english = channel.language == "en"
    if not (anyone and in_hours):
        opening = None if in_hours else _next_opening(calendar, now)
        return Availability(False, expected_response=_offline_text(opening, calendar, english))
    place = offers.queue_place(session, chat, rules) if chat is not None else None
    if place is None:
        return Availability(True, expected_response=_online_text(None, english))
    return Availability(
        True, place.position, place.expected_wait, _online_text(place.expected_wait, english)
    )


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
