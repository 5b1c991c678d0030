"""The ticket state machine: the only code that decides which status may follow which."""

from __future__ import annotations

from kefu.domain.tickets import TicketStatus

S = TicketStatus

STATUS_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.RESOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.PENDING, S.RESOLVED, S.CLOSED}),
    S.PENDING: frozenset({S.OPEN, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset({S.OPEN}),
}


class TransitionNotAllowed(ValueError):
    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        super().__init__(f"{current} → {target}")
        self.current = current
        self.target = target


def check_transition(current: TicketStatus, target: TicketStatus) -> None:
    """Raise ``TransitionNotAllowed`` unless ``target`` may follow ``current``."""
    if target == current:
        return
    if target not in STATUS_TRANSITIONS[current]:
        raise TransitionNotAllowed(current, target)


def counts_as_reopen(current: TicketStatus, target: TicketStatus) -> bool:
    return current in (S.RESOLVED, S.CLOSED) and target == S.OPEN


def status_after_agent_reply(current: TicketStatus) -> TicketStatus:
    """A public reply moves a fresh ticket into work; other statuses stay as set."""
    return S.OPEN if current == S.NEW else current


def status_after_customer_message(current: TicketStatus) -> TicketStatus:
    """A customer writing on a pending ticket puts it back into the agent's queue."""
    return S.OPEN if current == S.PENDING else current
