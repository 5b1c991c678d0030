"""How a new customer message changes what a ticket says about the case.

A ticket carries the triage of its conversation (priority, risks, intent, category,
emotion, sentiment). Each analyzed customer message updates it by these rules:

- **risks** accumulate: a crisis once raised stays on the ticket;
- **priority** only rises: the more urgent of the ticket's and the message's. Analysis
  never lowers a ticket (a calm 「好的谢谢」 after a threat leaves it P1); only a person can,
  through a ticket update, which is audited;
- **intent**: a complaint stays a complaint; otherwise the message's intent, unless it
  is ``other`` (a greeting, 「在吗」), which says nothing about the case;
- **category**: kept once known; a message sets it while the ticket has none or ``other``;
- **emotion** and **sentiment**: the customer's latest mood, so agents see how the
  customer feels now.

Plain strings (the values of ``kefu.domain.triage_labels``), no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kefu.domain.triage_labels import Category, Intent, Risk

_RISK_ORDER = [r.value for r in Risk]


@dataclass(frozen=True)
class TicketTriage:
    priority: str = "P4"
    risks: tuple[str, ...] = ()
    intent: str | None = None
    category: str | None = None
    emotion: str | None = None
    sentiment: str | None = None
    priority_reason: str | None = None

    @classmethod
    def of(cls, ticket: Any) -> TicketTriage:
        """The triage a ticket (or a row with its columns) carries."""
        return cls(
            ticket.priority,
            tuple(ticket.risks or ()),
            ticket.intent,
            ticket.category,
            ticket.emotion,
            ticket.sentiment,
            ticket.priority_reason,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "priority": self.priority,
            "risks": list(self.risks),
            "intent": self.intent,
            "category": self.category,
            "emotion": self.emotion,
            "sentiment": self.sentiment,
        }


def more_urgent(a: str, b: str) -> str:
    """The more urgent of two priorities (P1 is the most urgent)."""
    return a if int(a[1]) <= int(b[1]) else b


def merge(current: TicketTriage, message: TicketTriage) -> TicketTriage:
    """The ticket's triage after one more analyzed customer message (rules above)."""
    risks = tuple(
        sorted(
            {*current.risks, *message.risks},
            key=lambda r: _RISK_ORDER.index(r) if r in _RISK_ORDER else 99,
        )
    )
    priority = more_urgent(current.priority, message.priority)
    reason = current.priority_reason if priority == current.priority else message.priority_reason
    if current.intent == Intent.COMPLAINT.value or message.intent in (None, Intent.OTHER.value):
        intent = current.intent or message.intent
    else:
        intent = message.intent
    category = current.category
    if category in (None, Category.OTHER.value) and message.category is not None:
        category = message.category
    return TicketTriage(  # built directly: this runs for every customer message
        priority=priority,
        risks=risks,
        intent=intent,
        category=category,
        emotion=message.emotion or current.emotion,
        sentiment=message.sentiment or current.sentiment,
        priority_reason=reason,
    )
