"""/api/v1/auth/password-reset: a reset link by e-mail, and the new password with its token.

Asking answers 202 with the same body for every address, known or not, active or not."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from kefu.api.access import ANYONE, allow
from kefu.api.client_address import client_address
from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import ERRORS, Email, In, Out
from kefu.api.users import Password
from kefu.errors import KefuError
from kefu.services.infra.ratelimit import RateLimiter
from kefu.services.staff import password_reset as service
from kefu.settings import Settings

router = APIRouter(prefix="/auth/password-reset", tags=["auth"], responses=ERRORS)


class ResetRequest(In):
    email: Email


class ResetAsked(Out):
    status: Literal["sent"] = Field(
        default="sent", description="the same for every address: a mail went if it is a user's"
    )


class ResetConfirm(In):
    token: Annotated[str, Field(min_length=20, max_length=100)]
    new_password: Password


def reset_limiter(request: Request) -> RateLimiter:
    return request.app.state.reset_limiter  # type: ignore[no-any-return]


Limiter = Annotated[RateLimiter, Depends(reset_limiter)]


@router.post(
    "",
    status_code=202,
    response_model=ResetAsked,
    summary="Mail me a password-reset link",
    description="Limited per address and per client (KEFU_PASSWORD_RESETS_PER_HOUR).",
    **allow(*ANYONE),
)
def ask(
    body: ResetRequest, request: Request, db: DB, settings: AppSettings, limiter: Limiter
) -> ResetAsked:
    ask_for_reset(request, db, settings, limiter, body.email)
    return ResetAsked()


def ask_for_reset(
    request: Request, db: DB, settings: Settings, limiter: RateLimiter, email: str
) -> None:
    """The API's request and the page's: limited per client and per address, then the mail."""
    client = client_address(request, settings.trusted_proxy_networks)
    if not limiter.hit(f"reset:{client}") or not limiter.hit(f"reset:{email.strip().lower()}"):
        raise KefuError("rate_limited", status_code=429, retry_after=3600)
    service.do_request_reset(db, email, public_url=settings.public_url)


@router.post(
    "/confirm",
    status_code=204,
    summary="Set a new password with a reset link's token; every session and token ends",
    **allow(*ANYONE),
)
def confirm(body: ResetConfirm, db: DB) -> Response:
    service.do_reset_password(db, body.token, body.new_password)
    return Response(status_code=204)
