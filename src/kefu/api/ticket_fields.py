"""/api/v1/ticket-fields: the custom fields of tickets (admins define them; staff read them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import Field, StringConstraints

from kefu.api.access import ADMINS, STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out, Patch
from kefu.domain.ticket_fields import FieldType
from kefu.services.fields import definitions as service

router = APIRouter(prefix="/ticket-fields", tags=["ticket fields"], responses=ERRORS)

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Key = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,39}$"),
    Field(description="stable ascii key: what integrations send, what values are stored under"),
]
Options = Annotated[
    list[Annotated[str, StringConstraints(max_length=100)]],
    Field(max_length=50, description="a choice's options (other types: none)"),
]
GroupIds = Annotated[list[Id], Field(max_length=200, description="its groups; empty: every group")]


class TicketFieldPublic(Out):
    id: int
    key: str
    label: str = Field(description="what agents read; a script's placeholder [label] is its value")
    type: FieldType
    options: list[str]
    group_ids: list[int]
    required: bool = Field(description="a ticket is not resolved without it")
    position: int
    active: bool
    created_at: datetime
    updated_at: datetime


class TicketFieldCreate(In):
    key: Key
    label: Label
    type: FieldType
    options: Options = Field(default_factory=list)
    group_ids: GroupIds = Field(default_factory=list)
    required: bool = False
    position: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    active: bool = True


class TicketFieldUpdate(Patch):
    not_null = frozenset(
        {"label", "type", "options", "group_ids", "required", "position", "active"}
    )

    label: Label | None = None
    type: FieldType | None = None
    options: Options | None = None
    group_ids: GroupIds | None = None
    required: bool | None = None
    position: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    active: bool | None = None


@router.get(
    "", response_model=list[TicketFieldPublic], summary="The ticket fields", **allow(*STAFF)
)
def list_fields(db: DB, actor: CurrentActor) -> list[TicketFieldPublic]:
    rows = service.list_fields(db, active_only=not actor.is_admin)
    return [TicketFieldPublic.model_validate(r) for r in rows]


@router.post(
    "",
    response_model=TicketFieldPublic,
    status_code=201,
    summary="Define a ticket field (admin)",
    **allow(*ADMINS),
)
def create_field(body: TicketFieldCreate, db: DB, actor: CurrentActor) -> TicketFieldPublic:
    values = body.model_dump(exclude={"key"}, mode="json")
    return TicketFieldPublic.model_validate(
        service.do_create_field(db, actor, key=body.key, **values)
    )


@router.patch(
    "/{field_id}",
    response_model=TicketFieldPublic,
    summary="Change a ticket field (admin; the key stays)",
    **allow(*ADMINS),
)
def update_field(
    field_id: Id, body: TicketFieldUpdate, db: DB, actor: CurrentActor
) -> TicketFieldPublic:
    row = service.get_field(db, actor, field_id)
    changes = body.model_dump(exclude_unset=True, mode="json")
    return TicketFieldPublic.model_validate(service.do_update_field(db, actor, row, changes))
