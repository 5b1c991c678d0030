"""/api/v1/auth: password login to a session cookie (with CSRF token), logout, who am I."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import Field
from sqlalchemy.orm import Session

from kefu.api.access import ANYONE, STAFF, allow
from kefu.api.client_address import client_address
from kefu.api.cookies import clear_site_data, cookie_name
from kefu.api.deps import CSRF_COOKIE, DB, SESSION_COOKIE, AppSettings, CurrentActor, Limiter
from kefu.api.schemas import ERRORS, Email, In, Out
from kefu.api.users import Password, UserPublic
from kefu.db.base import utcnow
from kefu.db.models import LoginSession, User
from kefu.errors import KefuError, NotAuthenticated
from kefu.services.infra import security_log
from kefu.services.infra.ratelimit import RateLimiter
from kefu.services.staff import auth as service
from kefu.services.staff import directory as staff
from kefu.services.staff import pending_login, two_factor
from kefu.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


class LoginBody(In):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=200)]


class LoginResult(Out):
    user: UserPublic
    csrf_token: str = Field(description="send back as X-CSRF-Token on every unsafe request")
    two_factor_required: Literal[False] = False
    must_change_password: bool = Field(
        default=False,
        description="the password was set by someone else: until POST /auth/password changes "
        "it, everything else answers 403 `password_change_required`",
    )


class PendingLogin(Out):
    two_factor_required: Literal[True] = True
    pending: str = Field(
        description="the password was right: send this with a TOTP or recovery code to "
        f"POST /api/v1/auth/login/totp within {pending_login.PENDING_MINUTES} minutes"
    )


class CodeBody(In):
    pending: Annotated[str, Field(min_length=1, max_length=300)]
    code: Annotated[str, Field(min_length=6, max_length=20)]


class PasswordChange(In):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


@router.post(
    "/login",
    response_model=LoginResult | PendingLogin,
    summary="Log in with email and password",
    description="Opens a session, or, for an account with two-step verification, answers "
    "`two_factor_required` and a `pending` token for POST /auth/login/totp.",
    **allow(*ANYONE),
)
def login(
    body: LoginBody,
    request: Request,
    response: Response,
    db: DB,
    settings: AppSettings,
    limiter: Limiter,
) -> LoginResult | PendingLogin:
    user = check_password(request, db, settings, limiter, body.email, body.password)
    if two_factor.is_enabled(db, user.id):
        return PendingLogin(pending=pending_login.issue(settings.secret_key, user, utcnow()))
    cookie, row = open_session(request, db, settings, user)
    set_session_cookies(response, settings, cookie, row.csrf_token)
    return LoginResult(
        user=UserPublic.of(user),
        csrf_token=row.csrf_token,
        must_change_password=user.must_change_password,
    )


@router.post(
    "/login/totp",
    response_model=LoginResult,
    summary="The second step of a sign-in: a TOTP code (or a recovery code)",
    description="Limited like login; a code is accepted once.",
    **allow(*ANYONE),
)
def login_with_code(
    body: CodeBody,
    request: Request,
    response: Response,
    db: DB,
    settings: AppSettings,
    limiter: Limiter,
) -> LoginResult:
    user, kind = check_code(request, db, settings, limiter, body.pending, body.code)
    cookie, row = open_session(request, db, settings, user, second_factor=kind)
    set_session_cookies(response, settings, cookie, row.csrf_token)
    return LoginResult(
        user=UserPublic.of(user),
        csrf_token=row.csrf_token,
        must_change_password=user.must_change_password,
    )


def check_password(
    request: Request,
    db: Session,
    settings: Settings,
    limiter: RateLimiter,
    email: str,
    password: str,
) -> User:
    """The user whose password this is (limited per client address and per account). The
    API's login and the workspace's sign-in page."""
    client = client_address(request, settings.trusted_proxy_networks)
    try:
        limiter.require(f"login:{client}")
        # An account under attack from elsewhere stays open from the address its owner signed
        # in from before: the per-account limit counts only attempts from unfamiliar addresses.
        if not service.signed_in_from(db, email, client):
            limiter.require(f"login:{email.strip().lower()}")
    except KefuError:
        security_log.sign_in_refused(email=email, user_id=None, client=client,
                                     reason="rate_limited")  # fmt: skip
        raise
    try:
        return service.authenticate(db, email, password)
    except service.CredentialsRefused as refused:
        # Logged the same way for every reason: an unknown account costs what a known one does.
        security_log.sign_in_refused(email=email, user_id=None, client=client,
                                     reason=refused.reason)  # fmt: skip
        raise


def check_code(
    request: Request,
    db: Session,
    settings: Settings,
    limiter: RateLimiter,
    pending: str,
    code: str,
) -> tuple[User, str]:
    """The user of a pending sign-in whose second-step code is right, and the kind of code
    ("totp", "recovery"); codes are limited per
    client address and per account like passwords (the per-account count holds from any
    address: the password is already known there)."""
    client = client_address(request, settings.trusted_proxy_networks)
    user_id: int | None = None
    try:
        limiter.require(f"login:{client}")
        user_id = pending_login.user_id_of(settings.secret_key, pending, utcnow())
        limiter.require(f"totp:{user_id}")
        user = db.get(User, user_id)
        if user is None or not user.is_active or not pending_login.still_matches(pending, user):
            raise NotAuthenticated("sign_in_expired")
        return user, two_factor.check_code(db, user, code, secret_key=settings.secret_key)
    except KefuError as refused:
        reason = "wrong_code" if refused.code == "invalid_code" else refused.code
        security_log.sign_in_refused(email=None, user_id=user_id, client=client, reason=reason)
        raise


def open_session(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    *,
    second_factor: str | None = None,
) -> tuple[str, LoginSession]:
    """A new session of ``user``: the cookie value and the session's row."""
    return service.do_login(
        db,
        user,
        days=settings.session_days,
        ip=client_address(request, settings.trusted_proxy_networks),
        user_agent=request.headers.get("user-agent", ""),
        second_factor=second_factor,
        replacing=request.cookies.get(cookie_name(settings, SESSION_COOKIE)),
    )


def set_session_cookies(response: Response, settings: Settings, cookie: str, csrf: str) -> None:
    """The session cookie (HttpOnly) and the CSRF cookie a script reads, for a new sign-in."""
    max_age = settings.session_days * 86400
    response.set_cookie(
        cookie_name(settings, SESSION_COOKIE),
        cookie,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    response.set_cookie(
        cookie_name(settings, CSRF_COOKIE),
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=settings.secure_cookies,
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    """A session ended: its cookies go, and the browser is told to clear what it kept."""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(cookie_name(settings, name), secure=settings.secure_cookies)
    clear_site_data(response)


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
    limiter: Limiter,
) -> Response:
    assert actor.user_id is not None
    limiter.require(f"password:{actor.user_id}", staff=True)
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
