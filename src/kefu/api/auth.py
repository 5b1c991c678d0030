"""/api/v1/auth: password login to a session cookie (with CSRF token), logout, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from kefu.api.client_address import client_address
from kefu.api.deps import CSRF_COOKIE, DB, SESSION_COOKIE, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Email, In, Out
from kefu.api.users import UserPublic
from kefu.errors import KefuError, NotAuthenticated
from kefu.services import auth as service
from kefu.services import staff
from kefu.services.ratelimit import RateLimiter

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


class LoginBody(In):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=200)]


class LoginResult(Out):
    user: UserPublic
    csrf_token: str = Field(description="send back as X-CSRF-Token on every unsafe request")


def login_limiter(request: Request) -> RateLimiter:
    return request.app.state.login_limiter  # type: ignore[no-any-return]


@router.post("/login", response_model=LoginResult, summary="Log in with email and password")
def login(
    body: LoginBody,
    request: Request,
    response: Response,
    db: DB,
    settings: AppSettings,
    limiter: Annotated[RateLimiter, Depends(login_limiter)],
) -> LoginResult:
    client = client_address(request, settings.trusted_proxy_networks)
    if not limiter.hit(f"login:{client}") or not limiter.hit(f"login:{body.email.lower()}"):
        raise KefuError("rate_limited", status_code=429, retry_after=60)
    user = service.authenticate(db, body.email, body.password)
    cookie, row = service.do_login(
        db,
        user,
        days=settings.session_days,
        ip=client,
        user_agent=request.headers.get("user-agent", ""),
    )
    max_age = settings.session_days * 86400
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    response.set_cookie(
        CSRF_COOKIE,
        row.csrf_token,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=settings.cookie_secure,
    )
    return LoginResult(user=UserPublic.of(staff.get_user(db, user.id)), csrf_token=row.csrf_token)


@router.post("/logout", status_code=204, summary="End this browser session")
def logout(request: Request, response: Response, db: DB, actor: CurrentActor) -> Response:
    login = getattr(request.state, "login_session", None)
    if login is None:
        raise NotAuthenticated()  # a token is revoked under /tokens, not logged out
    service.do_logout(db, actor, login)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/me", response_model=UserPublic, summary="The logged-in user")
def me(db: DB, actor: CurrentActor) -> UserPublic:
    assert actor.user_id is not None
    return UserPublic.of(staff.get_user(db, actor.user_id))
