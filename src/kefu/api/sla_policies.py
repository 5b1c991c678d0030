"""/api/v1/sla/policies: the SLA budgets per channel × priority (admins configure; staff may read)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from kefu.api.access import ADMINS, STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, In, Out
from kefu.domain.tickets import Channel, Priority
from kefu.services.sla import policies as service

router = APIRouter(tags=["sla"], responses=ERRORS)

MAX_BUDGET_S = 365 * 86400
# Whole seconds of working time; null: no such target. Strict: "30", 30.5 and true are refused.
Budget = Annotated[
    int | None,
    Field(
        strict=True,
        ge=1,
        le=MAX_BUDGET_S,
        description="seconds of working time (1 to 365 days); null: no such target",
    ),
]


class PolicyPublic(Out):
    channel: Channel
    priority: Priority
    first_response_s: int | None
    next_response_s: int | None
    resolution_s: int | None
    source: Literal["default", "configured"]


class PolicyUpdate(In):
    """All three budgets; each must be sent, null for no such target."""

    first_response_s: Budget
    next_response_s: Budget
    resolution_s: Budget


@router.get(
    "/sla/policies",
    response_model=list[PolicyPublic],
    summary="The SLA budgets of every channel × priority",
    **allow(*STAFF),
)
def list_policies(db: DB, actor: CurrentActor) -> list[PolicyPublic]:
    return [PolicyPublic.model_validate(p) for p in service.list_policies(db)]


@router.put(
    "/sla/policies/{channel}/{priority}",
    response_model=PolicyPublic,
    summary="Set a channel × priority's budgets (admin); its open tickets are re-planned",
    **allow(*ADMINS),
)
def set_policy(
    channel: Channel, priority: Priority, body: PolicyUpdate, db: DB, actor: CurrentActor
) -> PolicyPublic:
    return PolicyPublic.model_validate(
        service.do_set_policy(db, actor, channel, priority, **body.model_dump())
    )


@router.delete(
    "/sla/policies/{channel}/{priority}",
    status_code=204,
    summary="Back to the default budgets (admin); its open tickets are re-planned",
    **allow(*ADMINS),
)
def reset_policy(channel: Channel, priority: Priority, db: DB, actor: CurrentActor) -> Response:
    service.do_reset_policy(db, actor, channel, priority)
    return Response(status_code=204)
