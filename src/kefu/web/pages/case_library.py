"""The case library in the workspace (解决方案库): the list (by category, searchable), an entry, the
"相似案例" panel beside a ticket's composer, and a supervisor's promotion of an entry to a
knowledge-base article draft.

Every staff member reads the anonymised entries; the link to an entry's original ticket shows
only for those who may open it (services/case_library/queries.py). Another group's ticket is a
404 for its panel, as everywhere (``access_ticket``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.case_library import promote, queries
from kefu.web.guard import PageActor, SupervisorActor
from kefu.web.labels import LABELS
from kefu.web.pages.scripts import INDUSTRY_NAMES
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
SIMILAR = 3


def _names() -> dict[str, Any]:
    return {"industry": INDUSTRY_NAMES, "outcome": LABELS["case_outcome"],
            "compensation": LABELS["compensation"]}  # fmt: skip


def _entry_context(found: queries.Found) -> dict[str, Any]:
    entry = found.entry
    return {
        "entry": entry,
        "ticket_id": found.ticket_id,
        "chips": queries.outcome_of(entry).chips,
        "compensation": promote.compensation_amount_text(entry),
        "match": found.match,
    }


@router.get("/cases/library")
def library_page(
    request: Request,
    db: DB,
    actor: PageActor,
    category: Annotated[str, Query(max_length=30)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=5000)] = 1,
) -> Response:
    found = queries.browse(db, actor, category=category or None, query=q.strip(),
                           limit=PER_PAGE, offset=(page_number - 1) * PER_PAGE)  # fmt: skip
    context = {
        "items": [_entry_context(f) for f in found.items],
        "total": found.total,
        "categories": queries.categories(db),
        "category": category,
        "q": q.strip(),
        "page_number": page_number,
        "pages": max(1, -(-found.total // PER_PAGE)),
        "names": _names(),
    }
    return page(request, "workspace/case_library/index.html", context)


def _entry_page(
    request: Request, db: DB, actor: Actor, entry_id: int, *, error: str = "", status: int = 200
) -> Response:
    entry = queries.access_entry(db, actor, entry_id)
    context = {**_entry_context(queries.entry_view(db, actor, entry)), "names": _names(),
               "may_promote": actor.sees_all_tickets, "error": error}  # fmt: skip
    return page(request, "workspace/case_library/entry.html", context, status=status)


@router.get("/cases/library/{entry_id}")
def entry_page(request: Request, entry_id: Id, db: DB, actor: PageActor) -> Response:
    return _entry_page(request, db, actor, entry_id)


@router.post("/cases/library/{entry_id}/promote")
def promote_entry(request: Request, entry_id: Id, db: DB, actor: SupervisorActor) -> Response:
    """Write the entry's draft into the knowledge base and open it in the editor."""
    entry = queries.access_entry(db, actor, entry_id)
    try:
        article = promote.do_promote(db, entry, actor=actor)
    except KefuError as refused:
        return _entry_page(request, db, actor, entry_id, error=refused.code,
                           status=refused.status_code)  # fmt: skip
    return RedirectResponse(f"/kb/a/{article.key}", status_code=303)


@router.get("/tickets/{ticket_id}/similar-cases")
def similar_cases(request: Request, ticket_id: Id, db: DB, actor: PageActor) -> Response:
    """The panel beside the composer: the past cases most like this one, best outcomes first."""
    found = queries.similar(db, actor, ticket_id, limit=SIMILAR)
    context = {"items": [_entry_context(f) for f in found], "names": _names()}
    return page(request, "workspace/case_library/_similar.html", context)
