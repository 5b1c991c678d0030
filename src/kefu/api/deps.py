"""Request-scoped dependencies: the database session (one transaction) and the actor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kefu.api.cookies import cookie_name
from kefu.api.database_gate import ADMITTED
from kefu.db.base import utcnow
from kefu.db.models import LoginSession
from kefu.errors import KefuError, NotAuthenticated
from kefu.nlp.analysis import Analyzer
from kefu.services.actors import Actor
from kefu.services.fields.orders import OrderLookupClient
from kefu.services.infra.ratelimit import RateLimiter
from kefu.services.intake import integrations
from kefu.services.staff import auth, two_factor
from kefu.settings import Settings

SESSION_COOKIE = "kefu_session"
CSRF_COOKIE = "kefu_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the handler returns, else rolled back.

    Async only so that FastAPI runs it on the event loop instead of hopping to a worker
    thread for it: opening a session does no I/O, and the commit is short.

    The transaction, with its row locks, lasts until the response is validated: for a sync
    handler that takes a second worker thread after the handler's own. Admission keeps a
    thread free for it (api/database_gate.py); on PostgreSQL a write waits for a row lock at
    most ``KEFU_LOCK_TIMEOUT_SECONDS`` (then 409, see db/errors.py).
    """
    factories = request.app.state.session_factories
    factory = factories.read if request.method in SAFE_METHODS else factories.request_write
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_analysis(request: Request) -> Callable[[], Analyzer]:
    """The app's analyzer of customer text: the one intake uses (settings: nlp_accurate)."""
    return request.app.state.intake.analysis  # type: ignore[no-any-return]


def get_order_lookups(request: Request) -> OrderLookupClient:
    """The app's client for shops' order lookups (services/fields/orders.py)."""
    return request.app.state.order_lookups  # type: ignore[no-any-return]


def login_limiter(request: Request) -> RateLimiter:
    """The limiter of sign-ins and of every other place a password or code is tried."""
    return request.app.state.login_limiter  # type: ignore[no-any-return]


DB = Annotated[Session, Depends(get_db, scope="function")]
Limiter = Annotated[RateLimiter, Depends(login_limiter)]
OrderLookups = Annotated[OrderLookupClient, Depends(get_order_lookups)]
AppSettings = Annotated[Settings, Depends(get_settings)]
TextAnalysis = Annotated[Callable[[], Analyzer], Depends(get_analysis)]


async def current_actor(request: Request, db: DB) -> Actor:
    """The staff member behind an API token (Bearer) or a session cookie (with CSRF).

    Runs on the event loop (one or two indexed lookups, none for a recently seen token) to
    spare a worker-thread hop on every request. An integration's token opens nothing here:
    it only delivers customer messages (``integration_actor``).
    """
    secret = _bearer_secret(request)
    if secret is not None:
        actor = _token_actor(request, db, secret)
        request.state.actor_id = actor.user_id  # for the security log (api/errors.py)
        if actor.is_integration:
            raise KefuError("staff_required", status_code=403)
        return actor
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(cookie_name(settings, SESSION_COOKIE))
    if not cookie:
        raise NotAuthenticated()
    login = auth.resolve_session(db, cookie, idle_minutes=settings.session_idle_minutes)
    request.state.actor_id = login.user_id
    if request.method not in SAFE_METHODS and not auth.csrf_matches(
        login, request.headers.get(CSRF_HEADER)
    ):
        raise KefuError("csrf_failed", status_code=403)
    await note_session_use(request, db, login)
    check_password_change(request, login, api=True)
    check_enrolment(request, db, login, api=True)
    request.state.login_session = login
    return auth.actor_for(login.user, via="session")


async def note_session_use(request: Request, db: Session, login: LoginSession) -> None:
    """Record that the session was used, at most once a minute (its idle timeout counts from
    there). A changing request writes in its own transaction; a page read, whose transaction
    only reads (on SQLite: no write lock), writes in a short one of its own, off the loop."""
    now = utcnow()
    if not auth.touch_due(login, now):
        return
    if request.method not in SAFE_METHODS:
        auth.touch_session(db, login.id, now)
        return
    factory = request.app.state.session_factories.request_write
    await run_in_threadpool(_touch_apart, factory, login.id, now)


def _touch_apart(factory: Callable[[], Session], session_id: int, now: datetime) -> None:
    with factory() as session:
        auth.touch_session(session, session_id, now)
        session.commit()


# Where someone who must enrol in two-factor sign-in may still go: enrolment, sign-out, who am I.
ENROLMENT_API_PATHS = ("/api/v1/auth/",)
ENROLMENT_PAGE_PATHS = ("/account", "/logout", "/language")


# Where someone whose password was set for them may go before changing it: the change itself,
# who am I, signing out; and on the pages the account page that has the form.
PASSWORD_CHANGE_API_PATHS = frozenset(
    {"/api/v1/auth/password", "/api/v1/auth/me", "/api/v1/auth/logout",
     "/api/v1/auth/logout-everywhere"}
)  # fmt: skip
PASSWORD_CHANGE_PAGE_PATHS = frozenset(
    {"/account", "/account/password", "/logout", "/account/logout-everywhere", "/language"}
)


class PasswordChangeRequired(KefuError):
    """403 ``password_change_required``: the session's password was set by someone else
    (ASVS V6.4.1); a page answers it with the account page's change form instead."""

    def __init__(self) -> None:
        super().__init__("password_change_required", status_code=403)


def check_password_change(request: Request, login: LoginSession, *, api: bool) -> None:
    """Refuse everything but the password change, until the user has chosen their own."""
    if not login.user.must_change_password:
        return
    allowed = PASSWORD_CHANGE_API_PATHS if api else PASSWORD_CHANGE_PAGE_PATHS
    if request.url.path.rstrip("/") not in allowed:
        raise PasswordChangeRequired()


def check_enrolment(request: Request, db: Session, login: LoginSession, *, api: bool) -> None:
    """403 ``two_factor_enrolment_required`` for someone without TOTP whom
    KEFU_TOTP_REQUIRED_FOR holds to it (admins, or all staff), but on the paths that enrol or
    sign out."""
    settings: Settings = request.app.state.settings
    if not settings.totp_required(login.user.role):
        return
    path = request.url.path
    allowed = ENROLMENT_API_PATHS if api else ENROLMENT_PAGE_PATHS
    if any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in allowed):
        return
    if not two_factor.is_enabled(db, login.user_id):
        raise KefuError("two_factor_enrolment_required", status_code=403)


def _token_actor(request: Request, db: Session, secret: str) -> Actor:
    cache = request.app.state.token_cache
    digest = auth.digest(secret)
    request.state.token_digest = digest  # which token this is (a password change keeps it)
    actor = cache.get(digest)
    if actor is None:
        generation = cache.generation()
        if secret.startswith(auth.INTEGRATION_PREFIX):
            actor = integrations.actor_for(integrations.resolve_integration(db, secret))
        else:
            actor = auth.actor_for(auth.resolve_token(db, secret).user, via="token")
        cache.put(digest, actor, generation)
    return actor  # type: ignore[no-any-return]


def _bearer_secret(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthenticated()
    return secret.strip()


async def integration_actor(request: Request) -> Actor:
    """The integration behind the request's token; staff (token or session) get 403.

    A request the database gate admitted (every path but intake's) already holds a slot: the
    lookup uses it instead of queueing for another.

    A customer message written with a staff token would let anyone write as a customer
    into tickets they cannot see. For endpoints that admit themselves to the database
    (intake): a token seen recently needs no connection at all, otherwise the lookup
    waits for a connection slot.
    """
    secret = _bearer_secret(request)
    if secret is None:
        if request.cookies.get(cookie_name(request.app.state.settings, SESSION_COOKIE)):
            raise KefuError("integration_required", status_code=403)
        raise NotAuthenticated()
    actor: Actor | None = request.app.state.token_cache.get(auth.digest(secret))
    if actor is None:
        if getattr(request.state, ADMITTED, False):  # gated already (receipts): no second slot
            with request.app.state.session_factories.read() as session:
                actor = _token_actor(request, session, secret)
        else:
            async with request.app.state.admission.reader():
                with request.app.state.session_factories.read() as session:
                    actor = _token_actor(request, session, secret)
    if not actor.is_integration:
        raise KefuError("integration_required", status_code=403)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
IntegrationActor = Annotated[Actor, Depends(integration_actor)]
