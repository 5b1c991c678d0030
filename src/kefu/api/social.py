"""/api/v1/social: social listening (舆情) for supervisors and admins — the mentions with their
analysis, the alert history, a mention made a case, an alert acknowledged. Posts come in by
webhook (``social.post`` / ``social.comment``) or a polled feed, not through this router."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from kefu.api.access import MANAGERS, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.db.base import utcnow
from kefu.services.social import alerts, cases, listening

router = APIRouter(prefix="/social", tags=["social listening"], responses=ERRORS)


class MentionPublic(Out):
    id: int
    platform: str
    external_id: str
    kind: str
    parent_external_id: str | None
    url: str | None
    author_handle: str
    author_name: str
    text: str
    posted_at: datetime
    received_at: datetime
    sentiment: str
    emotion: str
    category: str
    intent: str
    risks: list[str]
    priority: str
    negative: bool
    customer_id: int | None
    ticket_id: int | None
    source: str


class MentionPage(Out):
    items: list[MentionPublic]
    next_before: int | None = Field(description="pass as ?before= for the next, older page")


class AlertPublic(Out):
    id: int
    kind: str
    topic: str | None
    window_start: datetime
    window_end: datetime
    count: int
    negative_count: int
    negative_share: float
    baseline_mean: float
    baseline_spread: float
    baseline_negative_share: float
    reasons: list[str]
    risks: list[str]
    mention_ids: list[int]
    created_at: datetime
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    note: str | None


class CaseMade(Out):
    ticket_id: int


class Acknowledgement(In):
    note: Annotated[str, Field(max_length=2000)] = ""


@router.get(
    "/mentions", response_model=MentionPage, summary="Mentions, newest first", **allow(*MANAGERS)
)
def list_mentions(
    db: DB,
    actor: CurrentActor,
    platform: Literal["weibo", "douyin", "xiaohongshu", "other"] | None = None,
    negative: bool | None = None,
    topic: Annotated[str | None, Query(max_length=30)] = None,
    before: Id | None = None,
) -> MentionPage:
    alerts.require_listener(actor)
    filters = listening.Filters(platform, negative, topic, before)
    rows = listening.latest(db, filters)
    page = rows[: listening.PAGE_SIZE]
    more = len(rows) > listening.PAGE_SIZE
    return MentionPage(
        items=[MentionPublic.model_validate(m) for m in page],
        next_before=page[-1].id if more and page else None,
    )


@router.get(
    "/alerts", response_model=list[AlertPublic], summary="The alert history", **allow(*MANAGERS)
)
def list_alerts(db: DB, actor: CurrentActor) -> list[AlertPublic]:
    return [AlertPublic.model_validate(a) for a in alerts.list_alerts(db, actor)]


@router.post(
    "/mentions/{mention_id}/case",
    response_model=CaseMade,
    summary="Make a case of a mention (转为工单; again: the same case)",
    **allow(*MANAGERS),
)
def make_case(mention_id: Id, db: DB, actor: CurrentActor, settings: AppSettings) -> CaseMade:
    mention = cases.access_mention(db, actor, mention_id)
    ticket = cases.do_make_case(db, actor, mention, settings=settings, now=utcnow())
    return CaseMade(ticket_id=ticket.id)


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertPublic,
    summary="Acknowledge an alert with what was done",
    **allow(*MANAGERS),
)
def acknowledge(alert_id: Id, body: Acknowledgement, db: DB, actor: CurrentActor) -> AlertPublic:
    alert = alerts.access_alert(db, actor, alert_id)
    return AlertPublic.model_validate(alerts.do_acknowledge(db, actor, alert, note=body.note))
