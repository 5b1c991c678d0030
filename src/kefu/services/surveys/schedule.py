"""When a case's survey or follow-up falls due: the row written in the transaction that moves the
case (``services/cases/loop.write_state`` calls ``on_case_written``), its due time derived
from the case's stored facts by domain/surveys.py. An unsent survey follows the case: resolved
again after a reopen, its due time is worked out again; reopened, it waits (no due time)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, object_session

from kefu.db.models import Survey, Tag, Ticket, customer_tags
from kefu.domain import surveys as sv
from kefu.domain.case_file import case_of
from kefu.domain.case_loop import CasePath
from kefu.services.automations import timing
from kefu.services.surveys.config import setting_for

FOLLOW_UP = "follow_up"
SURVEY = "survey"


def is_vip(session: Session, customer_id: int) -> bool:
    """A customer tagged VIP (the tags the script suggestions treat so)."""
    from kefu.services.scripts.suggest import VIP_TAGS  # it imports the case services

    return bool(
        session.scalar(
            select(
                exists().where(
                    customer_tags.c.customer_id == customer_id,
                    customer_tags.c.tag_id == Tag.id,
                    Tag.name.in_(VIP_TAGS),
                )
            )
        )
    )


def on_case_written(ticket: Ticket, now: datetime) -> None:
    """Keep the case's unsent survey in line with its stage (caller: the one writer of a case's
    status). Cheap when nothing is owed: no query unless the case is or was resolved."""
    session = object_session(ticket)
    if session is None or ticket.id is None:
        return
    if ticket.resolved_at is None and not ticket.reopen_count:
        return  # never resolved: no survey row can exist yet
    with session.no_autoflush:
        schedule(session, ticket, now)


def schedule(session: Session, ticket: Ticket, now: datetime) -> Survey | None:
    """Write or update the case's survey row; returns it (None when none is owed and none
    exists). A sent or answered survey is left as it is: one per case."""
    survey = session.scalar(select(Survey).where(Survey.ticket_id == ticket.id))
    if survey is not None and (survey.sent_at is not None or survey.answered_at is not None):
        return survey
    case = case_of(ticket)
    setting = setting_for(session, ticket.channel)
    policy = timing.current(session).feedback()  # the team's timing, as admins set it
    vip = policy.vip_follow_up and is_vip(session, ticket.customer_id)
    facts = sv.SurveyFacts.of(case, customer_vip=vip)
    due = sv.survey_due(facts, policy, setting)
    follow_up = sv.follow_up_due(facts, policy)
    if due is None and follow_up is None:
        if survey is not None:
            survey.due_at = None  # reopened before it went out: it waits for the next solution
        return survey
    purpose = FOLLOW_UP if case.path == CasePath.COMPLAINT or follow_up is not None else SURVEY
    if survey is None:
        survey = Survey(ticket_id=ticket.id, customer_id=ticket.customer_id, comment="",
                        created_at=now)  # fmt: skip
        session.add(survey)
    survey.channel = ticket.channel
    survey.purpose = purpose
    survey.kinds = [k.value for k in setting.kinds] if setting.asks else []
    survey.via = setting.via.value if setting.asks and setting.via else None
    survey.due_at = due or follow_up
    survey.skipped = None
    return survey
