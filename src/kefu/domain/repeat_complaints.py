"""Repeat complaints (重复投诉): the same customer complaining again about the same thing.

A complaint is a repeat when the same customer made a complaint in the same category within
the window (30 days by default) before it. The caller links it to those earlier cases and
raises it by the triage priority rule (docs/triage.md): the customer has contacted us before,
so an angry repeat complaint is P2; priority never falls (domain/ticket_triage.py).

Plain values, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kefu.domain.priority import Cues, grade
from kefu.domain.ticket_triage import TicketTriage, more_urgent
from kefu.domain.triage_labels import Category, Emotion, Intent, Risk

WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class EarlierCase:
    id: int
    category: str | None
    created_at: datetime


def counts(triage: TicketTriage) -> bool:
    """Whether a case can be a repeat complaint: a complaint with a known category."""
    return triage.intent == Intent.COMPLAINT.value and triage.category not in (
        None,
        Category.OTHER.value,
    )


def earlier_of(
    triage: TicketTriage,
    opened_at: datetime,
    earlier: Iterable[EarlierCase],
    window: timedelta = WINDOW,
) -> list[int]:
    """The ids of the customer's earlier complaints this one repeats (oldest first)."""
    if not counts(triage):
        return []
    hits = [
        e
        for e in earlier
        if e.category == triage.category and opened_at - window <= e.created_at <= opened_at
    ]
    return [e.id for e in sorted(hits, key=lambda e: (e.created_at, e.id))]


def raised(triage: TicketTriage, earlier_ids: list[int]) -> TicketTriage:
    """The triage of a repeat complaint: graded again as a repeat contact, never lower."""
    if not earlier_ids:
        return triage
    categories, emotions = {c.value: c for c in Category}, {e.value: e for e in Emotion}
    category = categories.get(triage.category or "", Category.OTHER)
    emotion = emotions.get(triage.emotion or "", Emotion.NEUTRAL)
    graded = grade(
        intent=Intent.COMPLAINT,
        category=category,
        emotion=emotion,
        risks=[Risk(r) for r in triage.risks if r in Risk._value2member_map_],
        cues=Cues(repeat_contact=True),
    )
    priority = more_urgent(triage.priority, graded.priority.value)
    cases = "、".join(f"#{i}" for i in earlier_ids[-3:])
    note = f"30天内重复投诉（此前 {cases}）"
    if priority != triage.priority:
        reason = f"{priority}：{note}，{graded.reason}"
    else:
        reason = f"{triage.priority_reason or priority}；{note}"
    return replace(triage, priority=priority, priority_reason=reason[:300])
