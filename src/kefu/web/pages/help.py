"""``/help``: the self-service portal (帮助中心) — public, no sign-in. A search box with results
as you type (htmx), the categories with their articles, each article rendered from Markdown and
sanitised, 「这篇文章解决了您的问题吗？」 with an optional comment, and the web chat widget for
"no good answer". Published articles only: any other key is 404.

Simplified Chinese first; ``?lang=en`` (or the workspace's language switch) remembers English in
the language cookie. Searches and votes are rate-limited per address like the public API; votes
are accepted only from kefu's own pages (the Origin check of the workspace's forms).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.api.deps import DB
from kefu.api.kb import kb_limits, search_and_log, visitor_address
from kefu.db.models import KbArticle, WebchatChannel
from kefu.errors import KefuError, NotFound
from kefu.services.kb import articles as kb
from kefu.services.kb import feedback
from kefu.web import i18n
from kefu.web.guard import check_origin
from kefu.web.markdown import first_paragraph, render_markdown
from kefu.web.pages.admin.forms import Posted, text
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

RESULTS = 6
MAX_QUESTION = 200


def chat_channel_key(request: Request, db: Session) -> str | None:
    """The web chat channel the portal opens: the configured one, else the first enabled."""
    wanted = request.app.state.settings.portal_chat_channel
    query = select(WebchatChannel.key).where(WebchatChannel.enabled.is_(True))
    query = (
        query.where(WebchatChannel.key == wanted) if wanted else query.order_by(WebchatChannel.id)
    )
    return db.scalar(query.limit(1))


def _language_redirect(request: Request) -> Response | None:
    """``?lang=en`` / ``?lang=zh-CN``: remembered in the language cookie, then the clean URL."""
    wanted = request.query_params.get("lang")
    if wanted is None:
        return None
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    target = request.url.path + (f"?{query}" if query else "")
    answer = RedirectResponse(target, 303)
    answer.set_cookie(i18n.LANGUAGE_COOKIE, i18n.normal_language(wanted), max_age=365 * 86400,
                      samesite="lax")  # fmt: skip
    return answer


def _context(request: Request, db: Session, **extra: object) -> dict[str, object]:
    return {"chat_channel": chat_channel_key(request, db), "categories_all": kb.CATEGORIES, **extra}


def _search(
    request: Request, db: Session, background: BackgroundTasks, question: str
) -> dict[str, object]:
    question = question.strip()[:MAX_QUESTION]
    if not question:
        return {"question": "", "hits": [], "answered": None}
    try:
        kb_limits(request).search(visitor_address(request))
    except KefuError:  # too many searches from this address: say so in the results
        return {"question": question, "hits": [], "answered": None, "limited": True}
    found = search_and_log(request, db, background, question, source="portal", k=RESULTS)
    hits = [(a, first_paragraph(a.body, limit=90)) for a, _ in found.hits]
    return {"question": question, "hits": hits if found.answered else hits[:3],
            "answered": found.answered}  # fmt: skip


@router.get("/help")
def help_home(
    request: Request, db: DB, background: BackgroundTasks,
    q: Annotated[str, Query(max_length=500)] = "",
) -> Response:  # fmt: skip
    redirect = _language_redirect(request)
    if redirect is not None:
        return redirect
    by_category: dict[str | None, list[KbArticle]] = defaultdict(list)
    for article in kb.published_articles(db):
        by_category[article.category].append(article)
    sections = [(c, by_category[c]) for c in (*kb.CATEGORIES, None) if by_category.get(c)]
    context = _context(request, db, sections=sections, **_search(request, db, background, q))
    return page(request, "help/home.html", context)


@router.get("/help/search")
def help_search(
    request: Request, db: DB, background: BackgroundTasks,
    q: Annotated[str, Query(max_length=500)] = "",
) -> Response:  # fmt: skip
    """The results as you type (an htmx fragment)."""
    return page(
        request, "help/_results.html", _context(request, db, **_search(request, db, background, q))
    )


@router.get("/help/a/{key}")
def help_article(key: str, request: Request, db: DB) -> Response:
    redirect = _language_redirect(request)
    if redirect is not None:
        return redirect
    try:
        article = kb.published_article(db, key)
    except NotFound:
        return page(request, "help/missing.html", _context(request, db), status=404)
    same = kb.published_articles(db, category=article.category) if article.category else []
    related = [a for a in same if a.id != article.id][:5]
    context = _context(request, db, article=article, body=render_markdown(article.body),
                       related=related)  # fmt: skip
    return page(request, "help/article.html", context)


@router.post("/help/a/{key}/feedback")
def help_vote(key: str, request: Request, db: DB, form: Posted) -> Response:
    check_origin(request)
    kb_limits(request).vote(visitor_address(request))
    article = kb.published_article(db, key)
    helpful = text(form, "helpful")
    if helpful not in ("yes", "no"):
        raise KefuError("validation_error", status_code=422, details={"field": "helpful"})
    row = feedback.do_vote(db, article, helpful=helpful == "yes", source="portal")
    token = feedback.feedback_token(request.app.state.settings.secret_key, row.id)
    context = {"article": article, "vote": row, "token": token, "commented": False}
    return page(request, "help/_feedback_done.html", context | _context(request, db))


@router.post("/help/a/{key}/comment")
def help_comment(key: str, request: Request, db: DB, form: Posted) -> Response:
    check_origin(request)
    kb_limits(request).vote(visitor_address(request))
    article = kb.published_article(db, key)
    number = text(form, "id")
    comment = text(form, "comment").strip()
    if not number.isdigit() or not comment or len(comment) > feedback.MAX_COMMENT_CHARS:
        raise KefuError("validation_error", status_code=422, details={"field": "comment"})
    row = feedback.do_comment(db, article, feedback_id=int(number), token=text(form, "token")[:64],
                              comment=comment, secret=request.app.state.settings.secret_key)  # fmt: skip
    context = {"article": article, "vote": row, "token": "", "commented": True}  # nosec: empty or a flag
    return page(request, "help/_feedback_done.html", context | _context(request, db))
