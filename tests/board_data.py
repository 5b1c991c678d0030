"""A small team and its cases for the supervisor board's tests (services and pages): two groups
working around the clock, cases of every kind the board counts, and the SLA sweep run over them
so the deadlines and warnings are the sweep's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import Group, Ticket, User
from kefu.domain.chat_offers import AgentStatus
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.sla import clocks as sla
from kefu.services.staff import agent_status
from tests import factories

ALWAYS_OPEN = {"always_open": True}
HOSTILE = '<img src=x onerror="alert(1)">刘<script>alert(2)</script>'


@dataclass
class Board:
    after_sales: Group  # 售后组
    complaints: Group  # 投诉组
    supervisor: User
    agent: User  # 售后组, online
    hostile: User  # 售后组, a hostile name
    specialist: User  # 投诉组
    crisis: Ticket  # 售后组, P1, assigned to ``agent``
    at_risk: Ticket  # 售后组, email opened 20 h ago: its first response warned of
    breached: Ticket  # 售后组, email opened 25 h ago: its first response missed
    chat: Ticket  # 售后组, a web chat waiting for an agent
    live_chat: Ticket  # 售后组, a web chat ``agent`` has
    complaint: Ticket  # 投诉组, assigned to ``specialist``
    unrouted: Ticket  # no group yet
    resolved: Ticket  # 售后组, resolved: counted nowhere


def opened_ago(db: Session, ticket: Ticket, age: timedelta, now: datetime) -> None:
    """Let a case have been opened ``age`` ago, its customer waiting since (the sweep looks at it
    on its next run)."""
    db.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(created_at=now - age, awaiting_reply_since=now - age, sla_check_at=now)
    )
    db.commit()


def fresh(db: Session) -> None:
    """Let ``db`` read what the server committed since: no snapshot, nothing remembered."""
    db.rollback()
    db.expire_all()


def sweep(engine: Engine, now: datetime) -> sla.SweepReport:
    factory = make_session_factory(writer_bind(engine))
    return sla.sweep_until_done(factory, lambda: now)


def arrange(db: Session, engine: Engine) -> Board:
    after_sales = factories.make_group(db, "售后组", calendar=ALWAYS_OPEN)
    complaints = factories.make_group(db, "投诉组", calendar=ALWAYS_OPEN)
    supervisor = factories.make_user(db, role="supervisor", groups=[after_sales], name="陈静")
    agent = factories.make_user(db, groups=[after_sales], name="张伟")
    hostile = factories.make_user(db, groups=[after_sales], name=HOSTILE)
    specialist = factories.make_user(db, role="specialist", groups=[complaints], name="郑丽")
    agent_status.do_set_status(db, SYSTEM, agent, AgentStatus.ONLINE, utcnow())
    db.commit()

    crisis = factories.make_ticket(
        db, group=after_sales, priority="P1", assignee_id=agent.id, subject="媒体曝光威胁"
    )
    at_risk = factories.make_ticket(db, group=after_sales, channel="email", subject="快递丢件")
    breached = factories.make_ticket(db, group=after_sales, channel="email", subject="退款未到")
    complaint = factories.make_ticket(db, group=complaints, assignee_id=specialist.id)
    resolved = factories.make_ticket(db, group=after_sales)
    tickets.do_update_ticket(
        db, SYSTEM, tickets.access_ticket(db, SYSTEM, resolved.id), {"status": "resolved"}
    )
    db.commit()
    now = utcnow()
    opened_ago(db, at_risk, timedelta(hours=20), now)  # warned at 19.2 h, due at 24 h
    opened_ago(db, breached, timedelta(hours=25), now)
    sweep(engine, now)
    # Made after the sweep: no clock of theirs has a deadline yet, and the unrouted case stays
    # in the shared queue.
    chat = factories.make_ticket(db, group=after_sales, channel="webchat")
    live_chat = factories.make_ticket(
        db, group=after_sales, channel="webchat", assignee_id=agent.id
    )
    unrouted = factories.make_ticket(db)
    for ticket in (crisis, at_risk, breached, complaint, resolved):
        db.refresh(ticket)
    db.commit()  # no read transaction left open: the server writes next
    return Board(
        after_sales, complaints, supervisor, agent, hostile, specialist, crisis, at_risk,
        breached, chat, live_chat, complaint, unrouted, resolved,
    )  # fmt: skip
