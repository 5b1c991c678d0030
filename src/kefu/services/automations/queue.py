"""Ticket events queued for the admins' event triggers (``automation_events``).

Written just before the event's transaction commits (services/events/unit_of_work.py), so an
event is queued exactly when its change is committed; the automation sweep takes the rows after
commit, in transactions of its own, and fires the triggers. Nothing is queued while no event
trigger is active (one indexed look-up per committing transaction with ticket events)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import AutomationEvent, AutomationTrigger
from kefu.domain import automations as auto
from kefu.domain import events as ev


def trigger_event_of(told: ev.Event) -> auto.Event | None:
    match told:
        case ev.TicketOpened():
            return auto.Event.CREATED
        case ev.MessageAdded(direction="inbound"):
            return auto.Event.CUSTOMER_MESSAGE
        case ev.MessageAdded(direction="outbound"):
            return auto.Event.AGENT_REPLY
        case ev.TicketChanged(fields=fields) if "status" in fields:
            return auto.Event.STATUS_CHANGED
        case ev.TicketAssigned():
            return auto.Event.ASSIGNED
        case ev.SlaWarned():
            return auto.Event.SLA_WARNING
        case ev.SlaBreached():
            return auto.Event.SLA_BREACHED
    return None


FIRING = "kefu.automation_firing"  # session.info: this transaction applies triggers' actions


def queue_events(session: Session, told: Iterable[ev.Event], now: datetime | None = None) -> int:
    """Queue the events of this transaction for the event triggers; none while triggers' own
    actions are being applied (``FIRING``), so a firing never sets off triggers again."""
    if session.info.get(FIRING):
        return 0
    rows = {
        (t.ticket_id, kind.value)
        for t in told
        if t.ticket_id is not None and (kind := trigger_event_of(t)) is not None
    }
    if not rows:
        return 0
    active = select(AutomationTrigger.id).where(AutomationTrigger.active.is_(True)).limit(1)
    if session.scalar(active) is None:
        return 0
    at = now or utcnow()
    session.execute(
        insert(AutomationEvent),
        [{"ticket_id": t, "event": e, "created_at": at} for t, e in sorted(rows)],
    )
    return len(rows)
