"""/api/v1/notifications: the signed-in staff member's notices (SLA, crises, approvals, feedback)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, Out
from kefu.services.staff import notifications as service

router = APIRouter(prefix="/notifications", tags=["notifications"], responses=ERRORS)


class NotificationPublic(Out):
    id: int
    kind: str
    body: str
    ticket_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Out):
    items: list[NotificationPublic]
    next_cursor: str | None
    unread: int


class MarkedAll(Out):
    marked: int


@router.get(
    "", response_model=NotificationPage, summary="My notices, newest first", **allow(*STAFF)
)
def list_notifications(
    db: DB,
    actor: CurrentActor,
    unread: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    rows, next_cursor, unread_count = service.list_mine(
        db, actor, unread=unread, cursor=cursor, limit=limit
    )
    return NotificationPage(
        items=[NotificationPublic.model_validate(r) for r in rows],
        next_cursor=next_cursor,
        unread=unread_count,
    )


@router.post(
    "/{notification_id}/read",
    response_model=NotificationPublic,
    summary="Mark one notice read",
    **allow(*STAFF),
)
def read_notification(notification_id: Id, db: DB, actor: CurrentActor) -> NotificationPublic:
    return NotificationPublic.model_validate(service.mark_read(db, actor, notification_id))


@router.post(
    "/read-all", response_model=MarkedAll, summary="Mark all my notices read", **allow(*STAFF)
)
def read_all(db: DB, actor: CurrentActor) -> MarkedAll:
    return MarkedAll(marked=service.mark_all_read(db, actor))
