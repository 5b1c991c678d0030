"""The survey questions of a set of cases as the KPI engine reads them (domain/kpi/facts.py
``SurveyFacts``): one per kind a sent survey asked, its score once answered. A survey that never
went out (not due yet, skipped) asked nothing and counts in no response rate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kefu.db.models import Survey
from kefu.domain.kpi.facts import SurveyFacts, SurveyKind


def survey_facts(session: Session, ids: Select[Any]) -> list[SurveyFacts]:
    """The questions asked of the cases whose ids ``ids`` selects, in ticket order."""
    rows = session.execute(
        select(
            Survey.ticket_id, Survey.kinds, Survey.csat, Survey.nps, Survey.ces, Survey.answered_at
        )  # fmt: skip
        .where(Survey.ticket_id.in_(ids), Survey.sent_at.is_not(None))
        .order_by(Survey.ticket_id)
    )
    facts = []
    for row in rows:
        scores = {"csat": row.csat, "nps": row.nps, "ces": row.ces}
        for kind in row.kinds or ():
            score = scores.get(kind)
            answered = row.answered_at if score is not None else None
            facts.append(SurveyFacts(row.ticket_id, SurveyKind(kind), score, answered))
    return facts
