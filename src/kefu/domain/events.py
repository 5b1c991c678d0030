"""Domain events: what happened to a case, told to whoever should hear of it.

A service that makes a change others should hear of records an event in its unit of work
(``services/events/unit_of_work.py``); the events are published only after the transaction commits, and
dropped if it rolls back. Notices to staff are built from them in one place
(``domain/notices.py``); the realtime bus, the chat widget and the agent workspace subscribe
to the same stream. Events carry ids, not rows: a subscriber that needs more loads it,
checking the reader's permissions as the API does. (One kind is a delivery, not a change:
``VisitorMessage`` carries the message the visitor is shown.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    """Something that happened to a ticket (``ticket_id``) or, for a few kinds, to a person."""

    name: ClassVar[str] = "event"
    ticket_id: int | None

    def to_json(self) -> dict[str, Any]:
        data = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}
        return {"event": self.name, **data}


@dataclass(frozen=True)
class TicketOpened(Event):
    name: ClassVar[str] = "ticket.opened"
    customer_id: int = 0
    channel: str = ""
    priority: str = "P4"


@dataclass(frozen=True)
class TicketChanged(Event):
    """Fields of a ticket changed (status, priority, triage, stage, tags, …): their names."""

    name: ClassVar[str] = "ticket.changed"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageAdded(Event):
    """A customer message, an agent's reply, or an internal note (``direction`` note)."""

    name: ClassVar[str] = "message.added"
    message_id: int = 0
    direction: str = "inbound"


@dataclass(frozen=True)
class TicketAssigned(Event):
    name: ClassVar[str] = "ticket.assigned"
    assignee_id: int | None = None
    previous_assignee_id: int | None = None
    group_id: int | None = None


@dataclass(frozen=True)
class CaseStepTaken(Event):
    """A step of the case loop: recorded facts, moved on, reopened, waited, the customer's feedback …"""

    name: ClassVar[str] = "case.step"
    step: str = ""
    stage: str = ""


@dataclass(frozen=True)
class CustomerFeedback(Event):
    """The customer answered while the case was being followed up (跟进反馈)."""

    name: ClassVar[str] = "case.customer_feedback"
    assignee_id: int | None = None


@dataclass(frozen=True)
class SurveyAnswered(Event):
    """The customer answered the case's survey (满意度调查) or follow-up (回访)."""

    name: ClassVar[str] = "survey.answered"
    survey_id: int = 0
    csat: int | None = None
    nps: int | None = None
    ces: int | None = None
    solved: bool | None = None
    flagged: bool = False


@dataclass(frozen=True)
class FollowUpDue(Event):
    """A case's follow-up (回访) fell due: the survey went out (``asked``) or the owner calls."""

    name: ClassVar[str] = "case.follow_up_due"
    assignee_id: int | None = None
    asked: bool = False


@dataclass(frozen=True)
class SlaWarned(Event):
    """80 % of a clock's budget is used up."""

    name: ClassVar[str] = "sla.warn"
    target: str = ""
    due_at: datetime | None = None
    assignee_id: int | None = None
    group_id: int | None = None


@dataclass(frozen=True)
class SlaBreached(Event):
    """A clock ran out; the case was escalated (``priority`` is the new one)."""

    name: ClassVar[str] = "sla.breach"
    target: str = ""
    due_at: datetime | None = None
    priority: str = ""
    assignee_id: int | None = None  # who had the case when it ran out
    group_id: int | None = None


@dataclass(frozen=True)
class ApprovalRequested(Event):
    """Compensation above the proposer's authority (分级授权) waits for someone who may grant it."""

    name: ClassVar[str] = "case.approval"
    kind: str = ""
    amount: int = 0  # in fen
    needed_role: str = "supervisor"
    group_id: int | None = None


@dataclass(frozen=True)
class CrisisRouted(Event):
    """A routing rule marked to tell the supervisors sent a case to their group."""

    name: ClassVar[str] = "routing.crisis"
    group_id: int | None = None
    priority: str = ""
    reason: str = ""  # the routing explanation, e.g. 规则「危机升级」→ 投诉处理组 → …


@dataclass(frozen=True)
class NoticeCreated(Event):
    """A notice was written for one staff member (their unread count changed)."""

    name: ClassVar[str] = "notice.created"
    notification_id: int = 0
    user_id: int = 0
    kind: str = ""


@dataclass(frozen=True)
class Typing(Event):
    """Someone is typing in a conversation: ``who`` is "agent" (``user_id``) or "customer"."""

    name: ClassVar[str] = "typing"
    who: str = "agent"
    user_id: int | None = None


@dataclass(frozen=True)
class Viewing(Event):
    """A staff member has the ticket open (said on opening it and every 20 s while it stays
    open): colleagues on the same ticket are warned that someone else is looking at it."""

    name: ClassVar[str] = "viewing"
    user_id: int = 0
    user_name: str = ""


@dataclass(frozen=True)
class PresenceChanged(Event):
    """An agent's live-chat status changed (domain/chat_offers.AgentStatus); ``ticket_id`` None."""

    name: ClassVar[str] = "presence"
    user_id: int = 0
    status: str = "offline"


@dataclass(frozen=True)
class DeliveryChanged(Event):
    """An outbound message moved along domain/delivery.py (sent, delivered, read, failed, dead)."""

    name: ClassVar[str] = "delivery.changed"
    message_id: int | None = None
    outbox_id: int = 0
    state: str = "queued"


@dataclass(frozen=True)
class VisitorMessage(Event):
    """The web chat adapter sent a message to a visitor's conversation (customer ``customer_id``):
    their open widgets show it. Unlike the other kinds it carries what the visitor is shown,
    for it *is* the delivery: each socket sends it on without a query. Only the visitor's own
    sockets hear of it (realtime/visitor_hub.py); no staff socket does."""

    name: ClassVar[str] = "chat.outbound"
    customer_id: int = 0
    message_id: int = 0
    outbox_id: int = 0
    author_type: str = ""  # "user", "bot", "system"; empty: ids only, the socket loads it
    author_name: str = ""
    text: str = ""
    created_at: datetime | None = None
    attachments: tuple[tuple[int, str, str, int], ...] = ()  # id, filename, type, size


@dataclass(frozen=True)
class AccessChanged(Event):
    """What a staff member may do changed, or their sign-in ended: signed out, a token revoked,
    deactivated, their password, role or groups changed. Never sent to clients: open sockets of
    ``user_id`` check their credentials again (closed when they no longer hold) and see with the
    new permissions from then on. ``ticket_id`` None."""

    name: ClassVar[str] = "staff.access"
    user_id: int = 0
    reason: str = ""
