"""Routing on tickets: the admin's ordered rules pick a group, load or turns pick an agent.

The rules live in ``routing_rules`` (position order, enabled ones only) and are matched by
``domain/routing.py``. A case waiting in the shared queue is routed by the sweep the first time
it looks at the case (``services/sla.sweep_once``), before its deadlines are set, so the
deadlines follow the chosen group's working hours; a case that turns into a crisis after it was
routed is looked at again (``route_again``). Every routing is audited with its reason:
「规则「质量投诉」→ 售后组 → 负载最低的张伟（2/10）」; a rule marked ``notify_supervisor``
(the crisis rules) also notifies the group's supervisors.

``try_routing`` answers the admin's tester (「这条消息会被哪条规则分派？」): one message read by the
analysis intake uses, planned as the case it would open, matched by the same rules and the same
choice of agent — and nothing written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import Group, RoutingRule, Ticket, User, group_members
from kefu.domain import case_planner as planner
from kefu.domain import events as ev
from kefu.domain import routing
from kefu.domain.business_calendar import BusinessCalendar
from kefu.domain.roles import Role
from kefu.domain.ticket_triage import TicketTriage
from kefu.domain.tickets import OPEN_STATUSES
from kefu.errors import KefuError, NotFound
from kefu.nlp.analysis import Analyzer
from kefu.services import audit
from kefu.services.actors import SYSTEM, Actor
from kefu.services.events import unit_of_work as events
from kefu.services.intake import message_triage
from kefu.services.staff.directory import require_admin

HANDLER_ROLES = (
    Role.AGENT.value,
    Role.SPECIALIST.value,
)  # supervisors watch a group, they do not take its cases


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
        session.add(
            RoutingRule(
                position=position * 10,
                name=rule.name,
                group_id=group.id,
                conditions=rule.conditions.to_json(),
                notify_supervisor=rule.notify_supervisor,
            )
        )
        written += 1
    session.flush()
    return written


def configured_rules(session: Session) -> list[tuple[RoutingRule, routing.Rule]]:
    rows = session.scalars(
        select(RoutingRule)
        .where(RoutingRule.enabled.is_(True))
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    return [
        (
            row,
            routing.Rule(
                row.name,
                row.group.name,
                routing.Conditions.from_json(row.conditions),
                row.notify_supervisor,
            ),
        )
        for row in rows
    ]


def in_business_hours(calendar: BusinessCalendar, now: datetime) -> bool:
    return calendar.between(now, now + timedelta(seconds=1)) > timedelta(0)


def language_of(customer_language: str | None) -> str:
    """A customer's language as routing compares it: ``zh``, ``en`` …"""
    return (customer_language or "zh-CN").split("-")[0]


def facts_of(
    channel: str,
    triage: TicketTriage,
    *,
    customer_tags: Iterable[str],
    customer_language: str | None,
    in_hours: bool,
) -> routing.CaseFacts:
    return routing.CaseFacts(
        channel=channel,
        priority=triage.priority,
        intent=triage.intent,
        category=triage.category,
        risks=frozenset(triage.risks),
        emotion=triage.emotion,
        customer_tags=frozenset(customer_tags),
        language=language_of(customer_language),
        in_business_hours=in_hours,
    )


def case_facts(ticket: Ticket, now: datetime, calendar: BusinessCalendar) -> routing.CaseFacts:
    customer = ticket.customer
    return facts_of(
        ticket.channel,
        TicketTriage.of(ticket),
        customer_tags=(t.name for t in customer.tags),
        customer_language=customer.language,
        in_hours=in_business_hours(calendar, now),
    )


def agents_of(session: Session, group: Group) -> list[routing.AgentState]:
    members = list(
        session.scalars(
            select(User)
            .join(group_members, group_members.c.user_id == User.id)
            .where(
                group_members.c.group_id == group.id,
                User.is_active.is_(True),
                User.role.in_(HANDLER_ROLES),
            )
            .order_by(User.id)
        )
    )
    if not members:
        return []
    load = dict(
        session.execute(
            select(Ticket.assignee_id, func.count())
            .where(
                Ticket.assignee_id.in_([m.id for m in members]),
                Ticket.status.in_([s.value for s in OPEN_STATUSES]),
            )
            .group_by(Ticket.assignee_id)
        ).all()
    )
    return [
        routing.AgentState(
            m.id,
            m.name,
            m.online,
            int(load.get(m.id, 0)),
            m.capacity,
            frozenset(m.skills or ()),
            m.last_assigned_at,
        )
        for m in members
    ]


PRODUCT_TAG = "product:"


def needs_of(ticket: Ticket) -> frozenset[str]:
    return skills_needed(ticket.customer.language, (t.name for t in ticket.tags))


def skills_needed(customer_language: str | None, ticket_tags: Iterable[str]) -> frozenset[str]:
    """Skills a case asks for: a customer who writes in English needs an agent who does; a case
    tagged with a product line (``product:家电``) needs an agent with that skill."""
    language = language_of(customer_language)
    needs = {name for name in ticket_tags if name.startswith(PRODUCT_TAG)}
    if language != "zh":
        needs.add(f"lang:{language}")
    return frozenset(needs)


def assign_mode_of(group: Group) -> routing.AssignMode:
    modes = {m.value: m for m in routing.AssignMode}
    return modes.get(group.assign_mode, routing.AssignMode.LEAST_LOADED)


def route(
    session: Session,
    ticket: Ticket,
    now: datetime,
    calendar: BusinessCalendar,
    rules: list[tuple[RoutingRule, routing.Rule]] | None = None,
) -> str | None:
    """Route a case of the shared queue; returns the reason, or None when no rule matched.
    A case already routed whose ``route_again`` is set (a risk raised after routing) moves only
    if the rules now send it to another group (the crisis or compliance team), to an agent there.
    ``calendar`` decides the rules' business-hours condition (the company's default hours);
    ``rules``: the configured rules, when the caller has read them already."""
    again = ticket.group_id is not None
    ticket.route_again = False
    rules = configured_rules(session) if rules is None else rules
    if not rules:
        return None
    facts = case_facts(ticket, now, calendar)
    matched = routing.first_match((rule for _, rule in rules), facts)
    if matched is None:
        return None
    row = next(r for r, rule in rules if rule is matched)
    group = row.group
    if again and group.id == ticket.group_id:
        return None
    mode = assign_mode_of(group)
    before = {"group_id": ticket.group_id, "assignee_id": ticket.assignee_id}
    if again:
        ticket.assignee_id = None  # the other team takes the case over
    choice = (
        routing.choose_agent(agents_of(session, group), needs_of(ticket), mode)
        if ticket.assignee_id is None
        else None
    )
    reason = ("出现新的风险，重新分派：" if again else "") + routing.explain(matched, choice)
    ticket.group_id = group.id
    if choice is not None:
        ticket.assignee_id = choice.agent.user_id
        agent = session.get(User, choice.agent.user_id)
        if agent is not None:
            agent.last_assigned_at = now
    told: list[ev.Event] = [ev.TicketAssigned(ticket.id, assignee_id=ticket.assignee_id,
                                              previous_assignee_id=before["assignee_id"], group_id=group.id)]  # fmt: skip
    if matched.notify_supervisor:
        told.append(
            ev.CrisisRouted(ticket.id, group_id=group.id, priority=ticket.priority, reason=reason)
        )
    events.record(session, *told)
    audit.record(
        session,
        SYSTEM,
        "ticket.route",
        object_type="ticket",
        object_id=ticket.id,
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        before=before,
        after={
            "group_id": ticket.group_id,
            "assignee_id": ticket.assignee_id,
            "rule": matched.name,
            "reason": reason,
        },
    )
    return reason


# --- the admin's tester: what routing would do, nothing written --------------------------------


@dataclass(frozen=True)
class RuleTrial:
    """One configured rule against the tried case: the conditions it does not meet (field names
    of domain/routing.Conditions, empty: all met); a disabled rule takes no part."""

    rule: RoutingRule
    failures: tuple[str, ...]

    @property
    def takes_part(self) -> bool:
        return self.rule.enabled


@dataclass(frozen=True)
class RoutingTrial:
    triage: TicketTriage  # what the message opens the case with
    reasons: dict[str, str]  # why its priority and each risk, quoting the words
    facts: routing.CaseFacts  # what the rules look at
    rules: list[RuleTrial]  # every rule, in the order tried
    matched: RoutingRule | None  # the first enabled rule the case meets
    choice: routing.Choice | None  # the agent it would go to now (None: the group's queue)
    reason: str  # as the ticket's trail would say it: 规则「…」→ 组 → …


def try_routing(
    session: Session,
    actor: Actor,
    *,
    text: str,
    channel: str,
    customer_tags: Iterable[str],
    customer_language: str,
    at: datetime,
    analyzer: Analyzer,
    calendar: BusinessCalendar,
) -> RoutingTrial:
    """Which rule would route a new customer's first message, and why. The message is read by
    ``analyzer`` (the one intake uses) and planned as the case it opens (domain/case_planner.py);
    the case is matched by ``configured_rules`` and its agent chosen as ``route`` would at ``at``
    (``calendar``: the one the sweep gives ``route``, services/sla/clocks.default_calendar)."""
    require_admin(actor)
    analysis = analyzer.analyze(text)
    opened = planner.open_ticket(0, channel, at)
    plan = planner.apply_analysis(
        opened,
        message_triage.triage_of(analysis),
        message_triage.explanations(analysis),
        opens=True,
    )
    triage = plan.state.triage
    facts = facts_of(
        channel,
        triage,
        customer_tags=customer_tags,
        customer_language=customer_language,
        in_hours=in_business_hours(calendar, at),
    )
    configured = configured_rules(session)
    matched = routing.first_match((rule for _, rule in configured), facts)
    row = next((r for r, rule in configured if rule is matched), None)
    trials = [
        RuleTrial(r, routing.Conditions.from_json(r.conditions).failures(facts))
        for r in list_rules(session)
    ]
    choice = None
    if row is not None:
        agents = agents_of(session, row.group)
        needs = skills_needed(customer_language, ())
        choice = routing.choose_agent(agents, needs, assign_mode_of(row.group))
    reason = routing.explain(matched, choice)
    return RoutingTrial(triage, plan.reasons, facts, trials, row, choice, reason)


# --- administration (admins only) -----------------------------------------------------------


def rule_snapshot(rule: RoutingRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "group_id": rule.group_id,
        "conditions": rule.conditions,
        "position": rule.position,
        "notify_supervisor": rule.notify_supervisor,
        "enabled": rule.enabled,
    }


def list_rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def get_rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("routing_rule")
    return rule


def _checked(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    if "group_id" in changes and session.get(Group, changes["group_id"]) is None:
        raise NotFound("group", details={"field": "group_id"})
    if "conditions" in changes:
        try:
            changes["conditions"] = routing.Conditions.from_json(changes["conditions"]).to_json()
        except (ValueError, TypeError) as e:
            raise KefuError(
                "invalid_conditions",
                status_code=422,
                reason=str(e),
                details={"field": "conditions"},
            ) from e
    return changes


def do_create_rule(session: Session, actor: Actor, **fields: Any) -> RoutingRule:
    require_admin(actor)
    fields = _checked(session, {"conditions": {}, **fields})
    if fields.get("position") is None:  # appended after the last rule
        fields["position"] = (session.scalar(select(func.max(RoutingRule.position))) or 0) + 10
    rule = RoutingRule(**fields)
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor,
        "routing_rule.create",
        object_type="routing_rule",
        object_id=rule.id,
        after=rule_snapshot(rule),
    )
    return rule


def do_update_rule(
    session: Session, actor: Actor, rule: RoutingRule, changes: dict[str, Any]
) -> RoutingRule:
    require_admin(actor)
    before = rule_snapshot(rule)
    for name, value in _checked(session, changes).items():
        setattr(rule, name, value)
    session.flush()
    session.refresh(rule, ["group"])
    old, new = audit.changed_fields(before, rule_snapshot(rule))
    if new:
        audit.record(
            session,
            actor,
            "routing_rule.update",
            object_type="routing_rule",
            object_id=rule.id,
            before=old,
            after=new,
        )
    return rule


def do_delete_rule(session: Session, actor: Actor, rule: RoutingRule) -> None:
    require_admin(actor)
    before = rule_snapshot(rule)
    session.delete(rule)
    session.flush()
    audit.record(
        session,
        actor,
        "routing_rule.delete",
        object_type="routing_rule",
        object_id=rule.id,
        before=before,
    )


def do_reorder_rules(session: Session, actor: Actor, ids: list[int]) -> list[RoutingRule]:
    """Put every rule in the given order (the first is tried first); ``ids`` must name each rule once."""
    require_admin(actor)
    rules = {r.id: r for r in list_rules(session)}
    if sorted(ids) != sorted(rules):
        raise KefuError(
            "invalid_rule_order",
            status_code=422,
            details={
                "missing": sorted(set(rules) - set(ids)),
                "unknown": sorted(set(ids) - set(rules)),
                "repeated": len(ids) != len(set(ids)),
            },
        )
    before = [r.id for r in rules.values()]
    for position, rule_id in enumerate(ids, 1):
        rules[rule_id].position = position * 10
    session.flush()
    audit.record(
        session,
        actor,
        "routing_rule.reorder",
        object_type="routing_rule",
        object_id=ids[0] if ids else 0,
        before={"order": before},
        after={"order": ids},
    )
    return [rules[i] for i in ids]
