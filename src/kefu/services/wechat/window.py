"""The 48-hour window of a WeChat reply (domain/wechat_window.py) for a case's customer, and the
check the reply path makes before a free reply goes out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import Message, Ticket, WechatAccount
from kefu.domain.tickets import Channel, Direction
from kefu.domain.wechat_window import ReplyWindow, reply_window
from kefu.errors import KefuError
from kefu.services.wechat.followers import reply_target


def window_of(session: Session, customer_id: int, now: datetime) -> ReplyWindow:
    """The customer's window: from their last WeChat message, on any of their cases."""
    last = session.scalar(
        select(func.max(Message.created_at))
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Ticket.customer_id == customer_id,
            Message.channel == Channel.WECHAT.value,
            Message.direction == Direction.INBOUND.value,
        )
    )
    return reply_window(last, now)


def template_ready(session: Session, customer_id: int) -> bool:
    """Whether the account the customer follows has a template message to send past the window."""
    target = reply_target(session, customer_id)
    if target is None:
        return False
    account = session.get(WechatAccount, target["account_id"])
    return account is not None and bool(account.template_id)


def check_reply(session: Session, customer_id: int, now: datetime, *, template: bool) -> None:
    """Refuse a free reply past the window (422 ``wechat_window_closed``), and a template
    message the account cannot send (422 ``wechat_template_missing``)."""
    if template:
        if not template_ready(session, customer_id):
            raise KefuError(
                "wechat_template_missing", status_code=422, details={"field": "channel"}
            )
        return
    window = window_of(session, customer_id, now)
    if not window.open:
        raise KefuError(
            "wechat_window_closed",
            status_code=422,
            closed_at=window.closes_at.isoformat() if window.closes_at else None,
            details={
                "field": "channel",
                "template_available": template_ready(session, customer_id),
            },
        )


@dataclass(frozen=True)
class ComposerNote:
    """What the composer says about WeChat on a case whose customer is on it."""

    window: ReplyWindow
    template_ready: bool
    other_channels: tuple[str, ...]  # the customer's other channels, for a reply past the window


def composer_note(
    session: Session, ticket: Ticket, reply_channels: Sequence[str], now: datetime
) -> ComposerNote | None:
    """None unless a reply on the case may go by WeChat."""
    if Channel.WECHAT.value not in reply_channels:
        return None
    others = tuple(c for c in reply_channels if c != Channel.WECHAT.value)
    return ComposerNote(
        window_of(session, ticket.customer_id, now),
        template_ready(session, ticket.customer_id),
        others,
    )
