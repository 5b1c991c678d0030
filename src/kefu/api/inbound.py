"""POST /api/v1/inbound: one customer message from an integration (its Bearer token; staff tokens get 403)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, model_validator

from kefu.api.access import INTEGRATION, allow
from kefu.api.deps import IntegrationActor
from kefu.api.schemas import ERRORS, AttachmentUpload, Email, Id, In, LongText, Out
from kefu.db.base import utcnow
from kefu.domain.tickets import Channel
from kefu.errors import KefuError
from kefu.services.intake import inbound as service
from kefu.services.intake import integrations
from kefu.services.intake.attachments import AttachmentIn

router = APIRouter(tags=["inbound"], responses=ERRORS)

ExternalId = Annotated[str, Field(min_length=1, max_length=200)]
FieldKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class SenderBody(In):
    external_id: ExternalId
    name: Annotated[str, Field(max_length=200)] = ""
    email: Email | None = None
    phone: Annotated[str | None, Field(max_length=32, pattern=r"^\+?[0-9][0-9 -]{2,31}$")] = None


class InboundBody(In):
    channel: Channel = Channel.API
    external_id: ExternalId = Field(
        description="the message's id in the source system; redelivery-safe"
    )
    sender: SenderBody
    text: LongText = ""
    html: Annotated[str | None, Field(max_length=200_000)] = None
    subject: Annotated[str | None, Field(max_length=300)] = None
    ticket_id: Id | None = Field(
        default=None, description="append to this ticket of the same customer"
    )
    attachments: list[AttachmentUpload] = Field(default_factory=list, max_length=10)
    fields: dict[FieldKey, Any] = Field(
        default_factory=dict,
        max_length=100,
        description="custom field values for the ticket, by key (e.g. the order number: "
        '{"order_no": "SO2026120700001"}); checked like PATCH /tickets/{id} fields',
    )

    @model_validator(mode="after")
    def _has_content(self) -> InboundBody:
        if not self.text.strip() and not self.attachments and not (self.html and self.html.strip()):
            raise ValueError("a message needs text, html or an attachment")
        return self


class InboundAccepted(Out):
    ticket_id: int
    message_id: int
    customer_id: int
    duplicate: bool


@router.post(
    "/inbound",
    response_model=InboundAccepted,
    status_code=201,
    summary="Take one customer message (idempotent on channel + external_id)",
    responses={
        200: {
            "model": InboundAccepted,
            "description": "a redelivery by the same integration: the first delivery's ids",
        },
        409: {"description": "duplicate_delivery: another integration delivered it first"},
    },
    **allow(INTEGRATION),
)
async def receive_inbound(
    body: InboundBody, request: Request, response: Response, actor: IntegrationActor
) -> InboundAccepted:
    integrations.check_channel(actor, body.channel.value)
    raw = request.scope.get("state", {}).get("raw_body", b"").decode("utf-8", errors="replace")
    message = service.InboundMessage(
        channel=body.channel.value,
        external_id=body.external_id,
        sender=service.Sender(
            body.sender.external_id, body.sender.name, body.sender.email, body.sender.phone
        ),
        text=body.text,
        html=body.html,
        subject=body.subject,
        ticket_id=body.ticket_id,
        attachments=[
            AttachmentIn(a.filename, a.content_type, a.content_base64) for a in body.attachments
        ],
        fields=dict(body.fields),
    )
    outcome = await request.app.state.intake.submit(service.Delivery(actor, message, raw, utcnow()))
    if isinstance(outcome, KefuError):
        raise outcome
    if outcome.duplicate:
        response.status_code = 200
    return InboundAccepted(
        ticket_id=outcome.ticket_id,
        message_id=outcome.message_id,
        customer_id=outcome.customer_id,
        duplicate=outcome.duplicate,
    )
