"""POST /api/v1/receipts: an integration says a reply kefu posted to it was delivered or read."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import Field, model_validator

from kefu.api.access import INTEGRATION, allow
from kefu.api.deps import DB, IntegrationActor
from kefu.api.schemas import ERRORS, In, Out
from kefu.domain.delivery import DeliveryState
from kefu.services.outbound import receipts as service

router = APIRouter(tags=["receipts"], responses=ERRORS)


class ReceiptBody(In):
    idempotency_key: Annotated[str | None, Field(min_length=1, max_length=100)] = Field(
        default=None, description="the Idempotency-Key of the callback"
    )
    external_ref: Annotated[str | None, Field(min_length=1, max_length=200)] = Field(
        default=None, description="your id for it, as your answer to the callback gave it"
    )
    state: Literal["delivered", "read"]

    @model_validator(mode="after")
    def _names_one(self) -> ReceiptBody:
        if (self.idempotency_key is None) == (self.external_ref is None):
            raise ValueError("give either idempotency_key or external_ref")
        return self


class ReceiptAccepted(Out):
    outbox_id: int
    message_id: int | None
    ticket_id: int | None
    state: str = Field(description="the state now: a receipt never moves a message back")


@router.post(
    "/receipts",
    response_model=ReceiptAccepted,
    summary="A delivery or read receipt for a reply kefu posted to your callback",
    **allow(INTEGRATION),
)
def post_receipt(body: ReceiptBody, db: DB, actor: IntegrationActor) -> ReceiptAccepted:
    entry = service.do_integration_receipt(
        db,
        actor,
        idempotency_key=body.idempotency_key,
        external_ref=body.external_ref,
        state=DeliveryState(body.state),
    )
    return ReceiptAccepted(
        outbox_id=entry.id,
        message_id=entry.message_id,
        ticket_id=entry.ticket_id,
        state=entry.state,
    )
