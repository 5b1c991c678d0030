"""Agent scorecards (坐席记分卡): each agent's efficiency, quality and outcome figures from the
KPI table sliced by agent (the same figures, the same pre-aggregation, as every other KPI view),
scored against the targets by the domain's composite (domain/kpi/scorecard.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import User
from kefu.domain.kpi.metrics import Figure, Metric
from kefu.domain.kpi.scorecard import Scorecard, scorecard
from kefu.domain.kpi.slices import Dimension
from kefu.services.actors import Actor
from kefu.services.analytics.facts import NO_FILTERS, Filters
from kefu.services.analytics.kpis import kpi_table
from kefu.services.analytics.targets import current_targets


@dataclass(frozen=True)
class AgentScorecard:
    agent_id: int
    name: str
    cases: int  # cases of the period assigned to the agent
    figures: dict[Metric, Figure]
    card: Scorecard


def agent_scorecards(
    session: Session, actor: Actor, start: datetime, end: datetime, filters: Filters = NO_FILTERS
) -> list[AgentScorecard]:
    """One scorecard per agent with a case in the period, the best composite first (agents
    without any figure last); unassigned cases are nobody's. Supervisors and admins only."""
    rows = kpi_table(session, actor, start=start, end=end, by=(Dimension.AGENT,), filters=filters)
    targets = current_targets(session)
    ids = [r.values[Dimension.AGENT.value] for r in rows]
    known = [i for i in ids if isinstance(i, int)]
    names: dict[int, str] = {
        i: n for i, n in session.execute(select(User.id, User.name).where(User.id.in_(known)))
    }
    cards = []
    for row in rows:
        agent_id = row.values[Dimension.AGENT.value]
        if not isinstance(agent_id, int):
            continue
        figures = {cell.metric: cell.figure for cell in row.cells}
        cards.append(
            AgentScorecard(
                agent_id=agent_id,
                name=names.get(agent_id, f"#{agent_id}"),
                cases=figures[Metric.RESOLUTION_RATE].denominator,
                figures=figures,
                card=scorecard(figures, targets),
            )
        )
    cards.sort(key=lambda c: (c.card.composite is None, -(c.card.composite or 0), c.name))
    return cards
