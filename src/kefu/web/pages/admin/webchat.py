"""``/admin/webchat``: the sites that embed the chat widget — the origins allowed to, the group
their chats go to (whose working hours decide when someone answers), the greeting, the offline
message and form, the language; the identity-signing secret is shown once, when the channel is
made or the secret is replaced."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import Id
from kefu.api.web_pages import WIDGET_JS
from kefu.api.webchat_channels import ChannelCreate, ChannelUpdate
from kefu.db.models import WebchatChannel
from kefu.services.staff import directory as staff
from kefu.services.webchat import channels as service
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import (
    Errors,
    Posted,
    attempt,
    checked,
    lines,
    text,
    validate,
)
from kefu.web.pages.admin.groups import hours_summary
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

FIELDS = (
    "name",
    "allowed_origins",
    "group_id",
    "greeting",
    "offline_message",
    "offline_form",
    "language",
    "bot_mode",
    "enabled",
)


def _values_of(channel: WebchatChannel | None) -> dict[str, Any]:
    if channel is None:
        return {
            "name": "",
            "allowed_origins": "",
            "group_id": "",
            "greeting": "",
            "offline_message": "",
            "offline_form": True,
            "language": "zh-CN",
            "bot_mode": "off",
            "enabled": True,
        }
    return {
        "name": channel.name,
        "allowed_origins": "\n".join(channel.allowed_origins or []),
        "group_id": str(channel.group_id or ""),
        "greeting": channel.greeting,
        "offline_message": channel.offline_message,
        "offline_form": channel.offline_form,
        "language": channel.language,
        "bot_mode": channel.bot_mode,
        "enabled": channel.enabled,
    }


def _posted(form: FormData) -> dict[str, Any]:
    return {
        "name": text(form, "name").strip(),
        "allowed_origins": text(form, "allowed_origins"),
        "group_id": text(form, "group_id"),
        "greeting": text(form, "greeting").strip(),
        "offline_message": text(form, "offline_message").strip(),
        "offline_form": checked(form, "offline_form"),
        "language": text(form, "language"),
        "bot_mode": text(form, "bot_mode") or "off",
        "enabled": checked(form, "enabled"),
    }


def _data(values: dict[str, Any]) -> dict[str, Any]:
    return {
        **values,
        "allowed_origins": lines(values["allowed_origins"]),
        "group_id": values["group_id"] or None,
    }


def _page(
    request: Request,
    db: Session,
    *,
    channel: WebchatChannel | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    secret: str | None = None,
    status: int = 200,
) -> Response:
    language = i18n.language_of(request)
    groups = staff.list_groups(db)
    chosen = next((g for g in groups if str(g.id) == values["group_id"]), None)
    base = str(request.base_url).rstrip("/")
    context = {
        "section": "webchat",
        "channel": channel,
        "values": values,
        "errors": errors or {},
        "groups": groups,
        "group_hours": hours_summary(chosen.calendar, language) if chosen else [],
        "secret": secret,
        "snippet": _snippet(base, channel) if channel else "",
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/webchat_form.html", context, status=status)


def _snippet(base: str, channel: WebchatChannel) -> str:
    """The script tag a site puts on its pages (docs/webchat.md)."""
    return (
        f'<script src="{base}{WIDGET_JS}" data-channel="{channel.key}" '
        f'data-lang="{channel.language}" async></script>'
    )


@router.get("/admin/webchat")
def channels_page(request: Request, db: DB, actor: AdminActor) -> Response:
    groups = {g.id: g.name for g in staff.list_groups(db)}
    context = {
        "section": "webchat",
        "channels": service.list_channels(db, actor),
        "groups": groups,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/webchat.html", context)


@router.get("/admin/webchat/new")
def new_channel_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _page(request, db, channel=None, values=_values_of(None))


@router.post("/admin/webchat")
def create_channel(
    request: Request, db: DB, actor: AdminActor, form: Posted, settings: AppSettings
) -> Response:
    language = i18n.language_of(request)
    values = _posted(form)
    body, errors = validate(ChannelCreate, _data(values), language)
    if body is not None:
        fields = body.model_dump()
        made, errors = attempt(
            db,
            lambda: service.do_create_channel(db, actor, secret_key=settings.secret_key, **fields),
            language,
            FIELDS,
        )
        if made is not None:
            channel, secret = made
            return _page(
                request, db, channel=channel, values=_values_of(channel), secret=secret, status=201
            )
    return _page(request, db, channel=None, values=values, errors=errors, status=422)


@router.get("/admin/webchat/{channel_id}")
def channel_page(channel_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    channel = service.get_channel(db, actor, channel_id)
    return _page(request, db, channel=channel, values=_values_of(channel))


@router.post("/admin/webchat/{channel_id}")
def update_channel(
    channel_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted
) -> Response:
    language = i18n.language_of(request)
    channel = service.get_channel(db, actor, channel_id)
    values = _posted(form)
    body, errors = validate(ChannelUpdate, _data(values), language)
    if body is not None:
        changes = body.model_dump(exclude_unset=True)
        done, errors = attempt(
            db, lambda: service.do_update_channel(db, actor, channel, changes), language, FIELDS
        )
        if done is not None:
            return RedirectResponse(f"/admin/webchat/{channel_id}?done=saved", status_code=303)
    channel = service.get_channel(db, actor, channel_id)
    return _page(request, db, channel=channel, values=values, errors=errors, status=422)


@router.post("/admin/webchat/{channel_id}/secret")
def rotate_secret(
    channel_id: Id, request: Request, db: DB, actor: AdminActor, settings: AppSettings
) -> Response:
    """A new secret, shown once: the old one stops verifying identities at once."""
    channel = service.get_channel(db, actor, channel_id)
    secret = service.do_rotate_secret(db, actor, channel, secret_key=settings.secret_key)
    return _page(request, db, channel=channel, values=_values_of(channel), secret=secret)


@router.post("/admin/webchat/{channel_id}/delete")
def delete_channel(channel_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    service.do_delete_channel(db, actor, service.get_channel(db, actor, channel_id))
    return RedirectResponse("/admin/webchat?done=deleted", status_code=303)
