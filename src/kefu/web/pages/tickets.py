"""The ticket page (工单详情, ``/tickets/{id}``): the case's header with its chips and SLA clocks,
the timeline of messages and events, the composer, the actions; and the parts of it that reload
themselves when the case changes (htmx fragments, named ``_*.html``).

Another group's ticket is a 404 page, as in the API (``access_ticket`` in the service). The
changes the page makes are in ``ticket_actions.py``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.db.base import utcnow
from kefu.domain.masking import mask_numbers, sees_full_numbers
from kefu.domain.tickets import Priority
from kefu.domain.triage_labels import Category
from kefu.services.actors import Actor
from kefu.services.cases import reads, ticket_page
from kefu.services.cases.tickets import access_ticket
from kefu.services.customers import personal_data
from kefu.services.scripts.macros import list_macros
from kefu.services.wechat import window as wechat_window
from kefu.web import i18n, timeline_rows
from kefu.web.guard import PageActor
from kefu.web.pages import ticket_actions, ticket_assist, ticket_fields, ticket_kb
from kefu.web.pages.scripts import TYPE_NAMES
from kefu.web.render import page

router = APIRouter(include_in_schema=False)
router.include_router(ticket_actions.router)  # what the page changes, registered with it
router.include_router(ticket_fields.router)  # its custom fields card and order panel
router.include_router(ticket_assist.router)  # suggested replies and the script browser
router.include_router(ticket_kb.router)  # the knowledge-base panel

From = Annotated[str, Query(alias="from", max_length=500)]


def queue_of(origin: str) -> str:
    """The queue for j / k: ``?from=`` names it (``mine``, ``unassigned``, ``groups``) or
    carries the inbox's own query (``view=unassigned&…``); the user's own tickets otherwise."""
    value = parse_qs(origin).get("view", [origin])[0] if "=" in origin else origin
    return value if value in ticket_page.QUEUES else "mine"


def _shared(actor: Actor, origin: str = "") -> dict[str, Any]:
    return {
        "from_query": urlencode({"from": origin}) if origin else "",
        "priorities": [p.value for p in Priority],
        "categories": [c.value for c in Category],
        "is_admin": actor.is_admin,
    }


@router.get("/tickets/{ticket_id}")
def ticket_view(
    request: Request, ticket_id: Id, db: DB, actor: PageActor, origin: From = ""
) -> Response:
    view = ticket_page.load(db, actor, ticket_id)
    context = _summary_context(db, actor, view.summary, origin)
    context["timeline_rows"] = _rows(request, view.timeline)
    context.update(_numbers(actor, context["timeline_rows"], shown=False))
    context["macros"] = list_macros(db)
    context["script_types"] = TYPE_NAMES
    context["composer_rules"] = ticket_assist.composer_rules(i18n.language_of(request))
    context["wechat_note"] = wechat_window.composer_note(
        db, view.ticket, view.summary.reply_channels, utcnow()
    )
    return page(request, "workspace/tickets/page.html", context)


@router.post("/tickets/{ticket_id}/seen", status_code=204)
def ticket_seen(ticket_id: Id, db: DB, actor: PageActor) -> Response:
    """The page is open: its customer messages up to now are read (the inbox's unread marks)."""
    ticket = access_ticket(db, actor, ticket_id)
    assert actor.user_id is not None
    reads.mark_seen(db, actor.user_id, ticket.id, utcnow())
    return Response(status_code=204)


@router.get("/tickets/{ticket_id}/head")
def ticket_head(
    request: Request, ticket_id: Id, db: DB, actor: PageActor, origin: From = ""
) -> Response:
    summary = ticket_page.summarize(db, actor, ticket_id)
    context = _summary_context(db, actor, summary, origin)
    return page(request, "workspace/tickets/_head.html", context)


@router.get("/tickets/{ticket_id}/side")
def ticket_side(request: Request, ticket_id: Id, db: DB, actor: PageActor) -> Response:
    """The actions and links of the case, as they stand now."""
    summary = ticket_page.summarize(db, actor, ticket_id)
    context = {**_shared(actor), "view": summary, "ticket": summary.ticket}
    return page(request, "workspace/tickets/_actions.html", context)


def _summary_context(
    db: Session, actor: Actor, summary: ticket_page.TicketSummary, origin: str
) -> dict[str, Any]:
    before, after = ticket_page.neighbours(db, actor, summary.ticket, queue_of(origin))
    context = {**_shared(actor, origin), "view": summary, "ticket": summary.ticket}
    context.update(previous_id=before, next_id=after)
    context["staff_names"] = {u.id: u.name for u in summary.assignees}
    return context


@router.get("/tickets/{ticket_id}/timeline")
def ticket_timeline(request: Request, ticket_id: Id, db: DB, actor: PageActor) -> Response:
    return _timeline(request, db, actor, ticket_id, full=False)


@router.post("/tickets/{ticket_id}/timeline/full")
def ticket_timeline_full(request: Request, ticket_id: Id, db: DB, actor: PageActor) -> Response:
    """An agent shows the customer's numbers the messages hold, for the case: the timeline in
    full, audited as ``page:ticket:{id}:full`` (a POST: it writes the audit event, with the
    write lock taken at its start); the next live refresh masks them again."""
    return _timeline(request, db, actor, ticket_id, full=True)


def _timeline(
    request: Request, db: Session, actor: Actor, ticket_id: int, *, full: bool
) -> Response:
    ticket = access_ticket(db, actor, ticket_id)
    timeline = ticket_page.load_timeline(db, actor, ticket)
    rows = _rows(request, timeline)
    shown = full and personal_data.reads_full_numbers(
        db, actor, ticket.customer, asked=True, what=f"page:ticket:{ticket.id}",
        audit_role_reads=False,
    )  # fmt: skip
    context = {**_shared(actor), "ticket": ticket, "timeline_rows": rows}
    context.update(_numbers(actor, rows, shown=shown))
    return page(request, "workspace/tickets/_timeline.html", context)


def _numbers(actor: Actor, rows: list[Any], *, shown: bool) -> dict[str, bool]:
    """``full_numbers``: the messages' numbers shown in full; ``numbers_masked``: some are
    masked for this reader (the timeline then offers to show them)."""
    full = shown or sees_full_numbers(actor.role)
    masked = not full and any(
        getattr(r, "message", False) and mask_numbers(r.body) != r.body for r in rows
    )
    return {"full_numbers": full, "numbers_masked": masked}


def _rows(request: Request, timeline: ticket_page.Timeline) -> list[Any]:
    translate = i18n.translations(i18n.language_of(request)).gettext
    return timeline_rows.rows(timeline, translate)


@router.get("/tickets/{ticket_id}/messages/{message_id}/delivery")
def message_delivery(
    request: Request, ticket_id: Id, message_id: Id, db: DB, actor: PageActor
) -> Response:
    """One reply's delivery state, reloaded when ``delivery.changed`` says it moved."""
    ticket = access_ticket(db, actor, ticket_id)
    message, retry_id = ticket_page.delivery_of(db, actor, ticket, message_id)
    context = {"ticket": ticket, "message": message, "retry_id": retry_id}
    return page(request, "workspace/tickets/_delivery.html", context)
