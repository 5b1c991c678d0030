"""SLA policies: the budgets per channel × priority, as an admin configures them.

Without a row in ``sla_policies`` a channel × priority has the defaults of ``domain/sla.py``;
a row replaces all three budgets (None: no such target). The sweep reads the policies afresh
each batch (``services/sla.Policies``), but it only looks at a ticket when its ``sla_check_at``
comes, so a change also sets ``sla_check_at`` on the open tickets of that channel × priority:
their deadlines follow the new budgets at the next sweep.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import SlaPolicy, Ticket
from kefu.domain.tickets import OPEN_STATUSES, Channel, Priority
from kefu.errors import NotFound
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.sla.clocks import Policies
from kefu.services.staff.directory import require_admin


@dataclass(frozen=True)
class PolicyEntry:
    """One channel × priority's effective budgets in seconds (None: no such target)."""

    channel: Channel
    priority: Priority
    first_response_s: int | None
    next_response_s: int | None
    resolution_s: int | None
    source: str  # "default" or "configured"


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _entry(channel: Channel, priority: Priority, row: SlaPolicy | None) -> PolicyEntry:
    budgets = Policies([row] if row else []).budgets(channel.value, priority.value)
    return PolicyEntry(
        channel,
        priority,
        _seconds(budgets.first_response),
        _seconds(budgets.next_response),
        _seconds(budgets.resolution),
        "default" if row is None else "configured",
    )


def _row(
    session: Session, channel: Channel, priority: Priority, *, for_update: bool = False
) -> SlaPolicy | None:
    query = select(SlaPolicy).where(
        SlaPolicy.channel == channel.value, SlaPolicy.priority == priority.value
    )
    return session.scalar(query.with_for_update() if for_update else query)


def list_policies(session: Session) -> list[PolicyEntry]:
    """The effective table: every channel × priority, the configured ones marked as such."""
    rows = {(r.channel, r.priority): r for r in session.scalars(select(SlaPolicy))}
    return [_entry(c, p, rows.get((c.value, p.value))) for c in Channel for p in Priority]


def replan_open_tickets(session: Session, channel: Channel, priority: Priority) -> None:
    """Have the sweep re-plan the open tickets of this channel × priority now (one UPDATE); one
    that is due already keeps its earlier place in the sweep's queue."""
    now = utcnow()
    session.execute(
        update(Ticket)
        .where(
            Ticket.channel == channel.value,
            Ticket.priority == priority.value,
            Ticket.status.in_([s.value for s in OPEN_STATUSES]),
            or_(Ticket.sla_check_at.is_(None), Ticket.sla_check_at > now),
        )
        .values(sla_check_at=now)
        .execution_options(synchronize_session=False)
    )


def _changed(
    session: Session,
    actor: Actor,
    action: str,
    row_id: int,
    before: PolicyEntry,
    after: PolicyEntry,
) -> PolicyEntry:
    """What follows every change: the pair's open tickets are re-planned, the change audited."""
    replan_open_tickets(session, after.channel, after.priority)
    audit.record(
        session,
        actor,
        action,
        object_type="sla_policy",
        object_id=row_id,
        before=asdict(before),
        after=asdict(after),
    )
    return after


def _new_row(session: Session, channel: Channel, priority: Priority) -> tuple[SlaPolicy, bool]:
    """A new row, or the one a concurrent request inserted first (locked); True if new."""
    try:
        with session.begin_nested():
            row = SlaPolicy(channel=channel.value, priority=priority.value)
            session.add(row)
            session.flush()
        return row, True
    except IntegrityError:
        existing = _row(session, channel, priority, for_update=True)
        assert existing is not None
        return existing, False


def do_set_policy(
    session: Session,
    actor: Actor,
    channel: Channel,
    priority: Priority,
    *,
    first_response_s: int | None,
    next_response_s: int | None,
    resolution_s: int | None,
) -> PolicyEntry:
    """Configure all three budgets of a channel × priority (seconds; None: no such target)."""
    require_admin(actor)
    row, created = _row(session, channel, priority, for_update=True), False
    if row is None:
        row, created = _new_row(session, channel, priority)
    before = _entry(channel, priority, None if created else row)
    row.first_response_s, row.next_response_s, row.resolution_s = (
        first_response_s,
        next_response_s,
        resolution_s,
    )
    session.flush()
    return _changed(
        session, actor, "sla_policy.update", row.id, before, _entry(channel, priority, row)
    )


def do_reset_policy(
    session: Session, actor: Actor, channel: Channel, priority: Priority
) -> PolicyEntry:
    """Back to the defaults of domain/sla.py; 404 when nothing is configured."""
    require_admin(actor)
    row = _row(session, channel, priority, for_update=True)
    if row is None:
        raise NotFound("sla_policy")
    before = _entry(channel, priority, row)
    session.delete(row)
    session.flush()
    return _changed(
        session, actor, "sla_policy.delete", row.id, before, _entry(channel, priority, None)
    )
