"""/api/v1/macros and /api/v1/tickets/{id}/macros/{macro_id}: a script plus ticket actions in one
click (宏). Applying one goes through the ticket and case-loop services, with their permission
checks and audit, and returns the filled text for the composer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field, StringConstraints

from kefu.api.access import MANAGERS, STAFF, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out, Patch, TagName
from kefu.api.scripts import PlaceholderPublic
from kefu.api.tickets import TicketPublic
from kefu.domain.tickets import Priority, TicketStatus
from kefu.services.cases import loop as cases
from kefu.services.cases.tickets import access_ticket
from kefu.services.scripts import macros
from kefu.services.sla import clocks as sla_service

router = APIRouter(tags=["macros"], responses=ERRORS)

MacroName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Step = Literal["advance", "resume", "reopen", "send_back", "wait_customer", "wait_third_party"]


class MacroActions(In):
    status: TicketStatus | None = None
    priority: Priority | None = None
    group_id: Id | None = None
    tags_add: list[TagName] = Field(default_factory=list, max_length=20)
    tags_remove: list[TagName] = Field(default_factory=list, max_length=20)
    case_step: Step | None = Field(
        default=None, description="a step of the case loop that needs no data"
    )


class MacroPublic(Out):
    id: int
    name: str
    script_id: int | None
    actions: dict[str, Any]
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class MacroCreate(In):
    name: MacroName
    script_id: Id | None = None
    actions: MacroActions = Field(default_factory=MacroActions)


class MacroUpdate(Patch):
    not_null = frozenset({"name", "actions"})

    name: MacroName | None = None
    script_id: Id | None = None
    actions: MacroActions | None = None


class MacroApplied(Out):
    ticket: TicketPublic
    script_id: int | None
    text: str = Field(description="the script filled for the case, for the composer (empty: none)")
    unfilled: list[PlaceholderPublic]


def _fields(body: In) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True, mode="json")
    if "actions" in fields and fields["actions"] is not None:
        fields["actions"] = {k: v for k, v in fields["actions"].items() if v not in (None, [])}
    return fields


@router.get("/macros", response_model=list[MacroPublic], summary="The macros", **allow(*STAFF))
def list_macros(db: DB) -> list[MacroPublic]:
    return [MacroPublic.model_validate(m) for m in macros.list_macros(db)]


@router.post(
    "/macros",
    response_model=MacroPublic,
    status_code=201,
    summary="Add a macro",
    **allow(*MANAGERS),
)
def create_macro(body: MacroCreate, db: DB, actor: CurrentActor) -> MacroPublic:
    fields = _fields(body)
    fields.setdefault("actions", {})
    return MacroPublic.model_validate(macros.do_create_macro(db, actor, **fields))


@router.patch(
    "/macros/{macro_id}", response_model=MacroPublic, summary="Change a macro", **allow(*MANAGERS)
)
def update_macro(macro_id: Id, body: MacroUpdate, db: DB, actor: CurrentActor) -> MacroPublic:
    macro = macros.access_macro(db, macro_id)
    return MacroPublic.model_validate(macros.do_update_macro(db, actor, macro, _fields(body)))


@router.delete("/macros/{macro_id}", status_code=204, summary="Delete a macro", **allow(*MANAGERS))
def delete_macro(macro_id: Id, db: DB, actor: CurrentActor) -> Response:
    macros.do_delete_macro(db, actor, macros.access_macro(db, macro_id))
    return Response(status_code=204)


@router.post(
    "/tickets/{ticket_id}/macros/{macro_id}", response_model=MacroApplied,
    summary="Apply a macro to a ticket", **allow(*STAFF),
)  # fmt: skip
def apply_macro(
    ticket_id: Id, macro_id: Id, db: DB, actor: CurrentActor, settings: AppSettings
) -> MacroApplied:
    ticket = access_ticket(db, actor, ticket_id, for_update=True)
    macro = macros.access_macro(db, macro_id)
    applied = macros.do_apply_macro(db, actor, ticket, macro, cases.policy_of(settings),
                                    repeat_window=cases.intake_rules(settings).repeat_window)  # fmt: skip
    return MacroApplied(
        ticket=TicketPublic.of(applied.ticket, sla_service.Policies.load(db)),
        script_id=applied.script.id if applied.script else None,
        text=applied.text,
        unfilled=[PlaceholderPublic.model_validate(p) for p in applied.unfilled],
    )
