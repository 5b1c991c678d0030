"""POST /api/v1/contact-bindings: an integration (the company's own systems, its token) tells kefu
that a phone number or e-mail address is bound to one of a customer's channel accounts — the
mobile bound to a WeChat follower in its member system, say. Such a contact is proven
(domain/customer_joins.py ``Proof.BOUND``): kept as the customer's verified identity and joined
with the profiles proven to hold it too (services/customers/joins.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field, model_validator
from sqlalchemy import select

from kefu.api.access import INTEGRATION, allow
from kefu.api.deps import DB, IntegrationActor
from kefu.api.schemas import ERRORS, Email, In, Out
from kefu.db.models import Identity
from kefu.domain.customer_joins import ContactKind, Proof, normalize
from kefu.errors import KefuError, NotFound
from kefu.services.customers import joins
from kefu.services.intake import integrations

router = APIRouter(tags=["customers"], responses=ERRORS)


class BindingBody(In):
    channel: Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[a-z_]+$")] = Field(
        description="the channel of the account the contact is bound to (e.g. wechat)"
    )
    external_id: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="that account's id on the channel (e.g. the WeChat openid)"
    )
    phone: Annotated[str | None, Field(max_length=32, pattern=r"^\+?[0-9][0-9 -]{2,31}$")] = None
    email: Email | None = None

    @model_validator(mode="after")
    def _has_contact(self) -> BindingBody:
        if not (self.phone or self.email):
            raise ValueError("a binding needs a phone or an email")
        return self


class BindingAccepted(Out):
    customer_id: int = Field(description="the profile the account belongs to after any join")
    joined: list[int] = Field(description="the merges the proven contact made")
    suggested: list[int] = Field(description="the join suggestions it made for agents")


@router.post(
    "/contact-bindings",
    response_model=BindingAccepted,
    summary="Tell kefu a phone or e-mail is bound to a customer's channel account (proven)",
    **allow(INTEGRATION),
)
def bind_contact(body: BindingBody, db: DB, actor: IntegrationActor) -> BindingAccepted:
    integrations.check_channel(actor, body.channel)
    identity = db.scalar(
        select(Identity).where(
            Identity.channel == body.channel, Identity.external_id == body.external_id
        )
    )
    if identity is None:
        raise NotFound("identity")
    joined: list[int] = []
    suggested: list[int] = []
    for kind, value in ((ContactKind.PHONE, body.phone), (ContactKind.EMAIL, body.email)):
        if value and normalize(kind, value) is None:
            raise KefuError(f"invalid_{kind.value}", status_code=422, details={"field": kind.value})
    for kind, value in ((ContactKind.PHONE, body.phone), (ContactKind.EMAIL, body.email)):
        if value:
            outcome = joins.record_verified_contact(
                db, identity.customer_id, kind, value, Proof.BOUND, actor=actor
            )
            joined += outcome.joined
            suggested += outcome.suggested
            db.refresh(identity)
    return BindingAccepted(customer_id=identity.customer_id, joined=joined, suggested=suggested)
