"""Each agent's norm score over time: the replies checked when sent, by day or by week.

Agents see their own; supervisors and admins anyone's (``agent_id``). Periods are UTC days or
ISO weeks (starting Monday). The rows are read once (bounded by ``MAX_DAYS``) and grouped
here, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Message, User
from kefu.domain.roles import Role
from kefu.domain.tickets import Direction
from kefu.errors import KefuError, NotFound, PermissionDenied
from kefu.services.actors import Actor

MAX_DAYS = 366
PERIODS = ("day", "week")


@dataclass
class Period:
    start: date
    replies: int = 0
    score_sum: int = 0
    overrides: int = 0
    findings: Counter[str] = field(default_factory=Counter)

    @property
    def average(self) -> float:
        return round(self.score_sum / self.replies, 2) if self.replies else 0.0


def norm_scores(
    session: Session,
    actor: Actor,
    *,
    agent_id: int | None,
    since: date,
    until: date,
    by: str = "day",
) -> list[Period]:
    """The periods from ``since`` to ``until`` (inclusive, UTC) with replies by the agent."""
    if by not in PERIODS:
        raise KefuError("validation_error", status_code=422, details={"field": "by"})
    if until < since or (until - since).days >= MAX_DAYS:
        raise KefuError("validation_error", status_code=422, details={"field": "since"})
    agent = _visible_agent(session, actor, agent_id)
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
    rows = session.execute(
        select(
            Message.created_at,
            Message.norm_score,
            Message.norm_rules,
            Message.norm_override_reason,
        ).where(
            Message.author_user_id == agent,
            Message.norm_score.is_not(None),
            Message.direction == Direction.OUTBOUND.value,
            Message.created_at >= start,
            Message.created_at < end,
        )
    ).all()
    periods: dict[date, Period] = defaultdict(lambda: Period(start=date.min))
    for created_at, score, rules, override in rows:
        key = _period_start(created_at, by)
        period = periods[key]
        period.start = key
        period.replies += 1
        period.score_sum += score or 0
        period.overrides += override is not None
        period.findings.update(rules or [])
    return [periods[k] for k in sorted(periods)]


def _period_start(moment: datetime, by: str) -> date:
    day = moment.astimezone(UTC).date() if moment.tzinfo else moment.date()
    return day - timedelta(days=day.weekday()) if by == "week" else day


def _visible_agent(session: Session, actor: Actor, agent_id: int | None) -> int:
    """The agent whose scores the actor may read: themself, or anyone for managers."""
    if actor.user_id is None:
        raise PermissionDenied()
    if agent_id is None or agent_id == actor.user_id:
        return actor.user_id
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDenied()
    if session.get(User, agent_id) is None:
        raise NotFound("user")
    return agent_id
