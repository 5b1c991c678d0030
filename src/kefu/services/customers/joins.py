"""One customer across channels: joining profiles that share a proven contact, suggesting the rest.

The rules are in domain/customer_joins.py. This module finds the profiles that share an e-mail
address or a phone number and acts on the rule's decision:

- ``record_verified_contact`` — a profile proved a contact (a signed web-chat identity, a number
  bound to the WeChat account, a code sent back): kept as a verified identity, and every other
  live profile holding it is joined (verified there too) or suggested (held on weaker grounds);
- ``sweep`` — the job: identities that arrived by intake (an e-mail's From, an SMS sender) are
  compared with the other profiles' contacts, and suggestions are made; codes sent back are read
  (services/customers/verification.py);
- ``confirm_join`` / ``dismiss_join`` — an agent who can see both profiles decides a suggestion;
  a confirmed join is a merge (services/customers/profiles.py ``do_merge``), audited and undone
  from the merge history like any other; an undone or dismissed pair is not put forward again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Customer, CustomerJoin, Identity
from kefu.domain import customer_joins as rules
from kefu.domain.customer_joins import ContactKind, Decision, Evidence, JoinState, Proof
from kefu.errors import Conflict, NotFound
from kefu.services import audit
from kefu.services.actors import SYSTEM, Actor
from kefu.services.customers import profiles

log = logging.getLogger(__name__)

SWEEP_BATCH = 500


@dataclass(frozen=True)
class Holder:
    """Another live profile holding a contact, and on what grounds."""

    customer_id: int
    verified: bool
    proof: Proof


@dataclass(frozen=True)
class Outcome:
    joined: list[int]  # merges made
    suggested: list[int]  # join rows suggested


def record_verified_contact(
    session: Session,
    customer_id: int,
    kind: ContactKind,
    raw_value: str,
    proof: Proof,
    *,
    actor: Actor = SYSTEM,
) -> Outcome:
    """``customer_id`` proved it holds this e-mail address or phone number (``proof`` must be a
    verified one): kept as its verified identity, then joined with or suggested to the other
    profiles that hold it. The caller commits."""
    if not proof.verified:
        raise ValueError(f"{proof} proves nothing")
    value = rules.normalize(kind, raw_value)
    if value is None:
        raise ValueError(f"not an {kind}: {raw_value!r}")
    channel = rules.identity_channel(kind)
    identity = session.scalar(
        select(Identity).where(Identity.channel == channel, Identity.external_id == value)
    )
    if identity is None:
        session.add(
            Identity(
                customer_id=customer_id,
                channel=channel,
                external_id=value,
                verified=True,
                proof=proof.value,
                join_checked_at=utcnow(),
            )
        )
        session.flush()
    elif identity.customer_id == customer_id:
        identity.verified, identity.proof = True, proof.value
    audit.record(
        session, actor, "customer.contact_verified", object_type="customer",
        object_id=customer_id, customer_id=customer_id,
        after={"kind": kind.value, "proof": proof.value},
    )  # fmt: skip
    return _match(session, customer_id, kind, value, verified=True, proof=proof, actor=actor)


def _match(
    session: Session,
    customer_id: int,
    kind: ContactKind,
    value: str,
    *,
    verified: bool,
    proof: Proof,
    actor: Actor,
) -> Outcome:
    joined: list[int] = []
    suggested: list[int] = []
    for holder in holders(session, kind, value, besides=customer_id):
        a, b = rules.pair(customer_id, holder.customer_id)
        row = session.scalar(
            select(CustomerJoin)
            .where(CustomerJoin.customer_a_id == a, CustomerJoin.customer_b_id == b)
            .with_for_update()
        )
        earlier = JoinState(row.state) if row is not None else None
        decision = rules.decide(
            this_verified=verified, other_verified=holder.verified, earlier=earlier
        )
        evidence = {
            **Evidence(kind, value, proof, holder.proof).as_dict(),
            "this_customer_id": customer_id,
        }
        if decision == Decision.JOIN:
            if row is None:
                row = CustomerJoin(
                    customer_a_id=a,
                    customer_b_id=b,
                    state=JoinState.SUGGESTED.value,
                    evidence=evidence,
                )
                session.add(row)
            row.evidence, row.automatic = evidence, True
            joined.append(_join(session, row, actor=actor, automatic=True))
            customer_id = a  # the survivor (the older profile) holds the contact from now on
        elif decision == Decision.SUGGEST:
            row = CustomerJoin(
                customer_a_id=a,
                customer_b_id=b,
                state=JoinState.SUGGESTED.value,
                evidence=evidence,
                automatic=False,
            )
            session.add(row)
            session.flush()
            suggested.append(row.id)
    return Outcome(joined, suggested)


def holders(session: Session, kind: ContactKind, value: str, *, besides: int) -> list[Holder]:
    """The live profiles other than ``besides`` holding this contact: as an identity (e-mail;
    phone or SMS) or in their profile's e-mail / phone field (typed, so claimed)."""
    channels = [c for c, k in rules.CHANNEL_KINDS.items() if k == kind]
    found: dict[int, Holder] = {}
    # Stored as they arrived ("+86 138-…", "Li@X.cn"): narrowed in SQL, compared normalized.
    rows = session.execute(
        select(Identity.customer_id, Identity.channel, Identity.external_id, Identity.verified,
               Identity.proof)
        .join(Customer, Customer.id == Identity.customer_id)
        .where(
            Identity.channel.in_(channels),
            _near(Identity.external_id, kind, value),
            Identity.customer_id != besides,
            Customer.merged_into_id.is_(None),
        )
        .order_by(Identity.id)
    )  # fmt: skip
    for cid, channel, external_id, verified, proof in rows:
        if rules.normalize(kind, external_id) != value:
            continue
        shown = _proof_of(channel, verified, proof)
        held = Holder(cid, bool(verified) and shown.verified, shown)
        if cid not in found or (held.verified and not found[cid].verified):
            found[cid] = held
    field = Customer.email if kind == ContactKind.EMAIL else Customer.phone
    for cid, raw in session.execute(
        select(Customer.id, field)
        .where(_near(field, kind, value), Customer.id != besides, Customer.merged_into_id.is_(None))
        .order_by(Customer.id)
    ):
        if cid not in found and raw and rules.normalize(kind, raw) == value:
            found[cid] = Holder(cid, False, Proof.TYPED)
    return list(found.values())


def _near(column: Any, kind: ContactKind, value: str) -> Any:
    """A cheap SQL filter that keeps every stored form of the contact (and a few others)."""
    if kind == ContactKind.EMAIL:
        return func.lower(func.trim(column)) == value
    return column.like(f"%{value[-4:]}")


def _proof_of(channel: str, verified: bool, proof: str | None) -> Proof:
    if proof:
        try:
            return Proof(proof)
        except ValueError:
            pass
    if verified:
        return Proof.SIGNED_CLAIM if channel == "webchat" else Proof.BOUND
    return Proof.HEADER if channel == "email" else Proof.SENDER


def _join(session: Session, row: CustomerJoin, *, actor: Actor, automatic: bool) -> int:
    """Merge the pair of ``row`` (the newer profile into the older) and mark the row joined."""
    target, source = rules.join_direction(row.customer_a_id, row.customer_b_id)
    # An automatic join is the rule's doing (kefu merges, whoever proved the contact); a
    # confirmed one is the agent's.
    merge = profiles.do_merge(
        session, SYSTEM if automatic else actor, target_id=target, source_id=source,
        suggested=not automatic,
    )  # fmt: skip
    row.state, row.merge_id = JoinState.JOINED.value, merge.id
    row.decided_by_id, row.decided_at = actor.user_id, utcnow()
    audit.record(
        session, actor, "customer.auto_join" if automatic else "customer.join_confirmed",
        object_type="customer", object_id=target, customer_id=target,
        after={"merge_id": merge.id, "source_id": source, "evidence": row.evidence},
    )  # fmt: skip
    return merge.id


# --- the job ---------------------------------------------------------------------------------


def sweep(session: Session, now: datetime, *, limit: int = SWEEP_BATCH) -> dict[str, int]:
    """One round: the identities not compared yet, oldest first. Idempotent, one transaction
    (the caller's); several workers at once take disjoint rows on PostgreSQL."""
    query = (
        select(Identity)
        .where(Identity.join_checked_at.is_(None))
        .order_by(Identity.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    identities = list(session.scalars(query))
    joined = suggested = 0
    for identity in identities:
        identity.join_checked_at = now
        contact = rules.contact_of_identity(identity.channel, identity.external_id)
        if contact is None:
            continue
        live = session.scalar(
            select(Customer.merged_into_id).where(Customer.id == identity.customer_id)
        )
        if live is not None:
            continue  # its profile was merged away in this round: the survivor holds it now
        kind, value = contact
        proof = _proof_of(identity.channel, identity.verified, identity.proof)
        outcome = _match(
            session, identity.customer_id, kind, value,
            verified=identity.verified and proof.verified, proof=proof, actor=SYSTEM,
        )  # fmt: skip
        joined += len(outcome.joined)
        suggested += len(outcome.suggested)
    return {"identities": len(identities), "joined": joined, "suggested": suggested}


def sweep_until_done(
    sessions: Callable[[], Session], now: Callable[[], datetime], *, secret_key: str
) -> dict[str, int]:
    """The job's round: codes sent back first (they may prove a contact), then the identities."""
    from kefu.services.customers import verification  # it verifies through this module

    totals = {"identities": 0, "joined": 0, "suggested": 0, "verified": 0}
    with sessions() as session:
        totals["verified"] = verification.read_codes_sent_back(
            session, now(), secret_key=secret_key
        )
        session.commit()
    while True:
        with sessions() as session:
            counts = sweep(session, now())
            session.commit()
        for key, count in counts.items():
            totals[key] += count
        if counts["identities"] < SWEEP_BATCH:
            return totals


# --- what agents see and decide ---------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    join: CustomerJoin
    other: Customer

    @property
    def evidence(self) -> dict[str, Any]:
        return self.join.evidence


def suggestions_for(session: Session, actor: Actor, customer: Customer) -> list[Suggestion]:
    """The open suggestions of a customer (loaded with ``access_customer``) whose other profile
    the actor may see too, newest first."""
    rows = session.scalars(
        select(CustomerJoin)
        .where(
            CustomerJoin.state == JoinState.SUGGESTED.value,
            or_(
                CustomerJoin.customer_a_id == customer.id,
                CustomerJoin.customer_b_id == customer.id,
            ),
        )
        .order_by(CustomerJoin.id.desc())
    )
    found = []
    for row in rows:
        other_id = row.customer_b_id if row.customer_a_id == customer.id else row.customer_a_id
        other = session.scalar(
            select(Customer).where(
                Customer.id == other_id,
                Customer.merged_into_id.is_(None),
                profiles.visible_customers(actor),
            )
        )
        if other is not None:
            found.append(Suggestion(row, other))
    return found


def _open_suggestion(session: Session, actor: Actor, join_id: int) -> CustomerJoin:
    row = session.get(CustomerJoin, join_id, with_for_update=True)
    if row is None:
        raise NotFound("customer_join")
    profiles.access_customer(session, actor, row.customer_a_id)  # 404 unless both are visible
    profiles.access_customer(session, actor, row.customer_b_id)
    if row.state != JoinState.SUGGESTED.value:
        raise Conflict("customer_join_decided", state=row.state)
    return row


def confirm_join(session: Session, actor: Actor, join_id: int) -> CustomerJoin:
    """An agent who can see both profiles confirms they are one customer: merged (newer into
    older), audited, undoable from the merge history by a supervisor."""
    row = _open_suggestion(session, actor, join_id)
    _join(session, row, actor=actor, automatic=False)
    return row


def dismiss_join(session: Session, actor: Actor, join_id: int) -> CustomerJoin:
    """Not the same person: the suggestion closes and is not made again."""
    row = _open_suggestion(session, actor, join_id)
    row.state = JoinState.DISMISSED.value
    row.decided_by_id, row.decided_at = actor.user_id, utcnow()
    audit.record(
        session, actor, "customer.join_dismissed", object_type="customer",
        object_id=row.customer_a_id, customer_id=row.customer_a_id,
        after={"other_id": row.customer_b_id, "evidence": row.evidence},
    )  # fmt: skip
    return row


def merge_undone(session: Session, merge_id: int) -> None:
    """A merge was undone: its join stands undone (profiles.do_undo_merge calls this)."""
    session.execute(
        update(CustomerJoin)
        .where(CustomerJoin.merge_id == merge_id)
        .values(state=JoinState.UNDONE.value)
    )


def merged_by_hand(
    session: Session, actor: Actor, target_id: int, source_id: int, merge_id: int
) -> None:
    """A supervisor merged two profiles on the merge page: a suggestion of that pair is settled."""
    a, b = rules.pair(target_id, source_id)
    session.execute(
        update(CustomerJoin)
        .where(
            CustomerJoin.customer_a_id == a,
            CustomerJoin.customer_b_id == b,
            CustomerJoin.state == JoinState.SUGGESTED.value,
        )
        .values(
            state=JoinState.JOINED.value,
            merge_id=merge_id,
            decided_by_id=actor.user_id,
            decided_at=utcnow(),
        )
    )
