"""``/admin/integrations``: the systems that deliver customer messages (POST /api/v1/inbound) —
their channels, callback URL and order lookup URL; the token and the callback secret are shown once, on the page
that answers the form; revoking stops the token at once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB, AppSettings
from kefu.api.integrations import IntegrationCreate, IntegrationUpdate
from kefu.api.schemas import Id
from kefu.db.models import Integration
from kefu.domain.tickets import Channel
from kefu.services.infra.outbound_urls import guard_of
from kefu.services.intake import integrations as service
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import Errors, Posted, attempt, checked, text, texts, validate
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

FIELDS = ("name", "channels", "callback_url", "order_lookup_url")
CHANNELS = tuple(c.value for c in Channel)


def _values_of(integration: Integration | None) -> dict[str, Any]:
    if integration is None:
        return {"name": "", "channels": ["api"], "callback_url": "", "order_lookup_url": "",
                "rotate": False}  # fmt: skip
    return {
        "name": integration.name,
        "channels": list(integration.channels),
        "callback_url": integration.callback_url or "",
        "order_lookup_url": integration.order_lookup_url or "",
        "rotate": False,
    }


def _posted(form: FormData) -> dict[str, Any]:
    return {
        "name": text(form, "name").strip(),
        "channels": texts(form, "channels"),
        "callback_url": text(form, "callback_url").strip(),
        "order_lookup_url": text(form, "order_lookup_url").strip(),
        "rotate": checked(form, "rotate_callback_secret"),
    }


def _data(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": values["name"],
        "channels": values["channels"],
        "callback_url": values["callback_url"] or None,
        "order_lookup_url": values["order_lookup_url"] or None,
    }


def _page(
    request: Request,
    db: Session,
    *,
    integration: Integration | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    created: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "section": "integrations",
        "integration": integration,
        "values": values,
        "errors": errors or {},
        "channels": CHANNELS,
        "created": created,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/integration_form.html", context, status=status)


@router.get("/admin/integrations")
def integrations_page(request: Request, db: DB, actor: AdminActor) -> Response:
    context = {
        "section": "integrations",
        "integrations": service.list_integrations(db, actor),
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/integrations.html", context)


@router.get("/admin/integrations/new")
def new_integration_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _page(request, db, integration=None, values=_values_of(None))


@router.post("/admin/integrations")
def create_integration(
    request: Request, db: DB, actor: AdminActor, form: Posted, settings: AppSettings
) -> Response:
    language = i18n.language_of(request)
    values = _posted(form)
    body, errors = validate(IntegrationCreate, _data(values), language)
    if body is not None:
        made, errors = attempt(
            db,
            lambda: service.do_create_integration(
                db,
                actor,
                name=body.name,
                channels=[c.value for c in body.channels],
                callback_url=body.callback_url,
                order_lookup_url=body.order_lookup_url,
                guard=guard_of(settings),
                secret_key=settings.secret_key,
            ),
            language,
            FIELDS,
        )
        if made is not None:
            secret, integration, callback_secret = made
            created = {"token": secret, "callback_secret": callback_secret}
            return _page(
                request,
                db,
                integration=integration,
                values=_values_of(integration),
                created=created,
                status=201,
            )
    return _page(request, db, integration=None, values=values, errors=errors, status=422)


@router.get("/admin/integrations/{integration_id}")
def integration_page(integration_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    integration = service.get_integration(db, actor, integration_id)
    return _page(request, db, integration=integration, values=_values_of(integration))


@router.post("/admin/integrations/{integration_id}")
def update_integration(
    integration_id: Id,
    request: Request,
    db: DB,
    actor: AdminActor,
    form: Posted,
    settings: AppSettings,
) -> Response:
    language = i18n.language_of(request)
    integration = service.get_integration(db, actor, integration_id)
    values = _posted(form)
    body, errors = validate(
        IntegrationUpdate, {**_data(values), "rotate_callback_secret": values["rotate"]}, language
    )
    if body is not None:
        changes = body.model_dump(exclude_unset=True)
        changes["channels"] = [c.value for c in body.channels or []]
        made, errors = attempt(
            db,
            lambda: service.do_update_integration(
                db,
                actor,
                integration,
                changes,
                guard=guard_of(settings),
                secret_key=settings.secret_key,
            ),
            language,
            (*FIELDS, "rotate_callback_secret"),
        )
        if made is not None:
            changed, secret = made
            if secret:  # a new callback secret: shown this once
                created = {"token": None, "callback_secret": secret}  # nosec: empty or a flag
                return _page(
                    request, db, integration=changed, values=_values_of(changed), created=created
                )
            return RedirectResponse(f"/admin/integrations/{integration_id}?done=saved", 303)
    errors = {
        ("callback_url" if k == "rotate_callback_secret" else k): v for k, v in errors.items()
    }
    integration = service.get_integration(db, actor, integration_id)
    return _page(request, db, integration=integration, values=values, errors=errors, status=422)


@router.post("/admin/integrations/{integration_id}/revoke")
def revoke_integration(integration_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    integration = service.get_integration(db, actor, integration_id)
    service.do_revoke_integration(db, actor, integration)
    return RedirectResponse("/admin/integrations?done=revoked", status_code=303)
