"""Who may load a workspace page, and which forms kefu accepts.

A page needs the session cookie of a signed-in staff member (``/login`` makes one); without it
the browser is sent to the sign-in page and back afterwards. Every form and every htmx request
that changes something must come from a page of kefu's own origin (the ``Origin`` header, or
the ``Referer`` where a browser sends no ``Origin``) and carry the session's CSRF token (the
``X-CSRF-Token`` header that htmx sends, or a ``csrf_token`` field) — a foreign origin is
refused even with a valid token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response

from kefu.api.cookies import cookie_name, read_cookie, set_form_cookie
from kefu.api.deps import (
    CSRF_HEADER,
    DB,
    SAFE_METHODS,
    SESSION_COOKIE,
    check_enrolment,
    check_password_change,
    note_session_use,
)
from kefu.db.models import User
from kefu.domain.roles import Role, at_least
from kefu.errors import KefuError, NotAuthenticated
from kefu.realtime.agent_socket import origin_allowed
from kefu.services.actors import Actor
from kefu.services.staff import auth
from kefu.settings import Settings
from kefu.web.render import page

CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class PageUser:
    """Who the page is for, as the top bar shows them (read once, usable after the request's
    database session ended, e.g. on an error page)."""

    id: int
    name: str
    email: str
    role: str
    status: str
    group_ids: tuple[int, ...]

    @classmethod
    def of(cls, user: User) -> PageUser:
        return cls(
            user.id, user.name, user.email, user.role, user.status, tuple(g.id for g in user.groups)
        )


class SignInRequired(Exception):
    """Raised by a page without a valid session: answered by a redirect to ``/login``."""

    def __init__(self, back_to: str, *, expired: bool = False) -> None:
        super().__init__(back_to)
        self.back_to = back_to
        self.expired = expired  # the session ended for want of use: the sign-in page says so


def sign_in_url(back_to: str, *, expired: bool = False) -> str:
    query = [] if back_to in ("", "/") else [f"next={quote(back_to, safe='/')}"]
    if expired:
        query.append("expired=1")
    return "/login" + ("?" + "&".join(query) if query else "")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site only (no ``//host`` or scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/inbox"
    return value


def check_origin(request: Request) -> None:
    """Refuse a changing request sent by a page of another origin."""
    host = request.headers.get("host")
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}"
    if origin is not None and (origin == "null" or not origin_allowed(origin, host, frozenset())):
        raise KefuError("origin_refused", status_code=403)


def check_token(sent: str | None, expected: str) -> None:
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise KefuError("csrf_failed", status_code=403)


def signed_out_form_page(
    request: Request,
    template: str,
    context: Mapping[str, object],
    *,
    cookie: str,
    field: str,
    status: int = 200,
) -> Response:
    """The page of a form for someone not signed in, with the token its post must repeat
    (``check_signed_out_form``): the one of the page's cookie, or a new one, in ``field``."""
    token = read_cookie(request, cookie) or secrets.token_urlsafe(24)
    response = page(request, template, {**context, field: token}, status=status)
    set_form_cookie(response, request.app.state.settings, cookie, token)
    return response


def check_signed_out_form(request: Request, sent: str, cookie: str) -> None:
    """A form of a page for someone not signed in (sign-in, password reset): from kefu's own
    origin, repeating the token of the page's own cookie. Its errors are pages."""
    request.state.html_page = True
    check_origin(request)
    check_token(sent, read_cookie(request, cookie) or "")


async def check_form(request: Request, expected_token: str) -> None:
    """Refuse a changing request from a foreign page or without the session's CSRF token."""
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    check_token(sent, expected_token)


async def page_actor(request: Request, db: DB) -> Actor:
    """The signed-in staff member behind a page or a form of the workspace."""
    request.state.html_page = True
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(cookie_name(settings, SESSION_COOKIE))
    back_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not cookie:
        raise SignInRequired(back_to)
    try:
        login = auth.resolve_session(db, cookie, idle_minutes=settings.session_idle_minutes)
    except NotAuthenticated as e:
        raise SignInRequired(back_to, expired=e.code == "session_expired") from e
    request.state.actor_id = login.user_id  # for the security log (api/errors.py)
    if request.method not in SAFE_METHODS:
        await check_form(request, login.csrf_token)
    await note_session_use(request, db, login)
    check_password_change(request, login, api=False)
    check_enrolment(request, db, login, api=False)
    request.state.login_session = login
    request.state.page_user = PageUser.of(login.user)
    request.state.csrf_token = login.csrf_token
    return auth.actor_for(login.user, via="session")


PageActor = Annotated[Actor, Depends(page_actor)]


def at_least_role(minimum: Role) -> object:
    """A dependency that lets only ``minimum`` and higher roles past (403 page otherwise)."""

    async def check(actor: PageActor) -> Actor:
        if not at_least(actor.role, minimum):
            raise KefuError("forbidden", status_code=403)
        return actor

    return Depends(check)


SupervisorActor = Annotated[Actor, at_least_role(Role.SUPERVISOR)]
AdminActor = Annotated[Actor, at_least_role(Role.ADMIN)]
