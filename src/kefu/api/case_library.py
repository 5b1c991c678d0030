"""/api/v1/case-library: the case library (解决方案库) — archived complaints as anonymised entries,
listed, searched and read by every staff member; the past cases most like an open ticket
(``/tickets/{id}/similar``); an entry's knowledge-base draft for supervisors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from kefu.api.access import MANAGERS, STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, Out
from kefu.services.case_library import promote, queries
from kefu.services.case_library.queries import Found

router = APIRouter(tags=["case library"], responses=ERRORS)

Category = Annotated[str | None, Query(max_length=30)]


class CompensationPublic(Out):
    kind: str
    amount_yuan: str


class OutcomePublic(Out):
    first_time: bool = Field(description="resolved without being sent back or reopened")
    reopen_count: int
    rating: int | None = Field(description="the customer's rating 1-5, when there is one")


class EntryPublic(Out):
    id: int
    title: str
    problem: str
    category: str | None
    industry: str
    tags: list[str]
    root_cause: str
    solution: str
    compensation: CompensationPublic | None
    lesson: str
    outcome: OutcomePublic
    archived_at: datetime
    ticket_id: int | None = Field(
        description="the original ticket, only when the caller may open it"
    )


class SimilarPublic(EntryPublic):
    score: float = Field(description="text similarity in [0, 1], with the same-category bonus")
    same_category: bool


class EntryPage(Out):
    items: list[EntryPublic]
    total: int


class ArticleDraftPublic(Out):
    key: str | None = Field(None, description="The knowledge-base article made (promotion)")
    title: str
    body: str = Field(description="Markdown")
    category: str | None
    tags: list[str]


def _public(found: Found) -> EntryPublic:
    e = found.entry
    comp = (
        None
        if e.compensation_kind is None or e.compensation_amount is None
        else CompensationPublic(
            kind=e.compensation_kind, amount_yuan=f"{e.compensation_amount / 100:.2f}"
        )
    )
    return EntryPublic(
        id=e.id, title=e.title, problem=e.problem, category=e.category, industry=e.industry,
        tags=list(e.tags or []), root_cause=e.root_cause, solution=e.solution, compensation=comp,
        lesson=e.lesson, archived_at=e.archived_at, ticket_id=found.ticket_id,
        outcome=OutcomePublic(first_time=e.first_time, reopen_count=e.reopen_count,
                              rating=e.rating),
    )  # fmt: skip


@router.get(
    "/case-library", response_model=EntryPage, summary="The case library, newest or best match first",
    **allow(*STAFF),
)  # fmt: skip
def list_entries(
    db: DB,
    actor: CurrentActor,
    category: Category = None,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> EntryPage:
    found = queries.browse(db, actor, category=category or None, query=q, limit=limit,
                           offset=offset)  # fmt: skip
    return EntryPage(items=[_public(f) for f in found.items], total=found.total)


@router.get(
    "/case-library/{entry_id}", response_model=EntryPublic, summary="One case-library entry",
    **allow(*STAFF),
)  # fmt: skip
def get_entry(entry_id: Id, db: DB, actor: CurrentActor) -> EntryPublic:
    entry = queries.access_entry(db, actor, entry_id)
    return _public(queries.entry_view(db, actor, entry))


@router.get(
    "/case-library/{entry_id}/article-draft", response_model=ArticleDraftPublic,
    summary="The knowledge-base article draft the entry would make", **allow(*MANAGERS),
)  # fmt: skip
def article_draft(entry_id: Id, db: DB, actor: CurrentActor) -> ArticleDraftPublic:
    entry = queries.access_entry(db, actor, entry_id)
    draft = promote.promote_to_article(db, entry, actor=actor)
    return ArticleDraftPublic(key=None, title=draft.title, body=draft.body, category=draft.category,
                              tags=list(draft.tags))  # fmt: skip


@router.post(
    "/case-library/{entry_id}/promote", response_model=ArticleDraftPublic, status_code=201,
    summary="Make a knowledge-base article draft of the entry", **allow(*MANAGERS),
)  # fmt: skip
def promote_entry(entry_id: Id, db: DB, actor: CurrentActor) -> ArticleDraftPublic:
    entry = queries.access_entry(db, actor, entry_id)
    article = promote.do_promote(db, entry, actor=actor)
    return ArticleDraftPublic(key=article.key, title=article.title, body=article.body,
                              category=article.category, tags=list(article.tags))  # fmt: skip


@router.get(
    "/tickets/{ticket_id}/similar", response_model=list[SimilarPublic],
    summary="Past cases most like this one, best outcomes first", **allow(*STAFF),
)  # fmt: skip
def similar_cases(
    ticket_id: Id, db: DB, actor: CurrentActor, limit: Annotated[int, Query(ge=1, le=10)] = 3
) -> list[SimilarPublic]:
    return [
        SimilarPublic(
            **_public(f).model_dump(),
            score=f.match.score if f.match else 0.0,
            same_category=bool(f.match and f.match.same_category),
        )
        for f in queries.similar(db, actor, ticket_id, limit=limit)
    ]
