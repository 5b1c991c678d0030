"""WeChat's 48-hour rule for customer-service messages (客服消息).

An Official Account may answer a follower freely until 48 hours after the follower's last
message; after that only a template message (模板消息) reaches them, or another channel of the
customer. Pure: the caller reads the last message's time and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FREE_REPLY_HOURS = 48
FREE_REPLY = timedelta(hours=FREE_REPLY_HOURS)


@dataclass(frozen=True)
class ReplyWindow:
    last_customer_message_at: datetime | None
    closes_at: datetime | None  # None: the customer never wrote (closed)
    open: bool
    remaining: timedelta  # zero once closed

    @property
    def remaining_hours_minutes(self) -> tuple[int, int]:
        """What is left, in whole hours and minutes (rounded down), as the composer shows it."""
        hours, minutes = divmod(int(self.remaining.total_seconds() // 60), 60)
        return hours, minutes


def reply_window(last_customer_message_at: datetime | None, now: datetime) -> ReplyWindow:
    """The window of free replies at ``now``: open until 48 h after the customer's last message."""
    if last_customer_message_at is None:
        return ReplyWindow(None, None, False, timedelta(0))
    closes_at = last_customer_message_at + FREE_REPLY
    remaining = max(closes_at - now, timedelta(0))
    return ReplyWindow(last_customer_message_at, closes_at, now < closes_at, remaining)
