"""Notices to staff, built from domain events in this one place: who is told, and in what words.

``notices_for`` is pure: the service (``services/events/notices.py``) looks up the audience an event
needs (``audience_of``) — the case's assignee, its group's supervisors, the admins — and writes
one row per notice. Intake's batch uses the same function with the audience it already knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kefu.domain import events as ev

TARGET_NAMES_ZH = {"first_response": "首次响应", "next_response": "后续响应", "resolution": "解决"}
ROLE_NAMES_ZH = {
    "agent": "客服专员",
    "specialist": "客诉专员",
    "supervisor": "主管",
    "admin": "管理员",
}
BODY_LENGTH = 500


class Lookup(StrEnum):
    """What the service must look up for an event's audience."""

    SUPERVISORS = "supervisors"  # the group's supervisors, or every supervisor if it has none
    GROUP_SUPERVISORS = "group_supervisors"  # the group's own supervisors only
    ADMINS = "admins"


@dataclass(frozen=True)
class Audience:
    assignee_id: int | None = None
    supervisors: tuple[int, ...] = ()
    group_supervisors: tuple[int, ...] = ()
    admins: tuple[int, ...] = ()


@dataclass(frozen=True)
class Notice:
    user_id: int
    ticket_id: int | None
    kind: str
    body: str


def lookups_for(event: ev.Event) -> frozenset[Lookup]:
    """The lookups ``notices_for`` needs for this event (none: it makes no notice, or only the
    assignee's, which the event carries)."""
    match event:
        case ev.SlaWarned(assignee_id=None) | ev.SlaBreached():
            return frozenset({Lookup.SUPERVISORS})
        case ev.ApprovalRequested(needed_role="admin"):
            return frozenset({Lookup.ADMINS})
        case ev.ApprovalRequested():
            return frozenset({Lookup.SUPERVISORS})
        case ev.CrisisRouted():
            return frozenset({Lookup.GROUP_SUPERVISORS})
    return frozenset()


def notices_for(event: ev.Event, audience: Audience) -> list[Notice]:
    """The notices one event makes, one per person, in user-id order."""
    ticket = event.ticket_id
    match event:
        case ev.SlaWarned(target=target):
            users = [event.assignee_id] if event.assignee_id else list(audience.supervisors)
            body = f"工单 #{ticket} 的{TARGET_NAMES_ZH.get(target, target)}时限已用去 80%"
        case ev.SlaBreached(target=target, due_at=due_at, priority=priority):
            users = [*audience.supervisors, *([event.assignee_id] if event.assignee_id else [])]
            due = f"{due_at:%Y-%m-%d %H:%M} UTC" if due_at else "已过"
            name = TARGET_NAMES_ZH.get(target, target)
            body = f"工单 #{ticket} {name}超时（时限 {due}），已升级为 {priority}"
        case ev.ApprovalRequested(kind=kind, amount=amount, needed_role=role):
            users = list(audience.admins if role == "admin" else audience.supervisors)
            body = (
                f"工单 #{ticket} 的补偿（{kind} ¥{amount / 100:.2f}）超出提议人的授权，"
                f"需要{ROLE_NAMES_ZH.get(role, role)}审批"
            )
        case ev.CrisisRouted(priority=priority, reason=reason):
            users = list(audience.group_supervisors)
            body = f"工单 #{ticket}（{priority}）：{reason}"
        case ev.CustomerFeedback(assignee_id=assignee):
            users = [assignee] if assignee else []
            body = f"客户在回访阶段回复了工单 #{ticket}"
        case ev.FollowUpDue(assignee_id=assignee, asked=asked):
            users = [assignee] if assignee else []
            then = "满意度调查已发给客户，请留意回复" if asked else "请联系客户回访"
            body = f"工单 #{ticket} 的回访已到期：{then}"
        case _:
            return []
    return [Notice(u, ticket, event.name, body[:BODY_LENGTH]) for u in sorted(set(users))]
