"""Passwords (argon2), browser sessions with CSRF tokens, and personal API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session, joinedload

from kefu.db.base import utcnow
from kefu.db.models import ApiToken, LoginSession, User
from kefu.domain import passwords
from kefu.domain.chat_offers import AgentStatus
from kefu.domain.events import AccessChanged
from kefu.domain.roles import Role
from kefu.errors import KefuError, NotAuthenticated, NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.events import unit_of_work as events
from kefu.services.infra import token_cache
from kefu.services.staff import agent_status, presence
from kefu.settings import get_settings

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as one for a known email.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
TOKEN_PREFIX = "kefu_"  # noqa: S105 - a public marker on every token, not a secret
INTEGRATION_PREFIX = "kefu_int_"  # noqa: S105 - integration tokens (services/intake/integrations.py)


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash with other argon2 parameters from now on: the test suite's cheapest ones, since
    every test makes staff and a hash costs ~0.2 s (each hash carries its parameters, so
    verifying stays real). kefu itself keeps argon2-cffi's defaults (RFC 9106's low-memory
    profile)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def digest(secret: str) -> str:
    """How a secret is stored and looked up (API tokens, session cookies)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def actor_for(user: User, *, via: str) -> Actor:
    return Actor(
        user_id=user.id,
        role=Role(user.role),
        group_ids=frozenset(g.id for g in user.groups),
        via=via,
        name=user.name,
    )


def note_access_changed(session: Session, *user_ids: int, reason: str) -> None:
    """Tell open sockets of these users, after commit, to check their credentials again: a
    sign-in ended, or what they may see changed (realtime/credentials.py)."""
    events.record(
        session, *(AccessChanged(None, user_id=u, reason=reason) for u in user_ids), notify=False
    )


# --- browser sessions -----------------------------------------------------------------


class CredentialsRefused(NotAuthenticated):
    """401 ``invalid_credentials``, the same answer whatever went wrong; ``reason`` (for the
    security log only) says what: unknown_account, wrong_password, inactive_account."""

    def __init__(self, reason: str, *, code: str = "invalid_credentials") -> None:
        super().__init__(code)
        self.reason = reason


def authenticate(
    session: Session, email: str, password: str, *, now: datetime | None = None
) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        raise CredentialsRefused("unknown_account")
    if not ok:
        raise CredentialsRefused("wrong_password")
    if not user.is_active:
        raise CredentialsRefused("inactive_account")
    if temporary_password_expired(user, now or utcnow()):
        # Said plainly (the password was right): only an admin's new password helps now.
        raise CredentialsRefused("temporary_password_expired", code="temporary_password_expired")
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    return user


USUAL_ADDRESS_DAYS = 90


# --- temporary passwords (ASVS V6.4.1) ----------------------------------------------------


def set_temporary_password(user: User, password: str, *, days: int) -> None:
    """A password someone else chose or generated for ``user``: it must be changed at the
    first sign-in, and stops signing in after ``days``."""
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.temporary_password_expires_at = utcnow() + timedelta(days=days)


def set_own_password(user: User, password: str) -> None:
    """A password the user chose themselves (the change form, a reset link): kept as it is."""
    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.temporary_password_expires_at = None


def temporary_password_expired(user: User, now: datetime) -> bool:
    expires = user.temporary_password_expires_at
    return user.must_change_password and expires is not None and expires <= now


def check_policy(password: str, email: str, *, name: str = "", field: str = "password") -> None:
    """422 naming ``field`` when the password breaks the policy (domain/passwords.py); the
    organisation's name is the setting KEFU_ORGANISATION_NAME, read from the environment like
    the other process-wide settings of the password policy."""
    organisation = get_settings().organisation_name
    reason = passwords.problem(password, email=email, name=name, organisation=organisation)
    if reason is not None:
        raise KefuError("validation_error", status_code=422, details={field: reason})


def signed_in_from(session: Session, email: str, ip: str) -> bool:
    """Whether the account of ``email`` signed in from ``ip`` in the last 90 days (its owner's
    usual address: the login limiter does not hold the account's own attempts there)."""
    if not ip:
        return False
    since = utcnow() - timedelta(days=USUAL_ADDRESS_DAYS)
    found = session.scalar(
        select(LoginSession.id)
        .join(User, User.id == LoginSession.user_id)
        .where(User.email == email.strip().lower(), LoginSession.ip == ip,
               LoginSession.created_at >= since)
        .limit(1)
    )  # fmt: skip
    return found is not None


def do_login(
    session: Session,
    user: User,
    *,
    days: int,
    ip: str = "",
    user_agent: str = "",
    second_factor: str | None = None,
    replacing: str | None = None,
) -> tuple[str, LoginSession]:
    """Open a login session; returns the cookie value (stored only hashed) and the row. The
    session of the cookie the browser came with (``replacing``) ends: a sign-in always gets a
    new cookie value, and a value planted in the browser before it is worth nothing after."""
    if replacing:
        session.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == digest(replacing), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
    cookie = secrets.token_urlsafe(32)
    row = LoginSession(
        user_id=user.id,
        token_hash=digest(cookie),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(days=days),
        last_used_at=utcnow(),
        ip=ip[:64],
        user_agent=user_agent[:300],
    )
    session.add(row)
    session.flush()
    audit.record(session, actor_for(user, via="session"), "auth.login", object_type="user",
                 object_id=user.id, after={"second_factor": second_factor} if second_factor else None)  # fmt: skip
    return cookie, row


# A session's last use is written at most this often: a page read then costs no write.
TOUCH_SECONDS = 60


def resolve_session(
    session: Session, cookie: str, *, idle_minutes: int | None = None, now: datetime | None = None
) -> LoginSession:
    """The live session behind ``cookie``; 401 ``session_expired`` when it went unused for
    ``idle_minutes`` (None: no idle limit), ``not_authenticated`` when it ended otherwise."""
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == digest(cookie)))
    now = now or utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.is_active:
        raise NotAuthenticated()
    if idle_minutes is not None and last_use(row) <= now - timedelta(minutes=idle_minutes):
        raise NotAuthenticated("session_expired")
    return row


def last_use(row: LoginSession) -> datetime:
    return row.last_used_at or row.created_at


def touch_due(row: LoginSession, now: datetime) -> bool:
    """Whether this use of the session should be written (the last one written is older than
    ``TOUCH_SECONDS``)."""
    return last_use(row) <= now - timedelta(seconds=TOUCH_SECONDS)


def touch_session(session: Session, session_id: int, now: datetime) -> None:
    """Record a use of the session, unless another request did within ``TOUCH_SECONDS``."""
    cutoff = now - timedelta(seconds=TOUCH_SECONDS)
    session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id,
               or_(LoginSession.last_used_at.is_(None), LoginSession.last_used_at <= cutoff))
        .values(last_used_at=now),
        execution_options={"synchronize_session": False},
    )  # fmt: skip


def csrf_matches(row: LoginSession, header_value: str | None) -> bool:
    return header_value is not None and hmac.compare_digest(row.csrf_token, header_value)


def do_logout(session: Session, actor: Actor, row: LoginSession) -> None:
    """End a browser session; whoever signs out takes no new cases (presence offline) and is
    offered no more chats (status 离线, its time recorded)."""
    now = utcnow()
    row.revoked_at = now
    audit.record(session, actor, "auth.logout", object_type="user", object_id=row.user_id)
    note_access_changed(session, row.user_id, reason="signed_out")
    agent_status.do_set_status(session, actor, row.user, AgentStatus.OFFLINE, now)
    presence.do_set_presence(session, actor, row.user, online=False)


def do_sign_out_everywhere(session: Session, actor: Actor, user: User) -> dict[str, int]:
    """End every browser session of the user, this one too (a lost laptop, a shared computer);
    API tokens stay (revoked one by one under 令牌). Audited."""
    return end_browser_sessions(session, actor, user, action="auth.logout_everywhere")


def end_browser_sessions(
    session: Session, actor: Actor, user: User, *, action: str
) -> dict[str, int]:
    """End every live browser session of ``user``, audited as ``action``; their sockets close,
    and the user takes no new cases or chats until they sign in again."""
    now = utcnow()
    ended: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None),
               LoginSession.expires_at > now)
        .values(revoked_at=now),
        execution_options={"synchronize_session": False},
    )  # fmt: skip
    audit.record(session, actor, action, object_type="user", object_id=user.id,
                 after={"sessions_ended": ended.rowcount})  # fmt: skip
    note_access_changed(session, user.id, reason="signed_out")
    agent_status.do_set_status(session, actor, user, AgentStatus.OFFLINE, now)
    presence.do_set_presence(session, actor, user, online=False)
    return {"sessions_ended": ended.rowcount}


# --- password changes -------------------------------------------------------------------


def end_credentials(
    session: Session,
    user_id: int,
    *,
    keep_session_id: int | None = None,
    keep_token_digest: str | None = None,
) -> dict[str, int]:
    """Revoke the user's login sessions and API tokens, but the one credential the caller
    is using; returns how many were still alive. After a password change or a deactivation
    nothing signed in before it may go on working (nor come back with a reactivation)."""
    now = utcnow()
    sessions = update(LoginSession).where(
        LoginSession.user_id == user_id,
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > now,
    )
    if keep_session_id is not None:
        sessions = sessions.where(LoginSession.id != keep_session_id)
    tokens = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    if keep_token_digest is not None:
        tokens = tokens.where(ApiToken.token_hash != keep_token_digest)
    ended: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        sessions.values(revoked_at=now), execution_options={"synchronize_session": False}
    )
    revoked: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        tokens.values(revoked_at=now), execution_options={"synchronize_session": False}
    )
    token_cache.note_staff_change(session)  # bulk updates pass the ORM's change tracking by
    note_access_changed(session, user_id, reason="credentials_ended")
    return {"sessions_ended": ended.rowcount, "tokens_revoked": revoked.rowcount}


def do_change_own_password(
    session: Session,
    actor: Actor,
    user: User,
    *,
    current_password: str,
    new_password: str,
    keep_session_id: int | None = None,
    keep_token_digest: str | None = None,
) -> None:
    """A user changes their own password, proving the current one; every other session and
    token of theirs ends (the credential of this request stays, so the caller is not
    signed out by their own change)."""
    if actor.user_id != user.id:
        raise PermissionDenied()
    if not verify_password(user.password_hash, current_password):
        raise KefuError("wrong_password", status_code=403)
    if temporary_password_expired(user, utcnow()):
        raise KefuError("temporary_password_expired", status_code=403)
    check_policy(new_password, user.email, name=user.name, field="new_password")
    if new_password == current_password:
        raise KefuError("password_unchanged", status_code=422, details={"field": "new_password"})
    set_own_password(user, new_password)
    user.updated_at = utcnow()
    ended = end_credentials(
        session, user.id, keep_session_id=keep_session_id, keep_token_digest=keep_token_digest
    )
    audit.record(
        session, actor, "auth.password_change", object_type="user", object_id=user.id, after=ended
    )


# --- API tokens -------------------------------------------------------------------------


def do_create_token(
    session: Session, actor: Actor, user: User, *, name: str
) -> tuple[str, ApiToken]:
    """Create a personal API token for ``user``; the secret is returned once, never stored."""
    if actor.user_id != user.id and not actor.is_admin:
        raise PermissionDenied()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    while secret.startswith(INTEGRATION_PREFIX):  # that marker names integration tokens
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:12], token_hash=digest(secret))
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "token.create",
        object_type="api_token",
        object_id=token.id,
        after={"user_id": user.id, "name": name, "prefix": token.prefix},
    )
    return secret, token


def resolve_token(session: Session, secret: str) -> ApiToken:
    # One round trip for token, user and groups: this runs on every integration request.
    token = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == digest(secret))
        .options(joinedload(ApiToken.user).selectinload(User.groups))
    )
    if token is None or token.revoked_at is not None or not token.user.is_active:
        raise NotAuthenticated()
    return token


def list_tokens(session: Session, actor: Actor, *, user_id: int | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if not actor.is_admin:
        query = query.where(ApiToken.user_id == actor.user_id)
    elif user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def do_revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not actor.is_admin):
        raise NotFound("token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            session,
            actor,
            "token.revoke",
            object_type="api_token",
            object_id=token.id,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at},
        )
        note_access_changed(session, token.user_id, reason="token_revoked")
    return token
