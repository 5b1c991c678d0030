"""Script effectiveness (话术效果追踪) over a period: the cases opened in it, the scripts used on
them (``script_uses``), and the domain's matched comparison (domain/script_effectiveness.py).

A case's category is its analysed category ("" when none); first-contact resolution is resolved
with no reopen (``CaseFacts.contacts == 1``); CSAT comes from the survey facts.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Script, ScriptUse
from kefu.domain import script_effectiveness as se
from kefu.domain.kpi.facts import SurveyKind
from kefu.services.actors import Actor
from kefu.services.analytics.facts import NO_FILTERS, Filters, period_facts, ticket_ids_query
from kefu.services.analytics.targets import check_reader


def script_effectiveness(
    session: Session,
    actor: Actor,
    *,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    min_uses: int = se.MIN_USES,
) -> list[dict[str, Any]]:
    """Every script used on the period's cases, best first, with its title and figures."""
    check_reader(actor)
    facts = period_facts(session, start=start, end=end, filters=filters)
    csat = {
        s.ticket_id: s.score
        for s in facts.surveys
        if s.kind == SurveyKind.CSAT and s.score is not None
    }
    outcomes = [
        se.TicketOutcome(
            ticket_id=c.ticket_id,
            category=c.category or "",
            priority=c.priority,
            resolved=c.resolved,
            first_contact_resolved=c.resolved and c.contacts == 1,
            csat=csat.get(c.ticket_id),
        )
        for c in facts.cases
    ]
    ids = ticket_ids_query(start, end, filters)
    uses = [
        se.ScriptUse(script_id, ticket_id)
        for script_id, ticket_id in session.execute(
            select(ScriptUse.script_id, ScriptUse.ticket_id).where(ScriptUse.ticket_id.in_(ids))
        )
    ]
    effects = se.effectiveness(outcomes, uses, min_uses=min_uses)
    titles = dict(
        session.execute(
            select(Script.id, Script.title).where(Script.id.in_({e.script_id for e in effects}))
        ).all()
    )
    return [
        dataclasses.asdict(e) | {"title": titles.get(e.script_id, ""), "weak": e.weak}
        for e in effects
    ]
