"""/api/v1/integrations: the systems that deliver customer messages (admins; the token is shown once).

An integration may register a ``callback_url``: agents' replies to its tickets are posted there,
signed with a callback secret that is shown once, when it is made (docs/callbacks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Response
from pydantic import AfterValidator, Field, StringConstraints

from kefu.api.access import ADMINS, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out, Patch
from kefu.domain.tickets import Channel
from kefu.services.infra.outbound_urls import guard_of
from kefu.services.intake import integrations as service

router = APIRouter(prefix="/integrations", tags=["integrations"], responses=ERRORS)

IntegrationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


def http_url(value: str) -> str:
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        raise ValueError("an http:// or https:// URL")
    return value


CallbackUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=500),
    AfterValidator(http_url),
    Field(description="where agents' replies to its tickets are posted (signed)"),
]
# Stored deduplicated and sorted, so an audit shows what changed and not how it was typed.
Channels = Annotated[
    list[Channel],
    Field(min_length=1, max_length=len(Channel), description="the channels it may deliver"),
    AfterValidator(lambda channels: sorted(set(channels))),
]


OrderLookupUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=500),
    AfterValidator(http_url),
    Field(description="where kefu asks for an order by its number (signed; docs/order-lookup.md)"),
]


class IntegrationPublic(Out):
    id: int
    name: str
    channels: list[str]
    prefix: str
    created_by_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    callback_url: str | None
    order_lookup_url: str | None


class IntegrationChanged(IntegrationPublic):
    callback_secret: str | None = Field(
        default=None,
        description="the key callbacks are signed with, when one was just made; not shown again",
    )


class IntegrationCreated(IntegrationChanged):
    token: str = Field(description="the secret for POST /api/v1/inbound; it is not shown again")


class IntegrationCreate(In):
    name: IntegrationName
    channels: Channels
    callback_url: CallbackUrl | None = None
    order_lookup_url: OrderLookupUrl | None = None


class IntegrationUpdate(Patch):
    not_null = frozenset({"name", "channels", "rotate_callback_secret"})

    name: IntegrationName | None = None
    channels: Channels | None = None
    callback_url: CallbackUrl | None = Field(default=None, description="null: no callbacks")
    order_lookup_url: OrderLookupUrl | None = Field(
        default=None, description="null: no order lookups"
    )
    rotate_callback_secret: bool = Field(
        default=False, description="make a new callback secret (the old one stops working)"
    )


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
def create_integration(
    body: IntegrationCreate, db: DB, actor: CurrentActor, settings: AppSettings
) -> IntegrationCreated:
    secret, integration, callback_secret = service.do_create_integration(
        db,
        actor,
        name=body.name,
        channels=[c.value for c in body.channels],
        callback_url=body.callback_url,
        order_lookup_url=body.order_lookup_url,
        guard=guard_of(settings),
        secret_key=settings.secret_key,
    )
    return IntegrationCreated(
        **IntegrationPublic.model_validate(integration).model_dump(),
        token=secret,
        callback_secret=callback_secret,
    )


@router.patch(
    "/{integration_id}",
    response_model=IntegrationChanged,
    summary="Rename an integration, change its channels, callback or order lookup (admin)",
    **allow(*ADMINS),
)
def update_integration(
    integration_id: Id, body: IntegrationUpdate, db: DB, actor: CurrentActor, settings: AppSettings
) -> IntegrationChanged:
    integration = service.get_integration(db, actor, integration_id)
    changes = body.model_dump(exclude_unset=True)
    if "channels" in changes:
        changes["channels"] = [c.value for c in body.channels or []]
    integration, made = service.do_update_integration(
        db, actor, integration, changes, guard=guard_of(settings), secret_key=settings.secret_key
    )
    return IntegrationChanged(
        **IntegrationPublic.model_validate(integration).model_dump(), callback_secret=made
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
