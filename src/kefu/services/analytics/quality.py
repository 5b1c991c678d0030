"""The quality review's figures for the dashboard (质检), beside efficiency and satisfaction: the
reviews of the cases resolved in the period (each case's newest review; a supervisor's verdicts
where they judged it), their average score, the critical failures, the criteria most often
missed, and per agent the same."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import QaReview, Ticket, User
from kefu.domain.kpi.slices import Period, period_of
from kefu.errors import PermissionDenied
from kefu.services.actors import Actor
from kefu.services.analytics.facts import NO_FILTERS, Filters
from kefu.services.qa.reviewing import superseded


@dataclass(frozen=True)
class AgentQuality:
    agent_id: int
    name: str
    reviews: int
    average: float | None
    critical: int


@dataclass(frozen=True)
class Quality:
    reviews: int = 0
    average: float | None = None
    critical: int = 0  # reviews with a failed critical criterion
    missed: list[tuple[str, int]] = field(default_factory=list)  # most often first
    agents: list[AgentQuality] = field(default_factory=list)


def _average(totals: list[float]) -> float | None:
    return round(sum(totals) / len(totals), 1) if totals else None


def _reviews(session: Session, start: datetime, end: datetime, filters: Filters) -> Any:
    query = (
        select(QaReview, User.name)
        .join(Ticket, Ticket.id == QaReview.ticket_id)
        .outerjoin(User, User.id == QaReview.agent_id)
        .where(QaReview.resolved_at >= start, QaReview.resolved_at < end, ~superseded(QaReview))
    )
    if filters.group_id is not None:
        query = query.where(QaReview.group_id == filters.group_id)
    if filters.channel is not None:
        query = query.where(Ticket.channel == filters.channel)
    if filters.agent_id is not None:
        query = query.where(QaReview.agent_id == filters.agent_id)
    return query


def by_period(
    session: Session, start: datetime, end: datetime, filters: Filters, period: Period,
    tz: ZoneInfo,
) -> dict[str, float]:  # fmt: skip
    """The average score of the reviews per day or week of their resolution (QA over time)."""
    totals: dict[str, list[float]] = {}
    for review, _ in session.execute(_reviews(session, start, end, filters)):
        if review.total is not None and review.resolved_at is not None:
            totals.setdefault(period_of(review.resolved_at, period, tz), []).append(review.total)
    return {label: round(sum(v) / len(v), 1) for label, v in totals.items()}


def for_agent(
    session: Session, actor: Actor, agent_id: int, *, start: datetime, end: datetime
) -> Quality:
    """One agent's figures for the cases resolved in ``[start, end)``, counted as the dashboard
    counts them (supervisors see anyone's, an agent their own)."""
    if not actor.sees_all_tickets and actor.user_id != agent_id:
        raise PermissionDenied()
    return quality(session, start, end, Filters(agent_id=agent_id))


def quality(
    session: Session, start: datetime, end: datetime, filters: Filters = NO_FILTERS
) -> Quality:
    rows = session.execute(_reviews(session, start, end, filters)).all()
    if not rows:
        return Quality()
    missed: Counter[str] = Counter()
    per_agent: dict[int, list[QaReview]] = {}
    names: dict[int, str] = {}
    for review, name in rows:
        for result in review.results:
            if result.get("reviewed", result["verdict"]) == "fail":
                missed[result["criterion"]] += 1
        if review.agent_id is not None:
            per_agent.setdefault(review.agent_id, []).append(review)
            names[review.agent_id] = name or ""
    reviews = [review for review, _ in rows]
    agents = [
        AgentQuality(
            agent_id,
            names[agent_id],
            len(listed),
            _average([r.total for r in listed if r.total is not None]),
            sum(1 for r in listed if r.failed_critical),
        )  # fmt: skip
        for agent_id, listed in per_agent.items()
    ]
    return Quality(
        reviews=len(reviews),
        average=_average([r.total for r in reviews if r.total is not None]),
        critical=sum(1 for r in reviews if r.failed_critical),
        missed=sorted(missed.items(), key=lambda kv: (-kv[1], kv[0])),
        agents=sorted(agents, key=lambda a: (a.average is None, a.average or 0, a.name)),
    )
