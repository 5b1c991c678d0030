"""The facts the KPI formulas read: one record per case, per customer message, per survey question.

A service builds them from rows; the formulas never see the database. Every datetime is
timezone-aware (UTC in storage); local time only matters to the period a case falls in
(``slices``). A reply or survey belongs to the case with its ``ticket_id`` and is counted in
that case's slice; one whose case is not among the facts is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kefu.domain.case_loop import CasePath

LINE_PREFIX = "line:"


def business_line_of(tags: Iterable[str]) -> str | None:
    """The business line of a case from its tags: ``line:外卖`` → ``外卖``.

    A case should carry one; with several, the first in sorted order is taken so every caller
    agrees. Blank lines (``line:``) do not count.
    """
    lines = sorted(t[len(LINE_PREFIX) :].strip() for t in tags if t.startswith(LINE_PREFIX))
    return next((line for line in lines if line), None)


@dataclass(frozen=True)
class CaseFacts:
    """What the formulas need to know of one case (ticket).

    ticket_id: the case.
    created_at: when the case was opened; it decides the case's period.
    first_response_at: the first reply a customer saw (an agent's or the bot's), None while
        unanswered.
    resolved_at: when the case was last resolved; None while it is not resolved now (a case
        reopened and still open has None). A closed case keeps its resolution time.
    closed_at: when the case was closed, None while it is not.
    reopened: how many times the case was reopened after a resolution.
    agent_id, group_id: the assignee and the group, None when unassigned.
    channel, category, priority: the ticket's values (category None when not analysed).
    business_line: the ``line:…`` tag of the case without its prefix (``外卖``, see
        ``business_line_of``), None if none.
    path: the complaint loop (受理登记 … 总结归档) or the short path (inquiries and the rest).
    loop_completed: a complaint whose loop reached 总结归档 (archived).
    repeat_complaint: flagged 重复投诉 (a complaint repeating one of the customer's).
    escalated: raised to a supervisor, a specialist team or a higher authority at least once.
    transfers: how many times the case moved from one agent or group to another.
    self_service: resolved by the answering bot or the help center, no agent replied.
    first_response_due_at, resolution_due_at: the SLA deadlines, None when no such clock runs.
    first_response_breached, resolution_breached: whether each clock was missed.
    handle_seconds: agents' working time on the case (reading, writing, calls), in seconds.
    contacts: how many times the customer had to contact us about it before it was resolved
        (1 = solved at the first contact; a customer writing again after an answer that did
        not solve it, or coming back by another channel, adds one).
    """

    ticket_id: int
    created_at: datetime
    channel: str
    priority: str
    path: CasePath = CasePath.SHORT
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopened: int = 0
    agent_id: int | None = None
    group_id: int | None = None
    category: str | None = None
    business_line: str | None = None
    loop_completed: bool = False
    repeat_complaint: bool = False
    escalated: bool = False
    transfers: int = 0
    self_service: bool = False
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    first_response_breached: bool = False
    resolution_breached: bool = False
    handle_seconds: float = 0.0
    contacts: int = 1

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def ever_resolved(self) -> bool:
        """Resolved now, or resolved once and reopened since."""
        return self.resolved_at is not None or self.reopened > 0

    @property
    def has_sla(self) -> bool:
        return self.first_response_due_at is not None or self.resolution_due_at is not None

    @property
    def sla_breached(self) -> bool:
        return self.first_response_breached or self.resolution_breached


@dataclass(frozen=True)
class ReplyFacts:
    """One customer message and the staff reply that answered it (None while unanswered).

    The response time of the pair is ``agent_reply_at - customer_message_at``; consecutive
    customer messages before one reply make one pair, timed from the first of them.
    """

    ticket_id: int
    customer_message_at: datetime
    agent_reply_at: datetime | None = None


class SurveyKind(StrEnum):
    CSAT = "csat"  # 1–5, "how satisfied are you with this service?"
    NPS = "nps"  # 0–10, "how likely are you to recommend us?"
    CES = "ces"  # 1–7, "it was easy to get my problem solved" (7 = very easy)


SCALES: dict[SurveyKind, tuple[int, int]] = {
    SurveyKind.CSAT: (1, 5),
    SurveyKind.NPS: (0, 10),
    SurveyKind.CES: (1, 7),
}


@dataclass(frozen=True)
class SurveyFacts:
    """One survey question asked about a case, and its answer.

    score and answered_at are None while the question is unanswered (asked, no reply yet, or
    the link expired). A score outside the kind's scale is a caller's error.
    """

    ticket_id: int
    kind: SurveyKind
    score: int | None = None
    answered_at: datetime | None = None

    def __post_init__(self) -> None:
        low, high = SCALES[self.kind]
        if self.score is not None and not low <= self.score <= high:
            raise ValueError(f"{self.kind} score {self.score} outside {low}–{high}")

    @property
    def answered(self) -> bool:
        return self.score is not None
