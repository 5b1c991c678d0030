"""Which events a staff member's live connection receives: the explicit list of kinds sent to
agents, and for each kind who may hear of it — the same rules as the REST API.

Pure: the socket (``realtime/agent_hub.py``) looks up where each ticket stands now
(``TicketPlace``: its group and assignee, as the database has them when the event goes out) and
asks ``may_receive``. A ticket event reaches whoever may read the ticket (``roles.can_see_ticket``,
the rule of ``services/cases/tickets.visible_tickets``); a notice only the person it was written
for; presence every staff member. A kind not in ``AGENT_EVENTS`` is never sent — a kind added
tomorrow stays internal until someone decides who may see it (``tests/domain/
test_event_audience.py`` fails until every kind is listed here or in ``INTERNAL_EVENTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from kefu.domain import events as ev
from kefu.domain.roles import Role, can_see_ticket, sees_all_tickets


class Audience(Enum):
    TICKET = "ticket"  # whoever may read the ticket
    OWNER = "owner"  # the one staff member the event names (``user_id``)
    STAFF = "staff"  # every staff member


AGENT_EVENTS: Mapping[str, Audience] = {
    ev.TicketOpened.name: Audience.TICKET,
    ev.TicketChanged.name: Audience.TICKET,
    ev.MessageAdded.name: Audience.TICKET,  # notes too: staff who read the ticket read its notes
    ev.TicketAssigned.name: Audience.TICKET,
    ev.CaseStepTaken.name: Audience.TICKET,
    ev.CustomerFeedback.name: Audience.TICKET,
    ev.SurveyAnswered.name: Audience.TICKET,
    ev.FollowUpDue.name: Audience.TICKET,
    ev.SlaWarned.name: Audience.TICKET,
    ev.SlaBreached.name: Audience.TICKET,
    ev.ApprovalRequested.name: Audience.TICKET,
    ev.CrisisRouted.name: Audience.TICKET,
    ev.Typing.name: Audience.TICKET,
    ev.Viewing.name: Audience.TICKET,
    ev.DeliveryChanged.name: Audience.TICKET,
    ev.NoticeCreated.name: Audience.OWNER,
    ev.PresenceChanged.name: Audience.STAFF,
}

# Kinds that stay inside kefu: what the web chat adapter sends to a visitor's widget, and the
# signal that makes open sockets check their credentials again.
INTERNAL_EVENTS = frozenset({ev.VisitorMessage.name, ev.AccessChanged.name})


@dataclass(frozen=True)
class Viewer:
    """A signed-in staff member as the rules need them."""

    user_id: int
    role: Role
    group_ids: frozenset[int] = frozenset()

    @property
    def sees_all_tickets(self) -> bool:
        return sees_all_tickets(self.role)


@dataclass(frozen=True)
class TicketPlace:
    """Where a ticket stands now: whose queue it is in."""

    group_id: int | None
    assignee_id: int | None


def needs_ticket(event: ev.Event) -> bool:
    """Whether ``may_receive`` needs the ticket's place for this event."""
    return AGENT_EVENTS.get(event.name) is Audience.TICKET and event.ticket_id is not None


def may_receive(viewer: Viewer, event: ev.Event, place: TicketPlace | None = None) -> bool:
    """Whether ``viewer``'s connection is sent ``event``; ``place`` is the ticket's (None: the
    ticket is gone, or the event names none)."""
    audience = AGENT_EVENTS.get(event.name)
    if audience is Audience.STAFF:
        return True
    if audience is Audience.OWNER:
        return getattr(event, "user_id", None) == viewer.user_id
    if audience is not Audience.TICKET:
        return False
    if isinstance(event, ev.Typing) and event.who == "agent" and event.user_id == viewer.user_id:
        return False  # one's own typing is no news
    if isinstance(event, ev.Viewing) and event.user_id == viewer.user_id:
        return False  # nor is one's own looking
    if viewer.sees_all_tickets:
        return True
    if isinstance(event, ev.TicketAssigned) and event.previous_assignee_id == viewer.user_id:
        return True  # whoever had the case hears that it was taken from them
    if place is None:
        return False
    return can_see_ticket(
        viewer.role,
        user_id=viewer.user_id,
        user_group_ids=viewer.group_ids,
        ticket_group_id=place.group_id,
        ticket_assignee_id=place.assignee_id,
    )
