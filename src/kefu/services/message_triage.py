"""What one analysed customer message tells its ticket: its triage and the reasons to record.

Shared by intake's batch (services/inbound.py), the retry of a message whose analysis failed
(services/analysis_retry.py) and a ticket opened by staff (services/tickets.py), so the three
read a message the same way; the merge into a ticket is ``domain/ticket_triage.merge``.
Plain functions over an ``Analysis``, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from kefu.domain.ticket_triage import TicketTriage, merge
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


def new_risk_reasons(analysis: Analysis, known: Iterable[str]) -> dict[str, str]:
    """Why each risk the ticket did not have yet was raised, quoting the words."""
    known = set(known)
    reasons: dict[str, str] = {}
    for e in analysis.explanations:
        risk = e.field.removeprefix("risks.")
        if e.field.startswith("risks.") and risk not in known:
            reasons.setdefault(risk, quoted(e.reason, e.span))
    return reasons


def case_changed(before: TicketTriage, after: TicketTriage) -> bool:
    """What the trail records: priority, risks, intent or category (mood changes are on each message)."""
    return (before.priority, before.risks, before.intent, before.category) != (
        after.priority,
        after.risks,
        after.intent,
        after.category,
    )


def opening_triage(analysis: Analysis) -> tuple[TicketTriage, dict[str, str]]:
    """The triage of a ticket opened with this message, and the reasons to record."""
    triage = merge(TicketTriage(), triage_of(analysis))
    reasons = new_risk_reasons(analysis, ())
    if triage.priority_reason:
        reasons["priority"] = triage.priority_reason
    return triage, reasons
