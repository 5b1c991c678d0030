"""Routing on tickets: the admin's ordered rules pick a group, load or turns pick an agent.

The rules live in ``routing_rules`` (position order, enabled ones only) and are matched by
``domain/routing.py``. A case waiting in the shared queue is routed by the sweep the first time
it looks at the case (``services/sla.sweep_once``), before its deadlines are set, so the
deadlines follow the chosen group's working hours. Every routing is audited with its reason:
「规则「质量投诉」→ 售后组 → 负载最低的张伟（2/10）」; a rule marked ``notify_supervisor``
(the crisis rules) also notifies the group's supervisors.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import Group, Notification, RoutingRule, Ticket, User, group_members
from kefu.domain import routing
from kefu.domain.business_calendar import BusinessCalendar
from kefu.domain.roles import Role
from kefu.domain.tickets import OPEN_STATUSES
from kefu.services import audit
from kefu.services.actors import SYSTEM

HANDLER_ROLES = (Role.AGENT.value, Role.SPECIALIST.value)  # supervisors watch a group, they do not take its cases


def ensure_default_rules(session: Session) -> int:
    """Write the reference defaults (domain/routing.DEFAULT_RULES) for the groups that exist,
    if no rule is configured yet; returns how many were written."""
    if session.scalar(select(func.count()).select_from(RoutingRule)):
        return 0
    groups = {g.name: g for g in session.scalars(select(Group))}
    written = 0
    for position, rule in enumerate(routing.DEFAULT_RULES, 1):
        group = groups.get(rule.group)
        if group is None:
            continue
        session.add(RoutingRule(position=position * 10, name=rule.name, group_id=group.id,
                                conditions=rule.conditions.to_json(), notify_supervisor=rule.notify_supervisor))
        written += 1
    session.flush()
    return written


def configured_rules(session: Session) -> list[tuple[RoutingRule, routing.Rule]]:
    rows = session.scalars(select(RoutingRule).where(RoutingRule.enabled.is_(True))
                           .order_by(RoutingRule.position, RoutingRule.id))
    return [(row, routing.Rule(row.name, row.group.name, routing.Conditions.from_json(row.conditions),
                               row.notify_supervisor)) for row in rows]


def in_business_hours(calendar: BusinessCalendar, now: datetime) -> bool:
    return calendar.between(now, now + timedelta(seconds=1)) > timedelta(0)


def case_facts(ticket: Ticket, now: datetime, calendar: BusinessCalendar) -> routing.CaseFacts:
    customer = ticket.customer
    return routing.CaseFacts(
        channel=ticket.channel, priority=ticket.priority, intent=ticket.intent, category=ticket.category,
        risks=frozenset(ticket.risks or ()), emotion=ticket.emotion,
        customer_tags=frozenset(t.name for t in customer.tags),
        language=(customer.language or "zh-CN").split("-")[0], in_business_hours=in_business_hours(calendar, now),
    )


def agents_of(session: Session, group: Group) -> list[routing.AgentState]:
    members = list(session.scalars(
        select(User).join(group_members, group_members.c.user_id == User.id)
        .where(group_members.c.group_id == group.id, User.is_active.is_(True), User.role.in_(HANDLER_ROLES))
        .order_by(User.id)))
    if not members:
        return []
    load = dict(session.execute(  # type: ignore[arg-type]
        select(Ticket.assignee_id, func.count())
        .where(Ticket.assignee_id.in_([m.id for m in members]), Ticket.status.in_([s.value for s in OPEN_STATUSES]))
        .group_by(Ticket.assignee_id)).all())
    return [routing.AgentState(m.id, m.name, m.online, int(load.get(m.id, 0)), m.capacity, frozenset(m.skills or ()),
                               m.last_assigned_at) for m in members]


def needs_of(ticket: Ticket) -> frozenset[str]:
    """Skills a case asks for: a customer who writes in English needs an agent who does."""
    language = (ticket.customer.language or "zh-CN").split("-")[0]
    return frozenset() if language == "zh" else frozenset({f"lang:{language}"})


def route(session: Session, ticket: Ticket, now: datetime, calendar: BusinessCalendar) -> str | None:
    """Route a case of the shared queue; returns the reason, or None when no rule matched.
    ``calendar`` decides the rules' business-hours condition (the company's default hours)."""
    rules = configured_rules(session)
    if not rules:
        return None
    facts = case_facts(ticket, now, calendar)
    matched = routing.first_match((rule for _, rule in rules), facts)
    if matched is None:
        return None
    row = next(r for r, rule in rules if rule is matched)
    group = row.group
    modes = {m.value: m for m in routing.AssignMode}
    mode = modes.get(group.assign_mode, routing.AssignMode.LEAST_LOADED)
    choice = routing.choose_agent(agents_of(session, group), needs_of(ticket), mode) if ticket.assignee_id is None else None
    reason = routing.explain(matched, choice)
    before = {"group_id": ticket.group_id, "assignee_id": ticket.assignee_id}
    ticket.group_id = group.id
    if choice is not None:
        ticket.assignee_id = choice.agent.user_id
        agent = session.get(User, choice.agent.user_id)
        if agent is not None:
            agent.last_assigned_at = now
    if matched.notify_supervisor:
        supervisors = session.scalars(
            select(User.id).join(group_members, group_members.c.user_id == User.id)
            .where(group_members.c.group_id == group.id, User.role == Role.SUPERVISOR.value, User.is_active.is_(True)))
        for user_id in supervisors:
            session.add(Notification(user_id=user_id, ticket_id=ticket.id, kind="routing.crisis",
                                     body=f"工单 #{ticket.id}（{ticket.priority}）：{reason}"[:500]))
    audit.record(session, SYSTEM, "ticket.route", object_type="ticket", object_id=ticket.id, ticket_id=ticket.id,
                 customer_id=ticket.customer_id, before=before,
                 after={"group_id": ticket.group_id, "assignee_id": ticket.assignee_id, "rule": matched.name,
                        "reason": reason})
    return reason
