"""/api/v1/tickets/{id}/suggestions: the best composed and filled replies for a case (话术推荐)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, Out
from kefu.api.scripts import PlaceholderPublic
from kefu.db.models import User
from kefu.services.cases.tickets import access_ticket
from kefu.services.scripts.suggest import suggest

router = APIRouter(prefix="/tickets", tags=["scripts"], responses=ERRORS)


class SuggestionPublic(Out):
    script_id: int = Field(description="send the reply with this script_id to record its use")
    version: int
    title: str
    scenario: str
    opener_id: int | None
    closing_id: int | None
    text: str
    unfilled: list[PlaceholderPublic]
    score: float


@router.get(
    "/{ticket_id}/suggestions", response_model=list[SuggestionPublic],
    summary="Suggested replies for the case's latest customer message", **allow(*STAFF),
)  # fmt: skip
def ticket_suggestions(
    ticket_id: Id, db: DB, actor: CurrentActor, limit: Annotated[int, Query(ge=1, le=10)] = 3
) -> list[SuggestionPublic]:
    ticket = access_ticket(db, actor, ticket_id)
    agent = db.get(User, actor.user_id) if actor.user_id else None
    return [
        SuggestionPublic(
            **{**vars(s), "unfilled": [PlaceholderPublic.model_validate(p) for p in s.unfilled]}
        )
        for s in suggest(db, ticket, limit, agent=agent)
    ]
