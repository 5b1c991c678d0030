"""The account page's two-step verification: enrol (the secret once, with its QR code and URI,
confirmed by a first code; then the ten recovery codes once) and turn off (password and code)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB, AppSettings, Limiter
from kefu.db.models import User
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.infra.ratelimit import RateLimiter
from kefu.services.staff import directory as staff
from kefu.services.staff import sessions, two_factor
from kefu.web import i18n
from kefu.web.guard import PageActor
from kefu.web.render import page

router = APIRouter(include_in_schema=False)


def account_page(
    request: Request, db: Session, actor: Actor, *, status: int = 200, **context: Any
) -> Response:
    """The account page with the state of my two-step verification."""
    assert actor.user_id is not None
    settings = request.app.state.settings
    login = getattr(request.state, "login_session", None)
    state = {
        "sessions": sessions.my_sessions(
            db,
            actor,
            current_id=login.id if login is not None else None,
            idle_minutes=settings.session_idle_minutes,
        ),
        "two_factor_on": two_factor.is_enabled(db, actor.user_id),
        "recovery_codes_left": two_factor.recovery_codes_left(db, actor.user_id),
        "two_factor_required": settings.totp_required(actor.role.value),
        "must_change_password": login is not None and login.user.must_change_password,
        "temporary_password_expires_at": login.user.temporary_password_expires_at
        if login is not None
        else None,
    }
    return page(request, "workspace/account.html", {**state, **context}, status=status)


def _limited_user(db: Session, actor: Actor, limiter: RateLimiter) -> User:
    """Me, for a form that checks a code: limited like the sign-in's codes."""
    assert actor.user_id is not None
    limiter.require(f"totp:{actor.user_id}", staff=True)
    return staff.get_user(db, actor.user_id)


@router.post("/account/totp/start")
def start(  # nosec: empty or a flag
    request: Request,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
    limiter: Limiter,
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Start enrolling, the password typed again; a wrong one shows the form with a message."""
    assert actor.user_id is not None
    limiter.require(f"password:{actor.user_id}", staff=True)
    user = staff.get_user(db, actor.user_id)
    try:
        enrolment = two_factor.do_begin_enrolment(
            db, actor, user, password=password, secret_key=settings.secret_key
        )
    except KefuError as e:
        if e.code != "wrong_password":
            raise
        message = e.message(i18n.language_of(request))
        return account_page(request, db, actor, totp_error=message, status=403)
    return account_page(request, db, actor, enrolment=enrolment)


@router.post("/account/totp/confirm")
def confirm(
    request: Request,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
    limiter: Limiter,
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    user = _limited_user(db, actor, limiter)
    try:
        codes = two_factor.do_confirm_enrolment(
            db, actor, user, code, secret_key=settings.secret_key
        )
    except KefuError as e:
        if e.code != "invalid_code":
            raise
        enrolment = two_factor.pending_enrolment(db, user, secret_key=settings.secret_key)
        message = e.message(i18n.language_of(request))
        return account_page(request, db, actor, enrolment=enrolment, totp_error=message, status=422)
    return account_page(request, db, actor, recovery_codes=codes)


@router.post("/account/totp/disable")
def disable(  # nosec: empty or a flag
    request: Request,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
    limiter: Limiter,
    password: Annotated[str, Form(max_length=200)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    user = _limited_user(db, actor, limiter)
    try:
        two_factor.do_disable(
            db, actor, user, password=password, code=code, secret_key=settings.secret_key
        )
    except KefuError as e:
        if e.code not in ("wrong_password", "invalid_code"):
            raise
        message = e.message(i18n.language_of(request))
        return account_page(request, db, actor, totp_error=message, status=422)
    return RedirectResponse("/account?done=totp_off#two-factor", status_code=303)
