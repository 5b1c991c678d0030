"""``/kb``: the editors' pages of the knowledge base (知识库) — the list with search and filters,
the editor (Markdown with a server-rendered preview, tags, synonyms, category, status, the
version history with restore), import of .md files or a .zip, export as a .zip, and
``/kb/insights`` (知识库成效).

Supervisors and admins only (403 page for others). Forms carry the session's CSRF token; the
services check permissions and audit every change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from kefu.api.deps import DB
from kefu.api.kb import ArticleCreate, ArticleUpdate
from kefu.db.base import utcnow
from kefu.db.models import KbArticle
from kefu.domain.bot import HANDOFF_REASONS_ZH
from kefu.errors import KefuError
from kefu.services.kb import articles as kb
from kefu.services.kb import files, measures
from kefu.services.kb.articles import ArticleFilter
from kefu.web import i18n
from kefu.web.guard import SupervisorActor
from kefu.web.labels import N_
from kefu.web.markdown import render_markdown
from kefu.web.pages.admin.forms import Errors, Posted, attempt, text, validate, words
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

STATUS_NAMES = {"draft": N_("草稿"), "published": N_("已发布"), "archived": N_("已归档")}
PERIODS = {"7": 7, "30": 30, "90": 90}
FIELDS = ("title", "body", "category", "tags", "synonyms", "note")


@router.get("/kb")
def kb_list(request: Request, db: DB, actor: SupervisorActor) -> Response:
    params = request.query_params
    status = params.get("status", "")
    category = params.get("category", "")
    filters = ArticleFilter(
        status if status in kb.STATUSES else None,
        category if category in (*kb.CATEGORIES, "none") else None,
        params.get("q", "").strip()[:100],
    )
    context = {
        "articles": kb.list_articles(db, actor, filters),
        "filters": filters,
        "counts": kb.counts_by_status(db),
        "statuses": STATUS_NAMES,
        "categories": kb.CATEGORIES,
        "done": params.get("done", ""),
    }
    return page(request, "workspace/kb/index.html", context)


def _values(article: KbArticle | None) -> dict[str, str]:
    if article is None:
        return {"title": "", "body": "", "category": "", "tags": "", "synonyms": "", "note": ""}
    return {"title": article.title, "body": article.body, "category": article.category or "",
            "tags": "、".join(article.tags), "synonyms": "\n".join(article.synonyms), "note": ""}  # fmt: skip


def _posted(form: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """The form's values as typed, and as the API's input models read them."""
    values = {name: text(form, name) for name in FIELDS}
    data: dict[str, Any] = {
        "title": values["title"], "body": values["body"], "category": values["category"] or None,
        "tags": words(values["tags"]),
        "synonyms": [s.strip() for s in values["synonyms"].splitlines() if s.strip()],
        "note": values["note"],
    }  # fmt: skip
    return values, data


def _edit_page(
    request: Request, db: Session, article: KbArticle | None, values: dict[str, str],
    errors: Errors | None = None, status: int = 200,
) -> Response:  # fmt: skip
    context = {
        "article": article,
        "values": values,
        "errors": errors or {},
        "preview": render_markdown(values["body"]),
        "versions": kb.versions(db, article) if article else [],
        "statuses": STATUS_NAMES,
        "categories": kb.CATEGORIES,
        "saved": request.query_params.get("saved", ""),
    }
    return page(request, "workspace/kb/edit.html", context, status=status)


@router.get("/kb/new")
def new_article(request: Request, db: DB, actor: SupervisorActor) -> Response:
    return _edit_page(request, db, None, _values(None))


@router.post("/kb/new")
def create_article(request: Request, db: DB, actor: SupervisorActor, form: Posted) -> Response:
    language = i18n.language_of(request)
    values, data = _posted(form)
    data["status"] = "published" if text(form, "publish") else "draft"
    body, errors = validate(ArticleCreate, data, language)
    if body is not None:
        made, errors = attempt(
            db, lambda: kb.do_create_article(db, actor, **body.model_dump()), language, values
        )
        if made is not None:
            return RedirectResponse(f"/kb/a/{made.key}?saved=1", 303)
    return _edit_page(request, db, None, values, errors, status=422)


@router.get("/kb/a/{key}")
def article_page(key: str, request: Request, db: DB, actor: SupervisorActor) -> Response:
    article = kb.access_article(db, actor, key)
    return _edit_page(request, db, article, _values(article))


@router.post("/kb/a/{key}")
def save_article(
    key: str, request: Request, db: DB, actor: SupervisorActor, form: Posted
) -> Response:
    language = i18n.language_of(request)
    article = kb.access_article(db, actor, key)
    values, data = _posted(form)
    body, errors = validate(ArticleUpdate, data, language)
    if body is not None:
        changes = body.model_dump(exclude={"note"})
        done, errors = attempt(
            db, lambda: kb.do_update_article(db, actor, article, changes, note=body.note),
            language, values,
        )  # fmt: skip
        if done is not None:
            return RedirectResponse(f"/kb/a/{article.key}?saved=1", 303)
    return _edit_page(request, db, article, values, errors, status=422)


@router.post("/kb/a/{key}/status")
def set_status(
    key: str, request: Request, db: DB, actor: SupervisorActor, form: Posted
) -> Response:
    article = kb.access_article(db, actor, key)
    status = text(form, "status")
    if status not in kb.STATUSES:
        raise KefuError("validation_error", status_code=422, details={"field": "status"})
    kb.do_set_status(db, actor, article, status)
    return RedirectResponse(f"/kb/a/{article.key}?saved={status}", 303)


@router.post("/kb/a/{key}/restore")
def restore(key: str, request: Request, db: DB, actor: SupervisorActor, form: Posted) -> Response:
    article = kb.access_article(db, actor, key)
    number = text(form, "version")
    if not number.isdigit() or not 1 <= int(number) <= 1_000_000:
        raise KefuError("validation_error", status_code=422, details={"field": "version"})
    kb.do_restore_version(db, actor, article, int(number))
    return RedirectResponse(f"/kb/a/{article.key}?saved=restored", 303)


@router.post("/kb/preview")
def preview(request: Request, actor: SupervisorActor, form: Posted) -> Response:
    """The editor's preview (htmx): the Markdown as the portal will show it."""
    body = text(form, "body")[:50_000]
    return page(request, "workspace/kb/_preview.html", {"preview": render_markdown(body)})


@router.post("/kb/import")
def import_articles(request: Request, db: DB, actor: SupervisorActor, form: Posted) -> Response:
    """Several .md files, or .zip files of them: all imported, or none and every problem shown."""
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    found = files.files_of_uploads((f.filename or "", f.file) for f in uploads)
    try:
        report = files.do_import(db, actor, found, note="import")
    except KefuError as e:
        if e.code != "invalid_kb_import":
            raise
        language = i18n.language_of(request)
        context = {"problems": (e.details or {}).get("problems", []),
                   "message": e.message(language)}  # fmt: skip
        return page(request, "workspace/kb/import_failed.html", context, status=422)
    done = f"imported-{report.created}-{report.updated}-{report.unchanged}"
    return RedirectResponse(f"/kb?done={done}", 303)


@router.get("/kb/export.zip")
def export_zip(db: DB, actor: SupervisorActor) -> Response:
    return Response(files.export_zip(db, actor), media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="kefu-kb.zip"'})  # fmt: skip


@router.get("/kb/insights")
def insights(request: Request, db: DB, actor: SupervisorActor) -> Response:
    days = PERIODS.get(request.query_params.get("days", ""), 30)
    now = utcnow()
    period = measures.Period(now - timedelta(days=days), now)
    context = {
        "found": measures.insights(db, period),
        "days": days,
        "periods": PERIODS,
        "handoff_names": {r.value: name for r, name in HANDOFF_REASONS_ZH.items()},
    }
    return page(request, "workspace/kb/insights.html", context)
