"""Who is on the other end of a staff socket, checked when it opens and again whenever their
access may have changed.

A socket authenticates like the REST API — the session cookie, or a personal API token in the
``Authorization: Bearer`` header or (for browsers' WebSocket, which cannot set headers) offered
as a subprotocol (``bearer_from_protocols``), never in the URL, where proxies and logs would
keep it — but unlike a request it lives on: the credential is kept (in this process's
memory only) so that it can be checked again when an ``AccessChanged`` event says the user
signed out, was deactivated, lost a token or changed groups, and every few minutes for changes
no event told of (a session that expired, the CLI). ``Refused`` carries the close code:
4401 the credential no longer holds (sign in again), 4403 it holds nothing a socket may use
(a deactivated account, an integration's token).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import ApiToken, LoginSession, User
from kefu.errors import NotAuthenticated
from kefu.services.actors import Actor
from kefu.services.staff import auth, two_factor
from kefu.settings import Settings

SIGNED_OUT = 4401
FORBIDDEN = 4403


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Credential:
    via: str  # "session" | "token"
    secret: str  # the cookie value or the token: kept to check again, never logged

    def __repr__(self) -> str:
        return f"Credential(via={self.via!r})"


PROTOCOL = "kefu"  # the subprotocol kefu answers a socket that offered its credential as one
BEARER_PROTOCOL = "kefu.bearer."  # + the token: how a browser's WebSocket can carry it


def bearer_from_protocols(offered: str | None) -> tuple[str | None, str | None]:
    """The token a client offered as a subprotocol and the subprotocol to answer with.

    A browser cannot set headers on a WebSocket, and a credential in the URL is written down by
    every proxy and log on the way; so the page offers ``new WebSocket(url, ["kefu",
    "kefu.bearer." + token])`` (a token's characters are all allowed in a subprotocol name).
    The answer is ``kefu`` (the client must have offered it), never the token echoed back.
    """
    names = [name.strip() for name in (offered or "").split(",")]
    token = next((n[len(BEARER_PROTOCOL) :] for n in names if n.startswith(BEARER_PROTOCOL)), None)
    return (token or None), (PROTOCOL if PROTOCOL in names else None)


def credential_from(
    *, cookie: str | None, authorization: str | None, token: str | None
) -> Credential:
    """The credential a socket opened with: a token (header, then subprotocol) before the
    cookie."""
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Refused(SIGNED_OUT, "not_authenticated")
        return Credential("token", secret.strip())
    if token:
        return Credential("token", token)
    if cookie:
        return Credential("session", cookie)
    raise Refused(SIGNED_OUT, "not_authenticated")


def check(session: Session, credential: Credential, settings: Settings) -> Actor:
    """The staff member the credential stands for now, or ``Refused``. A session held idle past
    KEFU_SESSION_IDLE_MINUTES ends here too (an open socket is not a use of it), and someone
    who must enrol in two-step verification first gets no socket."""
    if credential.via == "token" and credential.secret.startswith(auth.INTEGRATION_PREFIX):
        raise Refused(FORBIDDEN, "staff_required")
    try:
        if credential.via == "token":
            user = auth.resolve_token(session, credential.secret).user
        else:
            idle = settings.session_idle_minutes
            user = auth.resolve_session(session, credential.secret, idle_minutes=idle).user
    except NotAuthenticated as e:
        if _deactivated(session, credential):
            raise Refused(FORBIDDEN, "deactivated") from e
        raise Refused(SIGNED_OUT, "signed_out") from e
    if credential.via == "session" and user.must_change_password:
        raise Refused(FORBIDDEN, "password_change_required")
    if (
        credential.via == "session"
        and settings.totp_required(user.role)
        and not two_factor.is_enabled(session, user.id)
    ):
        raise Refused(FORBIDDEN, "two_factor_enrolment_required")
    return auth.actor_for(user, via=credential.via)


def _deactivated(session: Session, credential: Credential) -> bool:
    table = ApiToken if credential.via == "token" else LoginSession
    active = session.scalar(
        select(User.is_active)
        .join(table, table.user_id == User.id)
        .where(table.token_hash == auth.digest(credential.secret))
    )
    return active is False
