"""/api/v1/routing/rules: the ordered routing rules (admins configure; staff may read them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import Field

from kefu.api.access import ADMINS, STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out, Patch
from kefu.services.cases import routing as service
from kefu.services.staff import directory as staff_service

router = APIRouter(tags=["routing"], responses=ERRORS)

RuleName = Annotated[str, Field(min_length=1, max_length=100)]
CONDITIONS_HELP = (
    "lists of accepted values per field — channels, priorities, intents, categories, risks (any), "
    "emotions, customer_tags (any), languages — and business_hours true/false; empty: anything"
)


class RulePublic(Out):
    id: int
    position: int
    name: str
    group_id: int
    conditions: dict[str, Any]
    notify_supervisor: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime


class RuleCreate(In):
    name: RuleName
    group_id: Id
    conditions: dict[str, Any] = Field(default_factory=dict, description=CONDITIONS_HELP)
    notify_supervisor: bool = False
    enabled: bool = True
    position: Annotated[int | None, Field(ge=0, le=1_000_000)] = None


class RuleUpdate(Patch):
    not_null = frozenset(
        {"name", "group_id", "conditions", "notify_supervisor", "enabled", "position"}
    )

    name: RuleName | None = None
    group_id: Id | None = None
    conditions: dict[str, Any] | None = Field(default=None, description=CONDITIONS_HELP)
    notify_supervisor: bool | None = None
    enabled: bool | None = None
    position: Annotated[int | None, Field(ge=0, le=1_000_000)] = None


class RuleOrder(In):
    ids: list[Id] = Field(max_length=1000, description="every rule's id, the first tried first")


@router.get(
    "/routing/rules",
    response_model=list[RulePublic],
    summary="The routing rules, in the order tried",
    **allow(*STAFF),
)
def list_rules(db: DB, actor: CurrentActor) -> list[RulePublic]:
    return [RulePublic.model_validate(r) for r in service.list_rules(db)]


@router.post(
    "/routing/rules",
    response_model=RulePublic,
    status_code=201,
    summary="Add a rule (admin)",
    **allow(*ADMINS),
)
def create_rule(body: RuleCreate, db: DB, actor: CurrentActor) -> RulePublic:
    return RulePublic.model_validate(service.do_create_rule(db, actor, **body.model_dump()))


@router.patch(
    "/routing/rules/{rule_id}",
    response_model=RulePublic,
    summary="Change a rule (admin)",
    **allow(*ADMINS),
)
def update_rule(rule_id: Id, body: RuleUpdate, db: DB, actor: CurrentActor) -> RulePublic:
    staff_service.require_admin(actor)
    rule = service.get_rule(db, rule_id)
    return RulePublic.model_validate(
        service.do_update_rule(db, actor, rule, body.model_dump(exclude_unset=True))
    )


@router.delete(
    "/routing/rules/{rule_id}", status_code=204, summary="Delete a rule (admin)", **allow(*ADMINS)
)
def delete_rule(rule_id: Id, db: DB, actor: CurrentActor) -> Response:
    staff_service.require_admin(actor)
    service.do_delete_rule(db, actor, service.get_rule(db, rule_id))
    return Response(status_code=204)


@router.put(
    "/routing/rules/order",
    response_model=list[RulePublic],
    summary="Set the order of all rules (admin)",
    **allow(*ADMINS),
)
def reorder_rules(body: RuleOrder, db: DB, actor: CurrentActor) -> list[RulePublic]:
    return [RulePublic.model_validate(r) for r in service.do_reorder_rules(db, actor, body.ids)]
