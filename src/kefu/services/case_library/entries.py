"""Writing the case library: an entry per archived complaint, and its outcome kept current.

``do_record_archive`` runs in the transaction that archives the complaint (services/cases/loop.py
``do_step``): it writes the entry, or rewrites the case's existing one when a reopened case is
archived again (one entry per ticket). ``record_reopens`` is the set-based update for cases
reopened by a customer (intake's batch) or by staff; ``do_record_rating`` takes the customer's
rating when it comes later (the survey).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import (
    AuditEvent,
    CaseEntry,
    Customer,
    Identity,
    Script,
    ScriptScenario,
    ScriptUse,
    Ticket,
    User,
)
from kefu.domain import case_library as lib
from kefu.domain.case_file import case_of
from kefu.domain.masking import CUSTOMER, STAFF
from kefu.domain.tickets import Direction
from kefu.errors import KefuError, NotFound
from kefu.services import audit
from kefu.services.actors import Actor

IDENTITY_LABELS = {"email": "【邮箱】", "phone": "【手机号】", "sms": "【手机号】"}
_IDENTIFIER = re.compile(r"(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{4,64}")


def known_personal_values(session: Session, ticket: Ticket) -> tuple[tuple[str, str], ...]:
    """Everything known to be personal around the case: the customer's profile (name, e-mail,
    phone, channel ids), the values of its custom fields (order numbers…), and staff names."""
    known: list[tuple[str, str]] = []
    customer = session.get(Customer, ticket.customer_id)
    if customer is not None:
        known += [(v, label) for v, label in ((customer.name, CUSTOMER), (customer.email, "【邮箱】"),
                                               (customer.phone, "【手机号】")) if v]  # fmt: skip
        known += [("".join(customer.name.split()), CUSTOMER)] if customer.name else []
        ids = session.execute(
            select(Identity.channel, Identity.external_id).where(
                Identity.customer_id == customer.id
            )
        )
        known += [(v, IDENTITY_LABELS.get(channel, "【账号】")) for channel, v in ids if v]
    for value in (ticket.fields or {}).values():  # an order or tracking number, not a product name
        if isinstance(value, str | int) and _IDENTIFIER.fullmatch(str(value).strip()):
            known.append((str(value).strip(), "【单号】"))
    known += [(name, STAFF) for name in session.scalars(select(User.name)) if name]
    return tuple(known)


def _went_back(session: Session, ticket_id: int) -> bool:
    """Whether 跟进反馈 ever sent the case back to 处理解决 (its audited steps say)."""
    befores = session.execute(
        select(AuditEvent.before, AuditEvent.after).where(
            AuditEvent.ticket_id == ticket_id, AuditEvent.action == "case.step"
        )
    )
    return any(
        (b or {}).get("stage") == "following_up" and (a or {}).get("step") == "stage:resolving"
        for b, a in befores
    )


def _industry(session: Session, ticket_id: int) -> str:
    """The trade of the scripts the case was answered with (the library's scenarios say it);
    "general" when none of a particular trade was used."""
    used = session.scalars(
        select(ScriptScenario.industry)
        .join(Script, Script.scenario_id == ScriptScenario.id)
        .join(ScriptUse, ScriptUse.script_id == Script.id)
        .where(ScriptUse.ticket_id == ticket_id, ScriptScenario.industry != "general")
    )
    counted = Counter(used).most_common(1)
    return counted[0][0] if counted else "general"


def _first_message(ticket: Ticket) -> str:
    return next((m.body_text for m in ticket.messages if m.direction == Direction.INBOUND), "")


def do_record_archive(session: Session, ticket: Ticket, *, actor: Actor) -> CaseEntry:
    """The library entry of the archived complaint ``ticket`` (the caller holds its row lock):
    written, or rewritten if the case already has one."""
    case = case_of(ticket)
    context = lib.CaseContext(
        subject=ticket.subject,
        first_message=_first_message(ticket),
        category=ticket.category,
        tags=tuple(t.name for t in ticket.tags),
        industry=_industry(session, ticket.id),
        reopen_count=ticket.reopen_count,
        sent_back=_went_back(session, ticket.id),
        known=known_personal_values(session, ticket),
    )
    fields = lib.entry_of(case, context)
    now = utcnow()
    entry = session.scalar(select(CaseEntry).where(CaseEntry.ticket_id == ticket.id))
    before = None if entry is None else {"updated_at": entry.updated_at}
    if entry is None:
        entry = CaseEntry(ticket_id=ticket.id, created_at=now)
        session.add(entry)
    for name, value in vars(fields).items():
        setattr(entry, name, list(value) if name == "tags" else value)
    entry.archived_at = entry.updated_at = now
    session.flush()
    audit.record(session, actor, "case_entry.archived", object_type="case_entry",
                 object_id=entry.id, before=before,
                 after={"ticket_id": ticket.id, "first_time": entry.first_time,
                        "reopen_count": entry.reopen_count, "rating": entry.rating})  # fmt: skip
    return entry


def record_reopens(connection: Connection, ticket_ids: list[int], now: datetime) -> None:
    """The entries of these reopened cases take the tickets' reopen counts: not first time any
    more (one statement; intake's batch runs it on its connection)."""
    if not ticket_ids:
        return
    count = select(Ticket.reopen_count).where(Ticket.id == CaseEntry.ticket_id).scalar_subquery()
    connection.execute(
        update(CaseEntry)
        .where(CaseEntry.ticket_id.in_(ticket_ids))
        .values(reopen_count=count, first_time=False, updated_at=now)
    )


def do_record_rating(session: Session, ticket_id: int, rating: int, *, actor: Actor) -> CaseEntry:
    """The customer's rating (1-5) of an archived case, when it comes after the archive (the
    survey): the entry's outcome takes it. 404 when the case has no entry."""
    if not 1 <= rating <= 5:
        raise KefuError("validation_error", status_code=422, details={"field": "rating"})
    entry = session.scalar(
        select(CaseEntry).where(CaseEntry.ticket_id == ticket_id).with_for_update()
    )
    if entry is None:
        raise NotFound("case_entry")
    before = {"rating": entry.rating}
    entry.rating, entry.updated_at = rating, utcnow()
    session.flush()
    audit.record(session, actor, "case_entry.rated", object_type="case_entry", object_id=entry.id,
                 before=before, after={"rating": rating})  # fmt: skip
    return entry


def rebuild_batch(
    session: Session, *, actor: Actor, after_id: int = 0, batch: int = 200
) -> tuple[int, int]:
    """Write (or rewrite) the entries of up to ``batch`` archived complaints with ids above
    ``after_id``: for cases archived before the library existed, imported history, or after a
    better redaction. Returns how many, and the last ticket id done (the next ``after_id``)."""
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.id > after_id, Ticket.case_path == "complaint", Ticket.stage == "archived")
        .order_by(Ticket.id)
        .limit(batch)
        .with_for_update()
    ).all()
    for ticket in tickets:
        do_record_archive(session, ticket, actor=actor)
    return len(tickets), (tickets[-1].id if tickets else after_id)
