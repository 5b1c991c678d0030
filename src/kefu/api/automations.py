"""/api/v1/automations: the admins' if/then triggers (services/automations/triggers.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from kefu.api.access import ADMINS, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.services.automations import triggers as service

router = APIRouter(tags=["automations"], responses=ERRORS)


class TriggerPublic(Out):
    id: int
    name: str
    definition: dict[str, Any]
    active: bool
    position: int
    created_at: datetime
    updated_at: datetime


class TriggerIn(In):
    name: str = Field(min_length=1, max_length=100)
    definition: dict[str, Any] = Field(
        description='{"on", "after"?, "conditions": [...], "actions": [...]} (see the docs)'
    )
    active: bool = True
    position: int | None = Field(default=None, ge=0, le=100_000)


@router.get(
    "/automations",
    response_model=list[TriggerPublic],
    summary="The triggers in the order they run (admin)",
    **allow(*ADMINS),
)
def list_triggers(db: DB, actor: CurrentActor) -> list[TriggerPublic]:
    service.require_admin(actor)
    return [TriggerPublic.model_validate(t) for t in service.list_triggers(db)]


@router.post(
    "/automations",
    response_model=TriggerPublic,
    status_code=201,
    summary="Add a trigger (admin); one that could skip a complaint's steps is refused (422)",
    **allow(*ADMINS),
)
def create_trigger(body: TriggerIn, db: DB, actor: CurrentActor) -> TriggerPublic:
    row = service.do_save_trigger(db, actor, **body.model_dump())
    return TriggerPublic.model_validate(row)


@router.put(
    "/automations/{trigger_id}",
    response_model=TriggerPublic,
    summary="Replace a trigger (admin)",
    **allow(*ADMINS),
)
def update_trigger(trigger_id: Id, body: TriggerIn, db: DB, actor: CurrentActor) -> TriggerPublic:
    row = service.access_trigger(db, actor, trigger_id)
    return TriggerPublic.model_validate(
        service.do_save_trigger(db, actor, row=row, **body.model_dump())
    )


@router.delete(
    "/automations/{trigger_id}", status_code=204, summary="Delete a trigger (admin)",
    **allow(*ADMINS),
)  # fmt: skip
def delete_trigger(trigger_id: Id, db: DB, actor: CurrentActor) -> Response:
    service.do_delete_trigger(db, actor, service.access_trigger(db, actor, trigger_id))
    return Response(status_code=204)
