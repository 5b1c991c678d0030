"""/api/v1/users and /api/v1/groups: staff and their groups (admins configure)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import AfterValidator, Field, StringConstraints

from kefu.api.access import ADMINS, STAFF, allow
from kefu.api.deps import DB, CurrentActor, Limiter
from kefu.api.schemas import ERRORS, Email, Id, In, Out
from kefu.domain.roles import Role
from kefu.domain.routing import AssignMode
from kefu.services.staff import directory as service
from kefu.services.staff import presence

router = APIRouter(tags=["users and groups"], responses=ERRORS)

Password = Annotated[str, Field(min_length=8, max_length=200)]
Language = Annotated[str, Field(pattern=r"^(zh-CN|en)$")]
Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# Stored deduplicated and sorted, so an audit shows what changed and not how it was typed.
Skills = Annotated[
    list[Skill],
    Field(
        max_length=50,
        description="what routing matches a case against: "
        '"lang:en" (a customer writing English), "product:家电", …',
    ),
    AfterValidator(lambda skills: sorted(set(skills))),
]


class UserPublic(Out):
    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    language: str
    capacity: int
    online: bool = Field(description="takes new cases now (PUT /users/me/presence)")
    skills: list[str]
    group_ids: list[int]
    created_at: datetime

    @classmethod
    def of(cls, user: object) -> UserPublic:
        data = {name: getattr(user, name) for name in cls.model_fields if name != "group_ids"}
        return cls(**data, group_ids=sorted(g.id for g in user.groups))  # type: ignore[attr-defined]


# A staff member's name fits its column (100), shorter than a customer's.
StaffName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class UserCreate(In):
    email: Email
    name: StaffName
    role: Role = Role.AGENT
    password: Password | None = None
    group_ids: list[Id] = Field(default_factory=list, max_length=50)
    language: Language = "zh-CN"
    capacity: Annotated[int, Field(ge=0, le=1000)] = 10
    skills: Skills = Field(default_factory=list)


class UserUpdate(In):
    email: Email | None = None
    name: StaffName | None = None
    role: Role | None = None
    password: Password | None = None
    group_ids: list[Id] | None = Field(default=None, max_length=50)
    language: Language | None = None
    capacity: Annotated[int | None, Field(ge=0, le=1000)] = None
    skills: Skills | None = None
    is_active: bool | None = None
    current_password: Annotated[str | None, Field(max_length=200)] = Field(
        default=None,
        description="your own password: needed when you change your own email or password",
    )


class PresenceUpdate(In):
    online: Annotated[bool, Field(strict=True)]


class GroupPublic(Out):
    id: int
    name: str
    description: str
    member_ids: list[int]
    calendar: dict[str, Any] | None = Field(
        description="working hours (null: Mon-Fri 09:00-18:00 with official holidays)"
    )
    assign_mode: AssignMode
    created_at: datetime

    @classmethod
    def of(cls, group: object) -> GroupPublic:
        data = {name: getattr(group, name) for name in cls.model_fields if name != "member_ids"}
        return cls(**data, member_ids=sorted(u.id for u in group.members))  # type: ignore[attr-defined]


# {"timezone", "weekly": seven days of ["HH:MM", "HH:MM"] pairs, "official_holidays", "closures",
# "workdays", "always_open"}: see kefu.domain.business_calendar.
CALENDAR_HELP = "working hours: timezone, weekly (7 days of [start, end] pairs), official_holidays, closures, workdays, always_open"


class GroupCreate(In):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=500)] = ""
    member_ids: list[Id] = Field(default_factory=list, max_length=500)
    calendar: dict[str, Any] | None = Field(default=None, description=CALENDAR_HELP)
    assign_mode: AssignMode = AssignMode.LEAST_LOADED


class GroupUpdate(In):
    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    description: Annotated[str | None, Field(max_length=500)] = None
    member_ids: list[Id] | None = Field(default=None, max_length=500)
    calendar: dict[str, Any] | None = Field(default=None, description=CALENDAR_HELP)
    assign_mode: AssignMode | None = None


def _set_only(body: In) -> dict[str, object]:
    """Fields the caller sent; an explicit null for a non-nullable field is ignored."""
    return {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}


@router.get("/users", response_model=list[UserPublic], summary="All staff", **allow(*STAFF))
def list_users(db: DB, actor: CurrentActor) -> list[UserPublic]:
    return [UserPublic.of(u) for u in service.list_users(db)]


@router.post(
    "/users",
    response_model=UserPublic,
    status_code=201,
    summary="Create a staff account (admin)",
    **allow(*ADMINS),
)
def create_user(body: UserCreate, db: DB, actor: CurrentActor) -> UserPublic:
    user = service.do_create_user(
        db,
        actor,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        group_ids=body.group_ids,
        language=body.language,
        capacity=body.capacity,
        skills=body.skills,
        temporary_password=True,  # the admin knows it: the person changes it at first sign-in
    )
    return UserPublic.of(user)


@router.put(
    "/users/me/presence",
    response_model=UserPublic,
    summary="Go online (take new cases) or offline",
    **allow(*STAFF),
)
def set_my_presence(body: PresenceUpdate, db: DB, actor: CurrentActor) -> UserPublic:
    assert actor.user_id is not None
    user = service.get_user(db, actor.user_id)
    return UserPublic.of(presence.do_set_presence(db, actor, user, online=body.online))


@router.put(
    "/users/{user_id}/presence",
    response_model=UserPublic,
    summary="Set someone's presence (supervisor or admin; anyone their own)",
    **allow(*STAFF),
)
def set_presence(user_id: Id, body: PresenceUpdate, db: DB, actor: CurrentActor) -> UserPublic:
    user = service.get_user(db, user_id)
    return UserPublic.of(presence.do_set_presence(db, actor, user, online=body.online))


@router.get(
    "/users/{user_id}", response_model=UserPublic, summary="One staff member", **allow(*STAFF)
)
def get_user(user_id: Id, db: DB, actor: CurrentActor) -> UserPublic:
    return UserPublic.of(service.get_user(db, user_id))


@router.patch(
    "/users/{user_id}",
    response_model=UserPublic,
    summary="Change a staff account (admin)",
    **allow(*ADMINS),
)
def update_user(
    user_id: Id, body: UserUpdate, db: DB, actor: CurrentActor, limiter: Limiter
) -> UserPublic:
    service.require_admin(actor)
    user = service.get_user(db, user_id)
    changes = _set_only(body)
    changes.pop("current_password", None)
    current_password = body.current_password
    if current_password is not None:
        limiter.require(f"password:{actor.user_id}", staff=True)
    return UserPublic.of(
        service.do_update_user(db, actor, user, changes, current_password=current_password)
    )


@router.delete(
    "/users/{user_id}",
    status_code=204,
    summary="Deactivate a staff account (admin)",
    **allow(*ADMINS),
)
def deactivate_user(user_id: Id, db: DB, actor: CurrentActor) -> Response:
    service.require_admin(actor)
    service.do_update_user(db, actor, service.get_user(db, user_id), {"is_active": False})
    return Response(status_code=204)


@router.get("/groups", response_model=list[GroupPublic], summary="All groups", **allow(*STAFF))
def list_groups(db: DB, actor: CurrentActor) -> list[GroupPublic]:
    return [GroupPublic.of(g) for g in service.list_groups(db)]


@router.post(
    "/groups",
    response_model=GroupPublic,
    status_code=201,
    summary="Create a group (admin)",
    **allow(*ADMINS),
)
def create_group(body: GroupCreate, db: DB, actor: CurrentActor) -> GroupPublic:
    group = service.do_create_group(
        db,
        actor,
        name=body.name,
        description=body.description,
        member_ids=body.member_ids,
        calendar=body.calendar,
        assign_mode=body.assign_mode.value,
    )
    return GroupPublic.of(group)


@router.get("/groups/{group_id}", response_model=GroupPublic, summary="One group", **allow(*STAFF))
def get_group(group_id: Id, db: DB, actor: CurrentActor) -> GroupPublic:
    return GroupPublic.of(service.get_group(db, group_id))


@router.patch(
    "/groups/{group_id}",
    response_model=GroupPublic,
    summary="Change a group (admin)",
    **allow(*ADMINS),
)
def update_group(group_id: Id, body: GroupUpdate, db: DB, actor: CurrentActor) -> GroupPublic:
    service.require_admin(actor)
    group = service.get_group(db, group_id)
    return GroupPublic.of(service.do_update_group(db, actor, group, _set_only(body)))


@router.delete(
    "/groups/{group_id}", status_code=204, summary="Delete an empty group (admin)", **allow(*ADMINS)
)
def delete_group(group_id: Id, db: DB, actor: CurrentActor) -> Response:
    service.require_admin(actor)
    service.do_delete_group(db, actor, service.get_group(db, group_id))
    return Response(status_code=204)
