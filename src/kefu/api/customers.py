"""/api/v1/customers: profiles, search, the cross-channel timeline, merge and undo, and a
customer's personal data (export, erasure)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from kefu.api.access import ADMINS, MANAGERS, STAFF, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import (
    ERRORS,
    Email,
    FullNumbers,
    Id,
    In,
    LongText,
    Name,
    Out,
    Patch,
    TagName,
)
from kefu.api.tickets import MessagePublic, TicketPublic
from kefu.domain.customer_joins import ContactKind
from kefu.domain.masking import mask_numbers
from kefu.services.customers import joins, personal_data, verification
from kefu.services.customers import profiles as service
from kefu.services.customers.personal_data_report import report_markdown
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
    def of(cls, customer: object, *, masked: bool = False) -> CustomerPublic:
        """``masked``: phone, ID-card and bank-card numbers masked (an agent's default read)."""
        data = {name: getattr(customer, name) for name in cls.model_fields if name != "tags"}
        public = cls(**data, tags=[t.name for t in customer.tags])  # type: ignore[attr-defined]
        if not masked:
            return public
        identities = [
            i.model_copy(update={"external_id": mask_numbers(i.external_id)})
            for i in public.identities
        ]
        return public.model_copy(
            update={
                "phone": mask_numbers(public.phone) if public.phone else public.phone,
                "note": mask_numbers(public.note),
                "identities": identities,
            }
        )


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
def get_customer(
    customer_id: Id,
    db: DB,
    actor: CurrentActor,
    full: FullNumbers = False,
) -> CustomerPublic:
    customer = service.access_customer(db, actor, customer_id)
    shown = personal_data.reads_full_numbers(db, actor, customer, asked=full, what="api:profile")
    return CustomerPublic.of(customer, masked=not shown)


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
def customer_timeline(
    customer_id: Id,
    db: DB,
    actor: CurrentActor,
    full: FullNumbers = False,
) -> Timeline:
    customer = service.access_customer(db, actor, customer_id)
    shown = personal_data.reads_full_numbers(db, actor, customer, asked=full, what="api:timeline")
    policies = Policies.load(db)
    entries = [
        CustomerTimelineEntry(
            ticket=TicketPublic.of(t, policies),
            messages=[MessagePublic.of(m, masked=not shown) for m in messages],
        )
        for t, messages in service.timeline(db, actor, customer)
    ]
    return Timeline(customer=CustomerPublic.of(customer, masked=not shown), tickets=entries)


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


# --- one customer across channels: suggested joins and contact verification -----------------


class JoinEvidence(Out):
    kind: str = Field(description="email | phone")
    value: str
    this_customer_id: int | None = Field(
        default=None, description="the profile whose new contact found the other"
    )
    this_proof: str = Field(
        description="how that profile holds it: signed_claim | bound | code "
        "(verified), header | sender | typed (claimed)"
    )
    other_proof: str = Field(description="how the other profile holds it")


class JoinPublic(Out):
    id: int
    customer_a_id: int
    customer_b_id: int
    state: str = Field(description="suggested | joined | dismissed | undone")
    automatic: bool
    merge_id: int | None
    evidence: JoinEvidence
    created_at: datetime
    decided_at: datetime | None


class JoinSuggestionPublic(Out):
    join: JoinPublic
    other_customer_id: int
    other_name: str


class VerificationBody(In):
    kind: ContactKind
    value: Annotated[str, Field(min_length=3, max_length=254)]


class VerificationPublic(Out):
    id: int
    kind: str
    expires_at: datetime
    code_to_tell: str | None = Field(
        description="a phone's code, for the agent to give the customer to text back from that "
        "phone; null for an e-mail address (the code was mailed there)"
    )


@router.get(
    "/{customer_id}/join-suggestions",
    response_model=list[JoinSuggestionPublic],
    summary="Profiles that may be the same customer (shared e-mail or phone), for an agent to decide",
    **allow(*STAFF),
)
def join_suggestions(customer_id: Id, db: DB, actor: CurrentActor) -> list[JoinSuggestionPublic]:
    customer = service.access_customer(db, actor, customer_id)
    return [
        JoinSuggestionPublic(
            join=JoinPublic.model_validate(s.join),
            other_customer_id=s.other.id,
            other_name=s.other.name,
        )
        for s in joins.suggestions_for(db, actor, customer)
    ]


@router.post(
    "/joins/{join_id}/confirm",
    response_model=JoinPublic,
    summary="Confirm a suggested join: the newer profile is merged into the older (undoable)",
    **allow(*STAFF),
)
def confirm_join(join_id: Id, db: DB, actor: CurrentActor) -> JoinPublic:
    return JoinPublic.model_validate(joins.confirm_join(db, actor, join_id))


@router.post(
    "/joins/{join_id}/dismiss",
    response_model=JoinPublic,
    summary="Not the same customer: the suggestion closes and is not made again",
    **allow(*STAFF),
)
def dismiss_join(join_id: Id, db: DB, actor: CurrentActor) -> JoinPublic:
    return JoinPublic.model_validate(joins.dismiss_join(db, actor, join_id))


@router.post(
    "/{customer_id}/verifications",
    response_model=VerificationPublic,
    status_code=201,
    summary="Prove an e-mail address or phone number with a code the customer sends back",
    **allow(*STAFF),
)
def start_verification(
    customer_id: Id, body: VerificationBody, db: DB, actor: CurrentActor, settings: AppSettings
) -> VerificationPublic:
    started = verification.start_verification(
        db, actor, customer_id, body.kind, body.value, secret_key=settings.secret_key
    )
    v = started.verification
    return VerificationPublic(
        id=v.id, kind=v.kind, expires_at=v.expires_at, code_to_tell=started.code_to_tell
    )


# --- personal data (个人信息保护法): export and erasure -----------------------------------------


class ErasureBody(In):
    reason: Annotated[str, Field(min_length=1, max_length=1000, description="why (the request)")]


class ErasurePublic(Out):
    customer_id: int
    profiles: int = Field(description="the profile and those merged into it")
    tickets: int
    messages: int
    attachments: int
    files_deleted: int


@router.get(
    "/{customer_id}/export",
    summary="Everything kefu holds about a customer: JSON, or a readable report (Markdown, "
    "in Chinese); audited",
    responses={200: {"content": {"application/json": {}, "text/markdown": {}}}},
    **allow(*MANAGERS),
)
def export_customer(
    customer_id: Id,
    db: DB,
    actor: CurrentActor,
    format: Literal["json", "report"] = "json",  # noqa: A002 (the query parameter's name)
) -> Any:
    data = personal_data.export_customer(db, actor, customer_id, fmt=format)
    if format == "json":
        return data
    return Response(
        report_markdown(data),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="customer-{customer_id}.md"'},
    )


@router.post(
    "/{customer_id}/erase",
    response_model=ErasurePublic,
    summary="Erase a customer's personal data on request (irreversible; the case statistics "
    "stay); audited",
    **allow(*ADMINS),
)
def erase_customer(
    customer_id: Id, body: ErasureBody, db: DB, actor: CurrentActor, settings: AppSettings
) -> ErasurePublic:
    done = personal_data.do_erase_customer(
        db, actor, customer_id, reason=body.reason, attachments_root=settings.attachments_dir
    )
    return ErasurePublic.model_validate(done, from_attributes=True)
