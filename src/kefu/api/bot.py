"""/api/v1/bot/measures: the answering bot's figures over a period (supervisors and admins)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from kefu.api.access import MANAGERS, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Out
from kefu.db.base import utcnow
from kefu.errors import KefuError
from kefu.services.bot import measures as service

router = APIRouter(tags=["bot"], responses=ERRORS)
DEFAULT_PERIOD = timedelta(days=7)


class ArticleFigures(Out):
    offered: int
    solved: int
    unsolved: int


class BotMeasuresPublic(Out):
    conversations: int
    solved_by_bot: int
    self_service_rate: float | None
    handed_off: int
    handoff_rate: float | None
    handoffs_by_reason: dict[str, int]
    articles: dict[str, ArticleFigures]


@router.get(
    "/bot/measures", response_model=BotMeasuresPublic,
    summary="The bot's conversations, self-service rate, hand-offs by reason and articles",
    **allow(*MANAGERS),
)  # fmt: skip
def bot_measures(
    db: DB,
    actor: CurrentActor,
    start: Annotated[AwareDatetime | None, Query(description="default: 7 days before end")] = None,
    end: Annotated[AwareDatetime | None, Query(description="default: now")] = None,
) -> dict[str, object]:
    end = end or utcnow()
    start = start or end - DEFAULT_PERIOD
    if start >= end:
        raise KefuError("validation_error", status_code=422, details={"field": "start"})
    return service.check_bot_measures(db, actor, start, end)
