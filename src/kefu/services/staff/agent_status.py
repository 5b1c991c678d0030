"""Agents' live-chat status (在线 / 忙碌 / 小休 / 离线) and the time spent in each.

Every change closes the agent's open period and opens one in the new status, so the time in
each status is a sum over ``agent_status_periods`` (``status_seconds``). The status also sets
presence (services/staff/presence.py): only 在线 takes new cases, so an agent on a break gets
neither routed cases nor chat offers. Staff set their own status; supervisors and admins may
set anyone's. A change is told to staff as ``PresenceChanged``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from kefu.db.models import AgentStatusPeriod, User
from kefu.domain import events as ev
from kefu.domain.chat_offers import AgentStatus
from kefu.domain.roles import manages_presence
from kefu.errors import PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.events import unit_of_work as events
from kefu.services.staff import presence


def do_set_status(
    session: Session, actor: Actor, user: User, status: AgentStatus, now: datetime
) -> User:
    if actor.user_id != user.id and not (actor.is_system or manages_presence(actor.role)):
        raise PermissionDenied()
    before = user.status
    if before == status.value:
        return user
    session.execute(
        update(AgentStatusPeriod)
        .where(AgentStatusPeriod.user_id == user.id, AgentStatusPeriod.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    session.add(AgentStatusPeriod(user_id=user.id, status=status.value, started_at=now))
    user.status, user.status_since = status.value, now
    presence.do_set_presence(session, actor, user, online=status == AgentStatus.ONLINE)
    audit.record(
        session, actor, "user.status", object_type="user", object_id=user.id,
        before={"status": before}, after={"status": status.value},
    )  # fmt: skip
    events.record(session, ev.PresenceChanged(None, user_id=user.id, status=status.value))
    return user


def status_seconds(
    session: Session, user_id: int, since: datetime, until: datetime
) -> dict[str, int]:
    """Seconds spent in each status within [since, until); an open period counts up to until."""
    totals = {s.value: 0 for s in AgentStatus}
    periods = session.scalars(
        select(AgentStatusPeriod).where(
            AgentStatusPeriod.user_id == user_id,
            AgentStatusPeriod.started_at < until,
            or_(AgentStatusPeriod.ended_at.is_(None), AgentStatusPeriod.ended_at > since),
        )
    )
    for period in periods:
        start = max(period.started_at, since)
        end = min(period.ended_at or until, until)
        if end > start and period.status in totals:
            totals[period.status] += int((end - start) / timedelta(seconds=1))
    return totals
