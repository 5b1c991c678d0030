"""The planner of case changes: what a status change, a customer's message or an analysis does to a
ticket, decided once for every writer.

Intake's batch (``services/intake/inbound.py``) runs these functions over many messages and writes the
results set-based; the ORM services (a person changing a status, a step of the loop, a
staff-created ticket, a retried analysis) run the same functions on one ticket and write the
fields back. Neither keeps its own copy of the rules for statuses, reopening, SLA facts or
triage. Plain values in, plain values out: no I/O, no clock reads.

- ``move_status``: the coarse status (domain/status_machine.py decides what may follow what) with its
  timestamps, the SLA pauses (time pending or resolved does not count) and the reopen count.
- ``agent_replied``: a public reply answers the customer (the SLA's response clocks stop).
- ``customer_wrote``: a customer's message on a case: it resumes a case waiting on them, reopens a
  case resolved within the reopen window, is the customer's feedback during 跟进反馈, or — after
  the window — asks for a new case linked to this one (domain/case_loop.py decides which).
- ``apply_analysis``: one analyzed customer message merged into the ticket's triage (priority
  never falls, risks accumulate: domain/ticket_triage.py), with the reasons to show, whether a
  routed case must be routed again, and the case moving onto its intent's path.
- ``flag_repeat``: a complaint repeating one of the customer's recent ones (domain/repeat_complaints.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from kefu.domain import case_loop as cw
from kefu.domain import repeat_complaints, status_machine
from kefu.domain.sla import Pause, pauses_after
from kefu.domain.ticket_triage import TicketTriage, merge
from kefu.domain.tickets import TicketStatus

DONE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


@dataclass(frozen=True)
class TicketState:
    """What the planner knows of one ticket. ``id`` is None for a case not yet written."""

    id: int | None
    customer_id: int
    channel: str
    status: TicketStatus = TicketStatus.NEW
    case: cw.Case = field(default_factory=lambda: cw.open_case(cw.CasePath.SHORT))
    triage: TicketTriage = field(default_factory=TicketTriage)
    group_id: int | None = None
    assignee_id: int | None = None
    awaiting_reply_since: datetime | None = None  # the customer waits for an answer since
    first_response_at: datetime | None = None
    pauses: tuple[Pause, ...] = ()
    closed_at: datetime | None = None
    last_message_at: datetime | None = None
    repeat_complaint: bool = False
    route_again: bool = False
    merged_into_id: int | None = None

    @property
    def resolved_at(self) -> datetime | None:
        return self.case.resolved_at

    @property
    def reopen_count(self) -> int:
        return self.case.reopen_count


class StatusNotAllowed(ValueError):
    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        super().__init__(f"{current.value} → {target.value}")
        self.current, self.target = current, target


def open_ticket(
    customer_id: int, channel: str, at: datetime, intent: str | None = None
) -> TicketState:
    """A new case: its path follows the intent; the customer waits for a first answer from ``at``."""
    return TicketState(
        None,
        customer_id,
        channel,
        case=cw.open_case(cw.path_for_intent(intent)),
        awaiting_reply_since=at,
        last_message_at=at,
    )


# --- status ---------------------------------------------------------------------------------------


def move_status(
    state: TicketState, target: TicketStatus, at: datetime, *, reopen: bool | None = None
) -> TicketState:
    """The ticket with its coarse status moved to ``target`` and everything that goes with it.
    ``reopen``: whether this counts as a reopen (default: any move from resolved or closed back
    to work). Raises ``StatusNotAllowed`` for a move the state machine forbids."""
    current = state.status
    try:
        status_machine.check_transition(current, target)
    except status_machine.TransitionNotAllowed as e:
        raise StatusNotAllowed(current, target) from e
    if target == current:
        return state
    counted = status_machine.counts_as_reopen(current, target) if reopen is None else reopen
    case, closed_at = state.case, state.closed_at
    if current in DONE and target not in DONE:
        case, closed_at = replace(case, resolved_at=None), None
    if counted:
        case = replace(case, reopen_count=case.reopen_count + 1)
    if target == TicketStatus.RESOLVED:
        case = replace(case, resolved_at=at)
    if target == TicketStatus.CLOSED:
        case, closed_at = replace(case, resolved_at=case.resolved_at or at), at
    return replace(
        state,
        status=target,
        case=case,
        closed_at=closed_at,
        pauses=pauses_after(state.pauses, current, target, at),
    )


def with_case(state: TicketState, case: cw.Case, at: datetime) -> TicketState:
    """The ticket after a step of its case's loop: the status follows the case, and the category
    a person confirmed in the analysis is the ticket's. A reopen is counted by the loop
    (``case.reopen_count``), not a second time here."""
    moved = (
        move_status(state, case.status, at, reopen=False) if case.status != state.status else state
    )
    resolved_at = (case.resolved_at or moved.resolved_at) if case.status in DONE else None
    triage = moved.triage
    if case.category is not None and case.category != triage.category:
        triage = replace(triage, category=case.category)
    return replace(moved, case=replace(case, resolved_at=resolved_at), triage=triage)


def agent_replied(state: TicketState, at: datetime) -> TicketState:
    """A public reply: the first response if it is one, nobody waits any more, a new case is in work."""
    moved = move_status(state, status_machine.status_after_agent_reply(state.status), at)
    return replace(
        moved, first_response_at=state.first_response_at or at, awaiting_reply_since=None
    )


# --- a customer's message -------------------------------------------------------------------------


@dataclass(frozen=True)
class MessagePlan:
    """What one customer message does to the case it arrives on."""

    state: TicketState | None  # None: open a new case (linked to ``follow_up_of``)
    step: str | None = None  # for the trail: resume, reopened, customer_feedback
    follow_up_of: int | None = None


def customer_wrote(state: TicketState, at: datetime, policy: cw.Policy) -> MessagePlan:
    """A customer's message on an existing case (domain/case_loop.py decides what it means)."""
    outcome = cw.apply(state.case, cw.CustomerWrote(), at, policy)
    if outcome.new_linked_case:
        return MessagePlan(None, follow_up_of=state.id)
    step = outcome.step if outcome.step in ("resume", "reopened", "customer_feedback") else None
    moved = state
    if outcome.case is not state.case:  # the loop hands back the same case when nothing moved
        moved = with_case(state, outcome.case, at)
    elif state.status == TicketStatus.PENDING and state.case.waiting is None:
        moved = move_status(
            state, status_machine.status_after_customer_message(state.status), at
        )  # an old row
    awaiting = moved.awaiting_reply_since or at
    last = max(moved.last_message_at, at) if moved.last_message_at else at
    if (awaiting, last) != (moved.awaiting_reply_since, moved.last_message_at):
        moved = replace(moved, awaiting_reply_since=awaiting, last_message_at=last)
    return MessagePlan(moved, step)


# --- analysis -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriagePlan:
    state: TicketState
    reasons: dict[str, str]  # why its priority and each new risk: "priority", "media", …
    case_moved: bool = False  # the case took its (new) intent's path


def apply_analysis(
    state: TicketState,
    message: TicketTriage,
    explanations: Mapping[str, str] = {},
    *,
    opens: bool = False,
) -> TriagePlan:
    """One analyzed customer message merged into the ticket. ``explanations``: the analysis's
    reason per field (``risks.media``, ``priority``, …) with the words that raised it.
    ``opens``: the message opens the ticket (its reasons are the ticket's first)."""
    before = state.triage
    after = merge(before, message)
    if after == before:
        return TriagePlan(state, {})
    reasons: dict[str, str] = {}
    for name, why in explanations.items():
        risk = name.removeprefix("risks.")
        if name.startswith("risks.") and risk not in before.risks:
            reasons.setdefault(risk, why)
    if (opens or after.priority != before.priority) and after.priority_reason:
        reasons["priority"] = after.priority_reason
    route_again = state.route_again or (
        not opens and state.group_id is not None and bool(set(after.risks) - set(before.risks))
    )
    case, moved = state.case, False
    if after.intent != before.intent:
        case = cw.with_intent(state.case, after.intent)
        moved = case != state.case
    planned = replace(state, triage=after, route_again=route_again, case=case)
    return TriagePlan(planned, reasons, case_moved=moved and not opens)


def merge_reasons(earlier: Mapping[str, str], later: Mapping[str, str]) -> dict[str, str]:
    """Reasons gathered over several messages: a risk keeps the words that first raised it; the
    priority's reason is the latest."""
    merged = dict(earlier)
    for name, why in later.items():
        if name == "priority":
            merged[name] = why
        else:
            merged.setdefault(name, why)
    return merged


def flag_repeat(
    state: TicketState,
    earlier: Iterable[repeat_complaints.EarlierCase],
    at: datetime,
    window: timedelta = repeat_complaints.WINDOW,
) -> tuple[TicketState, list[int]]:
    """A complaint repeating the customer's earlier ones in the window: flagged and raised; returns
    the ticket and the ids of the earlier cases to link (none: not a repeat)."""
    if state.repeat_complaint:
        return state, []
    mine = [e for e in earlier if state.id is None or e.id < state.id]
    ids = repeat_complaints.earlier_of(state.triage, at, mine, window)
    if not ids:
        return state, []
    return replace(
        state, triage=repeat_complaints.raised(state.triage, ids), repeat_complaint=True
    ), ids
