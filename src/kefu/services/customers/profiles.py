"""Customers: one profile across channels, who may see it, search, timeline, reversible merges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from kefu.db.base import utcnow
from kefu.db.models import Customer, CustomerMerge, Identity, Message, Ticket, User
from kefu.domain.customer_joins import CHANNEL_KINDS, Proof
from kefu.domain.roles import can_merge_customers
from kefu.errors import Conflict, KefuError, NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.cases.tickets import like_pattern, tags_by_name, visible_tickets
from kefu.services.infra.pagination import decode_cursor, encode_cursor
from kefu.services.search import index as search_index


@dataclass(frozen=True)
class IdentityIn:
    channel: str
    external_id: str
    verified: bool = False


def snapshot(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "note": customer.note,
        "language": customer.language,
        "tags": [t.name for t in customer.tags],
        "identities": [f"{i.channel}:{i.external_id}" for i in customer.identities],
        "merged_into_id": customer.merged_into_id,
    }


def visible_customers(actor: Actor) -> Any:
    """SQL condition: the customers the actor may see.

    Supervisors and admins see everyone. Agents and specialists see a customer through a ticket
    they may see (``visible_tickets``); a customer merged into another is seen through the
    tickets it passed on, i.e. those of the customer it was merged into. A customer with no
    ticket at all, and not merged away, is visible to all staff, like the shared intake queue:
    an agent who has just created a profile for a phone call must be able to open its first
    ticket, and such a profile holds nothing a ticket would hide. Once it has tickets, it
    follows them.
    """
    if actor.sees_all_tickets:
        return true()
    through_a_ticket = exists().where(
        or_(Ticket.customer_id == Customer.id, Ticket.customer_id == Customer.merged_into_id),
        visible_tickets(actor),
    )
    without_tickets = and_(
        Customer.merged_into_id.is_(None), ~exists().where(Ticket.customer_id == Customer.id)
    )
    return or_(through_a_ticket, without_tickets)


def access_customer(
    session: Session, actor: Actor, customer_id: int, *, for_update: bool = False
) -> Customer:
    """The only way to load a customer for an actor; missing and forbidden both raise 404."""
    query = (
        select(Customer)
        .where(Customer.id == customer_id, visible_customers(actor))
        .options(selectinload(Customer.identities), selectinload(Customer.tags))
    )
    if for_update:
        query = query.with_for_update(of=Customer)
    customer = session.scalar(query)
    if customer is None:
        raise NotFound("customer")
    return customer


def _visible_owner(session: Session, actor: Actor, customer_id: int | None) -> int | None:
    """The id of another identity's owner, named only to those who may see that customer."""
    if customer_id is None:
        return None
    return session.scalar(
        select(Customer.id).where(Customer.id == customer_id, visible_customers(actor))
    )


def _claim_identities(
    session: Session, actor: Actor, customer: Customer, identities: list[IdentityIn]
) -> None:
    for item in identities:
        taken = session.scalar(
            select(Identity).where(
                Identity.channel == item.channel, Identity.external_id == item.external_id
            )
        )
        if taken is not None:
            if taken.customer_id == customer.id:
                continue
            raise Conflict(
                "identity_taken",
                details={
                    "channel": item.channel,
                    "external_id": item.external_id,
                    "customer_id": _visible_owner(session, actor, taken.customer_id),
                },
            )
        try:
            with session.begin_nested():
                customer.identities.append(
                    Identity(
                        channel=item.channel,
                        external_id=item.external_id,
                        verified=item.verified,
                        proof=_proof_of_claim(actor, item),
                    )
                )
                session.flush()
        except IntegrityError as e:  # a concurrent request claimed it after the check above
            with session.no_autoflush:
                owner = session.scalar(
                    select(Identity.customer_id).where(
                        Identity.channel == item.channel, Identity.external_id == item.external_id
                    )
                )
            raise Conflict(
                "identity_taken",
                details={
                    "channel": item.channel,
                    "external_id": item.external_id,
                    "customer_id": _visible_owner(session, actor, owner),
                },
            ) from e


def _proof_of_claim(actor: Actor, item: IdentityIn) -> str | None:
    """How a verified e-mail or phone identity given here was proven: an integration (the
    company's own systems: a number bound to the WeChat account) vouches for it; a person ticking
    "verified" proves nothing, so such a contact never joins profiles on its own."""
    if not (item.verified and item.channel in CHANNEL_KINDS):
        return None
    return (Proof.BOUND if actor.is_integration or actor.is_system else Proof.TYPED).value


def do_create_customer(
    session: Session,
    actor: Actor,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    note: str = "",
    language: str = "zh-CN",
    tags: list[str] | None = None,
    identities: list[IdentityIn] | None = None,
) -> Customer:
    customer = Customer(
        name=name, email=email.lower() if email else None, phone=phone, note=note, language=language
    )
    customer.tags = tags_by_name(session, tags or [])
    customer.identities = []
    session.add(customer)
    session.flush()
    _claim_identities(session, actor, customer, identities or [])
    session.flush()
    search_index.indexed_customer(session, customer)
    audit.record(
        session, actor, "customer.create", object_type="customer", object_id=customer.id,
        customer_id=customer.id, after=snapshot(customer),
    )  # fmt: skip
    return customer


def do_update_customer(
    session: Session, actor: Actor, customer: Customer, changes: dict[str, Any]
) -> Customer:
    if customer.merged_into_id is not None and changes.get("identities"):
        # Its messages would open tickets on a profile that search and timelines no longer show.
        raise Conflict("customer_merged", details={"merged_into_id": customer.merged_into_id})
    before = snapshot(customer)
    for name, value in changes.items():
        if name == "tags":
            customer.tags = tags_by_name(session, value)
        elif name == "identities":
            _claim_identities(session, actor, customer, value)
        elif name == "email":
            customer.email = value.lower() if value else None
        else:
            setattr(customer, name, value)
    customer.updated_at = utcnow()
    session.flush()
    old, new = audit.changed_fields(before, snapshot(customer))
    if new:
        search_index.indexed_customer(session, customer)
        audit.record(
            session, actor, "customer.update", object_type="customer", object_id=customer.id,
            customer_id=customer.id, before=old, after=new,
        )  # fmt: skip
    return customer


def search_customers(
    session: Session,
    actor: Actor,
    *,
    q: str | None,
    limit: int,
    include_merged: bool = False,
    before_id: int | None = None,
) -> list[Customer]:
    """The customers the actor may see matching name (substring), phone, email or any
    identity's external id, newest first (``before_id``: only those with a smaller id)."""
    query = (
        select(Customer)
        .where(visible_customers(actor))
        .options(selectinload(Customer.identities), selectinload(Customer.tags))
    )
    if not include_merged:
        query = query.where(Customer.merged_into_id.is_(None))
    if before_id is not None:
        query = query.where(Customer.id < before_id)
    if q and q.strip():
        text = q.strip()
        pattern = like_pattern(text)
        by_identity = select(Identity.customer_id).where(
            or_(Identity.external_id == text, Identity.external_id.ilike(pattern, escape="\\"))
        )
        query = query.where(
            or_(
                Customer.name.ilike(pattern, escape="\\"),
                Customer.phone.ilike(pattern, escape="\\"),
                Customer.email.ilike(pattern, escape="\\"),
                Customer.id.in_(by_identity),
            )
        )
    return list(session.scalars(query.order_by(Customer.id.desc()).limit(limit)))


def timeline(
    session: Session, actor: Actor, customer: Customer
) -> list[tuple[Ticket, list[Message]]]:
    """Every ticket of the customer the actor may see, each with its messages, newest first."""
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.customer_id == customer.id, visible_tickets(actor))
            .order_by(Ticket.id.desc())
            .options(selectinload(Ticket.tags))
        )
    )
    by_ticket: dict[int, list[Message]] = {t.id: [] for t in tickets}
    if tickets:
        for message in session.scalars(
            select(Message).where(Message.ticket_id.in_(list(by_ticket))).order_by(Message.id)
        ):
            by_ticket[message.ticket_id].append(message)
    return [(t, by_ticket[t.id]) for t in tickets]


# --- merging ---------------------------------------------------------------------------


def _check_may_merge(actor: Actor) -> None:
    if not (actor.is_system or can_merge_customers(actor.role)):
        raise PermissionDenied()


def do_merge(
    session: Session, actor: Actor, *, target_id: int, source_id: int, suggested: bool = False
) -> CustomerMerge:
    """Move the source customer's identities and tickets to the target; recorded for undo.

    Only supervisors and admins merge any two profiles: they see every ticket, so the merge
    (which names the tickets it moved) never tells anyone of a ticket they may not see. An agent
    may confirm a join kefu suggested (``suggested``, services/customers/joins.py) of two
    profiles they can both see."""
    if not suggested:
        _check_may_merge(actor)
    if target_id == source_id:
        raise KefuError("merge_same_customer", status_code=422)
    # Lock both rows (in id order, so opposite merges cannot deadlock) before checking them:
    # otherwise two opposite merges at once both pass the check and make a cycle.
    session.scalars(
        select(Customer)
        .where(Customer.id.in_(sorted({target_id, source_id})))
        .order_by(Customer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    target = access_customer(session, actor, target_id)
    source = access_customer(session, actor, source_id)
    if target.merged_into_id is not None or source.merged_into_id is not None:
        raise KefuError("merge_already_merged", status_code=409)
    identity_ids = [i.id for i in source.identities]
    ticket_ids = list(session.scalars(select(Ticket.id).where(Ticket.customer_id == source.id)))
    _move(session, identity_ids, ticket_ids, from_id=source.id, to_id=target.id)
    source.merged_into_id = target.id
    search_index.refresh(session, customers=[target.id, source.id])  # the identities moved
    merge = CustomerMerge(
        target_id=target.id,
        source_id=source.id,
        identity_ids=identity_ids,
        ticket_ids=ticket_ids,
        merged_by_id=actor.user_id,
    )
    session.add(merge)
    session.flush()
    payload = {
        "merge_id": merge.id,
        "source_id": source.id,
        "identity_ids": identity_ids,
        "ticket_ids": ticket_ids,
    }
    audit.record(
        session, actor, "customer.merge", object_type="customer", object_id=target.id,
        customer_id=target.id, after=payload,
    )  # fmt: skip
    for ticket_id in ticket_ids:
        audit.record(
            session, actor, "ticket.customer_merge", object_type="ticket", object_id=ticket_id,
            ticket_id=ticket_id, customer_id=target.id,
            before={"customer_id": source.id}, after={"customer_id": target.id, "merge_id": merge.id},
        )  # fmt: skip
    if not suggested:
        from kefu.services.customers import joins  # joins merges through this module

        joins.merged_by_hand(session, actor, target.id, source.id, merge.id)
    session.expire_all()
    return merge


def do_undo_merge(session: Session, actor: Actor, merge_id: int) -> CustomerMerge:
    """Move back what the merge moved and is still on the target; supervisors and admins only."""
    _check_may_merge(actor)
    merge = session.get(CustomerMerge, merge_id, with_for_update=True)
    if merge is None:
        raise NotFound("merge")
    if merge.undone_at is not None:
        raise Conflict("merge_already_undone")
    # Only what is still where the merge put it moves back.
    identity_ids = list(
        session.scalars(
            select(Identity.id).where(
                Identity.id.in_(merge.identity_ids), Identity.customer_id == merge.target_id
            )
        )
    )
    ticket_ids = list(
        session.scalars(
            select(Ticket.id).where(
                Ticket.id.in_(merge.ticket_ids), Ticket.customer_id == merge.target_id
            )
        )
    )
    _move(session, identity_ids, ticket_ids, from_id=merge.target_id, to_id=merge.source_id)
    session.execute(
        update(Customer)
        .where(Customer.id == merge.source_id)
        .values(merged_into_id=None, updated_at=utcnow())
    )
    merge.undone_at = utcnow()
    merge.undone_by_id = actor.user_id
    from kefu.services.customers import joins  # joins merges through this module

    joins.merge_undone(session, merge.id)
    search_index.refresh(session, customers=[merge.target_id, merge.source_id])
    audit.record(
        session, actor, "customer.unmerge", object_type="customer", object_id=merge.target_id,
        customer_id=merge.target_id,
        before={"merge_id": merge.id},
        after={"source_id": merge.source_id, "identity_ids": identity_ids, "ticket_ids": ticket_ids},
    )  # fmt: skip
    for ticket_id in ticket_ids:
        audit.record(
            session, actor, "ticket.customer_unmerge", object_type="ticket", object_id=ticket_id,
            ticket_id=ticket_id, customer_id=merge.source_id,
            before={"customer_id": merge.target_id}, after={"customer_id": merge.source_id, "merge_id": merge.id},
        )  # fmt: skip
    session.expire_all()
    return merge


def _move(
    session: Session, identity_ids: list[int], ticket_ids: list[int], *, from_id: int, to_id: int
) -> None:
    if identity_ids:
        session.execute(
            update(Identity).where(Identity.id.in_(identity_ids)).values(customer_id=to_id)
        )
    if ticket_ids:
        session.execute(update(Ticket).where(Ticket.id.in_(ticket_ids)).values(customer_id=to_id))
        session.execute(
            update(Message)
            .where(Message.ticket_id.in_(ticket_ids), Message.author_customer_id == from_id)
            .values(author_customer_id=to_id)
        )


# --- what the workspace's customer pages read ---------------------------------------------


def customer_page(
    session: Session, actor: Actor, *, q: str | None, cursor: str | None, limit: int
) -> tuple[list[Customer], str | None]:
    """One page of ``search_customers`` (merged-away profiles left out) and the next cursor."""
    rows = search_customers(session, actor, q=q, limit=limit + 1, before_id=decode_cursor(cursor))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def merge_candidates(
    session: Session, actor: Actor, target: Customer, *, q: str | None, limit: int
) -> list[Customer]:
    """The customers that could be merged into ``target``: found by ``q``, neither the target
    nor a profile already merged away. Only for those who may merge."""
    _check_may_merge(actor)
    if not (q and q.strip()):
        return []
    found = search_customers(session, actor, q=q, limit=limit + 1)
    return [c for c in found if c.id != target.id][:limit]


@dataclass(frozen=True)
class MergePreview:
    """What merging ``source`` into ``target`` would move: the source's identities and tickets.
    Its name, contact details, tags and note stay on the source."""

    target: Customer
    source: Customer
    identities: list[Identity]
    tickets: list[Ticket]


def merge_preview(
    session: Session, actor: Actor, *, target_id: int, source_id: int
) -> MergePreview:
    """The confirmation a person sees before ``do_merge``, refused for the same reasons."""
    _check_may_merge(actor)
    if target_id == source_id:
        raise KefuError("merge_same_customer", status_code=422)
    target = access_customer(session, actor, target_id)
    source = access_customer(session, actor, source_id)
    if target.merged_into_id is not None or source.merged_into_id is not None:
        raise KefuError("merge_already_merged", status_code=409)
    tickets = session.scalars(
        select(Ticket).where(Ticket.customer_id == source.id).order_by(Ticket.id.desc())
    )
    return MergePreview(target, source, list(source.identities), list(tickets))


@dataclass(frozen=True)
class MergeRecord:
    """One merge a customer took part in, as its profile lists it."""

    merge: CustomerMerge
    merged_in: bool  # True: the other customer was merged into this one
    other_id: int
    other_name: str | None  # None: a customer the reader may not see
    merged_by: str | None
    undone_by: str | None


def merge_history(session: Session, actor: Actor, customer: Customer) -> list[MergeRecord]:
    """The merges into and out of ``customer`` (loaded with ``access_customer``), newest first.
    The other customer is named only to readers who may see it."""
    merges = list(
        session.scalars(
            select(CustomerMerge)
            .where(
                or_(CustomerMerge.target_id == customer.id, CustomerMerge.source_id == customer.id)
            )
            .order_by(CustomerMerge.id.desc())
        )
    )
    others = {m.source_id if m.target_id == customer.id else m.target_id for m in merges}
    visible = select(Customer.id, Customer.name).where(
        Customer.id.in_(others), visible_customers(actor)
    )
    names: dict[int, str] = {row.id: row.name for row in session.execute(visible)}
    people = {m.merged_by_id for m in merges} | {m.undone_by_id for m in merges}
    staff = select(User.id, User.name).where(User.id.in_(people - {None}))
    users: dict[int | None, str] = {row.id: row.name for row in session.execute(staff)}
    records = []
    for m in merges:
        merged_in = m.target_id == customer.id
        other = m.source_id if merged_in else m.target_id
        records.append(
            MergeRecord(
                m,
                merged_in,
                other,
                names.get(other),
                users.get(m.merged_by_id),
                users.get(m.undone_by_id),
            )
        )
    return records


def merged_into(session: Session, actor: Actor, customer: Customer) -> Customer | None:
    """The customer ``customer`` was merged into, if any and if the actor may see it."""
    if customer.merged_into_id is None:
        return None
    return session.scalar(
        select(Customer).where(Customer.id == customer.merged_into_id, visible_customers(actor))
    )
