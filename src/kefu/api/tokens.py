"""/api/v1/tokens: personal API tokens for integrations (the secret is shown once)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import Field

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.services.staff import auth as service
from kefu.services.staff import directory as staff

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=ERRORS)


class TokenPublic(Out):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="the secret; it is not shown again")


class TokenCreate(In):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    user_id: Id | None = Field(default=None, description="admins may create tokens for others")


@router.get(
    "", response_model=list[TokenPublic], summary="My tokens (admins: anyone's)", **allow(*STAFF)
)
def list_tokens(
    db: DB, actor: CurrentActor, user_id: Annotated[int | None, Query(ge=1, le=2**62)] = None
) -> list[TokenPublic]:
    return [TokenPublic.model_validate(t) for t in service.list_tokens(db, actor, user_id=user_id)]


@router.post(
    "", response_model=TokenCreated, status_code=201, summary="Create an API token", **allow(*STAFF)
)
def create_token(body: TokenCreate, db: DB, actor: CurrentActor) -> TokenCreated:
    assert actor.user_id is not None
    user = staff.get_user(db, body.user_id or actor.user_id)
    secret, token = service.do_create_token(db, actor, user, name=body.name)
    return TokenCreated(**TokenPublic.model_validate(token).model_dump(), token=secret)


@router.delete("/{token_id}", status_code=204, summary="Revoke a token", **allow(*STAFF))
def revoke_token(token_id: Id, db: DB, actor: CurrentActor) -> Response:
    service.do_revoke_token(db, actor, token_id)
    return Response(status_code=204)
