"""Users (agents, specialists, supervisors, admins) and groups; configured by admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from kefu.db.base import utcnow
from kefu.db.models import Group, Ticket, User, group_members
from kefu.domain.business_calendar import from_json
from kefu.domain.roles import Role
from kefu.errors import Conflict, KefuError, NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.staff.auth import (
    check_policy,
    end_credentials,
    hash_password,
    note_access_changed,
    set_own_password,
    set_temporary_password,
    verify_password,
)
from kefu.settings import get_settings


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied()


def _flush_unique(session: Session, code: str, field: str) -> None:
    """Flush; a unique violation on ``field`` (a concurrent request took it first) is a 409."""
    try:
        session.flush()
    except IntegrityError as e:
        message = str(e.orig).lower()
        if field not in message or not ("unique" in message or "duplicate" in message):
            raise
        raise Conflict(code, details={"field": field}) from e


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "is_active": user.is_active,
        "language": user.language,
        "capacity": user.capacity,
        "skills": list(user.skills or []),
        "group_ids": sorted(g.id for g in user.groups),
        "must_change_password": bool(user.must_change_password),
    }


def group_snapshot(group: Group) -> dict[str, Any]:
    return {
        "name": group.name,
        "description": group.description,
        "member_ids": sorted(u.id for u in group.members),
        "calendar": group.calendar,
        "assign_mode": group.assign_mode,
    }


def check_calendar(calendar: dict[str, Any] | None) -> dict[str, Any] | None:
    """A group's working hours as stored, refused with a readable reason when they make no sense."""
    if calendar is None:
        return None
    try:
        from_json(calendar)
    except (ValueError, TypeError) as e:
        raise KefuError(
            "invalid_calendar", status_code=422, reason=str(e), details={"field": "calendar"}
        ) from e
    return calendar


def get_user(session: Session, user_id: int) -> User:
    user = session.scalar(select(User).where(User.id == user_id).options(selectinload(User.groups)))
    if user is None:
        raise NotFound("user")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id).options(selectinload(User.groups))))


def supervisors_of(
    session: Session, group_id: int | None, *, fall_back_to_all: bool = True
) -> list[int]:
    """The ids of a group's active supervisors, by id; a group without one (or no group) has
    every active supervisor watch it, unless ``fall_back_to_all`` is False."""
    query = (
        select(User.id)
        .where(User.role == Role.SUPERVISOR.value, User.is_active.is_(True))
        .order_by(User.id)
    )
    of_group: list[int] = []
    if group_id is not None:
        of_group = list(
            session.scalars(
                query.join(group_members, group_members.c.user_id == User.id).where(
                    group_members.c.group_id == group_id
                )
            )
        )
    if of_group or not fall_back_to_all:
        return of_group
    return list(session.scalars(query))


def _groups(session: Session, group_ids: list[int]) -> list[Group]:
    groups = list(session.scalars(select(Group).where(Group.id.in_(group_ids))))
    missing = set(group_ids) - {g.id for g in groups}
    if missing:
        raise NotFound("group", details={"group_ids": sorted(missing)})
    return groups


def do_create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None,
    group_ids: list[int] | None = None,
    language: str = "zh-CN",
    capacity: int = 10,
    skills: list[str] | None = None,
    temporary_password: bool = False,
) -> User:
    """A new staff account. ``temporary_password``: the password is one an admin chose or
    kefu generated for the person, to be changed at their first sign-in (ASVS V6.4.1)."""
    require_admin(actor)
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("email_taken", details={"field": "email"})
    if password:
        check_policy(password, email, name=name)
    user = User(
        email=email,
        name=name,
        role=role.value,
        password_hash=hash_password(password) if password else None,
        language=language,
        capacity=capacity,
        skills=list(skills or []),
    )
    if password and temporary_password:
        set_temporary_password(user, password, days=get_settings().temporary_password_days)
    user.groups = _groups(session, group_ids or [])
    session.add(user)
    _flush_unique(session, "email_taken", "email")
    audit.record(
        session,
        actor,
        "user.create",
        object_type="user",
        object_id=user.id,
        after=user_snapshot(user),
    )
    return user


def _keep_an_admin(session: Session, user: User, changes: dict[str, Any]) -> None:
    """Refuse to demote or deactivate the last active admin: nobody could configure kefu."""
    is_admin_now = user.is_active and user.role == Role.ADMIN.value
    stays_admin = (
        changes.get("is_active", user.is_active)
        and Role(changes.get("role", user.role)) == Role.ADMIN
    )
    if not is_admin_now or stays_admin:
        return
    # Locked (PostgreSQL), so two admins demoting each other at once cannot both succeed.
    admins = session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    if [a for a in admins if a != user.id] == []:
        raise Conflict("last_admin")


def do_update_user(
    session: Session,
    actor: Actor,
    user: User,
    changes: dict[str, Any],
    *,
    current_password: str | None = None,
) -> User:
    require_admin(actor)
    check_fresh_proof(actor, user, changes, current_password)
    _keep_an_admin(session, user, changes)
    before = user_snapshot(user)
    was_active = user.is_active
    for name, value in changes.items():
        if name == "password":
            if value:
                check_policy(
                    value,
                    str(changes.get("email") or user.email),
                    name=str(changes.get("name") or user.name),
                )
            if value and actor.user_id != user.id:  # someone else's: theirs to change first
                set_temporary_password(user, value, days=get_settings().temporary_password_days)
            elif value:
                set_own_password(user, value)
            else:
                user.password_hash = None
        elif name == "group_ids":
            user.groups = _groups(session, value)
        elif name == "email":
            email = value.strip().lower()
            if session.scalar(select(User.id).where(User.email == email, User.id != user.id)):
                raise Conflict("email_taken", details={"field": "email"})
            user.email = email
        elif name == "role":
            user.role = Role(value).value
        else:
            setattr(user, name, value)
    if not user.is_active:
        user.online = False  # a deactivated account takes no cases
    user.updated_at = utcnow()
    _flush_unique(session, "email_taken", "email")
    old, new = audit.changed_fields(before, user_snapshot(user))
    if "password" in changes:
        old["password"], new["password"] = "***", "***"
    if new:
        audit.record(
            session,
            actor,
            "user.update",
            object_type="user",
            object_id=user.id,
            before=old,
            after=new,
        )
    if "role" in new or "group_ids" in new:  # what they may see changed
        note_access_changed(session, user.id, reason="permissions_changed")
    _end_credentials_if_needed(session, actor, user, changes, was_active=was_active)
    return user


def check_fresh_proof(
    actor: Actor, user: User, changes: dict[str, Any], current_password: str | None
) -> None:
    """An admin changing their own sign-in attributes (e-mail, password) here proves their
    current password, as the account page asks (ASVS V7.5.1): 403 ``wrong_password``, nothing
    changed, when it is missing or wrong."""
    if actor.user_id != user.id:
        return
    new_email = str(changes.get("email") or user.email).strip().lower()
    if new_email == user.email and not changes.get("password"):
        return
    if not verify_password(user.password_hash, current_password or ""):
        raise KefuError("wrong_password", status_code=403, details={"field": "current_password"})


def _end_credentials_if_needed(
    session: Session, actor: Actor, user: User, changes: dict[str, Any], *, was_active: bool
) -> None:
    """A new password set by an admin, or a deactivation, ends every session and token of
    the user: whoever held them must sign in again (and a reactivation revives none)."""
    if was_active and not user.is_active:
        reason = "deactivated"
    elif "password" in changes:
        reason = "password_changed"
    else:
        return
    ended = end_credentials(session, user.id)
    audit.record(
        session,
        actor,
        "user.credentials_revoked",
        object_type="user",
        object_id=user.id,
        after={"reason": reason, **ended},
    )


def get_group(session: Session, group_id: int) -> Group:
    group = session.scalar(
        select(Group).where(Group.id == group_id).options(selectinload(Group.members))
    )
    if group is None:
        raise NotFound("group")
    return group


def list_groups(session: Session) -> list[Group]:
    return list(
        session.scalars(select(Group).order_by(Group.id).options(selectinload(Group.members)))
    )


def _members(session: Session, member_ids: list[int]) -> list[User]:
    users = list(session.scalars(select(User).where(User.id.in_(member_ids))))
    missing = set(member_ids) - {u.id for u in users}
    if missing:
        raise NotFound("user", details={"member_ids": sorted(missing)})
    return users


def do_create_group(
    session: Session,
    actor: Actor,
    *,
    name: str,
    description: str = "",
    member_ids: list[int] | None = None,
    calendar: dict[str, Any] | None = None,
    assign_mode: str = "least_loaded",
) -> Group:
    require_admin(actor)
    if session.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise Conflict("name_taken", details={"field": "name"})
    group = Group(
        name=name,
        description=description,
        calendar=check_calendar(calendar),
        assign_mode=assign_mode,
    )
    group.members = _members(session, member_ids or [])
    session.add(group)
    _flush_unique(session, "name_taken", "name")
    audit.record(
        session,
        actor,
        "group.create",
        object_type="group",
        object_id=group.id,
        after=group_snapshot(group),
    )
    return group


def do_update_group(session: Session, actor: Actor, group: Group, changes: dict[str, Any]) -> Group:
    require_admin(actor)
    before = group_snapshot(group)
    if "name" in changes and session.scalar(
        select(Group.id).where(Group.name == changes["name"], Group.id != group.id)
    ):
        raise Conflict("name_taken", details={"field": "name"})
    for name, value in changes.items():
        if name == "member_ids":
            group.members = _members(session, value)
        elif name == "calendar":
            group.calendar = check_calendar(value)
        else:
            setattr(group, name, value)
    _flush_unique(session, "name_taken", "name")
    old, new = audit.changed_fields(before, group_snapshot(group))
    moved = set(before["member_ids"]) ^ {u.id for u in group.members}
    note_access_changed(session, *sorted(moved), reason="permissions_changed")
    if new:
        audit.record(
            session,
            actor,
            "group.update",
            object_type="group",
            object_id=group.id,
            before=old,
            after=new,
        )
    return group


def do_delete_group(session: Session, actor: Actor, group: Group) -> None:
    """A group that still holds tickets cannot be deleted; move its tickets first."""
    require_admin(actor)
    in_use = session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.group_id == group.id)
    )
    if in_use:
        raise Conflict("group_not_empty", tickets=in_use, details={"tickets": in_use})
    before = group_snapshot(group)
    group.members = []
    session.flush()
    note_access_changed(session, *before["member_ids"], reason="permissions_changed")
    session.delete(group)
    try:
        session.flush()
    except IntegrityError as e:  # pragma: no cover - guarded by the count above
        raise Conflict("group_not_empty", tickets="?") from e
    audit.record(
        session, actor, "group.delete", object_type="group", object_id=group.id, before=before
    )
