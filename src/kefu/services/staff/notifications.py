"""A staff member's notices: SLA warnings and breaches, crises routed to their group, approvals
asked of them, customers answering a follow-up. Each user sees and marks only their own."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Notification
from kefu.errors import KefuError, NotFound
from kefu.services.actors import Actor
from kefu.services.infra.pagination import decode_cursor, encode_cursor


def _owner(actor: Actor) -> int:
    if actor.user_id is None:
        raise KefuError("forbidden", status_code=403)
    return actor.user_id


def list_mine(
    session: Session,
    actor: Actor,
    *,
    unread: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[Notification], str | None, int]:
    """Newest first; returns the page, the next cursor and how many are unread in all."""
    user_id = _owner(actor)
    query = select(Notification).where(Notification.user_id == user_id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    unread_count = (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor, int(unread_count)


def mark_read(session: Session, actor: Actor, notification_id: int) -> Notification:
    notice = session.get(Notification, notification_id)
    if notice is None or notice.user_id != _owner(actor):
        raise NotFound("notification")
    if notice.read_at is None:
        notice.read_at = utcnow()
        session.flush()
    return notice


def mark_all_read(session: Session, actor: Actor) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == _owner(actor), Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
