"""/api/v1/outbox: messages on their way out, their dead letters, and sending one again (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from kefu.api.access import ADMINS, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, Out
from kefu.domain.delivery import DeliveryState
from kefu.services.outbound import entries as service
from kefu.services.outbound import replay

router = APIRouter(prefix="/outbox", tags=["outbox"], responses=ERRORS)


class OutboxEntryPublic(Out):
    id: int
    message_id: int | None
    ticket_id: int | None
    channel: str
    kind: str
    target: dict[str, Any] = Field(description="where it goes, as the channel's adapter needs it")
    idempotency_key: str = Field(description="what the receiver dedupes on; the same every attempt")
    state: str = Field(description="queued | sent | delivered | read | failed | dead")
    attempts: int
    next_attempt_at: datetime | None
    claimed_by: str | None = Field(description="the relay sending it right now, if any")
    claimed_until: datetime | None
    last_error: str | None
    external_ref: str | None = Field(description="the channel's own id for it")
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    dead_at: datetime | None


class OutboxPage(Out):
    items: list[OutboxEntryPublic]
    next_cursor: str | None


@router.get(
    "",
    response_model=OutboxPage,
    summary="Outbound messages, newest first; ?state=dead for the dead letters (admin)",
    **allow(*ADMINS),
)
def list_outbox(
    db: DB,
    actor: CurrentActor,
    state: DeliveryState | None = None,
    ticket_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OutboxPage:
    rows, next_cursor = service.list_entries(
        db, actor, state=state, ticket_id=ticket_id, cursor=cursor, limit=limit
    )
    return OutboxPage(
        items=[OutboxEntryPublic.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/{outbox_id}",
    response_model=OutboxEntryPublic,
    summary="One outbound message's delivery (admin)",
    **allow(*ADMINS),
)
def get_outbox_entry(outbox_id: Id, db: DB, actor: CurrentActor) -> OutboxEntryPublic:
    return OutboxEntryPublic.model_validate(service.access_entry(db, actor, outbox_id))


@router.post(
    "/{outbox_id}/retry",
    response_model=OutboxEntryPublic,
    summary="Send a dead or failed message again now (admin)",
    responses={409: {"description": "not_retryable: it is not failed or dead"}},
    **allow(*ADMINS),
)
def retry_outbox_entry(outbox_id: Id, db: DB, actor: CurrentActor) -> OutboxEntryPublic:
    return OutboxEntryPublic.model_validate(replay.do_replay(db, actor, outbox_id))
