"""The erasure of a customer's cases beyond their messages (services/customers/personal_data.py
erases the profile, the bodies and the files): the words the case file and the custom fields
hold, the shop's answer about their order, deliveries still queued for them (never sent now)
and the copies sent ones keep, the quotes quality reviews keep as evidence, the bot's memory of
the conversation (a phone left outside hours), staff notifications about the case, the
addresses mail acknowledgements went to. Figures, states and decisions stay."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import (
    BotConversation,
    MailAcknowledgement,
    Notification,
    OutboxEntry,
    QaReview,
    Ticket,
    TicketField,
)
from kefu.domain.delivery import PENDING, DeliveryState
from kefu.domain.erasure import CASE_FILE_KEPT, scrub
from kefu.domain.ticket_fields import FieldType
from kefu.services.outbound import states

# Where an outbox row is going is not the customer's: an integration's URL, a subscription.
_TARGET_KEPT = frozenset({"url", "subscription_id", "event", "kind", "template_id"})
# The part of a QA verdict that is the rule's, not the conversation's.
_REVIEW_KEPT = frozenset({"criterion", "verdict", "explanation", "template", "params"})


def erase_case_records(
    session: Session, ticket_ids: Sequence[int], marker: str, now: datetime
) -> Counter[str]:
    """Scrub what the tickets' other records say; how many rows of each kind changed."""
    changed: Counter[str] = Counter()
    if not ticket_ids:
        return changed
    kept_fields = {
        key
        for key, kind in session.execute(select(TicketField.key, TicketField.type))
        if kind != FieldType.TEXT.value
    }
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))):
        _set(ticket, "case_file", scrub(ticket.case_file, marker, CASE_FILE_KEPT), changed)
        _set(ticket, "fields", scrub(ticket.fields, marker, frozenset(kept_fields)), changed)
        if ticket.order_lookup:
            times = frozenset(k for k in ticket.order_lookup if k == "state" or k.endswith("_at"))
            _set(ticket, "order_lookup", scrub(ticket.order_lookup, marker, times), changed)

    for entry in session.scalars(
        select(OutboxEntry).where(OutboxEntry.ticket_id.in_(ticket_ids)).with_for_update()
    ):
        if DeliveryState(entry.state) in PENDING:
            states.move(session, entry, DeliveryState.DEAD, now)
            entry.last_error = "customer_erased"
            changed["deliveries_cancelled"] += 1
        _set(entry, "target", scrub(entry.target, marker, _TARGET_KEPT), changed, "deliveries")

    for review in session.scalars(select(QaReview).where(QaReview.ticket_id.in_(ticket_ids))):
        _set(review, "results", scrub(review.results, marker, _REVIEW_KEPT), changed, "reviews")
    for conversation in session.scalars(
        select(BotConversation).where(BotConversation.ticket_id.in_(ticket_ids))
    ):
        _set(conversation, "state", scrub(conversation.state, marker), changed, "bot")
    for notice in session.scalars(
        select(Notification).where(Notification.ticket_id.in_(ticket_ids))
    ):
        _set(notice, "body", marker, changed, "notifications")
    for ack in session.scalars(
        select(MailAcknowledgement).where(MailAcknowledgement.ticket_id.in_(ticket_ids))
    ):
        _set(ack, "address", marker, changed, "mail_acknowledgements")
    return changed


def _set(row: object, column: str, value: object, changed: Counter[str], kind: str = "") -> None:
    if getattr(row, column) != value:
        setattr(row, column, value)
        changed[kind or column] += 1
