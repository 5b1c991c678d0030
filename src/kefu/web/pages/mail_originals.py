"""``/tickets/{id}/messages/{mid}/original``: "显示原文" of a customer's mail — its whole text,
or with ``?raw=1`` the raw message to download. Only for staff who can see the ticket."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.services.mail.originals import original_of
from kefu.web.guard import PageActor

router = APIRouter(include_in_schema=False)


@router.get("/tickets/{ticket_id}/messages/{message_id}/original")
def mail_original(
    ticket_id: Id, message_id: Id, db: DB, actor: PageActor, raw: bool = False
) -> Response:
    original = original_of(db, actor, ticket_id, message_id)
    if raw:
        name = quote(f"mail-{message_id}.eml")
        return Response(
            original.raw,
            media_type="message/rfc822",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
        )
    return PlainTextResponse(f"{original.subject}\n\n{original.full_text}")
