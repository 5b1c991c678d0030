"""/api/v1/customers: profiles, search, the cross-channel timeline, merge and undo."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from kefu.api.access import MANAGERS, STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Email, Id, In, LongText, Name, Out, Patch, TagName
from kefu.api.tickets import MessagePublic, TicketPublic
from kefu.services.customers import profiles as service
from kefu.services.customers.profiles import IdentityIn
from kefu.services.sla.clocks import Policies

router = APIRouter(prefix="/customers", tags=["customers"], responses=ERRORS)

Phone = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^\+?[0-9][0-9 -]{2,31}$")]


class IdentityBody(In):
    channel: Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[a-z_]+$")]
    external_id: Annotated[str, Field(min_length=1, max_length=200)]
    verified: bool = False


class IdentityPublic(Out):
    id: int
    channel: str
    external_id: str
    verified: bool
    created_at: datetime


class CustomerPublic(Out):
    id: int
    name: str
    email: str | None
    phone: str | None
    note: str
    language: str
    tags: list[str]
    identities: list[IdentityPublic]
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: object) -> CustomerPublic:
        data = {name: getattr(customer, name) for name in cls.model_fields if name != "tags"}
        return cls(**data, tags=[t.name for t in customer.tags])  # type: ignore[attr-defined]


class CustomerCreate(In):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    note: LongText = ""
    language: Annotated[str, Field(pattern=r"^(zh-CN|zh-TW|en)$")] = "zh-CN"
    tags: list[TagName] = Field(default_factory=list, max_length=20)
    identities: list[IdentityBody] = Field(default_factory=list, max_length=20)


class CustomerUpdate(Patch):
    not_null = frozenset({"name", "note", "language", "tags", "identities"})

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    note: LongText | None = None
    language: Annotated[str | None, Field(pattern=r"^(zh-CN|zh-TW|en)$")] = None
    tags: list[TagName] | None = Field(default=None, max_length=20)
    identities: list[IdentityBody] | None = Field(
        default=None, max_length=20, description="identities to add"
    )


class CustomerTimelineEntry(Out):
    ticket: TicketPublic
    messages: list[MessagePublic]


class Timeline(Out):
    customer: CustomerPublic
    tickets: list[CustomerTimelineEntry]


class CustomerMergeBody(In):
    source_id: Id = Field(description="the duplicate customer, merged into this one")


class MergePublic(Out):
    id: int
    target_id: int
    source_id: int
    identity_ids: list[int]
    ticket_ids: list[int]
    merged_by_id: int | None
    merged_at: datetime
    undone_by_id: int | None
    undone_at: datetime | None


def _identities(items: list[IdentityBody]) -> list[IdentityIn]:
    return [IdentityIn(i.channel, i.external_id, i.verified) for i in items]


@router.get("", response_model=list[CustomerPublic], summary="Search customers", **allow(*STAFF))
def search_customers(
    db: DB,
    actor: CurrentActor,
    q: Annotated[
        str | None, Query(max_length=200, description="name, phone, email or external id")
    ] = None,
    include_merged: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CustomerPublic]:
    rows = service.search_customers(db, actor, q=q, limit=limit, include_merged=include_merged)
    return [CustomerPublic.of(c) for c in rows]


@router.post(
    "", response_model=CustomerPublic, status_code=201, summary="Create a customer", **allow(*STAFF)
)
def create_customer(body: CustomerCreate, db: DB, actor: CurrentActor) -> CustomerPublic:
    customer = service.do_create_customer(
        db,
        actor,
        name=body.name,
        email=body.email,
        phone=body.phone,
        note=body.note,
        language=body.language,
        tags=body.tags,
        identities=_identities(body.identities),
    )
    return CustomerPublic.of(customer)


@router.get(
    "/{customer_id}", response_model=CustomerPublic, summary="One customer", **allow(*STAFF)
)
def get_customer(customer_id: Id, db: DB, actor: CurrentActor) -> CustomerPublic:
    return CustomerPublic.of(service.access_customer(db, actor, customer_id))


@router.patch(
    "/{customer_id}", response_model=CustomerPublic, summary="Change a customer", **allow(*STAFF)
)
def update_customer(
    customer_id: Id, body: CustomerUpdate, db: DB, actor: CurrentActor
) -> CustomerPublic:
    customer = service.access_customer(db, actor, customer_id, for_update=True)
    changes = body.model_dump(exclude_unset=True)
    if body.identities is not None:
        changes["identities"] = _identities(body.identities)
    return CustomerPublic.of(service.do_update_customer(db, actor, customer, changes))


@router.get(
    "/{customer_id}/timeline",
    response_model=Timeline,
    summary="All tickets and messages across channels",
    **allow(*STAFF),
)
def customer_timeline(customer_id: Id, db: DB, actor: CurrentActor) -> Timeline:
    customer = service.access_customer(db, actor, customer_id)
    policies = Policies.load(db)
    entries = [
        CustomerTimelineEntry(
            ticket=TicketPublic.of(t, policies), messages=[MessagePublic.of(m) for m in messages]
        )
        for t, messages in service.timeline(db, actor, customer)
    ]
    return Timeline(customer=CustomerPublic.of(customer), tickets=entries)


@router.post(
    "/{customer_id}/merge",
    response_model=MergePublic,
    status_code=201,
    summary="Merge a duplicate into this customer",
    **allow(*MANAGERS),
)
def merge_customers(
    customer_id: Id, body: CustomerMergeBody, db: DB, actor: CurrentActor
) -> MergePublic:
    merge = service.do_merge(db, actor, target_id=customer_id, source_id=body.source_id)
    return MergePublic.model_validate(merge)


@router.post(
    "/merges/{merge_id}/undo",
    response_model=MergePublic,
    summary="Undo a merge",
    **allow(*MANAGERS),
)
def undo_merge(merge_id: Id, db: DB, actor: CurrentActor) -> MergePublic:
    return MergePublic.model_validate(service.do_undo_merge(db, actor, merge_id))
