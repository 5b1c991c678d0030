"""A staff member's own browser sessions — the list on the account page, ending one of them —
and an admin ending every session of someone else (a lost laptop, a person leaving a shift on a
shared computer). Each end is audited and closes the sockets of the sessions it ends
(realtime/credentials.py checks them again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import LoginSession, User
from kefu.domain.sign_ins import describe_browser, mask_address
from kefu.errors import NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.staff import auth


@dataclass(frozen=True)
class SessionView:
    """One live session as its owner sees it: never its cookie, its full address or agent."""

    id: int
    browser: str  # "" when the User-Agent says nothing known
    address: str  # partly masked; "" when unknown
    signed_in_at: datetime
    last_used_at: datetime
    current: bool  # the session this request came with


def live_sessions(
    session: Session, user_id: int, *, idle_minutes: int | None, now: datetime | None = None
) -> list[LoginSession]:
    """The user's sessions that still sign in: not ended, not expired, not idle too long;
    the most recently used first."""
    now = now or utcnow()
    query = select(LoginSession).where(
        LoginSession.user_id == user_id,
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > now,
    )
    if idle_minutes is not None:
        since = now - timedelta(minutes=idle_minutes)
        query = query.where(
            or_(
                LoginSession.last_used_at > since,
                LoginSession.last_used_at.is_(None) & (LoginSession.created_at > since),
            )
        )
    rows = list(session.scalars(query))
    return sorted(rows, key=lambda row: (auth.last_use(row), row.id), reverse=True)


def my_sessions(
    session: Session, actor: Actor, *, current_id: int | None, idle_minutes: int | None
) -> list[SessionView]:
    """The caller's live sessions, ``current_id`` marked as this one."""
    if actor.user_id is None:
        raise PermissionDenied()
    return [
        SessionView(
            id=row.id,
            browser=describe_browser(row.user_agent),
            address=mask_address(row.ip),
            signed_in_at=row.created_at,
            last_used_at=auth.last_use(row),
            current=row.id == current_id,
        )
        for row in live_sessions(session, actor.user_id, idle_minutes=idle_minutes)
    ]


def access_my_session(session: Session, actor: Actor, session_id: int) -> LoginSession:
    """One session of the caller's own, still live; anyone else's (or an ended one) is 404."""
    row = session.get(LoginSession, session_id)
    if row is None or row.user_id != actor.user_id or row.revoked_at is not None:
        raise NotFound("session")
    return row


def do_end_my_session(session: Session, actor: Actor, row: LoginSession) -> None:
    """End one session of the caller's own (another browser, or this one: then it is a
    sign-out). Its socket closes; the others go on."""
    if row.user_id != actor.user_id:
        raise NotFound("session")
    row.revoked_at = utcnow()
    audit.record(session, actor, "auth.session_end", object_type="user", object_id=row.user_id,
                 after={"session_id": row.id})  # fmt: skip
    auth.note_access_changed(session, row.user_id, reason="signed_out")


def do_end_sessions_of(session: Session, actor: Actor, user: User) -> dict[str, int]:
    """An admin ends every browser session of ``user`` (their password stays; API tokens
    stay, revoked one by one under 令牌): they are signed out everywhere, their sockets close.
    Audited as ``user.sessions_ended``."""
    if not actor.is_admin:
        raise PermissionDenied()
    return auth.end_browser_sessions(session, actor, user, action="user.sessions_ended")
