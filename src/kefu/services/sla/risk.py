"""Which open tickets are at risk of missing an SLA target, and which have missed one, as SQL
conditions over the deadline columns the sweep keeps (services/sla/clocks.py).

- **Breached** (已超时): a running clock's deadline has passed — one of
  ``first_response_due_at``, ``next_response_due_at``, ``resolution_due_at`` lies before now.
  The sweep writes a column only for a clock that runs (a met or paused clock's is None), so a
  deadline in the past is a target being missed now.
- **At risk** (即将超时): not breached, and a running clock is inside its warning window — the
  last 20 % of its budget (``domain/sla.WARN_SHARE``), in working time. That moment depends on
  the group's business calendar and the pauses, so it is not recomputed in SQL: the sweep
  records each warning once in ``sla_events`` (the same moment it sends the ``sla.warn``
  notice), and a ticket is at risk while a warning of a clock that still runs is on record.
  For the next-response clock, which runs again for every customer message left unanswered,
  only a warning of the current run counts (the warning's moment after ``awaiting_reply_since``).

Both are read at the last sweep (every ``KEFU_SLA_SWEEP_SECONDS``, 2 s by default).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlalchemy.sql.functions import Function

from kefu.db.base import UTCDateTime
from kefu.db.models import SlaEvent, Ticket
from kefu.domain.sla import Target

DUE_COLUMNS = (
    Ticket.first_response_due_at,
    Ticket.next_response_due_at,
    Ticket.resolution_due_at,
)


def breached(now: datetime) -> ColumnElement[bool]:
    """A running clock of the ticket is past its deadline (never NULL: safe inside NOT)."""
    return or_(*(and_(column.is_not(None), column < now) for column in DUE_COLUMNS))


def warned() -> ColumnElement[bool]:
    """The sweep has warned of a clock that still runs (its deadline column is set)."""
    first, following, resolution = DUE_COLUMNS
    return and_(
        or_(*(column.is_not(None) for column in DUE_COLUMNS)),
        exists().where(
            SlaEvent.ticket_id == Ticket.id,
            SlaEvent.kind == "warn",
            or_(
                and_(SlaEvent.target == Target.FIRST_RESPONSE.value, first.is_not(None)),
                and_(SlaEvent.target == Target.RESOLUTION.value, resolution.is_not(None)),
                and_(
                    SlaEvent.target == Target.NEXT_RESPONSE.value,
                    following.is_not(None),
                    SlaEvent.due_at >= Ticket.awaiting_reply_since,
                ),
            ),
        ),
    )


def at_risk(now: datetime) -> ColumnElement[bool]:
    """Warned of and not breached yet."""
    return and_(~breached(now), warned())


def nearest_due(dialect: str) -> Function[datetime]:
    """The earliest deadline of the running clocks (NULL when none runs), to sort by time left.

    PostgreSQL's ``least`` skips NULLs; SQLite's scalar ``min`` returns NULL if any argument
    is, so each argument is a ``coalesce`` of the three columns in another order: all three are
    NULL together or none is."""
    a, b, c = DUE_COLUMNS
    rotations = (func.coalesce(a, b, c), func.coalesce(b, c, a), func.coalesce(c, a, b))
    smallest = func.least if dialect == "postgresql" else func.min
    return smallest(*rotations, type_=UTCDateTime())
