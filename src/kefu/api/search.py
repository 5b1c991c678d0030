"""/api/v1/search: tickets, messages and customers matching a query, ranked, with snippets."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Out
from kefu.services.search import service
from kefu.services.search.tokens import Snippet

router = APIRouter(prefix="/search", tags=["search"], responses=ERRORS)


class SnippetPublic(Out):
    text: str = Field(description="plain text: escape it before showing it")
    spans: list[tuple[int, int]] = Field(
        description="the matched parts of text, [start, end) character offsets, to mark"
    )

    @classmethod
    def of(cls, snippet: Snippet) -> SnippetPublic:
        return cls(text=snippet.text, spans=list(snippet.spans))


class MessageMatch(Out):
    id: int
    snippet: SnippetPublic


class SearchHit(Out):
    kind: Literal["ticket", "message", "customer"]
    id: int = Field(description="the ticket's, message's or customer's id")
    score: float = Field(description="higher is better; comparable within one answer only")
    ticket_id: int | None = Field(description="a ticket's own id, a message's ticket")
    title: SnippetPublic = Field(description="a ticket's subject, a customer's name")
    snippet: SnippetPublic | None = Field(
        description="the best matching text: a message, the subject, contact details"
    )
    messages: list[MessageMatch] = Field(description="a ticket hit: its best matching messages")
    matched_messages: int = Field(description="a ticket hit: how many of its messages match")

    @classmethod
    def of(cls, hit: service.Hit) -> SearchHit:
        return cls(
            kind=hit.kind,  # type: ignore[arg-type]  # one of the three kinds
            id=hit.id,
            score=round(hit.score, 6),
            ticket_id=hit.ticket_id,
            title=SnippetPublic.of(hit.title),
            snippet=SnippetPublic.of(hit.snippet) if hit.snippet else None,
            messages=[
                MessageMatch(id=m.id, snippet=SnippetPublic.of(m.snippet)) for m in hit.messages
            ],
            matched_messages=hit.matched_messages,
        )


class SearchPage(Out):
    items: list[SearchHit]
    next_cursor: str | None


@router.get("", response_model=SearchPage, summary="Search", **allow(*STAFF))
def search(
    db: DB,
    actor: CurrentActor,
    q: Annotated[
        str,
        Query(
            max_length=1000,
            description="words, phrases, order or phone numbers, e-mail addresses; simplified "
            "or traditional Chinese; every part must match (200 characters at most)",
        ),
    ],
    kind: Annotated[
        list[Literal["ticket", "message", "customer"]] | None,
        Query(description="what to find (repeatable); default: ticket and customer"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchPage:
    found = service.search(
        db, actor, q, kinds=kind or service.DEFAULT_KINDS, limit=limit, cursor=cursor
    )
    return SearchPage(items=[SearchHit.of(h) for h in found.hits], next_cursor=found.next_cursor)
