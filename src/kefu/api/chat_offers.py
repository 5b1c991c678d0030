"""/api/v1/chats/{ticket_id}/accept|decline: an agent answers the offer of a waiting web chat."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Id, Out
from kefu.db.base import utcnow
from kefu.services.webchat import offers as service

router = APIRouter(prefix="/chats", tags=["web chat"], responses=ERRORS)


class ChatPublic(Out):
    ticket_id: int
    assignee_id: int | None
    offered_to: int | None


def _public(ticket: object) -> ChatPublic:
    return ChatPublic(
        ticket_id=ticket.id,  # type: ignore[attr-defined]
        assignee_id=ticket.assignee_id,  # type: ignore[attr-defined]
        offered_to=ticket.chat_offer_user_id,  # type: ignore[attr-defined]
    )


@router.post("/{ticket_id}/accept", response_model=ChatPublic,
             summary="Take a waiting chat offered to you", **allow(*STAFF))  # fmt: skip
def accept(ticket_id: Id, db: DB, actor: CurrentActor) -> ChatPublic:
    return _public(service.do_accept(db, actor, ticket_id, utcnow()))


@router.post("/{ticket_id}/decline", response_model=ChatPublic,
             summary="Let a chat offered to you pass to the next agent", **allow(*STAFF))  # fmt: skip
def decline(ticket_id: Id, db: DB, actor: CurrentActor, settings: AppSettings) -> ChatPublic:
    return _public(service.do_decline(db, actor, ticket_id, utcnow(), service.rules_of(settings)))
