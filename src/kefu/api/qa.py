"""/api/v1/qa: the quality review (质检) — the reviewers' queue, a review, a supervisor's
judgement, an agent's dispute, the agreement of the automatic verdicts per criterion, an agent's
quality, and the scorecard (services/qa/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import Field

from kefu.api.access import ADMINS, MANAGERS, STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.db.models import QaReview
from kefu.services.analytics import quality
from kefu.services.qa import reviewing, scorecards

router = APIRouter(prefix="/qa", tags=["quality review"], responses=ERRORS)


class ReviewPublic(Out):
    id: int
    ticket_id: int
    agent_id: int | None
    group_id: int | None
    scorecard_version: int
    total: float | None
    failed_critical: list[str]
    results: list[dict[str, Any]]
    risk: int
    status: str
    resolved_at: datetime | None
    created_at: datetime


def _public(review: QaReview) -> ReviewPublic:
    return ReviewPublic.model_validate(review)


class JudgementIn(In):
    verdicts: dict[str, str] = Field(
        default_factory=dict,
        description="criterion → pass | fail | na, for the criteria the reviewer corrects; the "
        "others are confirmed as they stand",
    )
    comment: str = Field(default="", max_length=1000)


class DisputeIn(In):
    criterion: str | None = Field(default=None, max_length=30)
    comment: str = Field(min_length=1, max_length=1000)


class DisputePublic(Out):
    id: int
    review_id: int
    criterion: str | None
    comment: str
    open: bool
    created_at: datetime


class AgreementPublic(Out):
    criterion: str
    pairs: int
    agreement: float | None
    kappa: float | None
    trusted: bool


class AgentQualityPublic(Out):
    agent_id: int
    reviews: int
    average: float | None
    failed_critical: int
    missed: dict[str, int]


@router.get("/queue", response_model=list[ReviewPublic],
            summary="Reviews waiting for a supervisor: disputed first, then the riskiest",
            **allow(*MANAGERS))  # fmt: skip
def queue(db: DB, actor: CurrentActor, limit: int = Query(50, ge=1, le=200)) -> list[ReviewPublic]:
    return [_public(r) for r in reviewing.review_queue(db, actor, limit=limit)]


@router.get("/reviews/{review_id}", response_model=ReviewPublic,
            summary="A review (supervisors any, an agent their own)", **allow(*STAFF))  # fmt: skip
def get_review(review_id: Id, db: DB, actor: CurrentActor) -> ReviewPublic:
    return _public(reviewing.load_review(db, actor, review_id))


@router.post("/reviews/{review_id}/judgement", response_model=ReviewPublic,
             summary="Confirm or correct a review's verdicts with a comment (supervisors)",
             **allow(*MANAGERS))  # fmt: skip
def judge(review_id: Id, body: JudgementIn, db: DB, actor: CurrentActor) -> ReviewPublic:
    review = reviewing.load_review(db, actor, review_id)
    return _public(reviewing.do_judge(db, actor, review, body.verdicts, body.comment))


@router.post("/reviews/{review_id}/disputes", response_model=DisputePublic, status_code=201,
             summary="Dispute one's own review, or one criterion of it (the reviewed agent)",
             **allow(*STAFF))  # fmt: skip
def dispute(review_id: Id, body: DisputeIn, db: DB, actor: CurrentActor) -> DisputePublic:
    review = reviewing.load_review(db, actor, review_id)
    row = reviewing.do_dispute(db, actor, review, body.criterion, body.comment)
    return DisputePublic.model_validate(row)


@router.get("/agreement", response_model=list[AgreementPublic],
            summary="Per criterion, how often supervisors kept the automatic verdict",
            **allow(*MANAGERS))  # fmt: skip
def agreement(db: DB, actor: CurrentActor, since: datetime | None = None) -> list[AgreementPublic]:
    figures = reviewing.agreement_by_criterion(db, actor, since=since)
    return [AgreementPublic(criterion=name, pairs=a.pairs, agreement=a.agreement, kappa=a.kappa,
                            trusted=a.trusted) for name, a in figures.items()]  # fmt: skip


@router.get("/agents/{agent_id}", response_model=AgentQualityPublic,
            summary="An agent's reviews of the cases resolved in [start, end): average, critical "
            "failures, criteria most often missed "
            "(supervisors, or the agent)", **allow(*STAFF))  # fmt: skip
def agent_quality(
    agent_id: Id, db: DB, actor: CurrentActor, start: datetime, end: datetime
) -> AgentQualityPublic:
    got = quality.for_agent(db, actor, agent_id, start=start, end=end)
    return AgentQualityPublic(agent_id=agent_id, reviews=got.reviews, average=got.average,
                              failed_critical=got.critical, missed=dict(got.missed))  # fmt: skip


@router.get("/scorecard", summary="The scorecard in force and its version (admin)",
            **allow(*ADMINS))  # fmt: skip
def get_scorecard(db: DB, actor: CurrentActor) -> dict[str, Any]:
    scorecards.require_admin(actor)
    card = scorecards.current_scorecard(db)
    return {"version": card.version, "criteria": card.to_json()}


@router.put("/scorecard", summary="Save a new version of the scorecard (admin; audited)",
            **allow(*ADMINS))  # fmt: skip
def put_scorecard(body: dict[str, Any], db: DB, actor: CurrentActor) -> dict[str, Any]:
    card = scorecards.save(db, actor, body.get("criteria"))
    return {"version": card.version, "criteria": card.to_json()}
