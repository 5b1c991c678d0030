"""The knowledge-base panel beside the ticket page's composer (知识库搜索): a search prefilled
from the customer's latest message, the published articles found with a short excerpt, and
"insert as reply": the article's first paragraph, trimmed, and its portal link into the draft.

htmx fragments; another group's ticket is a 404, as everywhere (``access_ticket``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.api.deps import DB
from kefu.api.kb import search_and_log
from kefu.api.schemas import Id
from kefu.db.models import Message
from kefu.domain.tickets import Direction
from kefu.services.cases.tickets import access_ticket
from kefu.web import i18n
from kefu.web.guard import PageActor
from kefu.web.markdown import first_paragraph
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

RESULTS = 5
MAX_QUESTION = 200
ANSWER_CHARS = 160


def reply_text(request: Request, key: str, body: str, language: str) -> str:
    """What "insert as reply" puts into the draft: a short answer and the article's link."""
    link = str(request.base_url).rstrip("/") + f"/help/a/{key}"
    more = i18n.gettext(language, "详细说明：")
    return f"{first_paragraph(body, limit=ANSWER_CHARS)}\n{more}{link}"


def _results(
    request: Request, db: Session, background: BackgroundTasks, question: str
) -> dict[str, object]:
    question = " ".join(question.split())[:MAX_QUESTION]
    if not question:
        return {"question": "", "hits": [], "answered": None}
    found = search_and_log(request, db, background, question, source="agent", k=RESULTS)
    language = i18n.language_of(request)
    hits = [(a, first_paragraph(a.body, limit=70), reply_text(request, a.key, a.body, language))
            for a, _ in found.hits]  # fmt: skip
    return {"question": question, "hits": hits, "answered": found.answered}


@router.get("/tickets/{ticket_id}/kb-panel")
def kb_panel(
    request: Request, ticket_id: Id, db: DB, actor: PageActor, background: BackgroundTasks
) -> Response:
    """The panel: the search box prefilled from the customer's latest message, and its results."""
    ticket = access_ticket(db, actor, ticket_id)
    latest = db.scalar(
        select(Message.body_text)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc())
        .limit(1)
    )
    context = {"ticket": ticket, **_results(request, db, background, latest or "")}
    return page(request, "workspace/tickets/_kb_panel.html", context)


@router.get("/tickets/{ticket_id}/kb")
def kb_results(
    request: Request, ticket_id: Id, db: DB, actor: PageActor, background: BackgroundTasks,
    q: Annotated[str, Query(max_length=500)] = "",
) -> Response:  # fmt: skip
    ticket = access_ticket(db, actor, ticket_id)
    context = {"ticket": ticket, **_results(request, db, background, q)}
    return page(request, "workspace/tickets/_kb_results.html", context)
