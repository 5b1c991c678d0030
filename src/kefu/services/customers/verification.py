"""Proving an e-mail address or a phone number with a code the customer sends back.

An agent on a customer's conversation asks kefu to verify a contact the customer named:

- an **e-mail address**: kefu mails a six-digit code there (the agent never sees it); the
  customer reads it and sends it back on their conversation (web chat, WeChat …): whoever reads
  that mailbox is this customer;
- a **phone number**: kefu cannot text out, so the agent gives the customer a code to text from
  that phone to the service number; the SMS arrives by the SMS webhook, from the number: whoever
  holds that phone is this customer (and the SMS's own profile, if it made one, is theirs too).

Only customer messages after the request count, a code lives 30 minutes, and five wrong
six-digit numbers sent back end the attempt. A code sent back is a verified contact
(services/customers/joins.py ``record_verified_contact``), which joins the profiles holding it.
Only the code's HMAC is stored.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import ContactVerification, Customer, Identity, Message
from kefu.domain import customer_joins as rules
from kefu.domain.customer_joins import ContactKind, Proof
from kefu.domain.tickets import Direction
from kefu.errors import KefuError
from kefu.keyring import any_signature_matches
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.customers import joins, profiles
from kefu.services.outbound.notices import enqueue_mail_notice

LIFETIME = timedelta(minutes=30)
MAX_ATTEMPTS = 5
PER_CUSTOMER_PER_HOUR = 5
SMS_CHANNELS = ("sms", "phone")


@dataclass(frozen=True)
class Started:
    verification: ContactVerification
    code_to_tell: str | None  # a phone's code, for the agent to give the customer; None for mail


def _digest(secret_key: str, verification_id: int, code: str) -> str:
    message = f"{verification_id}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _matches(secret_key: str, verification: ContactVerification, code: str) -> bool:
    """Whether ``code`` is the one sent (under the master key, or one it replaced meanwhile)."""
    return any_signature_matches(
        secret_key, verification.code_hash, lambda key: _digest(key, verification.id, code)
    )


def start_verification(
    session: Session,
    actor: Actor,
    customer_id: int,
    kind: ContactKind,
    raw_value: str,
    *,
    secret_key: str,
    now: datetime | None = None,
) -> Started:
    """Send (e-mail) or hand out (phone) a code for the customer to send back. The caller commits."""
    now = now or utcnow()
    customer = profiles.access_customer(session, actor, customer_id)
    value = rules.normalize(kind, raw_value)
    if value is None:
        raise KefuError(f"invalid_{kind.value}", status_code=422, details={"field": "value"})
    recent = session.scalar(
        select(func.count())
        .select_from(ContactVerification)
        .where(
            ContactVerification.customer_id == customer.id,
            ContactVerification.created_at > now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= PER_CUSTOMER_PER_HOUR:
        raise KefuError("verification_rate_limited", status_code=429)
    last_message = session.scalar(select(func.max(Message.id))) or 0
    code = rules.new_code()
    verification = ContactVerification(
        customer_id=customer.id,
        kind=kind.value,
        value=value,
        code_hash="",
        created_by_id=actor.user_id,
        created_at=now,
        expires_at=now + LIFETIME,
        checked_message_id=last_message,
        attempts=0,
    )
    session.add(verification)
    session.flush()
    verification.code_hash = _digest(secret_key, verification.id, code)
    audit.record(
        session, actor, "customer.verification_started", object_type="customer",
        object_id=customer.id, customer_id=customer.id, after={"kind": kind.value},
    )  # fmt: skip
    if kind == ContactKind.EMAIL:
        enqueue_mail_notice(
            session,
            to=[value],
            subject=f"验证码 {code}",
            text=(
                f"您好！您的验证码是 {code}，30 分钟内有效。\n"
                "请在与客服的对话中发送这个验证码，以确认这个邮箱属于您。\n"
                "如果您没有联系过我们的客服，请忽略这封邮件。"
            ),
        )
        return Started(verification, None)
    return Started(verification, code)


def read_codes_sent_back(session: Session, now: datetime, *, secret_key: str) -> int:
    """Read the customer messages that arrived since each open verification was last read; a
    right code verifies the contact. Returns how many were verified. The caller commits."""
    key = secret_key
    open_ones = list(
        session.scalars(
            select(ContactVerification)
            .where(
                ContactVerification.verified_at.is_(None),
                ContactVerification.expires_at > now,
                ContactVerification.attempts < MAX_ATTEMPTS,
            )
            .order_by(ContactVerification.id)
        )
    )
    verified = 0
    for v in open_ones:
        senders = _senders(session, v)
        messages = session.execute(
            select(Message.id, Message.body_text, Message.author_customer_id)
            .where(
                Message.id > v.checked_message_id,
                Message.direction == Direction.INBOUND.value,
                Message.author_customer_id.in_(senders),
                *([Message.channel.in_(SMS_CHANNELS)] if v.kind == ContactKind.PHONE else []),
            )
            .order_by(Message.id)
        ).all()
        for message_id, text, author in messages:
            v.checked_message_id = message_id
            right = [c for c in rules.codes_in(text or "") if _matches(key, v, c)]
            if right:
                _verified(session, v, author, now)
                verified += 1
                break
            v.attempts += len(rules.codes_in(text or ""))
            if v.attempts >= MAX_ATTEMPTS:
                break
    return verified


def _senders(session: Session, v: ContactVerification) -> list[int]:
    """Whose messages may carry the code back: the customer (e-mail); the profiles that hold the
    number as an SMS or phone identity (phone — the SMS may have made a profile of its own)."""
    if v.kind == ContactKind.EMAIL:
        return [_live(session, v.customer_id)]
    return sorted({customer_id for customer_id, _ in _number_identities(session, v.value)})


def _number_identities(session: Session, number: str) -> list[tuple[int, int]]:
    """(customer id, identity id) of the SMS and phone identities of a number, however stored."""
    rows = session.execute(
        select(Identity.customer_id, Identity.id, Identity.external_id).where(
            Identity.channel.in_(SMS_CHANNELS), Identity.external_id.like(f"%{number[-4:]}")
        )
    )
    return [(c, i) for c, i, raw in rows if rules.normalize_phone(raw) == number]


def _verified(session: Session, v: ContactVerification, author: int | None, now: datetime) -> None:
    v.verified_at = now
    kind = ContactKind(v.kind)
    if kind == ContactKind.PHONE and author is not None and author != v.customer_id:
        # The number that texted the code back is proven on its own profile too.
        texted = [i for c, i in _number_identities(session, v.value) if c == author]
        session.execute(
            update(Identity)
            .where(Identity.id.in_(texted))
            .values(verified=True, proof=Proof.CODE.value)
        )
    joins.record_verified_contact(session, _live(session, v.customer_id), kind, v.value, Proof.CODE)


def _live(session: Session, customer_id: int) -> int:
    """The profile a customer lives on now (the one it was merged into, if it was)."""
    merged_into = session.scalar(select(Customer.merged_into_id).where(Customer.id == customer_id))
    return merged_into or customer_id
