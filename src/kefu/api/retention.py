"""/api/v1/retention: the retention periods per kind of personal data (services/retention);
the kinds, their defaults and reasons: domain/retention.py and docs/privacy.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from kefu.api.access import ADMINS, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, In, Out
from kefu.domain.retention import KIND_KEYS, MAX_DAYS
from kefu.errors import PermissionDenied
from kefu.services.retention import policy

router = APIRouter(tags=["retention"], responses=ERRORS)

Days = Annotated[int, Field(ge=0, le=MAX_DAYS, description="days kept; 0 keeps forever")]


class RetentionPublic(Out):
    """Days kept per kind of data; 0 keeps forever."""

    mail_raw: int
    inbound_payloads: int
    case_bodies: int
    survey_comments: int
    social_mentions: int
    webchat_visitors: int
    outbox: int
    login_sessions: int
    audit_events: int


class RetentionIn(In):
    """Only the kinds sent change; 0 keeps forever."""

    mail_raw: Days | None = None
    inbound_payloads: Days | None = None
    case_bodies: Days | None = None
    survey_comments: Days | None = None
    social_mentions: Days | None = None
    webchat_visitors: Days | None = None
    outbox: Days | None = None
    login_sessions: Days | None = None
    audit_events: Days | None = None


assert tuple(RetentionPublic.model_fields) == KIND_KEYS == tuple(RetentionIn.model_fields)  # noqa: S101


@router.get(
    "/retention",
    response_model=RetentionPublic,
    summary="The retention periods per kind of personal data (admin)",
    **allow(*ADMINS),
)
def get_retention(db: DB, actor: CurrentActor) -> RetentionPublic:
    if not actor.is_admin:
        raise PermissionDenied()
    return RetentionPublic(**policy.current(db).to_json())


@router.put(
    "/retention",
    response_model=RetentionPublic,
    summary="Change retention periods (admin; audited)",
    **allow(*ADMINS),
)
def put_retention(body: RetentionIn, db: DB, actor: CurrentActor) -> RetentionPublic:
    saved = policy.save(db, actor, body.model_dump(exclude_none=True))
    return RetentionPublic(**saved.to_json())
