"""The followers of WeChat accounts: an openid per account, whether it follows (关注) now, when
it last wrote, its customer once known; and where a reply to a customer goes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.models import Identity, WechatFollower
from kefu.domain.tickets import Channel


def note_follower(
    session: Session,
    account_id: int,
    openid: str,
    now: datetime,
    *,
    subscribed: bool | None = None,
    customer_id: int | None = None,
) -> WechatFollower:
    """The follower row, made if new, seen ``now``; ``subscribed`` records a (un)subscribe."""
    follower = _follower(session, account_id, openid)
    if follower is None:
        try:
            with session.begin_nested():
                follower = WechatFollower(account_id=account_id, openid=openid, last_seen_at=now)
                session.add(follower)
        except IntegrityError:  # the same follower's other callback made it meanwhile
            follower = _follower(session, account_id, openid)
            assert follower is not None
    follower.last_seen_at = max(follower.last_seen_at, now) if follower.last_seen_at else now
    if customer_id is None:
        customer_id = session.scalar(
            select(Identity.customer_id).where(
                Identity.channel == Channel.WECHAT.value, Identity.external_id == openid
            )
        )
    if customer_id is not None:
        follower.customer_id = customer_id
    if subscribed is True:
        follower.subscribed, follower.subscribed_at = True, now
    elif subscribed is False:
        follower.subscribed, follower.unsubscribed_at = False, now
    session.flush()
    return follower


def _follower(session: Session, account_id: int, openid: str) -> WechatFollower | None:
    return session.scalar(
        select(WechatFollower)
        .where(WechatFollower.account_id == account_id, WechatFollower.openid == openid)
        .with_for_update()
    )


def reply_target(session: Session, customer_id: int) -> dict[str, Any] | None:
    """Where a WeChat reply to the customer goes: the account and openid they last wrote from
    (None: the customer has no WeChat follower)."""
    row = session.execute(
        select(WechatFollower.account_id, WechatFollower.openid)
        .join(
            Identity,
            (Identity.external_id == WechatFollower.openid)
            & (Identity.channel == Channel.WECHAT.value),
        )
        .where(Identity.customer_id == customer_id)
        .order_by(WechatFollower.last_seen_at.desc(), WechatFollower.id.desc())
        .limit(1)
    ).first()
    return {"account_id": row.account_id, "openid": row.openid} if row is not None else None
