"""/api/v1/auth/password-reset: a reset link by e-mail, and the new password with its token.

Asking answers 202 with the same body for every address, known or not, active or not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from pydantic import Field
from sqlalchemy.orm import Session

from kefu.api.access import ANYONE, allow
from kefu.api.client_address import client_address
from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import ERRORS, Email, In, Out
from kefu.api.users import Password
from kefu.services.infra.ratelimit import RateLimiter
from kefu.services.staff import password_reset as service
from kefu.settings import Settings

log = logging.getLogger(__name__)
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
    description="Limited per address and per client (KEFU_PASSWORD_RESETS_PER_HOUR). The mail is "
    "looked up and queued after the answer is sent, so the answer takes as long for any address.",
    **allow(*ANYONE),
)
def ask(
    body: ResetRequest,
    request: Request,
    background: BackgroundTasks,
    settings: AppSettings,
    limiter: Limiter,
) -> ResetAsked:
    ask_for_reset(request, background, settings, limiter, body.email)
    return ResetAsked()


def ask_for_reset(
    request: Request,
    background: BackgroundTasks,
    settings: Settings,
    limiter: RateLimiter,
    email: str,
) -> None:
    """The API's request and the page's: limited per client and per address; the user looked
    up, the token written and the mail queued after the answer went out (``mail_reset_link``):
    the answer's time does not depend on the address."""
    client = client_address(request, settings.trusted_proxy_networks)
    limiter.require(f"reset:{client}", f"reset:{email.strip().lower()}")  # 429, retry in an hour
    factory = request.app.state.session_factories.write
    background.add_task(mail_reset_link, factory, email, public_url=settings.public_url)


def mail_reset_link(factory: Callable[[], Session], email: str, *, public_url: str) -> None:
    """One transaction of its own: the token and the mail, if ``email`` is an active user's."""
    try:
        with factory() as session:
            service.do_request_reset(session, email, public_url=public_url)
            session.commit()
    except Exception:
        # Nobody waits for this answer: the failure is logged, the person may ask again.
        log.exception("password reset: the link could not be queued")


@router.post(
    "/confirm",
    status_code=204,
    summary="Set a new password with a reset link's token; every session and token ends",
    **allow(*ANYONE),
)
def confirm(body: ResetConfirm, db: DB) -> Response:
    service.do_reset_password(db, body.token, body.new_password)
    return Response(status_code=204)
