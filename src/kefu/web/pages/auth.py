"""Signing in and out, changing one's password, and the language switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.api.auth import (
    check_code,
    check_password,
    clear_session_cookies,
    open_session,
    set_session_cookies,
)
from kefu.api.cookies import clear_cookie, cookie_name
from kefu.api.deps import DB, SESSION_COOKIE, AppSettings, Limiter
from kefu.api.schemas import Id
from kefu.api.users import Password
from kefu.db.base import utcnow
from kefu.db.models import User
from kefu.demo.loader import DEMO_PASSWORD, DEMO_USERS, demo_exists
from kefu.domain.chat_offers import AgentStatus
from kefu.errors import KefuError, NotAuthenticated, render_message
from kefu.services.staff import agent_status, auth, pending_login, sessions, two_factor
from kefu.services.staff import directory as staff
from kefu.settings import Settings
from kefu.web import i18n
from kefu.web.error_pages import CHANGE_FORM_PAGE
from kefu.web.guard import (
    PageActor,
    PageUser,
    check_signed_out_form,
    safe_next,
    signed_out_form_page,
)
from kefu.web.pages.two_factor import account_page
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

# Before a session exists, the sign-in form is protected by a token in a cookie of its own
# that the form repeats (a page of another site can neither read nor set it).
SIGN_IN_COOKIE = "kefu_signin"
_password = TypeAdapter(Password)


@dataclass(frozen=True)
class SignInStep:
    """A posted step of the sign-in: checked to come from kefu's own sign-in page; where to go
    after it, and the page's language."""

    token: str
    target: str
    language: str


def sign_in_step(  # nosec: empty or a flag
    request: Request,
    sign_in_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> SignInStep:
    check_signed_out_form(request, sign_in_token, SIGN_IN_COOKIE)
    return SignInStep(sign_in_token, safe_next(next), i18n.language_of(request))


Step = Annotated[SignInStep, Depends(sign_in_step)]


def _demo_logins(db: Session) -> list[dict[str, str]]:
    """The demo's people by role, on the sign-in page of a demo database only."""
    if not demo_exists(db):
        return []
    active = set(db.scalars(select(User.email).where(User.is_active.is_(True))))
    return [
        {"email": email, "name": name, "role": role}
        for email, name, role, _ in DEMO_USERS
        if email in active
    ]


def _sign_in_page(
    request: Request,
    db: Session,
    *,
    next_path: str,
    email: str = "",
    error: str = "",
    notice: str = "",
    done: str = "",
    status: int = 200,
) -> Response:
    context = {
        "next": next_path,
        "email": email,
        "error": error,
        "notice": notice,
        "done": done,
        "demo_logins": _demo_logins(db),
        "demo_password": DEMO_PASSWORD,
    }
    return signed_out_form_page(
        request, "workspace/login.html", context, cookie=SIGN_IN_COOKIE, field="sign_in_token",
        status=status,
    )  # fmt: skip


@router.get("/")
def home(request: Request, db: DB, settings: AppSettings) -> Response:
    """The workspace for someone signed in, else the sign-in page."""
    cookie = request.cookies.get(cookie_name(settings, SESSION_COOKIE))
    if cookie:
        try:
            auth.resolve_session(db, cookie, idle_minutes=settings.session_idle_minutes)
            return RedirectResponse("/inbox", status_code=303)
        except NotAuthenticated:
            pass
    return RedirectResponse("/login", status_code=303)


@router.get("/login")
def sign_in_page(
    request: Request,
    db: DB,
    settings: AppSettings,
    next: str | None = None,
    expired: str = "",
    reset: str = "",
) -> Response:
    cookie = request.cookies.get(cookie_name(settings, SESSION_COOKIE))
    if cookie:
        try:
            auth.resolve_session(db, cookie, idle_minutes=settings.session_idle_minutes)
            return RedirectResponse(safe_next(next), status_code=303)
        except NotAuthenticated:
            pass  # an ended session: sign in again
    notice = render_message("session_expired", i18n.language_of(request)) if expired else ""
    done = "reset" if reset else ""
    return _sign_in_page(request, db, next_path=safe_next(next), notice=notice, done=done)


@router.post("/login")
def sign_in_form(  # nosec: empty or a flag
    request: Request,
    db: DB,
    settings: AppSettings,
    limiter: Limiter,
    step: Step,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    target, language = step.target, step.language
    try:
        user = check_password(request, db, settings, limiter, email.strip(), password)
    except KefuError as e:
        if e.status_code == 429:
            raise
        shown = e.code if e.code == "temporary_password_expired" else "invalid_credentials"
        message = render_message(shown, language)
        return _sign_in_page(request, db, next_path=target, email=email, error=message, status=401)
    if two_factor.is_enabled(db, user.id):
        pending = pending_login.issue(settings.secret_key, user, utcnow())
        return _code_page(request, pending=pending, next_path=target, token=step.token)
    return _signed_in(request, db, settings, user, target)


def _signed_in(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    target: str,
    *,
    second_factor: str | None = None,
) -> Response:
    cookie, row = open_session(request, db, settings, user, second_factor=second_factor)
    if user.must_change_password:
        target = CHANGE_FORM_PAGE  # nothing else opens before the password is their own
    response = RedirectResponse(target, status_code=303)
    set_session_cookies(response, settings, cookie, row.csrf_token)
    clear_cookie(response, settings, SIGN_IN_COOKIE)
    return response


def _code_page(
    request: Request,
    *,
    pending: str,
    next_path: str,
    token: str,
    error: str = "",
    status: int = 200,
) -> Response:
    """The sign-in's second step: the code of the authenticator app (or a recovery code)."""
    context = {"pending": pending, "next": next_path, "sign_in_token": token, "error": error}
    return page(request, "workspace/login_code.html", context, status=status)


@router.post("/login/code")
def sign_in_code(  # nosec: empty or a flag
    request: Request,
    db: DB,
    settings: AppSettings,
    limiter: Limiter,
    step: Step,
    pending: Annotated[str, Form(max_length=300)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    target, language = step.target, step.language
    try:
        user, kind = check_code(request, db, settings, limiter, pending, code)
    except KefuError as e:
        if e.code == "sign_in_expired":
            return _sign_in_page(
                request, db, next_path=target, error=e.message(language), status=401
            )
        if e.status_code == 429:
            raise
        return _code_page(request, pending=pending, next_path=target, token=step.token,
                          error=e.message(language), status=401)  # fmt: skip
    return _signed_in(request, db, settings, user, target, second_factor=kind)


@router.post("/logout")
def sign_out(request: Request, db: DB, actor: PageActor, settings: AppSettings) -> Response:
    auth.do_logout(db, actor, request.state.login_session)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookies(response, settings)
    return response


@router.post("/account/logout-everywhere")
def sign_out_everywhere(
    request: Request, db: DB, actor: PageActor, settings: AppSettings
) -> Response:
    user = request.state.login_session.user
    auth.do_sign_out_everywhere(db, actor, user)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookies(response, settings)
    return response


@router.post("/account/sessions/{session_id}/end")
def end_my_session(
    session_id: Id, request: Request, db: DB, actor: PageActor, settings: AppSettings
) -> Response:
    """End one of my sessions from the account page's list; ending this one signs me out."""
    row = sessions.access_my_session(db, actor, session_id)
    if row.id == request.state.login_session.id:
        return sign_out(request, db, actor, settings)
    sessions.do_end_my_session(db, actor, row)
    return RedirectResponse("/account?done=session_ended#sessions", status_code=303)


@router.get("/account")
def account(request: Request, db: DB, actor: PageActor) -> Response:
    return account_page(request, db, actor, done=request.query_params.get("done"))


@router.post("/account/password")
def change_password(  # nosec: empty or a flag
    request: Request,
    db: DB,
    actor: PageActor,
    limiter: Limiter,
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
    repeat_password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A new password ends every other session and token of the user; this one stays."""
    assert actor.user_id is not None
    language = i18n.language_of(request)
    limiter.require(f"password:{actor.user_id}", staff=True)
    error = new_password_error(language, new_password, repeat_password)
    if not error:
        try:
            auth.do_change_own_password(
                db,
                actor,
                staff.get_user(db, actor.user_id),
                current_password=current_password,
                new_password=new_password,
                keep_session_id=request.state.login_session.id,
            )
        except KefuError as e:
            error = render_message(e.code, language)
    if error:
        return account_page(request, db, actor, error=error, status=400)
    return RedirectResponse("/account?done=password", status_code=303)


def new_password_error(language: str, new_password: str, repeat_password: str) -> str:
    """What is wrong with a new password typed twice in a form, before the policy ("" if
    nothing)."""
    try:
        _password.validate_python(new_password)
    except ValidationError:
        return i18n.gettext(language, "新密码至少 8 个字符")
    if new_password != repeat_password:
        return i18n.gettext(language, "两次输入的新密码不一致")
    return ""


@router.get("/language")
def switch_language(request: Request, to: str = "", back: str = "") -> Response:
    """The language switch (a link): remembered in a cookie, signed in or not."""
    response = RedirectResponse(safe_next(back), status_code=303)
    response.set_cookie(
        i18n.LANGUAGE_COOKIE, i18n.normal_language(to), max_age=365 * 86400, samesite="lax"
    )
    return response


@router.post("/account/status")
def set_my_status(
    request: Request,
    db: DB,
    actor: PageActor,
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """My chat status from the top bar; answers with the menu showing it."""
    assert actor.user_id is not None
    try:
        chosen = AgentStatus(status)
    except ValueError as e:
        raise KefuError("validation_error", status_code=422) from e
    user = staff.get_user(db, actor.user_id)
    agent_status.do_set_status(db, actor, user, chosen, utcnow())
    return page(request, "workspace/_status_menu.html", {"me": PageUser.of(user)})
