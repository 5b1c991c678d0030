"""What one analyzed customer message tells its ticket: its triage and the reasons to record.

Shared by intake's batch (services/intake/inbound.py), the retry of a message whose analysis failed
(services/intake/analysis_retry.py) and a ticket opened by staff (services/cases/tickets.py), so the three
read a message the same way; what it does to the ticket is ``domain/case_planner.apply_analysis``.
Plain functions over an ``Analysis``, no I/O.
"""

from __future__ import annotations

from kefu.domain.ticket_triage import TicketTriage
from kefu.nlp.analysis import Analysis


def triage_of(analysis: Analysis) -> TicketTriage:
    """The triage one message says on its own."""
    why = analysis.explanation("priority")
    return TicketTriage(
        priority=analysis.priority.value,
        risks=tuple(r.value for r in analysis.risks),
        intent=analysis.intent.value,
        category=analysis.category.value,
        emotion=analysis.emotion.value,
        sentiment=analysis.sentiment.value,
        priority_reason=quoted(why.reason, why.span)[:300] if why else None,
    )


def quoted(reason: str, span: str) -> str:
    return f"{reason}：「{span}」" if span else reason


def explanations(analysis: Analysis) -> dict[str, str]:
    """Why each risk was raised, quoting the words (``risks.media`` → 「…」), for the planner's
    reasons (domain/case_planner.apply_analysis keeps those of new risks)."""
    reasons: dict[str, str] = {}
    for e in analysis.explanations:
        if e.field.startswith("risks."):
            reasons.setdefault(e.field, quoted(e.reason, e.span))
    return reasons


def case_changed(before: TicketTriage, after: TicketTriage) -> bool:
    """What the trail records: priority, risks, intent or category (mood changes are on each message)."""
    return (before.priority, before.risks, before.intent, before.category) != (
        after.priority,
        after.risks,
        after.intent,
        after.category,
    )
