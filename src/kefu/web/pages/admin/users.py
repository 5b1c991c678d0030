"""``/admin/users``: staff accounts — role, groups, skills, capacity, active — and a new password
set by an admin (which ends every session and token of that person, as the API does), and
a reset of the person's two-step verification (a lost phone)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.api.users import UserCreate, UserUpdate
from kefu.db.models import User
from kefu.domain.roles import Role
from kefu.errors import KefuError, render_message
from kefu.services.actors import Actor
from kefu.services.staff import directory as staff
from kefu.services.staff import sessions, two_factor
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import (
    Errors,
    Posted,
    attempt,
    checked,
    text,
    texts,
    validate,
    words,
)
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

USER_FIELDS = ("email", "name", "role", "password", "group_ids", "language", "capacity", "skills")
ROLES = tuple(r.value for r in Role)
LANGUAGES = (("zh-CN", "简体中文"), ("en", "English"))


def _values_of(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "group_ids": [str(g.id) for g in user.groups],
        "language": user.language,
        "capacity": str(user.capacity),
        "skills": ", ".join(user.skills or []),
        "is_active": user.is_active,
    }


def _values_posted(form: FormData) -> dict[str, Any]:
    return {
        "email": text(form, "email"),
        "name": text(form, "name"),
        "role": text(form, "role"),
        "password": text(form, "password"),
        "group_ids": texts(form, "group_ids"),
        "language": text(form, "language"),
        "capacity": text(form, "capacity"),
        "skills": text(form, "skills"),
        "is_active": checked(form, "is_active"),
    }


def _data(values: dict[str, Any], *, editing: bool) -> dict[str, Any]:
    """The posted values as the API's input model takes them."""
    data = {name: values[name] for name in USER_FIELDS if name != "password"}
    data["skills"] = words(values["skills"])
    if values.get("password") and not editing:
        data["password"] = values["password"]
    if editing:
        data["is_active"] = values["is_active"]
    return data


def _form_page(
    request: Request,
    db: Session,
    *,
    user: User | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "section": "users",
        "user": user,
        "values": values,
        "errors": errors or {},
        "groups": staff.list_groups(db),
        "roles": ROLES,
        "languages": LANGUAGES,
        "done": done,
        "temporary_password_days": request.app.state.settings.temporary_password_days,
        "two_factor_on": user is not None and two_factor.is_enabled(db, user.id),
        "live_sessions": 0
        if user is None
        else len(
            sessions.live_sessions(
                db, user.id, idle_minutes=request.app.state.settings.session_idle_minutes
            )
        ),
    }
    return page(request, "workspace/admin/user_form.html", context, status=status)


@router.get("/admin/users")
def users_page(request: Request, db: DB, actor: AdminActor) -> Response:
    users = staff.list_users(db)
    context = {"section": "users", "users": users, "done": request.query_params.get("done")}
    return page(request, "workspace/admin/users.html", context)


@router.get("/admin/users/new")
def new_user_page(request: Request, db: DB, actor: AdminActor) -> Response:
    values = {"role": "agent", "language": "zh-CN", "capacity": "10", "group_ids": []}
    return _form_page(request, db, user=None, values=values)


@router.post("/admin/users")
def create_user(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    language = i18n.language_of(request)
    values = _values_posted(form)
    body, errors = validate(UserCreate, _data(values, editing=False), language)
    if body is not None:
        created, errors = attempt(
            db,
            lambda: staff.do_create_user(db, actor, **body.model_dump(), temporary_password=True),
            language,
            USER_FIELDS,
        )
        if created is not None:
            return RedirectResponse(f"/admin/users/{created.id}?done=created", status_code=303)
    values["password"] = ""  # never sent back into the page  # nosec: empty or a flag
    return _form_page(request, db, user=None, values=values, errors=errors, status=422)


@router.get("/admin/users/{user_id}")
def user_page(user_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    user = staff.get_user(db, user_id)
    done = request.query_params.get("done")
    return _form_page(request, db, user=user, values=_values_of(user), done=done)


@router.post("/admin/users/{user_id}")
def update_user(user_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    language = i18n.language_of(request)
    user = staff.get_user(db, user_id)
    values = _values_posted(form)
    body, errors = validate(UserUpdate, _data(values, editing=True), language)
    current_password = text(form, "current_password")
    if body is not None and _unproven(db, actor, user, body, current_password):
        body, errors = None, {"current_password": render_message("wrong_password", language)}
    if body is not None:
        changes = body.model_dump(exclude_unset=True)
        done, errors = attempt(
            db,
            lambda: staff.do_update_user(
                db, actor, user, changes, current_password=current_password
            ),
            language,
            (*USER_FIELDS, "is_active"),
        )
        if done is not None:
            return RedirectResponse(f"/admin/users/{user_id}?done=saved", status_code=303)
    user = staff.get_user(db, user_id)
    return _form_page(request, db, user=user, values=values, errors=errors, status=422)


def _unproven(
    db: Session, actor: Actor, user: User, body: UserUpdate, current_password: str
) -> bool:
    """Whether an admin editing their own account changes their e-mail without their right
    current password (the form then says so; nothing is saved)."""
    try:
        staff.check_fresh_proof(actor, user, body.model_dump(exclude_unset=True), current_password)
    except KefuError:
        return True
    return False


@router.post("/admin/users/{user_id}/password")
def reset_password(
    user_id: Id, request: Request, db: DB, actor: AdminActor, form: Posted
) -> Response:
    """A new password chosen by the admin: the person's sessions and tokens end."""
    language = i18n.language_of(request)
    user = staff.get_user(db, user_id)
    new, repeat = text(form, "new_password"), text(form, "repeat_password")
    body, errors = validate(UserUpdate, {"password": new}, language)
    if body is not None and new != repeat:
        body, errors = None, {"repeat_password": i18n.gettext(language, "两次输入的新密码不一致")}
    if body is not None:
        changes = {"password": body.password}
        done, errors = attempt(
            db, lambda: staff.do_update_user(db, actor, user, changes), language, ("password",)
        )
        if done is not None:
            return RedirectResponse(f"/admin/users/{user_id}?done=password", status_code=303)
    errors = {("new_password" if k == "password" else k): v for k, v in errors.items()}
    user = staff.get_user(db, user_id)
    return _form_page(request, db, user=user, values=_values_of(user), errors=errors, status=422)


@router.post("/admin/users/{user_id}/totp/reset")
def reset_two_factor(user_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    """The person signs in with the password alone until they enrol again (audited)."""
    two_factor.do_reset(db, actor, staff.get_user(db, user_id))
    return RedirectResponse(f"/admin/users/{user_id}?done=totp_reset", status_code=303)


@router.post("/admin/users/{user_id}/sessions/end")
def end_sessions(user_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    """Sign the person out everywhere; their password and tokens stay (audited)."""
    sessions.do_end_sessions_of(db, actor, staff.get_user(db, user_id))
    return RedirectResponse(f"/admin/users/{user_id}?done=sessions_ended#sessions", status_code=303)
