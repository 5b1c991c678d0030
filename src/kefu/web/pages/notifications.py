"""The bell: my notices (SLA warnings and breaches, crises, approvals asked of me, customers'
follow-up answers), the unread count the top bar shows live, and marking them read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from kefu.api.deps import DB
from kefu.db.base import utcnow
from kefu.services.cases.tickets import access_ticket
from kefu.services.social.alerts import NOTICE_KIND as SOCIAL_ALERT
from kefu.services.staff import notifications as service
from kefu.web.guard import PageActor
from kefu.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/notifications")
def notifications_page(
    request: Request, db: DB, actor: PageActor, unread: bool = False, cursor: str | None = None
) -> Response:
    rows, next_cursor, unread_count = service.list_mine(
        db, actor, unread=unread, cursor=cursor, limit=50
    )
    context = {
        "notices": rows,
        "next_cursor": next_cursor,
        "unread_count": unread_count,
        "only_unread": unread,
    }
    return page(request, "workspace/notifications.html", context)


@router.get("/notifications/count")
def unread_count(db: DB, actor: PageActor) -> Response:
    """The bell's badge: the number of unread notices, empty when there are none."""
    _, _, count = service.list_mine(db, actor, unread=True, cursor=None, limit=1)
    text = "" if count == 0 else ("99+" if count > 99 else str(count))
    return HTMLResponse(text, headers={"Cache-Control": "no-store"})


@router.post("/notifications/{notification_id}/read")
def mark_read(notification_id: int, db: DB, actor: PageActor) -> Response:
    notice = service.mark_read(db, actor, notification_id)
    target = f"/tickets/{notice.ticket_id}" if notice.ticket_id else "/notifications"
    if notice.kind == SOCIAL_ALERT:  # a social listening alert: its history
        target = "/listening#alerts"
    return RedirectResponse(target, status_code=303)


@router.post("/notifications/read-all")
def mark_all_read(db: DB, actor: PageActor) -> Response:
    service.mark_all_read(db, actor)
    return RedirectResponse("/notifications", status_code=303)


@router.get("/notifications/chat-offer/{ticket_id}")
def chat_offer(ticket_id: int, db: DB, actor: PageActor) -> Response:
    """Whether this chat is being offered to me now: the page asks when a ticket's offer changed
    (the event names the field, not the agent), to ring and show a desktop notice."""
    ticket = access_ticket(db, actor, ticket_id)
    live = ticket.chat_offer_expires_at is None or ticket.chat_offer_expires_at > utcnow()
    mine = ticket.chat_offer_user_id == actor.user_id and live
    return JSONResponse({"mine": mine, "subject": ticket.subject if mine else ""})
