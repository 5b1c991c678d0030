"""/api/v1/automations: the admins' if/then triggers (services/automations/triggers.py);
/api/v1/automation-timing: the team's service timing (services/automations/timing.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from kefu.api.access import ADMINS, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.services.automations import timing
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


class TimingPublic(Out):
    close_resolved_hours: float
    nudge_hours: float
    close_unanswered_hours: float
    follow_up_days: float
    survey_after_hours: float
    vip_follow_up: bool
    vip_follow_up_hours: float


class TimingIn(In):
    """Only the values sent change; 0 switches a lifecycle rule off."""

    close_resolved_hours: float | None = Field(default=None, ge=0, le=24 * 365)
    nudge_hours: float | None = Field(default=None, ge=0, le=24 * 365)
    close_unanswered_hours: float | None = Field(default=None, ge=0, le=24 * 365)
    follow_up_days: float | None = Field(default=None, ge=0, le=90)
    survey_after_hours: float | None = Field(default=None, ge=0, le=30 * 24)
    vip_follow_up: bool | None = None
    vip_follow_up_hours: float | None = Field(default=None, ge=0, le=30 * 24)


@router.get(
    "/automation-timing",
    response_model=TimingPublic,
    summary="The service timing: auto-close, nudge, follow-up and survey delays (admin)",
    **allow(*ADMINS),
)
def get_timing(db: DB, actor: CurrentActor, settings: AppSettings) -> TimingPublic:
    service.require_admin(actor)
    return TimingPublic(**timing.current(db, settings).to_json())


@router.put(
    "/automation-timing",
    response_model=TimingPublic,
    summary="Change the service timing (admin; audited)",
    **allow(*ADMINS),
)
def put_timing(body: TimingIn, db: DB, actor: CurrentActor) -> TimingPublic:
    saved = timing.save(db, actor, body.model_dump(exclude_none=True))
    return TimingPublic(**saved.to_json())
