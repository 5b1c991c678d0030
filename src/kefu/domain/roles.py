"""Staff roles and what each may see and do (权限)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"  # 客服专员
    SPECIALIST = "specialist"  # 客诉专员
    SUPERVISOR = "supervisor"  # 客服主管
    ADMIN = "admin"  # 管理员


_RANK = {Role.AGENT: 0, Role.SPECIALIST: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


def at_least(role: Role, minimum: Role) -> bool:
    return _RANK[role] >= _RANK[minimum]


def sees_all_tickets(role: Role) -> bool:
    """Supervisors and admins see every ticket; agents and specialists only their groups'."""
    return at_least(role, Role.SUPERVISOR)


def can_see_ticket(
    role: Role,
    *,
    user_id: int,
    user_group_ids: frozenset[int],
    ticket_group_id: int | None,
    ticket_assignee_id: int | None,
) -> bool:
    """Whether a staff member may read a ticket.

    A ticket without a group sits in the shared intake queue that every agent works from;
    once routed, it belongs to its group, and an agent outside that group only sees it
    when it is assigned to them.
    """
    if sees_all_tickets(role):
        return True
    if ticket_assignee_id == user_id:
        return True
    return ticket_group_id is None or ticket_group_id in user_group_ids


def can_merge_customers(role: Role) -> bool:
    """Merging (and undoing a merge) moves tickets between profiles across every group, so it is
    for those who see every ticket: supervisors and admins."""
    return sees_all_tickets(role)


def manages_presence(role: Role) -> bool:
    """Supervisors and admins may set others online or offline (their own: everyone)."""
    return at_least(role, Role.SUPERVISOR)


def can_administer(role: Role) -> bool:
    """Users, groups, tags and tokens of others are configured by admins."""
    return role == Role.ADMIN
