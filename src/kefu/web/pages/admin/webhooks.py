"""``/admin/webhook-sources`` and ``/admin/webhook-subscriptions``: the systems that post events
to kefu (phone calls, SMS, app reviews, social posts) and the integrations kefu posts its own
events to. A signing secret is shown once, when it is made or replaced; a subscription's page
lists its latest deliveries with their state in the outbox."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import Id
from kefu.api.webhooks import SourceCreate, SourceUpdate, SubscriptionCreate, SubscriptionUpdate
from kefu.db.models import WebhookSource, WebhookSubscription
from kefu.domain import webhooks as vocab
from kefu.services.actors import Actor
from kefu.services.infra.outbound_urls import guard_of
from kefu.services.staff import directory as staff
from kefu.services.webhooks import sources, subscriptions
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import Errors, Posted, attempt, checked, text, texts, validate
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

SOURCE_FIELDS = ("name", "key", "kinds", "tolerance_seconds", "group_id", "enabled")
SUBSCRIPTION_FIELDS = ("url", "events", "description", "enabled")


# --- sources ---------------------------------------------------------------------------------


def _source_values(source: WebhookSource | None) -> dict[str, Any]:
    if source is None:
        return {"name": "", "key": "", "kinds": [], "tolerance_seconds": "300", "group_id": "",
                "enabled": True}  # fmt: skip
    return {
        "name": source.name, "key": source.key, "kinds": list(source.kinds),
        "tolerance_seconds": str(source.tolerance_seconds),
        "group_id": str(source.group_id or ""), "enabled": source.enabled,
    }  # fmt: skip


def _source_posted(form: FormData) -> dict[str, Any]:
    return {
        "name": text(form, "name").strip(), "key": text(form, "key").strip(),
        "kinds": texts(form, "kinds"), "tolerance_seconds": text(form, "tolerance_seconds").strip(),
        "group_id": text(form, "group_id"), "enabled": checked(form, "enabled"),
    }  # fmt: skip


def _source_page(
    request: Request,
    db: Session,
    *,
    source: WebhookSource | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    secret: str | None = None,
    status: int = 200,
) -> Response:
    base = str(request.base_url).rstrip("/")
    context = {
        "section": "webhook_sources",
        "source": source,
        "values": values,
        "errors": errors or {},
        "groups": staff.list_groups(db),
        "kinds": vocab.INBOUND_KINDS,
        "secret": secret,
        "endpoint": f"{base}/api/v1/channels/webhook/{source.key}" if source else "",
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/webhook_source_form.html", context, status=status)


@router.get("/admin/webhook-sources")
def sources_page(request: Request, db: DB, actor: AdminActor) -> Response:
    context = {
        "section": "webhook_sources",
        "sources": sources.list_sources(db, actor),
        "groups": {g.id: g.name for g in staff.list_groups(db)},
    }
    return page(request, "workspace/admin/webhook_sources.html", context)


@router.get("/admin/webhook-sources/new")
def new_source_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _source_page(request, db, source=None, values=_source_values(None))


@router.post("/admin/webhook-sources")
def create_source(
    request: Request, db: DB, actor: AdminActor, form: Posted, settings: AppSettings
) -> Response:
    language = i18n.language_of(request)
    values = _source_posted(form)
    data = {**values, "key": values["key"] or None, "group_id": values["group_id"] or None}
    data.pop("enabled")
    body, errors = validate(SourceCreate, data, language)
    if body is not None:
        made, errors = attempt(db, lambda: sources.do_create_source(
            db, actor, name=body.name, kinds=list(body.kinds), key=body.key,
            tolerance_seconds=body.tolerance_seconds, group_id=body.group_id,
            secret_key=settings.secret_key,
        ), language, SOURCE_FIELDS)  # fmt: skip
        if made is not None:
            secret, source = made
            return _source_page(
                request, db, source=source, values=_source_values(source), secret=secret, status=201
            )
    return _source_page(request, db, source=None, values=values, errors=errors, status=422)


@router.get("/admin/webhook-sources/{source_id}")
def source_page(source_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    source = sources.get_source(db, actor, source_id)
    return _source_page(request, db, source=source, values=_source_values(source))


@router.post("/admin/webhook-sources/{source_id}")
def update_source(
    source_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted, settings: AppSettings
) -> Response:
    language = i18n.language_of(request)
    source = sources.get_source(db, actor, source_id)
    values = _source_posted(form)
    data = {**values, "group_id": values["group_id"] or None}
    data.pop("key")
    body, errors = validate(SourceUpdate, data, language)
    if body is not None:
        changes = body.model_dump(exclude_unset=True)
        done, errors = attempt(db, lambda: sources.do_update_source(
            db, actor, source, changes, secret_key=settings.secret_key), language, SOURCE_FIELDS)  # fmt: skip
        if done is not None:
            return RedirectResponse(
                f"/admin/webhook-sources/{source_id}?done=saved", status_code=303
            )
    source = sources.get_source(db, actor, source_id)
    return _source_page(request, db, source=source, values=values, errors=errors, status=422)


@router.post("/admin/webhook-sources/{source_id}/secret")
def rotate_source_secret(
    source_id: Id, request: Request, db: DB, actor: AdminActor, settings: AppSettings
) -> Response:
    """A new secret, shown once: the old one is refused from now on."""
    source = sources.get_source(db, actor, source_id)
    rotate = {"rotate_secret": True}  # nosec B105 - a flag, not a secret
    source, secret = sources.do_update_source(
        db, actor, source, rotate, secret_key=settings.secret_key
    )
    return _source_page(request, db, source=source, values=_source_values(source), secret=secret)


# --- subscriptions ---------------------------------------------------------------------------


def _subscription_values(subscription: WebhookSubscription | None) -> dict[str, Any]:
    if subscription is None:
        return {"url": "", "events": [], "description": "", "enabled": True}
    return {
        "url": subscription.url, "events": list(subscription.events),
        "description": subscription.description, "enabled": subscription.enabled,
    }  # fmt: skip


def _subscription_posted(form: FormData) -> dict[str, Any]:
    return {
        "url": text(form, "url").strip(), "events": texts(form, "events"),
        "description": text(form, "description").strip(), "enabled": checked(form, "enabled"),
    }  # fmt: skip


def _subscription_page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    subscription: WebhookSubscription | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    secret: str | None = None,
    status: int = 200,
) -> Response:
    deliveries = subscriptions.recent_deliveries(db, actor, subscription) if subscription else []
    context = {
        "section": "webhook_subscriptions",
        "subscription": subscription,
        "values": values,
        "errors": errors or {},
        "event_types": vocab.EVENT_TYPES,
        "deliveries": deliveries,
        "secret": secret,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/webhook_subscription_form.html", context, status=status)


@router.get("/admin/webhook-subscriptions")
def subscriptions_page(request: Request, db: DB, actor: AdminActor) -> Response:
    context = {
        "section": "webhook_subscriptions",
        "subscriptions": subscriptions.list_subscriptions(db, actor),
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/webhook_subscriptions.html", context)


@router.get("/admin/webhook-subscriptions/new")
def new_subscription_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _subscription_page(
        request, db, actor, subscription=None, values=_subscription_values(None)
    )


@router.post("/admin/webhook-subscriptions")
def create_subscription(
    request: Request, db: DB, actor: AdminActor, form: Posted, settings: AppSettings
) -> Response:
    language = i18n.language_of(request)
    values = _subscription_posted(form)
    data = {k: v for k, v in values.items() if k != "enabled"}
    body, errors = validate(SubscriptionCreate, data, language)
    if body is not None:
        made, errors = attempt(db, lambda: subscriptions.do_create_subscription(
            db, actor, url=body.url, events=list(body.events), description=body.description,
            guard=guard_of(settings), secret_key=settings.secret_key,
        ), language, SUBSCRIPTION_FIELDS)  # fmt: skip
        if made is not None:
            secret, subscription = made
            return _subscription_page(
                request, db, actor, subscription=subscription,
                values=_subscription_values(subscription), secret=secret, status=201,
            )  # fmt: skip
    return _subscription_page(
        request, db, actor, subscription=None, values=values, errors=errors, status=422
    )


@router.get("/admin/webhook-subscriptions/{subscription_id}")
def subscription_page(subscription_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    found = subscriptions.get_subscription(db, actor, subscription_id)
    return _subscription_page(
        request, db, actor, subscription=found, values=_subscription_values(found)
    )


@router.post("/admin/webhook-subscriptions/{subscription_id}")
def update_subscription(
    subscription_id: Id,
    request: Request,
    db: DB,
    actor: AdminActor,
    form: Posted,
    settings: AppSettings,
) -> Response:
    language = i18n.language_of(request)
    found = subscriptions.get_subscription(db, actor, subscription_id)
    values = _subscription_posted(form)
    body, errors = validate(SubscriptionUpdate, values, language)
    if body is not None:
        changes = body.model_dump(exclude_unset=True)
        done, errors = attempt(db, lambda: subscriptions.do_update_subscription(
            db, actor, found, changes, guard=guard_of(settings), secret_key=settings.secret_key,
        ), language, SUBSCRIPTION_FIELDS)  # fmt: skip
        if done is not None:
            return RedirectResponse(
                f"/admin/webhook-subscriptions/{subscription_id}?done=saved", status_code=303
            )
    found = subscriptions.get_subscription(db, actor, subscription_id)
    return _subscription_page(
        request, db, actor, subscription=found, values=values, errors=errors, status=422
    )


@router.post("/admin/webhook-subscriptions/{subscription_id}/secret")
def rotate_subscription_secret(
    subscription_id: Id, request: Request, db: DB, actor: AdminActor, settings: AppSettings
) -> Response:
    found = subscriptions.get_subscription(db, actor, subscription_id)
    rotate = {"rotate_secret": True}  # nosec B105 - a flag, not a secret
    found, secret = subscriptions.do_update_subscription(
        db, actor, found, rotate, guard=guard_of(settings), secret_key=settings.secret_key,
    )  # fmt: skip
    return _subscription_page(
        request, db, actor, subscription=found, values=_subscription_values(found), secret=secret
    )


@router.post("/admin/webhook-subscriptions/{subscription_id}/delete")
def delete_subscription(
    subscription_id: Id, request: Request, db: DB, actor: AdminActor
) -> Response:
    found = subscriptions.get_subscription(db, actor, subscription_id)
    subscriptions.do_delete_subscription(db, actor, found)
    return RedirectResponse("/admin/webhook-subscriptions?done=deleted", status_code=303)
