"""Live chat: which agent a waiting chat is offered to, and what the visitor is told about the wait.

A new chat goes to the routed group's queue and is offered to one agent at a time: an agent who
is online (在线), has room under their cap of concurrent chats, and has not already let this
chat pass (declined, or the offer timed out). Among those, the one with the fewest chats, then
the one who has waited longest since their last chat, so work spreads evenly. An offer not
accepted within ``OFFER_TIMEOUT`` goes to the next agent.

The visitor sees their place in the queue and an expected wait: nothing when a free seat is
waiting for them, else the time for the seats of the online agents to free up for the chats
ahead of them (each seat about once per the group's recent average chat length). No agent online: no estimate (the widget
offers the leave-a-message form instead).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

OFFER_TIMEOUT = timedelta(seconds=30)
_LONG_AGO = datetime.min.replace(tzinfo=UTC)
DEFAULT_CHAT_CAP = 3


class AgentStatus(StrEnum):
    ONLINE = "online"  # 在线
    BUSY = "busy"  # 忙碌: keeps their chats, takes no new ones
    BREAK = "break"  # 小休
    OFFLINE = "offline"  # 离线


STATUS_NAMES_ZH = {
    AgentStatus.ONLINE: "在线",
    AgentStatus.BUSY: "忙碌",
    AgentStatus.BREAK: "小休",
    AgentStatus.OFFLINE: "离线",
}


@dataclass(frozen=True)
class AgentSeat:
    """What the offer rule knows of one agent of the group."""

    user_id: int
    status: AgentStatus
    active_chats: int
    cap: int = DEFAULT_CHAT_CAP
    last_chat_at: datetime | None = None  # when they last took a chat; None: not yet today

    @property
    def free(self) -> int:
        if self.status != AgentStatus.ONLINE:
            return 0
        return max(0, self.cap - self.active_chats)


def next_agent(seats: Sequence[AgentSeat], passed: Collection[int] = ()) -> AgentSeat | None:
    """The agent to offer a waiting chat to, or None when nobody has room.

    ``passed``: the agents who declined this chat or let the offer time out."""
    candidates = [s for s in seats if s.free > 0 and s.user_id not in passed]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda s: (
            s.active_chats,
            s.last_chat_at is not None,  # one who has had no chat yet goes first
            s.last_chat_at or _LONG_AGO,
            s.user_id,
        ),
    )


def offer_expired(offered_at: datetime, now: datetime, timeout: timedelta = OFFER_TIMEOUT) -> bool:
    return now - offered_at >= timeout


@dataclass(frozen=True)
class QueueView:
    """What the visitor is shown while waiting."""

    position: int  # 1: next in line
    expected_wait: timedelta | None  # None: no agent online, offer the message form


def queue_view(position: int, seats: Sequence[AgentSeat], average_chat: timedelta) -> QueueView:
    """The visitor at ``position`` (1-based) in the group's queue."""
    if position < 1:
        raise ValueError("positions start at 1")
    online = [s for s in seats if s.status == AgentStatus.ONLINE]
    if not online:
        return QueueView(position, None)
    free = sum(s.free for s in online)
    ahead = position - free
    if ahead <= 0:
        return QueueView(position, timedelta(0))
    # Every seat of the online agents frees about once per average chat, so the seats free up
    # at (seats / average chat); the visitor waits for the ``ahead``-th of them.
    total_seats = sum(s.cap for s in online)
    return QueueView(position, average_chat * ahead / total_seats)
