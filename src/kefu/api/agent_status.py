"""/api/v1/users/…/status: agents' live-chat status (在线 / 忙碌 / 小休 / 离线) and its time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, Field

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.db.base import utcnow
from kefu.domain.chat_offers import STATUS_NAMES_ZH, AgentStatus
from kefu.domain.roles import manages_presence
from kefu.errors import KefuError, NotFound
from kefu.services.staff import agent_status as service
from kefu.services.staff import directory

router = APIRouter(tags=["users and groups"], responses=ERRORS)

MAX_SPAN = timedelta(days=92)


class StatusUpdate(In):
    status: AgentStatus = Field(description="online 在线 | busy 忙碌 | break 小休 | offline 离线")


class StatusPublic(Out):
    user_id: int
    status: AgentStatus
    status_name: str = Field(description="the status in Chinese")
    status_since: datetime | None
    online: bool = Field(description="takes new cases and chats now (only when online)")

    @classmethod
    def of(cls, user: object) -> StatusPublic:
        status = AgentStatus(user.status)  # type: ignore[attr-defined]
        return cls(
            user_id=user.id,  # type: ignore[attr-defined]
            status=status,
            status_name=STATUS_NAMES_ZH[status],
            status_since=user.status_since,  # type: ignore[attr-defined]
            online=user.online,  # type: ignore[attr-defined]
        )


class StatusTimes(Out):
    user_id: int
    since: datetime
    until: datetime
    seconds: dict[str, int] = Field(description="seconds spent in each status within the span")


@router.put("/users/me/status", response_model=StatusPublic,
            summary="Set your live-chat status (在线 / 忙碌 / 小休 / 离线)", **allow(*STAFF))  # fmt: skip
def set_my_status(body: StatusUpdate, db: DB, actor: CurrentActor) -> StatusPublic:
    assert actor.user_id is not None
    user = directory.get_user(db, actor.user_id)
    return StatusPublic.of(service.do_set_status(db, actor, user, body.status, utcnow()))


@router.get("/users/{user_id}/status-times", response_model=StatusTimes,
            summary="Time spent in each status (your own; supervisors and admins: anyone's)",
            **allow(*STAFF))  # fmt: skip
def status_times(
    user_id: Id,
    db: DB,
    actor: CurrentActor,
    since: Annotated[AwareDatetime | None, Query(description="default: 24 hours ago")] = None,
    until: Annotated[AwareDatetime | None, Query(description="default: now")] = None,
) -> StatusTimes:
    if actor.user_id != user_id and not manages_presence(actor.role):
        raise NotFound("user")  # someone else's time is theirs and their managers' to see
    user = directory.get_user(db, user_id)
    until = until or utcnow()
    since = since or until - timedelta(days=1)
    if not timedelta(0) <= until - since <= MAX_SPAN:
        raise KefuError("validation_error", status_code=422, details={"field": "since"})
    seconds = service.status_seconds(db, user.id, since, until)
    return StatusTimes(user_id=user.id, since=since, until=until, seconds=seconds)
