"""Admins' if/then triggers (domain ``Trigger``): stored as JSON, checked when saved, fired on a
ticket once, applied through the ordinary services and audited as the system acting.

The JSON of a trigger::

    {"on": "customer_message" | "time" | …,
     "after": {"since": "created_at", "hours": 24},          # only with "time"
     "conditions": [{"field": "priority", "op": "is", "values": ["high"]}, …],
     "actions": [{"type": "set_field", "field": "priority", "value": "urgent"},
                 {"type": "assign", "group": "投诉组"} | {"type": "assign", "agent_id": 3},
                 {"type": "tag", "tag": "VIP"},
                 {"type": "notify", "who": "owner", "message": "…"},
                 {"type": "send_script", "script_key": "…"}]}

A trigger's own actions go through services that never fire triggers, so one firing cannot set
off another (no loops); the complaint loop's ``guard`` refuses what would skip a step, and the
refusal is recorded with the firing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.db.models import (
    AutomationFiring,
    AutomationTrigger,
    Customer,
    Group,
    Script,
    Ticket,
    group_members,
)
from kefu.domain import automations as auto
from kefu.domain.case_loop import CasePath, Stage, StepRefused, Waiting
from kefu.domain.notices import Notice
from kefu.domain.tickets import Priority, TicketStatus
from kefu.errors import Conflict, KefuError, NotFound
from kefu.services import audit
from kefu.services.actors import SYSTEM, Actor

# --- JSON <-> Trigger ---------------------------------------------------------------------------


def refused_as_error(refused: StepRefused) -> KefuError:
    return KefuError(
        "bad_trigger", status_code=422, reason=str(refused), details={"code": refused.code}
    )


def parse(name: str, definition: dict[str, Any], *, active: bool = True) -> auto.Trigger:
    """The trigger a stored or posted JSON stands for; ``bad_trigger`` (422) if it is not one."""
    try:
        return _parse(name, definition, active)
    except StepRefused as e:
        raise refused_as_error(e) from e
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
        raise KefuError(
            "bad_trigger", status_code=422, reason=f"{type(e).__name__}: {e}", details={}
        ) from e


def _parse(name: str, d: dict[str, Any], active: bool) -> auto.Trigger:
    after = d.get("after")
    trigger = auto.Trigger(
        name=name.strip(),
        on=auto.Event(d["on"]),
        conditions=tuple(
            auto.Condition(c["field"], auto.Op(c["op"]), frozenset(str(v) for v in c["values"]))
            for c in d.get("conditions") or ()
        ),
        after=None
        if not after
        else auto.After(after["since"], timedelta(hours=float(after["hours"]))),
        actions=tuple(_action(a) for a in d.get("actions") or ()),
        active=active,
    )
    auto.check_trigger(trigger)
    return trigger


def _action(a: dict[str, Any]) -> auto.Action:
    match a["type"]:
        case "set_field":
            return auto.SetField(str(a["field"]), str(a["value"]))
        case "assign":
            agent = a.get("agent_id")
            return auto.Assign(group=a.get("group") or None, agent_id=int(agent) if agent else None)
        case "tag":
            return auto.AddTag(str(a["tag"]))
        case "notify":
            return auto.Notify(str(a["who"]), str(a.get("message", "")))
        case "send_script":
            return auto.SendScript(str(a["script_key"]))
    raise StepRefused("bad_action", f"no action called {a['type']!r}")


def action_json(action: auto.Action) -> dict[str, Any]:
    match action:
        case auto.SetField(field=f, value=v):
            return {"type": "set_field", "field": f, "value": v}
        case auto.Assign(group=g, agent_id=agent):
            return {"type": "assign", "group": g, "agent_id": agent}
        case auto.AddTag(tag=t):
            return {"type": "tag", "tag": t}
        case auto.Notify(who=w, message=m):
            return {"type": "notify", "who": w, "message": m}
        case auto.SendScript(script_key=k):
            return {"type": "send_script", "script_key": k}
    raise AssertionError(action)


# --- stored triggers ----------------------------------------------------------------------------


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise KefuError("forbidden", status_code=403)


def list_triggers(session: Session) -> list[AutomationTrigger]:
    return list(
        session.scalars(
            select(AutomationTrigger).order_by(AutomationTrigger.position, AutomationTrigger.id)
        )
    )


def access_trigger(session: Session, actor: Actor, trigger_id: int) -> AutomationTrigger:
    require_admin(actor)
    row = session.get(AutomationTrigger, trigger_id)
    if row is None:
        raise NotFound("自动化规则", what_en="automation")
    return row


def do_save_trigger(
    session: Session,
    actor: Actor,
    *,
    name: str,
    definition: dict[str, Any],
    active: bool = True,
    position: int | None = None,
    row: AutomationTrigger | None = None,
) -> AutomationTrigger:
    """Create (``row`` None) or replace a trigger after ``check_trigger``; audited."""
    require_admin(actor)
    parse(name, definition, active=active)
    name = name.strip()
    clash = session.scalar(select(AutomationTrigger.id).where(AutomationTrigger.name == name))
    if clash is not None and (row is None or clash != row.id):
        raise Conflict("trigger_exists", name=name)
    before = None if row is None else _snapshot(row)
    if row is None:
        last = session.scalar(select(AutomationTrigger.position).order_by(AutomationTrigger.position.desc()).limit(1))  # fmt: skip
        row = AutomationTrigger(created_by_id=actor.user_id, position=(last or 0) + 1)
        session.add(row)
    row.name, row.definition, row.active = name, definition, active
    if position is not None:
        row.position = position
    session.flush()
    audit.record(session, actor, "automation.save", object_type="automation_trigger",
                 object_id=row.id, before=before, after=_snapshot(row))  # fmt: skip
    return row


def do_set_active(session: Session, actor: Actor, row: AutomationTrigger, active: bool) -> None:
    require_admin(actor)
    before = _snapshot(row)
    row.active = active
    session.flush()
    audit.record(session, actor, "automation.save", object_type="automation_trigger",
                 object_id=row.id, before=before, after=_snapshot(row))  # fmt: skip


def do_move(session: Session, actor: Actor, row: AutomationTrigger, step: int) -> None:
    """Move a trigger one place up (``step`` -1) or down (+1) in the order they run."""
    require_admin(actor)
    ordered = list_triggers(session)
    at = ordered.index(row)
    to = min(max(at + step, 0), len(ordered) - 1)
    ordered.insert(to, ordered.pop(at))
    for position, each in enumerate(ordered, start=1):
        each.position = position
    session.flush()
    audit.record(session, actor, "automation.move", object_type="automation_trigger",
                 object_id=row.id, after={"position": row.position})  # fmt: skip


def do_delete_trigger(session: Session, actor: Actor, row: AutomationTrigger) -> None:
    require_admin(actor)
    audit.record(session, actor, "automation.delete", object_type="automation_trigger",
                 object_id=row.id, before=_snapshot(row))  # fmt: skip
    session.delete(row)
    session.flush()


def _snapshot(row: AutomationTrigger) -> dict[str, Any]:
    return {"name": row.name, "definition": row.definition, "active": row.active,
            "position": row.position}  # fmt: skip


def active_triggers(session: Session, event: auto.Event | None = None) -> list[auto.Trigger]:
    found = []
    for row in list_triggers(session):
        if not row.active:
            continue
        try:
            trigger = _parse(row.name, row.definition, True)
        except (StepRefused, KeyError, TypeError, ValueError, AttributeError, OverflowError):
            continue  # saved before a stricter check: left alone, shown as invalid on the page
        if event is None or trigger.on == event:
            found.append(trigger)
    return found


FIRED_COUNT = "kefu.automation_fired_count"  # session.info: firings of this transaction

# --- firing -------------------------------------------------------------------------------------


def facts_of(session: Session, ticket: Ticket, fired: frozenset[str]) -> auto.TicketFacts:
    tags = {t.name for t in ticket.tags}
    customer = session.get(Customer, ticket.customer_id)
    if customer is not None:
        tags |= {t.name for t in customer.tags}
    group = session.get(Group, ticket.group_id) if ticket.group_id else None
    return auto.TicketFacts(
        path=CasePath(ticket.case_path),
        stage=Stage(ticket.stage),
        status=TicketStatus(ticket.status),
        priority=Priority(ticket.priority),
        channel=ticket.channel,
        category=ticket.category,
        intent=ticket.intent,
        emotion=ticket.emotion,
        group=group.name if group else None,
        assignee_id=ticket.assignee_id,
        tags=frozenset(tags),
        waiting=Waiting(ticket.waiting_on) if ticket.waiting_on else None,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        resolved_at=ticket.resolved_at,
        last_customer_message_at=ticket.last_message_at,
        fired=fired,
    )


def fired_names(session: Session, ticket_id: int) -> frozenset[str]:
    query = select(AutomationFiring.trigger_name).where(AutomationFiring.ticket_id == ticket_id)
    return frozenset(session.scalars(query))


def fire(
    session: Session,
    ticket: Ticket,
    event: auto.Event,
    now: datetime,
    triggers: list[auto.Trigger] | None = None,
) -> list[str]:
    """Fire the active triggers of ``event`` on a ticket the caller has locked; returns the names
    of those that fired. Each fires at most once per ticket (``automation_firings``)."""
    if ticket.merged_into_id is not None:
        return []
    fired: list[str] = []
    for trigger in triggers if triggers is not None else active_triggers(session, event):
        done_before = fired_names(session, ticket.id)
        if trigger.name in done_before:
            continue
        facts = facts_of(session, ticket, done_before)
        actions = auto.evaluate(trigger, facts, event, now)
        if not actions or not _claim(session, ticket.id, trigger.name, event, now):
            continue
        guarded = auto.guard(actions, facts)
        done, refused = [], [{**action_json(a), "refused": code} for a, code in guarded.refused]
        for action in guarded.allowed:
            try:
                with session.begin_nested():
                    _apply(session, ticket, action, trigger.name)
                done.append(action_json(action))
            except KefuError as e:
                refused.append({**action_json(action), "refused": e.code})
        firing = session.scalars(
            select(AutomationFiring).where(
                AutomationFiring.ticket_id == ticket.id,
                AutomationFiring.trigger_name == trigger.name,
            )
        ).one()
        firing.done, firing.refused = done, refused
        audit.record(session, SYSTEM, "automation.fired", object_type="ticket",
                     object_id=ticket.id, ticket_id=ticket.id, customer_id=ticket.customer_id,
                     after={"trigger": trigger.name, "event": event.value, "done": done,
                            "refused": refused})  # fmt: skip
        fired.append(trigger.name)
    session.info[FIRED_COUNT] = session.info.get(FIRED_COUNT, 0) + len(fired)
    return fired


def _claim(session: Session, ticket_id: int, name: str, event: auto.Event, now: datetime) -> bool:
    """Record the firing unless another worker (or an earlier round) did; True if this one did."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(AutomationFiring)
        .values(
            ticket_id=ticket_id,
            trigger_name=name,
            event=event.value,
            done=[],
            refused=[],
            fired_at=now,
        )  # fmt: skip
        .on_conflict_do_nothing()
        .returning(AutomationFiring.id)
    )
    return session.connection().execute(statement).scalar() is not None


def _apply(session: Session, ticket: Ticket, action: auto.Action, trigger: str) -> None:
    from kefu.services.cases.tickets import do_add_message, do_update_ticket

    match action:
        case auto.SetField(field=name, value=value):
            do_update_ticket(session, SYSTEM, ticket, {name: value})
        case auto.Assign(group=group_name, agent_id=agent_id):
            changes: dict[str, Any] = {}
            if group_name:
                group_id = session.scalar(select(Group.id).where(Group.name == group_name))
                if group_id is None:
                    raise NotFound("组", what_en="group")
                changes["group_id"] = group_id
            if agent_id:
                changes["assignee_id"] = agent_id
            do_update_ticket(session, SYSTEM, ticket, changes)
        case auto.AddTag(tag=tag):
            names = sorted({t.name for t in ticket.tags} | {tag})
            do_update_ticket(session, SYSTEM, ticket, {"tags": names})
        case auto.Notify(who=who, message=message):
            _notify(session, ticket, who, message or trigger)
        case auto.SendScript(script_key=key):
            script = session.scalar(select(Script).where(Script.key == key))
            if script is None or script.status != "published":
                raise NotFound("话术", what_en="script")
            do_add_message(session, SYSTEM, ticket, text=script.body, internal=False)


def _notify(session: Session, ticket: Ticket, who: str, message: str) -> None:
    from kefu.services.events.notices import write
    from kefu.services.staff.directory import supervisors_of

    if who == "owner":
        users = [ticket.assignee_id] if ticket.assignee_id else []
    elif who == "group":
        users = list(
            session.scalars(
                select(group_members.c.user_id)
                .where(group_members.c.group_id == ticket.group_id)
                .order_by(group_members.c.user_id)
            )
        ) if ticket.group_id else []  # fmt: skip
    else:
        users = supervisors_of(session, ticket.group_id)
    body = message[:500]
    write(session, [Notice(u, ticket.id, "automation", body) for u in users])
