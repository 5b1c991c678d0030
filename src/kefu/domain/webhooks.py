"""The vocabulary of webhooks: the events kefu posts to subscriptions, the events sources may
post to kefu, and which domain event becomes which outbound event."""

from __future__ import annotations

import base64
import secrets

from kefu.domain import events as ev

CHANNEL = "webhook"  # the outbox channel of outbound webhooks
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not one

TICKET_CREATED = "ticket.created"
MESSAGE_CREATED = "message.created"
STATUS_CHANGED = "ticket.status_changed"
SLA_BREACHED = "sla.breached"
SURVEY_ANSWERED = "survey.answered"
EVENT_TYPES = (TICKET_CREATED, MESSAGE_CREATED, STATUS_CHANGED, SLA_BREACHED, SURVEY_ANSWERED)

CALL_TRANSCRIPT = "call.transcript"
SMS_RECEIVED = "sms.received"
REVIEW_CREATED = "review.created"
SOCIAL_POST = "social.post"
SOCIAL_COMMENT = "social.comment"
INBOUND_KINDS = (CALL_TRANSCRIPT, SMS_RECEIVED, REVIEW_CREATED, SOCIAL_POST, SOCIAL_COMMENT)

TOLERANCE_SECONDS = 300  # the Standard Webhooks default, and the most the library allows


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def outbound_type(event: ev.Event) -> str | None:
    """The outbound webhook event a domain event is, if any. Internal notes are never posted."""
    if isinstance(event, ev.TicketOpened):
        return TICKET_CREATED
    if isinstance(event, ev.MessageAdded):
        return MESSAGE_CREATED if event.direction in ("inbound", "outbound") else None
    if isinstance(event, ev.TicketChanged):
        return STATUS_CHANGED if "status" in event.fields else None
    if isinstance(event, ev.SlaBreached):
        return SLA_BREACHED
    if isinstance(event, ev.SurveyAnswered):
        return SURVEY_ANSWERED
    return None
