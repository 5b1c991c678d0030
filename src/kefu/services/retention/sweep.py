"""The retention sweep: each kind of personal data past its period erased or deleted, in
batches of its own transaction (no long lock), idempotently (a swept row no longer matches).

Texts are replaced the way the erasure service replaces them (services/customers/
personal_data.py): the row stays with its times, labels and scores, so the KPI figures do not
move; attachment files are deleted unless another attachment names the same bytes; the search
index is rewritten in the batch's transaction. Rows that are only a record of something done
(delivered outbox rows, sign-in sessions, verification codes, audit events) are deleted.
Each run is audited with its counts per kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, selectinload

from kefu.db.base import utcnow
from kefu.db.models import (
    AuditEvent,
    ContactVerification,
    Customer,
    CustomerMerge,
    Identity,
    InboundPayload,
    LoginSession,
    MailRaw,
    Message,
    OutboxEntry,
    SocialMention,
    Survey,
    Ticket,
)
from kefu.domain.delivery import DeliveryState
from kefu.domain.retention import KIND_KEYS, SWEPT, RetentionPolicy
from kefu.domain.tickets import Channel, TicketStatus
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.customers.case_erasure import erase_case_records
from kefu.services.customers.personal_data import ERASED, blank_messages, delete_unshared_files
from kefu.services.search import index as search_index

BATCH = 500
_GONE = (SWEPT, ERASED)  # texts already replaced, by this sweep or by an erasure
_DELIVERED = (DeliveryState.SENT.value, DeliveryState.DELIVERED.value, DeliveryState.READ.value)


@dataclass(frozen=True)
class _Kind:
    """``due``: the ids past the cutoff still to sweep, by id; ``apply``: sweep those ids
    (the caller's transaction), the number of rows swept."""

    due: Callable[[datetime], Select[Any]]
    apply: Callable[[Session, list[int], Path], int]


# --- texts replaced ---------------------------------------------------------------------------


def _mail_raw_due(cutoff: datetime) -> Select[Any]:
    kept = or_(MailRaw.raw.is_not(None), MailRaw.from_address.is_not(None))
    return select(MailRaw.id).where(MailRaw.received_at < cutoff, kept).order_by(MailRaw.id)


def _mail_raw_apply(session: Session, ids: list[int], _: Path) -> int:
    values = {"raw": None, "from_address": None, "subject": SWEPT}
    return _updated(session, update(MailRaw).where(MailRaw.id.in_(ids)).values(values))


def _payloads_due(cutoff: datetime) -> Select[Any]:
    return (
        select(InboundPayload.id)
        .where(InboundPayload.received_at < cutoff, InboundPayload.payload.not_in(_GONE))
        .order_by(InboundPayload.id)
    )


def _payloads_apply(session: Session, ids: list[int], _: Path) -> int:
    statement = update(InboundPayload).where(InboundPayload.id.in_(ids)).values(payload=SWEPT)
    return _updated(session, statement)


def _case_bodies_due(cutoff: datetime) -> Select[Any]:
    return (
        select(Message.id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Ticket.status == TicketStatus.CLOSED.value,
            Ticket.closed_at < cutoff,
            Message.body_text.not_in(_GONE),
        )
        .order_by(Message.id)
    )


def _case_bodies_apply(session: Session, ids: list[int], root: Path) -> int:
    messages = list(
        session.scalars(
            select(Message).where(Message.id.in_(ids)).options(selectinload(Message.attachments))
        )
    )
    files, _ = blank_messages(messages, SWEPT)
    ticket_ids = sorted({m.ticket_id for m in messages})
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))):
        if ticket.subject not in _GONE:
            ticket.subject = SWEPT
        if ticket.priority_reason and ticket.priority_reason not in _GONE:
            ticket.priority_reason = SWEPT  # it quotes the words that set the priority
    # What the cases' other records say goes with the bodies (case file words, text fields, QA
    # evidence, the bot's memory …): services/customers/case_erasure.py.
    erase_case_records(session, ticket_ids, SWEPT, utcnow())
    search_index.refresh(session, tickets=ticket_ids, messages=ids)
    delete_unshared_files(session, root, files)
    return len(messages)


def _survey_comments_due(cutoff: datetime) -> Select[Any]:
    return (
        select(Survey.id)
        .where(Survey.answered_at < cutoff, Survey.comment != "", Survey.comment.not_in(_GONE))
        .order_by(Survey.id)
    )


def _survey_comments_apply(session: Session, ids: list[int], _: Path) -> int:
    return _updated(session, update(Survey).where(Survey.id.in_(ids)).values(comment=SWEPT))


def _mentions_due(cutoff: datetime) -> Select[Any]:
    return (
        select(SocialMention.id)
        .where(
            SocialMention.ticket_id.is_(None),
            SocialMention.posted_at < cutoff,
            SocialMention.text.not_in(_GONE),
        )
        .order_by(SocialMention.id)
    )


def _mentions_apply(session: Session, ids: list[int], _: Path) -> int:
    # The topic, sentiment and time stay: the listening page's counts and spikes still add up.
    values = {"text": SWEPT, "author_name": SWEPT, "author_handle": SWEPT, "url": None,
              "customer_id": None}  # fmt: skip
    return _updated(session, update(SocialMention).where(SocialMention.id.in_(ids)).values(values))


def _visitors_due(cutoff: datetime) -> Select[Any]:
    """Web-chat profiles that never became a case: every identity a web-chat visitor id, no
    ticket, no merge, untouched since the cutoff."""
    on_webchat = Identity.channel == Channel.WEBCHAT.value
    mine = Identity.customer_id == Customer.id
    return (
        select(Customer.id)
        .where(
            Customer.updated_at < cutoff,
            Customer.created_at < cutoff,
            Customer.merged_into_id.is_(None),
            Customer.name.not_in(_GONE),
            exists().where(mine, on_webchat),
            ~exists().where(mine, ~on_webchat),
            ~exists().where(Ticket.customer_id == Customer.id),
            ~exists().where(
                or_(CustomerMerge.target_id == Customer.id, CustomerMerge.source_id == Customer.id)
            ),
        )  # fmt: skip
        .order_by(Customer.id)
    )


def _visitors_apply(session: Session, ids: list[int], _: Path) -> int:
    profiles = list(
        session.scalars(
            select(Customer).where(Customer.id.in_(ids)).options(selectinload(Customer.identities))
        )
    )
    for profile in profiles:
        profile.name, profile.email, profile.phone, profile.note = SWEPT, None, None, ""
        for identity in profile.identities:  # the visitor id gone: a return visit starts afresh
            identity.external_id = f"expired-{identity.id}"
            identity.verified = False
            identity.proof = None
    search_index.refresh(session, customers=ids)
    return len(profiles)


# --- rows deleted -------------------------------------------------------------------------------


def _outbox_due(cutoff: datetime) -> Select[Any]:
    return (
        select(OutboxEntry.id)
        .where(OutboxEntry.state.in_(_DELIVERED), OutboxEntry.updated_at < cutoff)
        .order_by(OutboxEntry.id)
    )


def _outbox_apply(session: Session, ids: list[int], _: Path) -> int:
    return _updated(session, delete(OutboxEntry).where(OutboxEntry.id.in_(ids)))


def _sessions_due(cutoff: datetime) -> Select[Any]:
    ended = or_(LoginSession.expires_at < cutoff, LoginSession.revoked_at < cutoff)
    return select(LoginSession.id).where(ended).order_by(LoginSession.id)


def _sessions_apply(session: Session, ids: list[int], _: Path) -> int:
    return _updated(session, delete(LoginSession).where(LoginSession.id.in_(ids)))


def _verifications_due(cutoff: datetime) -> Select[Any]:
    return (
        select(ContactVerification.id)
        .where(ContactVerification.expires_at < cutoff)
        .order_by(ContactVerification.id)
    )


def _verifications_apply(session: Session, ids: list[int], _: Path) -> int:
    statement = delete(ContactVerification).where(ContactVerification.id.in_(ids))
    return _updated(session, statement)


def _audit_due(cutoff: datetime) -> Select[Any]:
    return select(AuditEvent.id).where(AuditEvent.created_at < cutoff).order_by(AuditEvent.id)


def _audit_apply(session: Session, ids: list[int], _: Path) -> int:
    if session.get_bind().dialect.name == "postgresql":
        # The runtime role may not DELETE audit events: the owner's function does (db/grants.py).
        expire = text("SELECT kefu_expire_audit_events(CAST(:ids AS bigint[]))")
        return int(session.scalar(expire, {"ids": ids}) or 0)
    return _updated(session, delete(AuditEvent).where(AuditEvent.id.in_(ids)))


def _updated(session: Session, statement: object) -> int:
    return int(session.execute(statement).rowcount)  # type: ignore[call-overload]


# Per kind of domain/retention.KINDS, the row sets it covers (sign-ins and codes share one period).
SWEEPS: dict[str, tuple[_Kind, ...]] = {
    "mail_raw": (_Kind(_mail_raw_due, _mail_raw_apply),),
    "inbound_payloads": (_Kind(_payloads_due, _payloads_apply),),
    "case_bodies": (_Kind(_case_bodies_due, _case_bodies_apply),),
    "survey_comments": (_Kind(_survey_comments_due, _survey_comments_apply),),
    "social_mentions": (_Kind(_mentions_due, _mentions_apply),),
    "webchat_visitors": (_Kind(_visitors_due, _visitors_apply),),
    "outbox": (_Kind(_outbox_due, _outbox_apply),),
    "login_sessions": (
        _Kind(_sessions_due, _sessions_apply),
        _Kind(_verifications_due, _verifications_apply),
    ),
    "audit_events": (_Kind(_audit_due, _audit_apply),),
}
assert tuple(SWEEPS) == KIND_KEYS  # noqa: S101 — one sweep per kind, in the page's order


# --- the run ------------------------------------------------------------------------------------


def due_counts(session: Session, policy: RetentionPolicy, now: datetime) -> dict[str, int]:
    """What a run would sweep now, per kind (kinds kept forever are left out): the dry run."""
    counts: dict[str, int] = {}
    for key, parts in SWEEPS.items():
        cutoff = policy.cutoff(key, now)
        if cutoff is not None:
            counts[key] = sum(
                session.scalar(select(func.count()).select_from(p.due(cutoff).subquery())) or 0
                for p in parts
            )
    return counts


def _sweep_part(
    sessions: Callable[[], Session], part: _Kind, cutoff: datetime, root: Path, batch: int
) -> int:
    total = 0
    while True:
        due = part.due(cutoff)
        table = due.selected_columns[0].table  # the swept rows, not a joined ticket
        with sessions() as session:
            ids = list(
                session.scalars(due.limit(batch).with_for_update(skip_locked=True, of=table))
            )
            if not ids:
                return total
            total += part.apply(session, ids, root)
            session.commit()
        if len(ids) < batch:
            return total


def run(
    sessions: Callable[[], Session],
    *,
    policy: RetentionPolicy,
    now: datetime,
    actor: Actor,
    attachments_root: Path,
    batch: int = BATCH,
) -> dict[str, int]:
    """Sweep every kind past its period; the counts per kind (kinds kept forever left out).
    Every run is audited (``retention.sweep``) with its counts and the periods it applied."""
    counts: dict[str, int] = {}
    for key, parts in SWEEPS.items():
        cutoff = policy.cutoff(key, now)
        if cutoff is not None:
            counts[key] = sum(
                _sweep_part(sessions, p, cutoff, attachments_root, batch) for p in parts
            )
    with sessions() as session:
        audit.record(session, actor, "retention.sweep", object_type="retention_policy",
                     object_id=1, after={"counts": counts, "days": policy.to_json()})  # fmt: skip
        session.commit()
    return counts
