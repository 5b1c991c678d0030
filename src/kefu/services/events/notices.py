"""Writing the notices that domain events make (who and what: ``domain/notices.py``)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Notification, User
from kefu.domain import events as ev
from kefu.domain.notices import Audience, Lookup, Notice, lookups_for, notices_for
from kefu.domain.roles import Role
from kefu.services.events import unit_of_work as events
from kefu.services.staff.directory import supervisors_of


def audience_of(session: Session, event: ev.Event) -> Audience:
    """Look up only what ``notices_for`` needs for this event."""
    needed = lookups_for(event)
    group_id = getattr(event, "group_id", None)
    return Audience(
        assignee_id=getattr(event, "assignee_id", None),
        supervisors=tuple(supervisors_of(session, group_id))
        if Lookup.SUPERVISORS in needed
        else (),
        group_supervisors=tuple(supervisors_of(session, group_id, fall_back_to_all=False))
        if Lookup.GROUP_SUPERVISORS in needed
        else (),
        admins=tuple(_admins(session)) if Lookup.ADMINS in needed else (),
    )


def _admins(session: Session) -> list[int]:
    query = select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    return list(session.scalars(query.order_by(User.id)))


def write_for(session: Session, recorded: Iterable[ev.Event]) -> list[Notification]:
    """The notices of these events, as rows; each is told as ``NoticeCreated`` after commit."""
    made = [n for e in recorded for n in notices_for(e, audience_of(session, e))]
    return write(session, made)


def write(session: Session, made: list[Notice]) -> list[Notification]:
    rows = [
        Notification(user_id=n.user_id, ticket_id=n.ticket_id, kind=n.kind, body=n.body)
        for n in made
    ]
    if not rows:
        return rows
    session.add_all(rows)
    session.flush()
    events.record(
        session,
        *(
            ev.NoticeCreated(r.ticket_id, notification_id=r.id, user_id=r.user_id, kind=r.kind)
            for r in rows
        ),
        notify=False,
    )
    return rows
