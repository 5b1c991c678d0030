"""``/admin/social-feeds``: the JSON feeds social listening polls (舆情订阅源) — name, URL (checked
by the outbound URL guard when saved and at every poll), how often, on or off — with the result
of each feed's last poll."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import Id
from kefu.db.base import utcnow
from kefu.db.models import SocialFeed
from kefu.services.infra.outbound_urls import guard_of
from kefu.services.social import feeds as service
from kefu.settings import Settings
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import Errors, Posted, attempt, checked, text, validate
from kefu.web.render import page

router = APIRouter(include_in_schema=False)


class FeedForm(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    url: Annotated[str, Field(min_length=1, max_length=1000, pattern=r"^https?://\S+$")]
    interval_minutes: Annotated[int, Field(ge=1, le=1440)]
    enabled: bool


def _values_of(feed: SocialFeed | None) -> dict[str, Any]:
    if feed is None:
        return {"name": "", "url": "", "interval_minutes": "15", "enabled": True}
    return {
        "name": feed.name,
        "url": feed.url,
        "interval_minutes": str(feed.interval_minutes),
        "enabled": feed.enabled,
    }


def _posted(form: FormData) -> dict[str, Any]:
    return {
        "name": text(form, "name").strip(),
        "url": text(form, "url").strip(),
        "interval_minutes": text(form, "interval_minutes").strip(),
        "enabled": checked(form, "enabled"),
    }


def _form_page(
    request: Request,
    *,
    feed: SocialFeed | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    status: int = 200,
) -> Response:
    context = {
        "section": "social_feeds",
        "feed": feed,
        "values": values,
        "errors": errors or {},
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/social_feed_form.html", context, status=status)


def _save(
    request: Request,
    db: Session,
    actor: Any,
    settings: Settings,
    feed: SocialFeed | None,
    form: FormData,
) -> tuple[SocialFeed | None, dict[str, Any], Errors]:
    language = i18n.language_of(request)
    values = _posted(form)
    body, errors = validate(FeedForm, values, language)
    if body is None:
        return None, values, errors
    saved, errors = attempt(
        db,
        lambda: service.do_save_feed(
            db, actor, feed, **body.model_dump(), guard=guard_of(settings), now=utcnow()
        ),
        language,
        service.FIELDS,
    )
    return saved, values, errors


@router.get("/admin/social-feeds")
def feeds_page(request: Request, db: DB, actor: AdminActor) -> Response:
    context = {
        "section": "social_feeds",
        "feeds": service.list_feeds(db, actor),
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/social_feeds.html", context)


@router.get("/admin/social-feeds/new")
def new_feed_page(request: Request, actor: AdminActor) -> Response:
    return _form_page(request, feed=None, values=_values_of(None))


@router.post("/admin/social-feeds")
def create_feed(
    request: Request, db: DB, actor: AdminActor, settings: AppSettings, form: Posted
) -> Response:
    saved, values, errors = _save(request, db, actor, settings, None, form)
    if saved is not None:
        return RedirectResponse(f"/admin/social-feeds/{saved.id}?done=saved", status_code=303)
    return _form_page(request, feed=None, values=values, errors=errors, status=422)


@router.get("/admin/social-feeds/{feed_id}")
def feed_page(feed_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    feed = service.get_feed(db, actor, feed_id)
    return _form_page(request, feed=feed, values=_values_of(feed))


@router.post("/admin/social-feeds/{feed_id}")
def update_feed(
    feed_id: Id, request: Request, db: DB, actor: AdminActor, settings: AppSettings, form: Posted
) -> Response:
    feed = service.get_feed(db, actor, feed_id)
    saved, values, errors = _save(request, db, actor, settings, feed, form)
    if saved is not None:
        return RedirectResponse(f"/admin/social-feeds/{feed_id}?done=saved", status_code=303)
    db.refresh(feed)
    return _form_page(request, feed=feed, values=values, errors=errors, status=422)


@router.post("/admin/social-feeds/{feed_id}/delete")
def delete_feed(feed_id: Id, db: DB, actor: AdminActor) -> Response:
    service.do_delete_feed(db, actor, service.get_feed(db, actor, feed_id))
    return RedirectResponse("/admin/social-feeds?done=deleted", status_code=303)
