"""What the ticket page changes (htmx posts from its buttons and forms): the composer's reply or
internal note with its files (and the script it was written from), a macro run from the composer,
claiming, assigning, transferring to another group, changing the priority, category and tags,
merging, linking, and sending a dead reply again.

Each handler checks the form, calls the service that owns the change (services/cases/*,
services/outbound/replay.py: the same permissions, audit and events as the API) and answers 204
with an ``HX-Trigger`` that makes the page reload its parts and show a short message; a refusal
is kefu's JSON error, which the page shows as a message. A change after which the user no
longer sees the case (handed to another group) sends them back to the inbox.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import Id
from kefu.domain.tickets import Channel, Priority
from kefu.domain.triage_labels import Category
from kefu.errors import KefuError, NotFound
from kefu.services.actors import Actor
from kefu.services.cases import links as case_links
from kefu.services.cases import loop as cases
from kefu.services.cases import tickets as service
from kefu.services.intake.attachments import AttachmentIn
from kefu.services.outbound import replay
from kefu.services.scripts import macros
from kefu.services.scripts import uses as script_uses
from kefu.web import i18n
from kefu.web.guard import PageActor
from kefu.web.labels import N_

router = APIRouter(include_in_schema=False)

MAX_FILES = 10  # as the API's add-message
MAX_TAGS = 20
MAX_TAG_CHARS = 50
_TAG_SEPARATORS = re.compile(r"[,，、;；\s]+")

Field = Annotated[str, Form(max_length=100)]


def _refreshed(
    request: Request, db: Session, actor: Actor, ticket_id: int, said: str, **more: Any
) -> Response:
    """204: the page reloads its parts and says ``said``; or, when the user may no longer see
    the case, goes back to the inbox."""
    try:
        service.access_ticket(db, actor, ticket_id)
    except NotFound:
        return Response(status_code=204, headers={"HX-Redirect": "/inbox"})
    said = i18n.gettext(i18n.language_of(request), said)
    events = {"kefu-ticket-refresh": True, "kefu-toast": said, **more}
    return Response(status_code=204, headers={"HX-Trigger": json.dumps(events)})


def _invalid(field: str) -> KefuError:
    return KefuError("validation_error", status_code=422, details={"field": field})


def _id(value: str, field: str) -> int:
    value = value.strip().lstrip("#")
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= 2**62:
        raise _invalid(field)
    return int(value)


def _text(value: str, field: str) -> str:
    if "\x00" in value:  # PostgreSQL stores no NUL character
        raise _invalid(field)
    return value


# --- the composer ------------------------------------------------------------------------------


@router.post("/tickets/{ticket_id}/messages")
def send_message(
    request: Request,
    ticket_id: Id,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
    text: Annotated[str, Form(max_length=50_000)] = "",
    kind: Annotated[str, Form(max_length=10)] = "reply",
    channel: Annotated[str, Form(max_length=20)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
    norms_override_reason: Annotated[str, Form(max_length=500)] = "",
    script_id: Field = "",
    wechat_template: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """A reply to the customer (on the case's channel or another of theirs) or an internal
    note, with up to ``MAX_FILES`` files each within the API's attachment limit. A reply the
    norms checker refuses comes back as 422 ``norms_blocked``; the page shows its findings and
    the field ``norms_override_reason`` to send it all the same. ``script_id``: the script the
    composer inserted; a reply records its use, as sent or edited (an unknown one: 404, nothing
    is sent)."""
    if kind not in ("reply", "note"):
        raise _invalid("kind")
    if not _text(text, "text").strip():
        raise KefuError("empty_message", status_code=422, details={"field": "text"})
    if channel and channel not in {c.value for c in Channel}:
        raise _invalid("channel")
    uploads = [f for f in files or () if f.filename or f.size]  # an empty file field
    if len(uploads) > MAX_FILES:
        raise KefuError("too_many_attachments", status_code=422, limit=MAX_FILES)
    attachments = [
        AttachmentIn(
            f.filename or "",
            f.content_type or "application/octet-stream",
            base64.b64encode(f.file.read(settings.max_attachment_bytes + 1)).decode(),
        )
        for f in uploads
    ]
    ticket = service.access_ticket(db, actor, ticket_id, for_update=True)
    used = None
    if script_id.strip() and kind == "reply":
        used = script_uses.prepare_use(db, actor, ticket, _id(script_id, "script_id"))
    message = service.do_add_message(
        db,
        actor,
        ticket,
        text=text,
        internal=kind == "note",
        channel=channel or None,
        attachments=attachments,
        attachments_root=settings.attachments_dir,
        max_attachment_bytes=settings.max_attachment_bytes,
        norms_override_reason=_text(norms_override_reason, "norms_override_reason") or None,
        template=bool(wechat_template),
    )
    if used is not None:
        script_uses.record_use(db, actor, ticket, message, used)
    said = N_("备注已保存") if kind == "note" else N_("回复已发送")
    return _refreshed(request, db, actor, ticket_id, said, **{"kefu-composer-sent": message.id})


@router.post("/tickets/{ticket_id}/macros/{macro_id}")
def apply_macro(
    request: Request, ticket_id: Id, macro_id: Id, db: DB, actor: PageActor, settings: AppSettings
) -> Response:
    """A macro from the composer: its actions go through the ticket and case services (as the
    API's); its script, filled for the case, comes back for the composer (``script_id``,
    ``text``: empty when it has none)."""
    ticket = service.access_ticket(db, actor, ticket_id, for_update=True)
    macro = macros.access_macro(db, macro_id)
    applied = macros.do_apply_macro(db, actor, ticket, macro, cases.policy_of(settings),
                                    repeat_window=cases.intake_rules(settings).repeat_window)  # fmt: skip
    refreshed = _refreshed(request, db, actor, ticket_id, N_("已执行宏"))
    if "HX-Trigger" not in refreshed.headers:  # handed on: the page goes to the inbox
        return refreshed
    script = {"script_id": applied.script.id if applied.script else None, "text": applied.text}
    return JSONResponse(script, headers={"HX-Trigger": refreshed.headers["HX-Trigger"]})


@router.post("/tickets/{ticket_id}/outbox/{outbox_id}/retry")
def retry_delivery(
    request: Request, ticket_id: Id, outbox_id: Id, db: DB, actor: PageActor
) -> Response:
    """Send a dead or failed reply of this case again: the outbox's replay, an admin's."""
    ticket = service.access_ticket(db, actor, ticket_id)
    entry = replay.do_replay(db, actor, outbox_id)
    if entry.ticket_id != ticket.id:  # rolled back with the request
        raise NotFound("outbox_entry")
    delivery = {f"kefu-delivery-{entry.message_id}": True}
    return _refreshed(request, db, actor, ticket.id, N_("已重新排队发送"), **delivery)


# --- who has the case ------------------------------------------------------------------------


@router.post("/tickets/{ticket_id}/claim")
def claim(request: Request, ticket_id: Id, db: DB, actor: PageActor) -> Response:
    service.do_claim(db, actor, ticket_id)
    return _refreshed(request, db, actor, ticket_id, N_("已认领"))


@router.post("/tickets/{ticket_id}/assign")
def assign(
    request: Request, ticket_id: Id, db: DB, actor: PageActor, assignee_id: Field = ""
) -> Response:
    """To a person (``me`` for oneself), or back to the queue (empty)."""
    chosen = assignee_id.strip()
    who = actor.user_id if chosen == "me" else _id(chosen, "assignee_id") if chosen else None
    ticket = service.access_ticket(db, actor, ticket_id, for_update=True)
    service.do_assign(db, actor, ticket, assignee_id=who)
    said = N_("已退回队列") if who is None else N_("已分配")
    return _refreshed(request, db, actor, ticket_id, said)


@router.post("/tickets/{ticket_id}/transfer")
def transfer(
    request: Request,
    ticket_id: Id,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
    group_id: Field = "",
) -> Response:
    """To another group's queue: nobody of the new group has it yet."""
    changes = {"group_id": _id(group_id, "group_id"), "assignee_id": None}
    _update(db, actor, settings, ticket_id, changes)
    return _refreshed(request, db, actor, ticket_id, N_("已转组"))


# --- fields ------------------------------------------------------------------------------------


@router.post("/tickets/{ticket_id}/fields")
def change_fields(
    request: Request,
    ticket_id: Id,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
    priority: Field = "",
    category: Field = "",
    tags: Annotated[str, Form(max_length=1200)] = "",
) -> Response:
    """Priority, category and tags, as the API's PATCH (a priority set by hand says who set it)."""
    if priority not in {p.value for p in Priority}:
        raise _invalid("priority")
    if category and category not in {c.value for c in Category}:
        raise _invalid("category")
    names = list(dict.fromkeys(t for t in _TAG_SEPARATORS.split(_text(tags, "tags")) if t))
    if len(names) > MAX_TAGS or any(len(t) > MAX_TAG_CHARS for t in names):
        raise _invalid("tags")
    ticket = service.access_ticket(db, actor, ticket_id)
    changes: dict[str, Any] = {}
    if priority != ticket.priority:
        changes["priority"] = priority
    if (category or None) != ticket.category:
        changes["category"] = category or None
    if sorted(names) != sorted(t.name for t in ticket.tags):
        changes["tags"] = names
    if not changes:
        return _refreshed(request, db, actor, ticket_id, N_("没有改动"))
    _update(db, actor, settings, ticket_id, changes)
    return _refreshed(request, db, actor, ticket_id, N_("已保存"))


def _update(
    db: Session, actor: Actor, settings: Any, ticket_id: int, changes: dict[str, Any]
) -> None:
    ticket = service.access_ticket(db, actor, ticket_id, for_update=True)
    service.do_update_ticket(
        db,
        actor,
        ticket,
        changes,
        cases.policy_of(settings),
        repeat_window=cases.intake_rules(settings).repeat_window,
    )


# --- cases that belong together ----------------------------------------------------------------


@router.post("/tickets/{ticket_id}/merge")
def merge(
    request: Request, ticket_id: Id, db: DB, actor: PageActor, into_ticket_id: Field = ""
) -> Response:
    """This case is a duplicate: merged into the other, which the page then opens."""
    kept = case_links.do_merge(db, actor, ticket_id, _id(into_ticket_id, "into_ticket_id"))
    return Response(status_code=204, headers={"HX-Redirect": f"/tickets/{kept.id}"})


@router.post("/tickets/{ticket_id}/link")
def link(
    request: Request, ticket_id: Id, db: DB, actor: PageActor, other_ticket_id: Field = ""
) -> Response:
    ticket = service.access_ticket(db, actor, ticket_id)
    case_links.do_link(db, actor, ticket, _id(other_ticket_id, "other_ticket_id"))
    return _refreshed(request, db, actor, ticket_id, N_("已关联"))
