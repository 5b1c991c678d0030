"""/api/v1/integrations: the systems that deliver customer messages (admins; the token is shown once)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import AfterValidator, Field, StringConstraints

from kefu.api.access import ADMINS, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.domain.tickets import Channel
from kefu.services.intake import integrations as service

router = APIRouter(prefix="/integrations", tags=["integrations"], responses=ERRORS)

IntegrationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
# Stored deduplicated and sorted, so an audit shows what changed and not how it was typed.
Channels = Annotated[
    list[Channel],
    Field(min_length=1, max_length=len(Channel), description="the channels it may deliver"),
    AfterValidator(lambda channels: sorted(set(channels))),
]


class IntegrationPublic(Out):
    id: int
    name: str
    channels: list[str]
    prefix: str
    created_by_id: int | None
    created_at: datetime
    revoked_at: datetime | None


class IntegrationCreated(IntegrationPublic):
    token: str = Field(description="the secret for POST /api/v1/inbound; it is not shown again")


class IntegrationCreate(In):
    name: IntegrationName
    channels: Channels


class IntegrationUpdate(In):
    name: IntegrationName | None = None
    channels: Channels | None = None


@router.get(
    "", response_model=list[IntegrationPublic], summary="All integrations (admin)", **allow(*ADMINS)
)
def list_integrations(db: DB, actor: CurrentActor) -> list[IntegrationPublic]:
    return [IntegrationPublic.model_validate(i) for i in service.list_integrations(db, actor)]


@router.post(
    "",
    response_model=IntegrationCreated,
    status_code=201,
    summary="Create an integration and its token (admin)",
    **allow(*ADMINS),
)
def create_integration(body: IntegrationCreate, db: DB, actor: CurrentActor) -> IntegrationCreated:
    secret, integration = service.do_create_integration(
        db, actor, name=body.name, channels=[c.value for c in body.channels]
    )
    return IntegrationCreated(
        **IntegrationPublic.model_validate(integration).model_dump(), token=secret
    )


@router.patch(
    "/{integration_id}",
    response_model=IntegrationPublic,
    summary="Rename an integration or change its channels (admin)",
    **allow(*ADMINS),
)
def update_integration(
    integration_id: Id, body: IntegrationUpdate, db: DB, actor: CurrentActor
) -> IntegrationPublic:
    integration = service.get_integration(db, actor, integration_id)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if "channels" in changes:
        changes["channels"] = [c.value for c in body.channels or []]
    return IntegrationPublic.model_validate(
        service.do_update_integration(db, actor, integration, changes)
    )


@router.delete(
    "/{integration_id}",
    status_code=204,
    summary="Revoke an integration's token (admin)",
    **allow(*ADMINS),
)
def revoke_integration(integration_id: Id, db: DB, actor: CurrentActor) -> Response:
    service.do_revoke_integration(db, actor, service.get_integration(db, actor, integration_id))
    return Response(status_code=204)
