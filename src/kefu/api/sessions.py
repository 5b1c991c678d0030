"""/api/v1/auth/sessions: my signed-in browsers, each to end on its own; and an admin ending
every session of someone else (/api/v1/users/{id}/sessions)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import Field

from kefu.api.access import ADMINS, STAFF, allow
from kefu.api.auth import clear_session_cookies
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Id, Out
from kefu.services.staff import auth
from kefu.services.staff import directory as staff
from kefu.services.staff import sessions as service

router = APIRouter(tags=["auth"], responses=ERRORS)


class SessionPublic(Out):
    id: int
    browser: str = Field(description='browser and system, e.g. "Chrome 120 · Windows"; "" unknown')
    address: str = Field(description="the address it signed in from, partly masked: 203.0.113.*")
    signed_in_at: datetime
    last_used_at: datetime
    current: bool = Field(description="the session this request came with")


class SessionsEnded(Out):
    sessions_ended: int


@router.get(
    "/auth/sessions",
    response_model=list[SessionPublic],
    summary="My signed-in browsers (live sessions), the most recently used first",
    **allow(*STAFF),
)
def my_sessions(
    request: Request, db: DB, actor: CurrentActor, settings: AppSettings
) -> list[SessionPublic]:
    login = getattr(request.state, "login_session", None)
    views = service.my_sessions(
        db,
        actor,
        current_id=login.id if login is not None else None,
        idle_minutes=settings.session_idle_minutes,
    )
    return [SessionPublic.model_validate(view) for view in views]


@router.delete(
    "/auth/sessions/{session_id}",
    status_code=204,
    summary="End one of my sessions (its browser is signed out, its socket closes)",
    description="Ending the session of this request is a sign-out: its cookies are cleared.",
    **allow(*STAFF),
)
def end_my_session(
    session_id: Id, request: Request, db: DB, actor: CurrentActor, settings: AppSettings
) -> Response:
    row = service.access_my_session(db, actor, session_id)
    login = getattr(request.state, "login_session", None)
    response = Response(status_code=204)
    if login is not None and login.id == row.id:
        auth.do_logout(db, actor, row)
        clear_session_cookies(response, settings)
    else:
        service.do_end_my_session(db, actor, row)
    return response


@router.delete(
    "/users/{user_id}/sessions",
    response_model=SessionsEnded,
    summary="End every browser session of a user; the password stays (admin; audited)",
    description="Their open sockets close; API tokens stay (revoke them under /tokens).",
    **allow(*ADMINS),
)
def end_sessions_of(user_id: Id, db: DB, actor: CurrentActor) -> SessionsEnded:
    ended = service.do_end_sessions_of(db, actor, staff.get_user(db, user_id))
    return SessionsEnded(**ended)
