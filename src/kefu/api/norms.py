"""/api/v1/norms: the composer's norms check of a draft, and agents' norm scores over time."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.db.base import utcnow
from kefu.domain.triage_labels import Emotion
from kefu.norms import Finding, ReplyContext, Report, Turn
from kefu.services.norms import review, scores

router = APIRouter(prefix="/norms", tags=["norms"], responses=ERRORS)

DraftText = Annotated[str, Field(min_length=1, max_length=5_000)]


class TurnIn(In):
    role: Literal["customer", "agent"]
    text: str = Field(max_length=5_000)


class CheckBody(In):
    text: DraftText
    ticket_id: Id | None = Field(
        default=None,
        description="the ticket the draft answers: its conversation, first reply and the "
        "customer's emotion are read from it (after the access check); else `context`",
    )
    context: list[TurnIn] = Field(default_factory=list, max_length=10)
    first_reply: bool = False
    closing: bool = Field(default=False, description="the reply ends or resolves the conversation")
    channel: str = Field(default="chat", max_length=20)
    customer_emotion: Emotion | None = None


class FindingPublic(Out):
    rule: str
    severity: Literal["error", "warning"]
    start: int = Field(description="span in the text as sent, [start, end) characters")
    end: int
    text: str = Field(description="plain text: escape it before showing it")
    explanation: str
    rewrite: str | None

    @classmethod
    def of(cls, finding: Finding) -> FindingPublic:
        return cls(**finding.to_json())


class CheckPublic(Out):
    findings: list[FindingPublic]
    score: int = Field(description="100 minus the weighted findings, floored at 0")
    blocked: bool = Field(description="an error finding: sending needs an override reason")

    @classmethod
    def of(cls, report: Report) -> CheckPublic:
        return cls(
            findings=[FindingPublic.of(f) for f in report.findings],
            score=report.score,
            blocked=report.blocked,
        )


@router.post("/check", response_model=CheckPublic, summary="Check a draft reply", **allow(*STAFF))
def check_draft(body: CheckBody, db: DB, actor: CurrentActor) -> CheckPublic:
    context = ReplyContext(
        turns=tuple(Turn(t.role, t.text) for t in body.context),
        first_reply=body.first_reply,
        closing=body.closing,
        channel=body.channel,
        customer_emotion=body.customer_emotion.value if body.customer_emotion else None,
    )
    report = review.check_draft(db, actor, body.text, ticket_id=body.ticket_id, context=context)
    return CheckPublic.of(report)


class PeriodPublic(Out):
    start: date = Field(description="the day, or the Monday of the ISO week (UTC)")
    replies: int
    average_score: float
    overrides: int = Field(description="replies sent over an error finding")
    findings: dict[str, int] = Field(description="replies breaking each rule")


class ScoresPublic(Out):
    agent_id: int
    by: Literal["day", "week"]
    periods: list[PeriodPublic]


@router.get(
    "/scores",
    response_model=ScoresPublic,
    summary="An agent's norm score over time",
    **allow(*STAFF),
)
def norm_scores(
    db: DB,
    actor: CurrentActor,
    agent_id: Annotated[
        Id | None, Query(description="default: yourself; others: supervisors")
    ] = None,
    by: Literal["day", "week"] = "day",
    since: date | None = None,
    until: date | None = None,
) -> ScoresPublic:
    until = until or utcnow().date()
    since = since or until - timedelta(days=29)
    periods = scores.norm_scores(db, actor, agent_id=agent_id, since=since, until=until, by=by)
    return ScoresPublic(
        agent_id=agent_id or actor.user_id or 0,
        by=by,
        periods=[
            PeriodPublic(
                start=p.start,
                replies=p.replies,
                average_score=p.average,
                overrides=p.overrides,
                findings=dict(p.findings),
            )
            for p in periods
        ],
    )
