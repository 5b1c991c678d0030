"""A customer's personal data (个人信息保护法): the export of everything kefu holds about them,
erasure on request, and the audit of every access to their full data.

The export gathers the profile (and the profiles merged into it), identities, tickets with their
messages and attachments' names and sizes, surveys and answers, contact verifications, social
mentions linked to them, WeChat followers, joins and merges. Erasure replaces the personal fields
and the bodies with ``ERASED`` and deletes the stored files, but keeps every row that the case
statistics count (tickets, statuses, times, categories, survey scores): the dashboard still adds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from kefu.db.base import utcnow
from kefu.db.models import (
    Attachment,
    AuditEvent,
    ContactVerification,
    Customer,
    CustomerJoin,
    CustomerMerge,
    InboundPayload,
    MailRaw,
    Message,
    SocialMention,
    Survey,
    Ticket,
    WechatFollower,
)
from kefu.domain.masking import sees_full_numbers
from kefu.errors import KefuError, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.customers.case_erasure import erase_case_records
from kefu.services.customers.profiles import access_customer
from kefu.services.intake.attachments import blob_path
from kefu.services.search import index as search_index

ERASED = "已按客户要求删除"
ERASED_ATTACHMENT_TYPE = "application/x-kefu-erased"
# An erased attachment's digest: names no stored file (blob_path finds nothing under it).
ERASED_DIGEST = "erased"
FORMAT_VERSION = 1
# What the audit snapshots of a customer (services/customers/profiles.py snapshot) and of their
# tickets hold that names them or quotes them: replaced in those events too.
_PERSONAL_KEYS = frozenset({"name", "email", "phone", "note", "identities", "subject", "text",
                            "body", "body_text", "comment", "reasons", "priority_reason"})  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _profile_ids(session: Session, customer_id: int) -> list[int]:
    """The customer and every profile merged into it, directly or through another."""
    ids = [customer_id]
    frontier = [customer_id]
    while frontier:
        found = list(
            session.scalars(select(Customer.id).where(Customer.merged_into_id.in_(frontier)))
        )
        frontier = [i for i in found if i not in ids]
        ids += frontier
    return ids


def _check_may_export(actor: Actor) -> None:
    if not actor.sees_all_tickets:
        raise PermissionDenied()


# --- access audit ----------------------------------------------------------------------------


def record_access(session: Session, actor: Actor, customer: Customer, *, what: str) -> None:
    """An access to a customer's full data (unmasked contacts): who, when, and through what."""
    audit.record(
        session, actor, "customer.access", object_type="customer", object_id=customer.id,
        customer_id=customer.id, after={"what": what},
    )  # fmt: skip


def reads_full_numbers(
    session: Session,
    actor: Actor,
    customer: Customer,
    *,
    asked: bool,
    what: str,
    audit_role_reads: bool = True,
) -> bool:
    """Whether ``actor`` reads this customer's phone, ID-card and bank-card numbers unmasked
    (domain/masking.py: supervisors and admins do; agents when they ask to, for the case). A
    full read is audited; one an agent asked for says so (``…:full``). ``audit_role_reads``:
    False where a supervisor's read is routine work, not a look at a customer's full data (a
    ticket's messages): only an agent's asking is recorded then."""
    if sees_full_numbers(actor.role):
        if audit_role_reads:
            record_access(session, actor, customer, what=what)
        return True
    if asked:
        record_access(session, actor, customer, what=f"{what}:full")
        return True
    return False


# --- export ------------------------------------------------------------------------------------


def _customer_json(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "note": customer.note,
        "language": customer.language,
        "tags": [t.name for t in customer.tags],
        "merged_into_id": customer.merged_into_id,
        "created_at": _iso(customer.created_at),
        "updated_at": _iso(customer.updated_at),
        "identities": [
            {
                "id": i.id,
                "channel": i.channel,
                "external_id": i.external_id,
                "verified": i.verified,
                "proof": i.proof,
                "created_at": _iso(i.created_at),
            }
            for i in customer.identities
        ],
    }


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "channel": message.channel,
        "direction": message.direction,
        "author_type": message.author_type,
        "from_customer": message.author_customer_id is not None,
        "text": message.body_text,
        "created_at": _iso(message.created_at),
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "created_at": _iso(a.created_at),
            }
            for a in message.attachments
        ],
    }


def _ticket_json(ticket: Ticket, messages: list[Message]) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status,
        "channel": ticket.channel,
        "category": ticket.category,
        "priority": ticket.priority,
        "customer_id": ticket.customer_id,
        "fields": ticket.fields or {},
        "created_at": _iso(ticket.created_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
        "messages": [_message_json(m) for m in messages],
    }


def _survey_json(s: Survey) -> dict[str, Any]:
    return {
        "id": s.id,
        "ticket_id": s.ticket_id,
        "purpose": s.purpose,
        "channel": s.channel,
        "kinds": list(s.kinds or []),
        "sent_at": _iso(s.sent_at),
        "answered_at": _iso(s.answered_at),
        "csat": s.csat,
        "nps": s.nps,
        "ces": s.ces,
        "solved": s.solved,
        "comment": s.comment,
    }


def collect(session: Session, customer_id: int) -> dict[str, Any]:
    """Everything kefu holds about the customer, as JSON-ready data (no access check)."""
    ids = _profile_ids(session, customer_id)
    profiles = {
        c.id: c
        for c in session.scalars(
            select(Customer)
            .where(Customer.id.in_(ids))
            .options(selectinload(Customer.identities), selectinload(Customer.tags))
        )
    }
    tickets = list(
        session.scalars(select(Ticket).where(Ticket.customer_id.in_(ids)).order_by(Ticket.id))
    )
    by_ticket: dict[int, list[Message]] = {t.id: [] for t in tickets}
    if tickets:
        for m in session.scalars(
            select(Message)
            .where(Message.ticket_id.in_(list(by_ticket)))
            .order_by(Message.id)
            .options(selectinload(Message.attachments))
        ):
            by_ticket[m.ticket_id].append(m)
    surveys = session.scalars(select(Survey).where(Survey.customer_id.in_(ids)).order_by(Survey.id))
    verifications = session.scalars(
        select(ContactVerification)
        .where(ContactVerification.customer_id.in_(ids))
        .order_by(ContactVerification.id)
    )
    mentions = session.scalars(
        select(SocialMention).where(SocialMention.customer_id.in_(ids)).order_by(SocialMention.id)
    )
    followers = session.scalars(
        select(WechatFollower)
        .where(WechatFollower.customer_id.in_(ids))
        .order_by(WechatFollower.id)
    )
    joins = session.scalars(
        select(CustomerJoin)
        .where(or_(CustomerJoin.customer_a_id.in_(ids), CustomerJoin.customer_b_id.in_(ids)))
        .order_by(CustomerJoin.id)
    )
    merges = session.scalars(
        select(CustomerMerge)
        .where(or_(CustomerMerge.target_id.in_(ids), CustomerMerge.source_id.in_(ids)))
        .order_by(CustomerMerge.id)
    )
    return {
        "format": "kefu.customer_export",
        "version": FORMAT_VERSION,
        "exported_at": utcnow().isoformat(),
        "customer": _customer_json(profiles[customer_id]),
        "merged_profiles": [_customer_json(profiles[i]) for i in ids[1:] if i in profiles],
        "tickets": [_ticket_json(t, by_ticket[t.id]) for t in tickets],
        "surveys": [_survey_json(s) for s in surveys],
        "verifications": [
            {
                "id": v.id,
                "kind": v.kind,
                "value": v.value,
                "created_at": _iso(v.created_at),
                "expires_at": _iso(v.expires_at),
                "verified_at": _iso(v.verified_at),
            }
            for v in verifications
        ],
        "social_mentions": [
            {
                "id": m.id,
                "platform": m.platform,
                "kind": m.kind,
                "url": m.url,
                "author_handle": m.author_handle,
                "author_name": m.author_name,
                "text": m.text,
                "posted_at": _iso(m.posted_at),
                "ticket_id": m.ticket_id,
            }
            for m in mentions
        ],
        "wechat_followers": [
            {
                "id": f.id,
                "account_id": f.account_id,
                "openid": f.openid,
                "subscribed": f.subscribed,
                "last_seen_at": _iso(f.last_seen_at),
            }
            for f in followers
        ],
        "joins": [
            {
                "id": j.id,
                "customer_a_id": j.customer_a_id,
                "customer_b_id": j.customer_b_id,
                "state": j.state,
                "evidence": j.evidence,
                "created_at": _iso(j.created_at),
                "decided_at": _iso(j.decided_at),
            }
            for j in joins
        ],
        "merges": [
            {
                "id": m.id,
                "target_id": m.target_id,
                "source_id": m.source_id,
                "ticket_ids": m.ticket_ids,
                "merged_at": _iso(m.merged_at),
                "undone_at": _iso(m.undone_at),
            }
            for m in merges
        ],
    }


def export_customer(
    session: Session, actor: Actor, customer_id: int, *, fmt: str
) -> dict[str, Any]:
    """Everything about one customer, for supervisors and admins; the access is audited."""
    _check_may_export(actor)
    customer = access_customer(session, actor, customer_id)
    data = collect(session, customer.id)
    record_access(session, actor, customer, what=f"export:{fmt}")
    return data


# --- erasure -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    customer_id: int
    profiles: int
    tickets: int
    messages: int
    attachments: int
    files_deleted: int


def _erase_explanations(analysis: dict[str, Any] | None, marker: str) -> dict[str, Any] | None:
    """The analysis keeps its labels (the KPIs read them); the quoted spans go."""
    if not analysis or not analysis.get("explanations"):
        return analysis
    return {
        **analysis,
        "explanations": [{**e, "span": marker} for e in analysis["explanations"]],
    }


def blank_messages(messages: list[Message], marker: str) -> tuple[set[str], int]:
    """Bodies replaced by ``marker``, the analysis's quotes too, attachments marked erased
    (loaded with the messages); the digests of the files they named, and how many attachments
    were marked. The caller refreshes the search index and deletes the files
    (``delete_unshared_files``). Also the retention sweep's (services/retention)."""
    files: set[str] = set()
    attachments = 0
    for message in messages:
        message.body_text = marker
        message.body_html = None
        message.analysis = _erase_explanations(message.analysis, marker)
        for attachment in message.attachments:
            if attachment.content_type == ERASED_ATTACHMENT_TYPE:
                continue
            files.add(attachment.sha256)
            attachment.filename = marker
            attachment.content_type = ERASED_ATTACHMENT_TYPE
            attachment.sha256 = ERASED_DIGEST
            attachments += 1
    return files, attachments


def _erase_snapshot(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if not values or not any(k in values for k in _PERSONAL_KEYS):
        return values
    return {k: (ERASED if k in _PERSONAL_KEYS and v else v) for k, v in values.items()}


def do_erase_customer(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    reason: str,
    attachments_root: Path,
) -> Erasure:
    """Replace the customer's personal data by ``ERASED``, irreversibly; admins only, with a
    reason, audited. Erasing again finds nothing left to erase and changes nothing else."""
    if not actor.is_admin:
        raise PermissionDenied()
    reason = reason.strip()
    if not reason:
        raise KefuError("erasure_reason_required", status_code=422)
    customer = access_customer(session, actor, customer_id, for_update=True)
    ids = _profile_ids(session, customer.id)
    profiles = list(
        session.scalars(
            select(Customer).where(Customer.id.in_(ids)).options(selectinload(Customer.identities))
        )
    )
    for profile in profiles:
        profile.name = ERASED
        profile.email = None
        profile.phone = None
        profile.note = ERASED if profile.note else ""
        for identity in profile.identities:
            # Unique per channel; a marker with the row's id keeps it so, and the openid or
            # address is gone: the next message from it opens a new profile.
            identity.external_id = f"erased-{identity.id}"
            identity.verified = False
            identity.proof = None
        profile.updated_at = utcnow()

    ticket_ids = list(session.scalars(select(Ticket.id).where(Ticket.customer_id.in_(ids))))
    messages = list(
        session.scalars(
            select(Message)
            .where(or_(Message.ticket_id.in_(ticket_ids), Message.author_customer_id.in_(ids)))
            .options(selectinload(Message.attachments))
        )
    )
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))):
        ticket.subject = ERASED
        if ticket.priority_reason:  # it quotes the words that set the priority
            ticket.priority_reason = ERASED
    records = erase_case_records(session, ticket_ids, ERASED, utcnow())
    files, attachments = blank_messages(messages, ERASED)
    message_ids = [m.id for m in messages]

    for survey in session.scalars(select(Survey).where(Survey.customer_id.in_(ids))):
        if survey.comment:
            survey.comment = ERASED
    for verification in session.scalars(
        select(ContactVerification).where(ContactVerification.customer_id.in_(ids))
    ):
        verification.value = ERASED
    for mention in session.scalars(select(SocialMention).where(SocialMention.customer_id.in_(ids))):
        mention.text = ERASED
        mention.author_name = ERASED
        mention.author_handle = ERASED
        mention.url = None
    for follower in session.scalars(
        select(WechatFollower).where(WechatFollower.customer_id.in_(ids))
    ):
        follower.openid = f"erased-{follower.id}"
    for join in session.scalars(
        select(CustomerJoin).where(
            or_(CustomerJoin.customer_a_id.in_(ids), CustomerJoin.customer_b_id.in_(ids))
        )
    ):
        if join.evidence and join.evidence.get("value") not in (None, ERASED):
            join.evidence = {**join.evidence, "value": ERASED}
    if message_ids:
        for raw in session.scalars(select(MailRaw).where(MailRaw.message_id.in_(message_ids))):
            raw.raw = None
            raw.from_address = None
            raw.subject = ERASED
        for payload in session.scalars(
            select(InboundPayload).where(InboundPayload.message_id.in_(message_ids))
        ):
            payload.payload = ERASED
    for event in session.scalars(
        select(AuditEvent).where(
            or_(
                and_(AuditEvent.customer_id.in_(ids), AuditEvent.object_type == "customer"),
                AuditEvent.ticket_id.in_(ticket_ids),
            )
        )
    ):
        before, after = _erase_snapshot(event.before), _erase_snapshot(event.after)
        if before != event.before:
            event.before = before
        if after != event.after:
            event.after = after

    search_index.refresh(
        session, tickets=ticket_ids, messages=message_ids, customers=[p.id for p in profiles]
    )
    deleted = delete_unshared_files(session, attachments_root, files)
    summary = Erasure(
        customer_id=customer.id,
        profiles=len(profiles),
        tickets=len(ticket_ids),
        messages=len(message_ids),
        attachments=attachments,
        files_deleted=deleted,
    )
    audit.record(
        session, actor, "customer.erase", object_type="customer", object_id=customer.id,
        customer_id=customer.id,
        after={"reason": reason, "profile_ids": ids, "ticket_ids": ticket_ids,
               "messages": len(message_ids), "attachments": attachments,
               "records": dict(records)},
    )  # fmt: skip
    return summary


def delete_unshared_files(session: Session, root: Path, digests: set[str]) -> int:
    """Delete the stored files no other attachment still names (files are stored once per
    content: another customer's attachment with the same bytes keeps it). Done before the
    commit: should the transaction fail, the files are gone all the same, which is what the
    customer asked for; the erasure is simply run again."""
    session.flush()
    deleted = 0
    for digest in sorted(digests):
        if session.scalar(select(Attachment.id).where(Attachment.sha256 == digest).limit(1)):
            continue
        path = blob_path(root, digest)
        if path.exists():
            path.unlink()
            deleted += 1
    return deleted
