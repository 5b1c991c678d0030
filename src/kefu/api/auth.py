"""/api/v1/auth: password login to a session cookie (with CSRF token), logout, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field
from sqlalchemy.orm import Session

from kefu.api.access import ANYONE, STAFF, allow
from kefu.api.client_address import client_address
from kefu.api.deps import CSRF_COOKIE, DB, SESSION_COOKIE, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Email, In, Out
from kefu.api.users import Password, UserPublic
from kefu.db.models import LoginSession
from kefu.errors import KefuError
from kefu.services.infra.ratelimit import RateLimiter
from kefu.services.staff import auth as service
from kefu.services.staff import directory as staff
from kefu.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


class LoginBody(In):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=200)]


class LoginResult(Out):
    user: UserPublic
    csrf_token: str = Field(description="send back as X-CSRF-Token on every unsafe request")


class PasswordChange(In):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


def login_limiter(request: Request) -> RateLimiter:
    return request.app.state.login_limiter  # type: ignore[no-any-return]


@router.post(
    "/login", response_model=LoginResult, summary="Log in with email and password", **allow(*ANYONE)
)
def login(
    body: LoginBody,
    request: Request,
    response: Response,
    db: DB,
    settings: AppSettings,
    limiter: Annotated[RateLimiter, Depends(login_limiter)],
) -> LoginResult:
    cookie, row = sign_in(request, db, settings, limiter, body.email, body.password)
    set_session_cookies(response, settings, cookie, row.csrf_token)
    return LoginResult(
        user=UserPublic.of(staff.get_user(db, row.user_id)), csrf_token=row.csrf_token
    )


def sign_in(
    request: Request,
    db: Session,
    settings: Settings,
    limiter: RateLimiter,
    email: str,
    password: str,
) -> tuple[str, LoginSession]:
    """Check a password (limited per client address and per account) and open a session: the
    cookie value and the session's row. The API's login and the workspace's sign-in page."""
    client = client_address(request, settings.trusted_proxy_networks)
    if not limiter.hit(f"login:{client}"):
        raise KefuError("rate_limited", status_code=429, retry_after=60)
    # An account under attack from elsewhere stays open from the address its owner signed in
    # from before: the per-account limit counts only attempts from unfamiliar addresses.
    usual = service.signed_in_from(db, email, client)
    if not usual and not limiter.hit(f"login:{email.strip().lower()}"):
        raise KefuError("rate_limited", status_code=429, retry_after=60)
    user = service.authenticate(db, email, password)
    return service.do_login(
        db,
        user,
        days=settings.session_days,
        ip=client,
        user_agent=request.headers.get("user-agent", ""),
    )


def set_session_cookies(response: Response, settings: Settings, cookie: str, csrf: str) -> None:
    """The session cookie (HttpOnly) and the CSRF cookie a script reads, for a new sign-in."""
    max_age = settings.session_days * 86400
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=settings.secure_cookies,
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, secure=settings.secure_cookies)
    response.delete_cookie(CSRF_COOKIE, secure=settings.secure_cookies)


@router.post("/logout", status_code=204, summary="End this browser session", **allow(*STAFF))
def logout(
    request: Request, response: Response, db: DB, actor: CurrentActor, settings: AppSettings
) -> Response:
    login = getattr(request.state, "login_session", None)
    if login is None:
        raise KefuError("not_a_session", status_code=400)  # a token is revoked, not logged out
    service.do_logout(db, actor, login)
    response.status_code = 204
    clear_session_cookies(response, settings)
    return response


@router.post(
    "/logout-everywhere",
    status_code=204,
    summary="End every browser session of mine, this one included (API tokens stay)",
    **allow(*STAFF),
)
def logout_everywhere(
    request: Request, response: Response, db: DB, actor: CurrentActor, settings: AppSettings
) -> Response:
    if actor.user_id is None:
        raise KefuError("not_a_session", status_code=400)
    service.do_sign_out_everywhere(db, actor, staff.get_user(db, actor.user_id))
    response.status_code = 204
    clear_session_cookies(response, settings)
    return response


@router.post(
    "/password",
    status_code=204,
    summary="Change my password; my other sessions and tokens end",
    description="The session or token this request comes with stays signed in; every other "
    "login session and API token of mine is revoked. Limited like login.",
    **allow(*STAFF),
)
def change_password(
    body: PasswordChange,
    request: Request,
    db: DB,
    actor: CurrentActor,
    limiter: Annotated[RateLimiter, Depends(login_limiter)],
) -> Response:
    assert actor.user_id is not None
    if not limiter.hit(f"password:{actor.user_id}", staff=True):
        raise KefuError("rate_limited", status_code=429, retry_after=60)
    login = getattr(request.state, "login_session", None)
    service.do_change_own_password(
        db,
        actor,
        staff.get_user(db, actor.user_id),
        current_password=body.current_password,
        new_password=body.new_password,
        keep_session_id=login.id if login is not None else None,
        keep_token_digest=getattr(request.state, "token_digest", None),
    )
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic, summary="The logged-in user", **allow(*STAFF))
def me(db: DB, actor: CurrentActor) -> UserPublic:
    assert actor.user_id is not None
    return UserPublic.of(staff.get_user(db, actor.user_id))
