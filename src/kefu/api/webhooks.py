"""Webhooks: events posted to kefu by sources (phone calls, SMS, app reviews, social posts;
``POST /channels/webhook/{source}``, signed the Standard Webhooks way, docs/webhooks.md), the
sources themselves, and integrations' subscriptions to kefu's events (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import AfterValidator, Field, StringConstraints

from kefu.api.access import ADMINS, ANYONE, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.integrations import http_url
from kefu.api.schemas import ERRORS, Id, In, Out, Patch
from kefu.db.base import utcnow
from kefu.domain import webhooks as vocab
from kefu.services.infra.outbound_urls import guard_of
from kefu.services.webhooks import inbound, sources, subscriptions

router = APIRouter(tags=["webhooks"], responses=ERRORS)

SourceKey = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{2,39}$")]
EventType = Literal[vocab.EVENT_TYPES]  # type: ignore[valid-type]
InboundKind = Literal[vocab.INBOUND_KINDS]  # type: ignore[valid-type]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
SourceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=500),
    AfterValidator(http_url),
    Field(description="where the events are posted (checked against private addresses)"),
]


class WebhookTaken(Out):
    type: str
    duplicate: bool
    ticket_id: int | None = None
    message_id: int | None = None
    customer_id: int | None = None
    mention_id: int | None = None


@router.post(
    "/channels/webhook/{source}",
    response_model=WebhookTaken,
    summary="Take one event from a webhook source (Standard Webhooks signature)",
    description=(
        "Headers `webhook-id`, `webhook-timestamp`, `webhook-signature` "
        "(`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, several allowed, space-separated). "
        'Body `{"type", "timestamp", "data"}` with type `call.transcript`, `sms.received`, '
        "`review.created`, `social.post` or `social.comment` (docs/webhooks.md). 401 for a "
        "forged, missing or stale signature (nothing stored); 200 with `duplicate: true` for a "
        "webhook-id taken before; 404 for an unknown or switched-off source."
    ),
    responses={
        401: {"description": "webhook_signature_invalid"},
        429: {"description": "rate_limited"},
    },
    **allow(*ANYONE),
)
def receive_webhook(
    source: SourceKey, request: Request, db: DB, settings: AppSettings
) -> WebhookTaken:
    request.app.state.webhook_limiter.require(f"webhook:{source}")
    found = inbound.check_source(db, source)
    body: bytes = request.scope.get("state", {}).get("raw_body", b"")
    taken = inbound.receive_webhook(
        db, settings, found, body=body, headers=dict(request.headers), now=utcnow()
    )
    return WebhookTaken(type=taken.event_type, duplicate=taken.duplicate, **taken.outcome)


# --- sources (admins) ------------------------------------------------------------------------


class SourcePublic(Out):
    id: int
    key: str
    name: str
    kinds: list[str]
    tolerance_seconds: int
    group_id: int | None
    enabled: bool
    created_at: datetime


class SourceChanged(SourcePublic):
    secret: str | None = Field(
        default=None,
        description="the signing secret (whsec_…) when one was just made; not shown again",
    )


class SourceCreate(In):
    name: SourceName
    kinds: list[InboundKind] = Field(min_length=1)
    key: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,39}$")] | None = None
    tolerance_seconds: int = Field(
        default=vocab.TOLERANCE_SECONDS, ge=1, le=vocab.TOLERANCE_SECONDS
    )
    group_id: Id | None = None


class SourceUpdate(Patch):
    not_null = frozenset({"name", "kinds", "tolerance_seconds", "enabled", "rotate_secret"})

    name: SourceName | None = None
    kinds: list[InboundKind] | None = Field(default=None, min_length=1)
    tolerance_seconds: int | None = Field(default=None, ge=1, le=vocab.TOLERANCE_SECONDS)
    group_id: Id | None = None
    enabled: bool | None = None
    rotate_secret: bool = False


@router.get(
    "/webhook-sources", response_model=list[SourcePublic], summary="Webhook sources (admin)",
    **allow(*ADMINS),
)  # fmt: skip
def list_sources(db: DB, actor: CurrentActor) -> list[SourcePublic]:
    return [SourcePublic.model_validate(s) for s in sources.list_sources(db, actor)]


@router.post(
    "/webhook-sources", response_model=SourceChanged, status_code=201,
    summary="Add a webhook source and make its secret (admin)", **allow(*ADMINS),
)  # fmt: skip
def create_source(
    body: SourceCreate, db: DB, actor: CurrentActor, settings: AppSettings
) -> SourceChanged:
    secret, source = sources.do_create_source(
        db, actor, name=body.name, kinds=list(body.kinds), key=body.key,
        tolerance_seconds=body.tolerance_seconds, group_id=body.group_id,
        secret_key=settings.secret_key,
    )  # fmt: skip
    return SourceChanged(**SourcePublic.model_validate(source).model_dump(), secret=secret)


@router.patch(
    "/webhook-sources/{source_id}", response_model=SourceChanged,
    summary="Change a webhook source, switch it on or off, rotate its secret (admin)",
    **allow(*ADMINS),
)  # fmt: skip
def update_source(
    source_id: Id, body: SourceUpdate, db: DB, actor: CurrentActor, settings: AppSettings
) -> SourceChanged:
    source = sources.get_source(db, actor, source_id)
    source, made = sources.do_update_source(
        db, actor, source, body.model_dump(exclude_unset=True), secret_key=settings.secret_key
    )
    return SourceChanged(**SourcePublic.model_validate(source).model_dump(), secret=made)


# --- subscriptions (admins) ------------------------------------------------------------------


class SubscriptionPublic(Out):
    id: int
    url: str
    events: list[str]
    enabled: bool
    description: str
    disabled_reason: str | None
    created_by_id: int | None
    created_at: datetime


class SubscriptionChanged(SubscriptionPublic):
    secret: str | None = Field(
        default=None,
        description="the signing secret (whsec_…) when one was just made; not shown again",
    )


class SubscriptionCreate(In):
    url: Url
    events: list[EventType] = Field(min_length=1)
    description: Description = ""


class SubscriptionUpdate(Patch):
    not_null = frozenset({"url", "events", "description", "enabled", "rotate_secret"})

    url: Url | None = None
    events: list[EventType] | None = Field(default=None, min_length=1)
    description: Description | None = None
    enabled: bool | None = None
    rotate_secret: bool = False


class DeliveryPublic(Out):
    id: int
    idempotency_key: str
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    dead_at: datetime | None
    next_attempt_at: datetime | None


@router.get(
    "/webhook-subscriptions", response_model=list[SubscriptionPublic],
    summary="Webhook subscriptions (admin)", **allow(*ADMINS),
)  # fmt: skip
def list_subscriptions(db: DB, actor: CurrentActor) -> list[SubscriptionPublic]:
    return [
        SubscriptionPublic.model_validate(s) for s in subscriptions.list_subscriptions(db, actor)
    ]


@router.post(
    "/webhook-subscriptions", response_model=SubscriptionChanged, status_code=201,
    summary="Subscribe a URL to kefu's events (admin)", **allow(*ADMINS),
)  # fmt: skip
def create_subscription(
    body: SubscriptionCreate, db: DB, actor: CurrentActor, settings: AppSettings
) -> SubscriptionChanged:
    secret, made = subscriptions.do_create_subscription(
        db, actor, url=body.url, events=list(body.events), description=body.description,
        guard=guard_of(settings), secret_key=settings.secret_key,
    )  # fmt: skip
    return SubscriptionChanged(
        **SubscriptionPublic.model_validate(made).model_dump(), secret=secret
    )


@router.get(
    "/webhook-subscriptions/{subscription_id}", response_model=SubscriptionPublic,
    summary="One webhook subscription (admin)", **allow(*ADMINS),
)  # fmt: skip
def get_subscription(subscription_id: Id, db: DB, actor: CurrentActor) -> SubscriptionPublic:
    return SubscriptionPublic.model_validate(
        subscriptions.get_subscription(db, actor, subscription_id)
    )


@router.patch(
    "/webhook-subscriptions/{subscription_id}", response_model=SubscriptionChanged,
    summary="Change a subscription, switch it on or off, rotate its secret (admin)",
    **allow(*ADMINS),
)  # fmt: skip
def update_subscription(
    subscription_id: Id,
    body: SubscriptionUpdate,
    db: DB,
    actor: CurrentActor,
    settings: AppSettings,
) -> SubscriptionChanged:
    found = subscriptions.get_subscription(db, actor, subscription_id)
    changed, made = subscriptions.do_update_subscription(
        db, actor, found, body.model_dump(exclude_unset=True), guard=guard_of(settings),
        secret_key=settings.secret_key,
    )  # fmt: skip
    return SubscriptionChanged(
        **SubscriptionPublic.model_validate(changed).model_dump(), secret=made
    )


@router.delete(
    "/webhook-subscriptions/{subscription_id}", status_code=204,
    summary="Delete a subscription (admin)", **allow(*ADMINS),
)  # fmt: skip
def delete_subscription(subscription_id: Id, db: DB, actor: CurrentActor) -> Response:
    found = subscriptions.get_subscription(db, actor, subscription_id)
    subscriptions.do_delete_subscription(db, actor, found)
    return Response(status_code=204)


@router.get(
    "/webhook-subscriptions/{subscription_id}/deliveries", response_model=list[DeliveryPublic],
    summary="A subscription's latest deliveries and their state (admin)", **allow(*ADMINS),
)  # fmt: skip
def list_deliveries(subscription_id: Id, db: DB, actor: CurrentActor) -> list[DeliveryPublic]:
    found = subscriptions.get_subscription(db, actor, subscription_id)
    return [
        DeliveryPublic.model_validate(e) for e in subscriptions.recent_deliveries(db, actor, found)
    ]
